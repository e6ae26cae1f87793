// The one place that plays a request through manifests: entry, egress, routing, destination pods, the hop's mTLS,
// authentication and authorization, at each proxy on the way. Every check, picture and promise that needs to know
// "where does this request go, and is it admitted" asks this engine.
import { authenticate, AuthenticationResult } from './authentication';
import { authorize, describeRes, Enforcer, isDryRun, isTargeted, PolicyScopes, RequestAttributes } from './authorization';
import { corsEffect, CorsEffect, corsText } from './cors';
import { containerPorts, endpointsOf, servicePortOf, targetPortOf, unreadyReason } from './destination';
import { importedBy, SidecarIndex, SidecarScope, sidecarScopeOf } from './egress';
import {
  BackendRefused, ConvertedRoutes, convertHttpRoutes, convertTcpRoutes, convertTlsRoutes, gammaRoutes, originalField, routeOrder,
} from './gateway-api';
import { hostMatchesPattern, requestFqdn } from './hosts-match';
import { badRequestReason, httpRequest, HttpRequest, mergeHeaders, PathNormalization } from './http-request';
import {
  backendRefRefused, certificateRefRefused, GATEWAY_NAME_LABEL, kubeGatewayServiceAccount, listenerForHost, routeHostnamesMatch, routesForListener,
} from './kube-gateway';
import { clientTlsOf, destinationRuleFor, peerMode, PeerModeResult } from './mtls';
import { MatchContext } from './route-match';
import {
  applicableVirtualServices, applyHeaderOperations, DEFAULT_RETRY_ON, faultOf, mirrorsOf, RouteDecision, RoutedDestination,
  rewritten, routeHttp, routeL4, VirtualServiceIndex,
} from './routing';
import { JwtToken, TraceOutcome, TraceStepKind } from './types';
import { toFqdn } from '../hosts';
import { Res } from '../manifests';
import { fullName, matchesSelector, MeshIndex, RegistryEntry, Workload } from '../model';
import { isHttpPort, portProtocol } from '../protocols';

/** Who sends the request into the next hop. */
export interface Caller {
  /** The calling workload (for a gateway: the gateway's pods). */
  readonly workload?: Workload;
  readonly ns: string;
  /** The mTLS identity (without `spiffe://`) when the caller is in the mesh. */
  readonly principal?: string;
  readonly labels: Record<string, string>;
  /** `sidecar` and `gateway` callers have an Envoy; `ambient` ones a ztunnel; `none` no proxy. */
  readonly dataplane: 'sidecar' | 'ambient' | 'none' | 'gateway' | 'waypoint';
  readonly ip?: string;
  /** `Deployment shop/web`, `an in-mesh caller running as …`, `a client outside the mesh`. */
  readonly label: string;
}

/** The request as it travels: what the caller sends, changed by each proxy on the way. */
export interface Flight {
  readonly method: string;
  readonly rawPath: string;
  /** Lower-case names, duplicates merged. */
  readonly headers: Record<string, string>;
  /** The Host header as sent; undefined: the destination's name. */
  readonly host?: string;
  readonly port?: number;
  readonly token?: JwtToken;
  readonly tls?: boolean;
  readonly clientCertificate?: boolean;
  readonly sni?: string;
  readonly externalAuthorizerAllows: boolean;
  /** Plain TCP where the port's protocol is sniffed. */
  readonly tcp?: boolean;
  /** The original client's address, as X-Forwarded-For carries it past a gateway. */
  readonly remoteIp?: string;
}

/** Where the request is sent. */
export interface Target {
  /** A host name (resolved from the caller's namespace), unless `workload` is given. */
  readonly host?: string;
  /** A workload called on its pod IP. */
  readonly workload?: Workload;
}

/** One recorded step (its summary is worked out only when someone reads it). */
export interface Step {
  readonly kind: TraceStepKind;
  readonly proxy: string;
  readonly passed: boolean;
  readonly summary: () => string;
  readonly object?: Res;
  readonly field?: string;
}

export interface RouteSummary {
  readonly object?: Res;
  readonly field?: string;
  readonly timeout?: string;
  readonly retries?: { attempts: number; retryOn?: string; perTryTimeout?: string; isDefault: boolean };
  readonly fault?: string;
  readonly mirrors: string[];
  readonly rewrite?: string;
  readonly cors?: CorsEffect;
}

export interface BranchResult {
  readonly host: string;
  readonly service?: Res;
  readonly subset?: string;
  readonly port: number;
  readonly weightPercent: number;
  readonly outcome: TraceOutcome;
  readonly status?: number;
  readonly workload?: Workload;
  readonly steps: Step[];
  readonly explanation: () => string;
}

/** A trace before it is put into words. */
export interface EngineTrace {
  readonly steps: Step[];
  readonly route?: RouteSummary;
  readonly branches: BranchResult[];
  /** Set when the request ends before any destination is chosen. */
  readonly end?: { outcome: TraceOutcome; status?: number; explanation: () => string };
  readonly undecided: string[];
}

/** A way the request ended, with the HTTP status a caller with a proxy sees. */
interface Ending { outcome: TraceOutcome; status?: number; explanation: () => string }

const ENGINES = new WeakMap<MeshIndex, SimulatorEngine>();

const PROTOCOL_CLASS: Record<string, 'http' | 'tcp' | 'tls'> = {
  'HTTP': 'http', 'HTTP2': 'http', 'GRPC': 'http', 'GRPC-WEB': 'http', 'HTTPS': 'tls', 'TLS': 'tls',
};

/**
 * Plays requests through one set of manifests (a {@link MeshIndex}). Built once per index (`SimulatorEngine.of`);
 * it only reads the index, and keeps what it works out per workload and host.
 */
export class SimulatorEngine {
  static of(index: MeshIndex): SimulatorEngine {
    let engine = ENGINES.get(index);
    if (!engine) {
      engine = new SimulatorEngine(index);
      ENGINES.set(index, engine);
    }
    return engine;
  }

  readonly authz: PolicyScopes;
  readonly peerAuthn: PolicyScopes;
  readonly requestAuthn: PolicyScopes;
  private readonly vsIndex: VirtualServiceIndex;
  private readonly sidecars: SidecarIndex;
  /** Pod label keys that can change what a caller's proxy does (Sidecar and DestinationRule selectors, `sourceLabels` matches). */
  private readonly callerLabelKeys: Set<string>;
  private readonly normalization: PathNormalization;
  private readonly autoMtls: boolean;
  private readonly policiesByWorkload = new Map<Workload, Res[]>();
  private readonly requestAuthnByWorkload = new Map<Workload, Res[]>();
  private readonly scopeByWorkload = new Map<Workload | string, SidecarScope>();
  private readonly peerModes = new Map<Workload, Map<number, PeerModeResult>>();
  private readonly workloadsByService = new Map<Res, Workload[]>();
  private readonly gammaCache = new Map<Res, Map<string, ConvertedRoutes | undefined>>();

  constructor(readonly index: MeshIndex) {
    const root = index.options.rootNamespace;
    this.authz = new PolicyScopes(index.of('AuthorizationPolicy'), root, true);
    this.peerAuthn = new PolicyScopes(index.of('PeerAuthentication'), root, false);
    this.requestAuthn = new PolicyScopes(index.of('RequestAuthentication'), root, true);
    this.vsIndex = new VirtualServiceIndex(index.of('VirtualService'));
    this.sidecars = new SidecarIndex(index);
    this.callerLabelKeys = callerLabelKeys(index);
    const mc = index.options.meshConfig ?? {};
    const n = mc.pathNormalization?.normalization;
    this.normalization = n === 'NONE' || n === 'MERGE_SLASHES' || n === 'DECODE_AND_MERGE_SLASHES' ? n : 'BASE';
    this.autoMtls = mc.enableAutoMtls !== false;
  }

  // ---- what applies where (also used by the checks) ----

  /** AuthorizationPolicies a workload's own proxy (sidecar or ztunnel) enforces, dry-run ones included. */
  policiesFor(w: Workload): Res[] {
    let policies = this.policiesByWorkload.get(w);
    if (!policies) {
      const s = this.authz.forWorkload(w);
      // Policies on Gateway API gateway pods are bound with targetRefs; a selector does not take effect (IST0166).
      const kubeGateway = w.labels['gateway.networking.k8s.io/gateway-name'];
      policies = kubeGateway ? this.targetedTo('AuthorizationPolicy', w, kubeGateway) : [...s.mesh, ...s.namespace, ...s.workload].filter((p) => !isTargeted(p));
      this.policiesByWorkload.set(w, policies);
    }
    return policies;
  }

  /** Enforced AuthorizationPolicies of a workload's proxy (dry-run ones left out). */
  authorizationPoliciesFor(w: Workload): Res[] {
    return this.policiesFor(w).filter((p) => !isDryRun(p));
  }

  requestAuthenticationsFor(w: Workload): Res[] {
    let list = this.requestAuthnByWorkload.get(w);
    if (!list) {
      const kubeGateway = w.labels['gateway.networking.k8s.io/gateway-name'];
      if (kubeGateway) {list = this.targetedTo('RequestAuthentication', w, kubeGateway);} else {
        const s = this.requestAuthn.forWorkload(w);
        list = [...s.mesh, ...s.namespace, ...s.workload].filter((p) => !isTargeted(p));
      }
      this.requestAuthnByWorkload.set(w, list);
    }
    return list;
  }

  /** The PeerAuthentication mode on a workload port. */
  mtlsMode(w: Workload, port: number): PeerModeResult {
    let byPort = this.peerModes.get(w);
    if (!byPort) this.peerModes.set(w, (byPort = new Map()));
    let mode = byPort.get(port);
    if (!mode) byPort.set(port, (mode = peerMode(this.peerAuthn, w, port)));
    return mode;
  }

  /** The Gateway API mesh routes (HTTPRoute, TCPRoute with a Service parentRef) of a registry entry, converted; undefined when none. */
  gammaRoutesFor(entry: RegistryEntry, port: number, protocol: 'http' | 'tcp' | 'tls', callerNs: string): ConvertedRoutes | undefined {
    if (entry.res.kind !== 'Service') return undefined;
    const key = `${protocol}/${callerNs}/${port}`;
    let byKey = this.gammaCache.get(entry.res);
    if (!byKey) this.gammaCache.set(entry.res, (byKey = new Map()));
    if (!byKey.has(key)) {
      if (protocol === 'http') {
        // A gRPC Service's GRPCRoutes, else its HTTPRoutes (the library writes one kind per Service).
        const grpc = gammaRoutes(this.index.of('GRPCRoute.gateway.networking.k8s.io'), entry.res, port, callerNs);
        byKey.set(key, grpc.length > 0 ? convertHttpRoutes(grpc, this.backendRefused, true)
          : convertHttpRoutes(gammaRoutes(this.index.of('HTTPRoute.gateway.networking.k8s.io'), entry.res, port, callerNs), this.backendRefused));
      } else if (protocol === 'tls') {
        byKey.set(key, convertTlsRoutes(gammaRoutes(this.index.of('TLSRoute.gateway.networking.k8s.io'), entry.res, port, callerNs), this.backendRefused));
      } else {
        byKey.set(key, convertTcpRoutes(gammaRoutes(this.index.of('TCPRoute.gateway.networking.k8s.io'), entry.res, port, callerNs), this.backendRefused));
      }
    }
    return byKey.get(key);
  }

  /** Why a route's backendRef is not used: a cross-namespace reference no ReferenceGrant permits. */
  readonly backendRefused: BackendRefused = (route, ref) => backendRefRefused(this.index.of('ReferenceGrant.gateway.networking.k8s.io'), route, ref);

  /** The waypoint (a Kubernetes Gateway) a Service's traffic goes through: `istio.io/use-waypoint` on the Service or its namespace. */
  waypointFor(svc: Res): Res | undefined {
    const nsLabels = this.index.namespace(svc.ns)?.labels ?? {};
    const waypoint = svc.labels['istio.io/use-waypoint'] ?? nsLabels['istio.io/use-waypoint'];
    if (!waypoint || waypoint === 'none') return undefined;
    const ns = svc.labels['istio.io/use-waypoint-namespace'] ?? nsLabels['istio.io/use-waypoint-namespace'] ?? svc.ns;
    return this.index.get('Gateway.gateway.networking.k8s.io', ns, waypoint);
  }

  /** Policies of `kind` attached (targetRef/targetRefs) to a Service or to its waypoint, or to the waypoint class in the root namespace. */
  waypointPoliciesFor(kind: string, svc: Res | undefined, waypoint: Res): Res[] {
    const root = this.index.options.rootNamespace;
    return this.index.of(kind).filter((p) => refsOf(p).some((ref: any) =>
      (svc && ref?.kind === 'Service' && ref.name === svc.name && p.ns === svc.ns)
      || (ref?.kind === 'Gateway' && ref.name === waypoint.name && p.ns === waypoint.ns)
      || (ref?.kind === 'GatewayClass' && ref.name === 'istio-waypoint' && p.ns === root)));
  }

  /** The Sidecar scope of a caller. */
  scopeOf(caller: Caller): SidecarScope {
    const key = caller.workload ?? `${caller.ns}`;
    let scope = this.scopeByWorkload.get(key);
    if (!scope) this.scopeByWorkload.set(key, (scope = sidecarScopeOf(this.sidecars, caller.workload, caller.ns)));
    return scope;
  }

  serviceWorkloads(svc: Res): Workload[] {
    let list = this.workloadsByService.get(svc);
    if (!list) this.workloadsByService.set(svc, (list = this.index.serviceWorkloads(svc)));
    return list;
  }

  /**
   * What decides a trace from this caller: two callers with the same profile (namespace, identity, dataplane and the
   * pod labels any Sidecar, DestinationRule workloadSelector or `sourceLabels` match reads) get the same trace, so
   * the access matrix and the declared calls trace one of them.
   */
  callerProfile(c: Caller): string {
    const labels = [...this.callerLabelKeys].filter((k) => k in c.labels).map((k) => `${k}=${c.labels[k]}`).join(',');
    return `${c.ns}\u0000${c.principal ?? ''}\u0000${c.dataplane}\u0000${c.ip ?? ''}\u0000${labels}`;
  }

  /** Callers with distinct profiles (the first of each). */
  distinctCallers(callers: Caller[]): Caller[] {
    if (callers.length < 2) return callers;
    const seen = new Set<string>();
    return callers.filter((c) => {
      const key = this.callerProfile(c);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  /** A caller for a workload of the manifests. */
  callerOf(w: Workload, ip?: string): Caller {
    const dataplane = w.dataplane === 'sidecar' && w.labels['gateway.networking.k8s.io/gateway-name'] ? 'gateway' : w.dataplane;
    return {
      workload: w,
      ns: w.ns,
      principal: w.dataplane === 'none' ? undefined : this.index.principalOf(w.ns, w.serviceAccount),
      labels: w.labels,
      dataplane,
      ip,
      label: `${w.res.kind} ${fullName(w.res)}`,
    };
  }

  // ---- tracing ----

  /** Traces a request from `caller` to `target`. */
  trace(caller: Caller, flight: Flight, target: Target): EngineTrace {
    const steps: Step[] = [];
    const undecided: string[] = [];
    const proxy = proxyName(caller);
    steps.push(step(TraceStepKind.ENTRY, proxy, true, () => entrySummary(caller)));
    if (target.workload) {
      const host = toFqdn(target.workload.res.name, target.workload.ns);
      const branch = this.hop(caller, flight, { host, weight: 100, direct: target.workload, port: flight.port }, undecided);
      return { steps, branches: [branch], undecided };
    }
    const known = (fqdn: string) => this.index.registry.lookup(caller.ns, fqdn) !== undefined;
    // The Host header may carry the port (`reviews:9080`): the name picks the service, the port the listener.
    const authority = flight.host ?? target.host ?? '';
    const fqdn = requestFqdn(hostOnly(authority), caller.ns, known);
    const entry = this.index.registry.lookup(caller.ns, fqdn);
    const port = flight.port ?? portOf(authority) ?? firstPort(entry) ?? 80;
    const protocol = protocolOf(entry, port, flight.tcp);
    const envoy = caller.dataplane === 'sidecar' || caller.dataplane === 'gateway';
    const host = flight.host ?? target.host ?? fqdn;
    if (protocol === 'http' && envoy) {
      const bad = badRequestReason(flight.method, flight.rawPath);
      if (bad) return { steps, branches: [], undecided, end: ending(TraceOutcome.BAD_REQUEST, 400, () => `${proxy} refuses it: ${bad}`) };
    }
    if (!envoy) {
      // No proxy of the caller routes: kube-proxy (or ztunnel) sends it to the Service's pods.
      if (!entry) {
        return { steps, branches: [], undecided, end: ending(TraceOutcome.REACHED, undefined, () => `${fqdn} is not a Service or ServiceEntry of the manifests: the request leaves for wherever DNS sends it`) };
      }
      if (caller.dataplane === 'ambient') return this.ambientOutbound(caller, flight, entry, fqdn, port, protocol, steps, undecided);
      steps.push(step(TraceStepKind.ROUTING, proxy, true, () => `${caller.label} has no Istio proxy: no VirtualService applies; the request goes to the pods of ${entry.res.kind} ${fullName(entry.res)}`));
      const branch = this.hop(caller, flight, { host: fqdn, weight: 100, service: entry.res, port }, undecided);
      return { steps, branches: [branch], undecided };
    }
    // The caller's Envoy: egress scope, then routing.
    const scope = this.scopeOf(caller);
    if (scope.ambiguous) undecided.push(`Sidecars ${scope.ambiguous.map(fullName).join(', ')} all select ${caller.label} (IST0110): Istio uses one of them; the trace uses ${fullName(scope.ambiguous[0])}`);
    const egress = this.egress(caller, scope, fqdn, entry, port, proxy);
    steps.push(egress.step);
    if (egress.end) return { steps, branches: [], undecided, end: egress.end };
    if (egress.passthrough) {
      if (!entry) return { steps, branches: [], undecided, end: ending(TraceOutcome.REACHED, undefined, () => `the PassthroughCluster sends it to ${fqdn} as the caller addressed it (outside the mesh's registry)`) };
      const branch = this.hop(caller, { ...flight }, { host: fqdn, weight: 100, service: entry.res, port, passthrough: true }, undecided);
      return { steps, branches: [branch], undecided };
    }
    return this.routeAndHop(caller, flight, fqdn, host, entry!, port, protocol, 'mesh', steps, undecided);
  }

  /** Routing on an Envoy (sidecar, gateway, waypoint) then one hop per weighted destination. */
  private routeAndHop(caller: Caller, flight: Flight, fqdn: string, host: string, entry: RegistryEntry, port: number,
    protocol: 'http' | 'tcp' | 'tls', gateway: string, steps: Step[], undecided: string[], gatewayVss?: Res[], sourceCaller: Caller = caller,
    claims?: Record<string, unknown>, converted?: ConvertedRoutes): EngineTrace {
    const proxy = proxyName(caller);
    const req = httpRequest(flight.method, flight.rawPath, flight.headers, host, this.normalization);
    const ctx: MatchContext = {
      port,
      gateway,
      vsNamespace: '',
      sourceLabels: sourceCaller.labels,
      sourceNamespace: sourceCaller.ns,
      scheme: flight.tls ? 'https' : 'http',
      claims,
      sni: flight.sni ?? hostOnly(host),
    };
    const scope = gateway === 'mesh' && caller.dataplane === 'sidecar' ? this.scopeOf(caller).sidecar : undefined;
    // A Sidecar imports the VirtualServices of the namespaces (and hosts) its egress hosts name.
    const imported = (vs: Res) => !scope || importedBy(scope, fqdn, vs.ns, port) !== undefined;
    const istioVss = gatewayVss ?? applicableVirtualServices(this.vsIndex, fqdn, ctx, caller.ns, imported);
    // Mesh routes of the Gateway API (GAMMA) attached to the Service, played as Istio converts them.
    // (Or the routes bound to a Gateway API Gateway's listener, converted the same way.)
    const gamma = converted ?? (gateway === 'mesh' && !gatewayVss ? this.gammaRoutesFor(entry, port, protocol, sourceCaller.ns) : undefined);
    if (gamma && istioVss.length > 0) {
      undecided.push(`${gamma.routes.map(describeRes).join(', ')} and ${istioVss.map(describeRes).join(', ')} both route ${fqdn}: mixing HTTPRoute and VirtualService for one workload is undefined in Istio; the trace uses the Gateway API route`);
    }
    const vss = gamma ? [gamma.vs] : istioVss;
    const withNs = (vs: Res): MatchContext => ({ ...ctx, vsNamespace: vs.ns });
    let decision: RouteDecision;
    if (vss.length === 0) {
      if (gateway !== 'mesh') {
        return { steps, branches: [], undecided, end: ending(TraceOutcome.NOT_FOUND, 404, () => `no VirtualService bound to gateway ${gateway} serves host ${hostOnly(host)}: 404`) };
      }
      decision = { action: 'route', destinations: [{ host: fqdn, writtenHost: fqdn, writtenNs: caller.ns, port, weight: 100, field: '' }], conflicting: [], notes: [] };
    } else if (protocol === 'http') {
      decision = routeHttpNs(vss, req, withNs, (ref, vs) => this.index.get('VirtualService', ref?.namespace ?? vs.ns, ref?.name));
    } else {
      decision = routeL4Ns(vss, protocol, withNs);
    }
    if (gamma) {
      // Name the HTTPRoute's own fields (`spec.rules[i].matches[j]`), not those of Istio's internal form.
      decision = {
        ...decision,
        vs: gamma.origins[Number(/^spec\.(?:http|tcp|tls)\[(\d+)\]/.exec(decision.field ?? '')?.[1] ?? 0)]?.route ?? gamma.routes[0],
        field: originalField(decision.field, gamma.origins),
        destinations: decision.destinations.map((d) => ({ ...d, field: originalField(d.field, gamma.origins) ?? d.field })),
        rule: decision.rule,
      };
    }
    if (decision.conflicting.length > 0) {
      const all = [decision.vs!, ...decision.conflicting].map(fullName).join(', ');
      undecided.push(gateway === 'mesh'
        ? `VirtualServices ${all} all define ${fqdn} for sidecars (IST0109): Istio uses one of them (the oldest), which the manifests cannot tell; the trace uses ${fullName(vss[0])}`
        : `VirtualServices ${all} all serve ${hostOnly(host)} on gateway ${gateway}: Istio merges their routes in creation order, which the manifests cannot tell; the trace uses the order ${all}`);
    }
    const rule = decision.rule;
    // A converted Gateway API rule has one match (or none).
    const matchIndex = gamma ? (rule?.match ? 0 : -1) : decision.field ? Number(/match\[(\d+)\]$/.exec(decision.field)?.[1] ?? -1) : -1;
    const routeObject = decision.delegate ?? decision.vs;
    const route: RouteSummary | undefined = vss.length === 0 ? { mirrors: [], retries: protocol === 'http' ? { attempts: 2, retryOn: `${DEFAULT_RETRY_ON}`, isDefault: true } : undefined }
      : decision.action === 'none' ? undefined : routeSummary(rule, protocol, routeObject, decision.field, routeObject?.ns ?? caller.ns, matchIndex, req);
    const routeStepText = () => {
      if (vss.length === 0) return `no VirtualService defines ${fqdn} for this proxy: the default route sends it to ${entry.res.kind} ${fullName(entry.res)} port ${port}, balanced over all its pods`;
      const where = `${describeRes(routeObject!)} ${decision.field}`;
      return [`${where} takes it`, ...decision.notes, ...(route?.cors ? [corsText(route.cors)] : [])].join('; ');
    };
    if (decision.action === 'none') {
      const vsName = decision.vs ? describeRes(decision.vs) : 'the VirtualService';
      const field = decision.field;
      steps.push(step(TraceStepKind.ROUTING, proxy, false, () => `no rule of ${vsName} matches ${protocol === 'http' ? `${req.method} ${req.path} (host ${req.host})` : `port ${port}`}${decision.notes.length ? `; ${decision.notes.join('; ')}` : ''}`, decision.vs, field));
      return protocol === 'http'
        ? { steps, branches: [], undecided, end: ending(TraceOutcome.NOT_FOUND, 404, () => `no route matches: 404 (NR) from ${proxy}`) }
        : { steps, branches: [], undecided, end: ending(TraceOutcome.CONNECTION_RESET, undefined, () => `no ${protocol} rule matches: ${proxy} closes the connection`) };
    }
    steps.push(step(TraceStepKind.ROUTING, proxy, true, routeStepText, routeObject, decision.field));
    const refusedBackends: string[] = asList(rule?.refusedBackends);
    if (refusedBackends.length > 0) {
      const where = `${describeRes(routeObject!)} ${decision.field}`;
      if (decision.destinations.length === 0) {
        return protocol === 'http'
          ? { steps, route, branches: [], undecided, end: ending(TraceOutcome.DIRECT_RESPONSE, 500, () => `Istio refuses every backend of ${where} (RefNotPermitted: ${refusedBackends.join('; ')}): 500`) }
          : { steps, route, branches: [], undecided, end: ending(TraceOutcome.CONNECTION_RESET, undefined, () => `Istio refuses every backend of ${where} (RefNotPermitted: ${refusedBackends.join('; ')}): the connection is closed`) };
      }
      undecided.push(`${where}: Istio refuses some backends (RefNotPermitted: ${refusedBackends.join('; ')}); their share of the requests is answered 500`);
    }
    if (decision.action === 'redirect') {
      const r = rule.redirect;
      const status = Number(r.redirectCode ?? 301);
      const location = `${r.scheme ?? (flight.tls ? 'https' : 'http')}://${r.authority ?? hostOnly(host)}${r.port ? `:${r.port}` : ''}${r.uri ?? req.pathWithQuery}`;
      return { steps, route, branches: [], undecided, end: ending(TraceOutcome.REDIRECTED, status, () => `${describeRes(routeObject!)} ${decision.field} redirects it (${status}) to ${location}`) };
    }
    if (decision.action === 'direct') {
      const status = Number(rule.directResponse.status);
      return { steps, route, branches: [], undecided, end: ending(TraceOutcome.DIRECT_RESPONSE, status, () => `${describeRes(routeObject!)} ${decision.field} answers ${status} itself (directResponse)`) };
    }
    // Envoy's CORS filter runs before the fault and router filters: it answers a preflight itself.
    const cors = route?.cors;
    if (cors?.answered) {
      return { steps, route, branches: [], undecided, end: ending(TraceOutcome.PREFLIGHT_ANSWERED, 200, () => `${proxy} answers the preflight itself (200, Envoy's CORS filter)${cors.originAllowed ? ` with Access-Control-Allow-Origin ${cors.origin}` : ' without CORS headers'}; the service never sees it`) };
    }
    const fault = protocol === 'http' ? faultOf(rule) : {};
    if (fault.abortAll !== undefined) {
      return { steps, route, branches: [], undecided, end: ending(TraceOutcome.ABORTED, fault.abortAll, () => `${describeRes(routeObject!)} ${decision.field} injects an abort (${fault.abortAll}) into every request`) };
    }
    // What the upstream receives: rewritten path and authority, header operations, the original client's address.
    const rw = protocol === 'http' ? rewritten(rule, matchIndex, req.pathWithQuery, hostOnly(host)) : { path: flight.rawPath, host: hostOnly(host) };
    const headers = applyHeaderOperations(flight.headers, rule?.headers?.request);
    const total = decision.destinations.reduce((n, d) => n + Math.max(0, d.weight), 0);
    const upstream: Flight = { ...flight, rawPath: rw.path, host: rw.host, headers, remoteIp: flight.remoteIp ?? sourceCaller.ip };
    const branches = decision.destinations
      .filter((d) => d.weight > 0 || total === 0)
      .map((d) => {
        const weightPercent = total === 0 ? 0 : round((d.weight / total) * 100);
        const branchFlight = { ...upstream, headers: applyHeaderOperations(upstream.headers, d.headers) };
        const via = caller.dataplane === 'gateway' ? this.ingressWaypoint(d, port) : undefined;
        if (via) {
          if (d.subset) undecided.push(`the gateway routes to subset ${d.subset} of ${d.host}, but it sends the request to waypoint ${fullName(via.waypoint)}, which routes the Service's traffic by its own routes`);
          const wpTrace = this.throughWaypoint(caller, branchFlight, via.entry, d.host, via.port, protocol, [], undecided, via.waypoint);
          return asBranches(wpTrace, d.host, via.port, weightPercent);
        }
        return [this.hop(caller, branchFlight, { host: d.host, routed: d, weight: weightPercent, port: d.port, requestPort: port }, undecided)];
      }).flat();
    if (branches.length === 0) {
      return { steps, route, branches: [], undecided, end: ending(TraceOutcome.UNAVAILABLE, 503, () => 'every destination of the route has weight 0: 503') };
    }
    return { steps, route, branches, undecided };
  }

  /** Egress from the caller's sidecar: is the host imported, and what happens if it is not. */
  private egress(caller: Caller, scope: SidecarScope, fqdn: string, entry: RegistryEntry | undefined, port: number, proxy: string):
  { step: Step; end?: Ending; passthrough?: boolean } {
    const sidecar = scope.sidecar;
    const blocked = scope.outboundPolicy === 'REGISTRY_ONLY';
    if (!entry) {
      if (blocked) {
        return {
          step: step(TraceStepKind.EGRESS, proxy, false, () => `${fqdn} is in no Service or ServiceEntry, and ${scope.outboundPolicySource} is REGISTRY_ONLY: the BlackHoleCluster takes it`, sidecar, sidecar?.spec.outboundTrafficPolicy ? 'spec.outboundTrafficPolicy.mode' : undefined),
          end: ending(TraceOutcome.BAD_GATEWAY, 502, () => `${fqdn} is not in the registry and outbound traffic is REGISTRY_ONLY: 502 from the BlackHoleCluster`),
        };
      }
      return { step: step(TraceStepKind.EGRESS, proxy, true, () => `${fqdn} is in no Service or ServiceEntry; ${scope.outboundPolicySource} is ALLOW_ANY, so the PassthroughCluster lets it out`, sidecar), passthrough: true };
    }
    if (!sidecar) return { step: step(TraceStepKind.EGRESS, proxy, true, () => `no Sidecar limits ${caller.label}: every host of the registry is visible`) };
    const configNs = entry.res.ns;
    const field = importedBy(sidecar, fqdn, configNs, port);
    if (field) return { step: step(TraceStepKind.EGRESS, proxy, true, () => `Sidecar ${fullName(sidecar)} imports ${configNs}/${fqdn}`, sidecar, field) };
    if (blocked) {
      return {
        step: step(TraceStepKind.EGRESS, proxy, false, () => `Sidecar ${fullName(sidecar)} does not import ${configNs}/${fqdn} on port ${port}, and ${scope.outboundPolicySource} is REGISTRY_ONLY: the BlackHoleCluster takes it`, sidecar, 'spec.egress'),
        end: ending(TraceOutcome.BAD_GATEWAY, 502, () => `the caller's Sidecar does not import ${fqdn} and outbound traffic is REGISTRY_ONLY: 502 from the BlackHoleCluster`),
      };
    }
    return {
      step: step(TraceStepKind.EGRESS, proxy, true, () => `Sidecar ${fullName(sidecar)} does not import ${configNs}/${fqdn}; with ALLOW_ANY the PassthroughCluster sends it to the Service's address without routing or mTLS`, sidecar, 'spec.egress'),
      passthrough: true,
    };
  }

  /** An ambient caller: ztunnel sends it to the destination's waypoint (which routes and enforces L7), or straight to its pods. */
  private ambientOutbound(caller: Caller, flight: Flight, entry: RegistryEntry, fqdn: string, port: number, protocol: 'http' | 'tcp' | 'tls',
    steps: Step[], undecided: string[]): EngineTrace {
    const svc = entry.res.kind === 'Service' ? entry.res : undefined;
    const waypoint = svc ? this.waypointFor(svc) : undefined;
    const proxy = proxyName(caller);
    if (!waypoint) {
      steps.push(step(TraceStepKind.ROUTING, proxy, true, () => `ztunnel does no L7 routing (no waypoint for ${entry.res.kind} ${fullName(entry.res)}): it sends the connection to the Service's pods`));
      return { steps, branches: [this.hop(caller, flight, { host: fqdn, weight: 100, service: entry.res, port }, undecided)], undecided };
    }
    return this.throughWaypoint(caller, flight, entry, fqdn, port, protocol, steps, undecided, waypoint);
  }

  /**
   * A Service's waypoint for a request an ingress gateway routes to it: Istio's gateways send to the Service's pods
   * unless the Service carries `istio.io/ingress-use-waypoint: "true"` (pilot's EndpointBuilder.findServiceWaypoint:
   * "Ingress behaves differently, must explicitly opt in"; istio.io "Migrate policies": add the label "to route
   * ingress traffic through a waypoint").
   */
  private ingressWaypoint(d: RoutedDestination, requestPort: number): { entry: RegistryEntry; waypoint: Res; port: number } | undefined {
    const entry = this.index.registry.lookup(d.writtenNs, d.writtenHost);
    if (entry?.res.kind !== 'Service' || String(entry.res.labels['istio.io/ingress-use-waypoint'] ?? '').toLowerCase() !== 'true') return undefined;
    const waypoint = this.waypointFor(entry.res);
    const sp = d.port !== undefined ? servicePortOf(entry.res, d.port) : servicePortOf(entry.res, undefined) ?? servicePortOf(entry.res, requestPort);
    if (!waypoint || !sp) return undefined;
    return { entry, waypoint, port: Number(sp.port) };
  }

  /** To the waypoint: HBONE with the caller's identity; the waypoint authenticates, authorizes and routes. */
  private throughWaypoint(caller: Caller, flight: Flight, entry: RegistryEntry, fqdn: string, port: number, protocol: 'http' | 'tcp' | 'tls',
    steps: Step[], undecided: string[], waypoint: Res): EngineTrace {
    const svc = entry.res.kind === 'Service' ? entry.res : undefined;
    const proxy = proxyName(caller);
    const wp = this.waypointCaller(waypoint);
    const wpProxy = `waypoint ${fullName(waypoint)}`;
    const why = caller.dataplane === 'gateway' ? ` (Service ${fullName(entry.res)} has istio.io/ingress-use-waypoint: "true")` : '';
    const sender = caller.dataplane === 'gateway' ? 'the gateway sends it' : 'ztunnel tunnels it';
    steps.push(step(TraceStepKind.MTLS, proxy, true, () => `${sender} (HBONE, mTLS as ${caller.principal}) to ${wpProxy}${why}`, waypoint));
    if (protocol === 'http') {
      const bad = badRequestReason(flight.method, flight.rawPath);
      if (bad) return { steps, branches: [], undecided, end: ending(TraceOutcome.BAD_REQUEST, 400, () => `${wpProxy} refuses it: ${bad}`) };
      const ras = this.waypointPoliciesFor('RequestAuthentication', svc, waypoint);
      const authn = authenticate(flight.token, ras);
      steps.push(step(TraceStepKind.AUTHENTICATION, wpProxy, !authn.rejected, () => authn.summary, authn.policy));
      if (authn.rejected) return { steps, branches: [], undecided, end: ending(TraceOutcome.UNAUTHENTICATED, 401, () => `${wpProxy} rejects the JWT: 401`) };
      const attrs = this.attributes(caller.principal, caller.ip, flight, authn, hostOnly(flight.host ?? fqdn), port, true, svc);
      const result = authorize(this.waypointPoliciesFor('AuthorizationPolicy', svc, waypoint), attrs, 'envoy', flight.externalAuthorizerAllows);
      steps.push(step(TraceStepKind.AUTHORIZATION, wpProxy, result.allowed, () => result.summary, result.policy, result.ruleIndex !== undefined ? `spec.rules[${result.ruleIndex}]` : undefined));
      if (!result.allowed) return { steps, branches: [], undecided, end: ending(TraceOutcome.FORBIDDEN, 403, () => `${wpProxy} denies it: 403`) };
      const forwarded = authn.stripsToken ? { ...flight, token: undefined } : flight;
      return this.routeAndHop(wp, { ...forwarded, headers: { ...forwarded.headers, ...authn.addHeaders } }, fqdn, flight.host ?? fqdn, entry, port, protocol, 'mesh', steps, undecided, undefined, caller);
    }
    const attrs = this.attributes(caller.principal, caller.ip, flight, undefined, hostOnly(flight.host ?? fqdn), port, false, svc);
    const result = authorize(this.waypointPoliciesFor('AuthorizationPolicy', svc, waypoint), attrs, 'envoy', flight.externalAuthorizerAllows);
    steps.push(step(TraceStepKind.AUTHORIZATION, wpProxy, result.allowed, () => result.summary, result.policy, result.ruleIndex !== undefined ? `spec.rules[${result.ruleIndex}]` : undefined));
    if (!result.allowed) return { steps, branches: [], undecided, end: ending(TraceOutcome.FORBIDDEN, undefined, () => `${wpProxy} denies it: the connection is closed`) };
    return this.routeAndHop(wp, flight, fqdn, flight.host ?? fqdn, entry, port, protocol, 'mesh', steps, undecided, undefined, caller);
  }

  /** The waypoint as a caller: its pods if the manifests hold them, else its Deployment as Istio deploys it (`kubeGatewayServiceAccount`). */
  private waypointCaller(waypoint: Res): Caller {
    const pods = this.index.workloadsMatching({ 'gateway.networking.k8s.io/gateway-name': waypoint.name }, waypoint.ns);
    const sa = pods[0]?.serviceAccount ?? kubeGatewayServiceAccount(waypoint);
    return {
      workload: pods[0],
      ns: waypoint.ns,
      principal: this.index.principalOf(waypoint.ns, sa),
      labels: pods[0]?.labels ?? { 'gateway.networking.k8s.io/gateway-name': waypoint.name },
      dataplane: 'waypoint',
      label: `waypoint ${fullName(waypoint)}`,
    };
  }

  /**
   * One hop: the pods behind the destination, then at the server: the hop's mTLS, authentication and
   * authorization (on every pod the request may be balanced to).
   */
  hop(client: Caller, flight: Flight, d: HopTarget, undecided: string[]): BranchResult {
    const steps: Step[] = [];
    const clientProxy = proxyName(client);
    type Extra = { service?: Res; port?: number; workload?: Workload };
    const done = (outcome: TraceOutcome, status: number | undefined, explanation: () => string, extra?: Extra): BranchResult => ({
      host: d.host,
      subset: d.routed?.subset,
      weightPercent: d.weight,
      port: extra?.port ?? d.port ?? 0,
      outcome,
      status,
      steps,
      explanation,
      service: extra?.service,
      workload: extra?.workload,
    });
    const proxied = client.dataplane !== 'none';
    const unavailable = (text: () => string, object?: Res, field?: string): BranchResult => {
      steps.push(step(TraceStepKind.DESTINATION, clientProxy, false, text, object, field));
      return done(TraceOutcome.UNAVAILABLE, proxied ? 503 : undefined, () => `${text()}: ${proxied ? '503 (no healthy upstream)' : 'the connection fails'}`);
    };

    // Where it goes: a workload directly, or a Service / ServiceEntry and its pods.
    let workloads: Workload[];
    let service: Res | undefined;
    let servicePort: any;
    let dr: Res | undefined;
    if (d.direct) {
      workloads = [d.direct];
      steps.push(step(TraceStepKind.DESTINATION, clientProxy, true, () => `sent to the pod IP of ${d.direct!.res.kind} ${fullName(d.direct!.res)} (no Service, no routing)`, d.direct.res));
    } else {
      const entry = d.service ? { res: d.service } as RegistryEntry
        : d.routed ? this.index.registry.lookup(d.routed.writtenNs, d.routed.writtenHost) : undefined;
      if (!entry) return unavailable(() => `no Service or ServiceEntry defines ${d.host} (IST0101)`, undefined, d.routed?.field ? `${d.routed.field}.host` : undefined);
      service = entry.res;
      if (service.kind === 'ServiceEntry') return this.serviceEntryHop(client, service, d, steps, done, unavailable);
      // A route destination without a port: the Service's only port, else the port the request came in on.
      servicePort = d.port !== undefined ? servicePortOf(service, d.port)
        : servicePortOf(service, undefined) ?? servicePortOf(service, d.requestPort);
      if (!servicePort) {
        const ports = asList(service.spec.ports).map((p: any) => p?.port).join(', ');
        return unavailable(() => `Service ${fullName(service!)} has no port ${d.port ?? d.requestPort ?? ''} (ports: ${ports || 'none'})${d.routed?.port === undefined && asList(service!.spec.ports).length > 1 ? ' and the route names none (IST0112)' : ''}`, d.routed ? undefined : service, d.routed?.field ? `${d.routed.field}.port` : undefined);
      }
      dr = d.passthrough ? undefined : destinationRuleFor(this.index, toFqdn(service.name, service.ns), client.ns, client.labels, service.ns);
      let subsetLabels: Record<string, string> | undefined;
      if (d.routed?.subset) {
        const subsets: any[] = asList(dr?.spec.subsets);
        const def = subsets.find((s) => s?.name === d.routed!.subset);
        if (!def) return unavailable(() => `no DestinationRule for ${d.host} defines subset "${d.routed!.subset}" (IST0101): no cluster`, dr, dr ? 'spec.subsets' : undefined);
        subsetLabels = def.labels && typeof def.labels === 'object' ? def.labels : {};
      }
      const behind = this.serviceWorkloads(service);
      workloads = endpointsOf(behind, subsetLabels);
      if (workloads.length === 0) {
        return unavailable(() => behind.length === 0
          ? `Service ${fullName(service!)} selects no workload of the manifests`
          : `no pod of Service ${fullName(service!)} has the labels of subset ${d.routed!.subset} (${Object.entries(subsetLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')})`, dr ?? service);
      }
      const reasons: string[] = [];
      const ready = workloads.filter((w) => {
        const tp = targetPortOf(w, servicePort);
        const reason = tp === undefined ? `${w.res.kind} ${fullName(w.res)} has no container port named "${servicePort.targetPort}"` : unreadyReason(w, tp);
        if (reason) reasons.push(reason);
        return !reason;
      });
      if (ready.length === 0) return unavailable(() => `no pod can take it: ${reasons.join('; ')}`, workloads[0].res);
      if (reasons.length > 0) undecided.push(`some pods of ${d.host} cannot take requests (${reasons.join('; ')}); requests balanced to them fail`);
      workloads = ready;
      const names = workloads.map((w) => `${w.res.kind} ${fullName(w.res)}`).join(', ');
      const bySubset = d.routed?.subset !== undefined && dr !== undefined;
      const text = () => `${d.routed?.subset ? `subset ${d.routed.subset} of ` : ''}Service ${fullName(service!)} port ${servicePort.port}: ${names}`;
      steps.push(step(TraceStepKind.DESTINATION, clientProxy, true, text, bySubset ? dr : service, bySubset ? 'spec.subsets' : undefined));
    }

    // At the server: every pod must admit it (requests are balanced across them).
    const podPort = (w: Workload) => (d.direct ? (d.port ?? firstContainerPort(w)) : targetPortOf(w, servicePort)!);
    const results = workloads.map((w) => this.serverSide(client, flight, w, podPort(w), service, servicePort, dr, d));
    const refused = results.find((r) => r.outcome !== TraceOutcome.REACHED);
    const chosen = refused ?? results[0];
    steps.push(...chosen.steps);
    const some = results.filter((r) => r.outcome === TraceOutcome.REACHED).length;
    const explanation = refused && results.length > 1 && some > 0
      ? () => `${chosen.explanation()} (${some} of ${results.length} destination workloads would admit it; every one must, because requests are balanced across them)`
      : chosen.explanation;
    const port = servicePort ? Number(servicePort.port) : d.port ?? 0;
    return done(chosen.outcome, chosen.status, explanation, { service, port, workload: chosen.workload });
  }

  private serviceEntryHop(client: Caller, se: Res, d: HopTarget, steps: Step[],
    done: (o: TraceOutcome, s: number | undefined, e: () => string, extra?: Partial<BranchResult>) => BranchResult,
    unavailable: (text: () => string, object?: Res, field?: string) => BranchResult): BranchResult {
    const port = d.port ?? d.requestPort ?? firstPort({ res: se } as RegistryEntry);
    const sePorts = asList(se.spec.ports).map((p: any) => Number(p?.number));
    if (port !== undefined && sePorts.length > 0 && !sePorts.includes(port)) return unavailable(() => `ServiceEntry ${fullName(se)} has no port ${port} (ports: ${sePorts.join(', ')})`, se, 'spec.ports');
    const selector = se.spec.workloadSelector?.labels;
    if (selector && typeof selector === 'object') {
      const pods = this.index.workloadsMatching(selector, se.ns);
      if (pods.length === 0) return unavailable(() => `ServiceEntry ${fullName(se)} selects no workload (workloadSelector)`, se, 'spec.workloadSelector');
      steps.push(step(TraceStepKind.DESTINATION, proxyName(client), true, () => `ServiceEntry ${fullName(se)} selects ${pods.map((w) => fullName(w.res)).join(', ')}`, se));
      return done(TraceOutcome.REACHED, undefined, () => `reaches ${pods[0].res.kind} ${fullName(pods[0].res)} (ServiceEntry workloads; their policies are not traced)`, { service: se, port: port ?? 0, workload: pods[0] });
    }
    const external = se.spec.location !== 'MESH_INTERNAL';
    steps.push(step(TraceStepKind.DESTINATION, proxyName(client), true, () => `ServiceEntry ${fullName(se)} (${external ? 'MESH_EXTERNAL' : 'MESH_INTERNAL'}, resolution ${se.spec.resolution ?? 'NONE'}) sends it to ${d.host}:${port ?? '?'}`, se));
    return done(TraceOutcome.REACHED, undefined, () => `leaves the mesh for ${d.host}:${port ?? '?'} (ServiceEntry ${fullName(se)})`, { service: se, port: port ?? 0 });
  }

  /** mTLS, authentication and authorization at one destination pod. */
  private serverSide(client: Caller, flight: Flight, w: Workload, port: number, service: Res | undefined, servicePort: any,
    dr: Res | undefined, d: HopTarget):
    { outcome: TraceOutcome; status?: number; steps: Step[]; explanation: () => string; workload: Workload } {
    const steps: Step[] = [];
    const server = `${w.dataplane === 'ambient' ? 'ztunnel of' : w.dataplane === 'none' ? '' : 'sidecar of'} ${w.res.kind} ${fullName(w.res)}`.trim();
    const proxied = client.dataplane !== 'none';
    const end = (outcome: TraceOutcome, status: number | undefined, explanation: () => string) =>
      ({ outcome, status, steps, explanation, workload: w });
    const reached = () => end(TraceOutcome.REACHED, undefined, () => `reaches ${w.res.kind} ${fullName(w.res)} on port ${port}`);
    // The hop's TLS: what the client sends, what the server accepts.
    // A port without a declared protocol is sniffed: HTTP unless the request is plain TCP.
    const declared = servicePort ? portProtocol(servicePort) : undefined;
    const http = servicePort && declared !== undefined ? isHttpPort(servicePort) && declared !== 'https' : !flight.tcp;
    if (w.dataplane === 'none') {
      const tls = this.clientSends(client, w, port, dr, d, 'PERMISSIVE');
      steps.push(step(TraceStepKind.MTLS, server, !tls.mtls, () => tls.mtls
        ? `${tls.note}, but ${w.res.kind} ${fullName(w.res)} has no Istio proxy to terminate it: the connection fails`
        : `${tls.note}; ${w.res.kind} ${fullName(w.res)} has no Istio proxy, so no mTLS or authorization policy is enforced`, tls.rule, tls.field));
      if (tls.mtls) return end(TraceOutcome.CONNECTION_RESET, proxied ? 503 : undefined, () => 'mTLS to a pod without a proxy: the connection is reset');
      return reached();
    }
    const server_ = this.mtlsMode(w, port);
    const tls = this.clientSends(client, w, port, dr, d, server_.mode);
    const modeText = () => `${server_.policy ? `${describeRes(server_.policy)} ${server_.field}` : 'no PeerAuthentication (PERMISSIVE)'} is ${server_.mode} on port ${port}${server_.note ? ` (${server_.note})` : ''}`;
    if (server_.mode === 'STRICT' && !tls.mtls) {
      steps.push(step(TraceStepKind.MTLS, server, false, () => `${tls.note}; ${modeText()}, so the connection is refused`, server_.policy, server_.field));
      return end(TraceOutcome.CONNECTION_RESET, proxied ? 503 : undefined, () => `${server} requires mTLS and the caller sends ${tls.kind}: the connection is reset${proxied ? ' (503)' : ''}`);
    }
    if (server_.mode === 'DISABLE' && tls.mtls && w.dataplane === 'sidecar') {
      steps.push(step(TraceStepKind.MTLS, server, false, () => `${tls.note}, but ${modeText()}: the server cannot terminate it`, tls.rule ?? server_.policy, tls.field ?? server_.field));
      return end(TraceOutcome.CONNECTION_RESET, proxied ? 503 : undefined, () => `mTLS sent to a port with mTLS disabled: the connection is reset${proxied ? ' (503)' : ''}`);
    }
    steps.push(step(TraceStepKind.MTLS, server, true, () => `${tls.note}; ${modeText()}`, tls.rule ?? server_.policy, tls.field ?? server_.field));
    const principal = tls.mtls && server_.mode !== 'DISABLE' ? client.principal : undefined;
    const enforcer: Enforcer = w.dataplane === 'ambient' ? 'ztunnel' : 'envoy';
    const l7 = http && enforcer === 'envoy';
    let authn: AuthenticationResult | undefined;
    if (l7) {
      const bad = badRequestReason(flight.method, flight.rawPath);
      if (bad) return end(TraceOutcome.BAD_REQUEST, 400, () => `${server} refuses it: ${bad}`);
      authn = authenticate(flight.token, this.requestAuthenticationsFor(w));
      steps.push(step(TraceStepKind.AUTHENTICATION, server, !authn.rejected, () => authn!.summary, authn.policy));
      if (authn.rejected) return end(TraceOutcome.UNAUTHENTICATED, 401, () => `${server} rejects the JWT: 401`);
    }
    const host = hostOnly(flight.host ?? d.host);
    const attrs = this.attributes(principal, client.ip, flight, authn, host, port, l7, service, servicePort, d.routed?.subset, tls.mtls);
    const result = authorize(this.policiesFor(w), attrs, enforcer, flight.externalAuthorizerAllows);
    steps.push(step(TraceStepKind.AUTHORIZATION, server, result.allowed, () => result.summary, result.policy, result.ruleIndex !== undefined ? `spec.rules[${result.ruleIndex}]` : undefined));
    if (!result.allowed) return end(TraceOutcome.FORBIDDEN, l7 ? 403 : undefined, () => `${server} denies it${l7 ? ': 403 (RBAC: access denied)' : ': the connection is closed'}`);
    return reached();
  }

  /** What the client's proxy sends to a pod: DestinationRule TLS, else auto mTLS. */
  private clientSends(client: Caller, w: Workload, port: number, dr: Res | undefined, d: HopTarget, serverMode: string):
  { mtls: boolean; kind: string; note: string; rule?: Res; field?: string } {
    if (client.dataplane === 'none' || !client.principal) {
      return { mtls: false, kind: 'plaintext', note: client.dataplane === 'none' ? `${client.label} has no Istio proxy and sends plaintext` : 'the caller sends plaintext' };
    }
    if (w.dataplane === 'none' && client.dataplane !== 'ambient') {
      const tls = d.passthrough ? undefined : clientTlsOf(dr, d.routed?.subset, d.port ?? d.requestPort ?? port);
      if (tls?.mode === 'ISTIO_MUTUAL') return { mtls: true, kind: 'mTLS', note: `${describeRes(tls.rule)} ${tls.field} forces ISTIO_MUTUAL`, rule: tls.rule, field: tls.field };
      return { mtls: false, kind: 'plaintext', note: 'auto mTLS sends plaintext to a pod without an Istio proxy' };
    }
    if (client.dataplane === 'ambient') return { mtls: true, kind: 'mTLS', note: `ztunnel sends it over HBONE (mTLS as ${client.principal})` };
    if (d.passthrough) return { mtls: false, kind: 'plaintext', note: 'the PassthroughCluster sends plaintext (no mTLS)' };
    const tls = clientTlsOf(dr, d.routed?.subset, d.port ?? d.requestPort ?? port);
    if (tls?.mode === 'ISTIO_MUTUAL') return { mtls: true, kind: 'mTLS', note: `mTLS as ${client.principal} (${describeRes(tls.rule)} ${tls.field} is ISTIO_MUTUAL)`, rule: tls.rule, field: tls.field };
    if (tls?.mode === 'DISABLE') return { mtls: false, kind: 'plaintext', note: `${describeRes(tls.rule)} ${tls.field} is DISABLE, so the caller sends plaintext`, rule: tls.rule, field: tls.field };
    if (tls?.mode) return { mtls: false, kind: `${tls.mode} TLS`, note: `${describeRes(tls.rule)} ${tls.field} originates ${tls.mode} TLS, which carries no Istio identity`, rule: tls.rule, field: tls.field };
    if (!this.autoMtls) return { mtls: false, kind: 'plaintext', note: 'auto mTLS is off (enableAutoMtls: false) and no DestinationRule sets ISTIO_MUTUAL: plaintext' };
    if (serverMode === 'DISABLE' && w.dataplane === 'sidecar') return { mtls: false, kind: 'plaintext', note: 'auto mTLS sends plaintext to a port with mTLS disabled' };
    return { mtls: true, kind: 'mTLS', note: `auto mTLS as ${client.principal}` };
  }

  /** The attributes the enforcing proxy sees. */
  private attributes(principal: string | undefined, sourceIp: string | undefined, flight: Flight, authn: AuthenticationResult | undefined,
    host: string, port: number,
    http: boolean, service?: Res, servicePort?: any, subset?: string, mtls = principal !== undefined): RequestAttributes {
    const req = httpRequest(flight.method, flight.rawPath, flight.headers, host, this.normalization);
    const fqdn = service ? toFqdn(service.name, service.ns) : host;
    return {
      principal,
      sourceIp,
      remoteIp: flight.remoteIp ?? sourceIp,
      requestPrincipal: authn?.requestPrincipal,
      claims: authn?.claims,
      audiences: authn?.audiences,
      presenter: authn?.presenter,
      host: req.host,
      port,
      method: flight.method,
      path: req.path,
      headers: { ...req.headers, ...(authn?.addHeaders ?? {}) },
      // The SNI of Istio mTLS is the client's outbound cluster name.
      sni: flight.sni ?? (mtls && servicePort ? `outbound_.${servicePort.port}_.${subset ?? ''}_.${fqdn}` : undefined),
      http,
    };
  }

  // ---- ingress ----

  /** Traces a request that enters through an ingress gateway (an Istio Gateway) from `client`. */
  traceViaGateway(gateway: Res, client: Caller, flight: Flight): EngineTrace {
    const steps: Step[] = [];
    const undecided: string[] = [];
    const selector: Record<string, string> = gateway.spec.selector && typeof gateway.spec.selector === 'object' ? gateway.spec.selector : {};
    const pods = Object.keys(selector).length ? this.index.workloadsMatching(selector) : [];
    if (pods.length > 1) undecided.push(`Gateway ${fullName(gateway)} selects several workloads (${pods.map((w) => fullName(w.res)).join(', ')}); the trace uses ${fullName(pods[0].res)}`);
    const gw = pods[0] ?? this.index.gatewayStandIn(gateway, selector);
    if (!pods[0]) undecided.push(`no workload of the manifests has the labels Gateway ${fullName(gateway)} selects (${Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(', ')}): the trace assumes a gateway deployed elsewhere, running as ServiceAccount ${gw.ns}/${gw.serviceAccount}`);
    const gwCaller = this.callerOf(gw);
    const gwCallerEnvoy: Caller = { ...gwCaller, dataplane: 'gateway', principal: this.index.principalOf(gw.ns, gw.serviceAccount), label: `gateway ${fullName(gateway)}` };
    // Every Gateway whose selector matches these pods configures them (in any namespace).
    const bound = this.index.of('Gateway').filter((g) => g.spec.selector && typeof g.spec.selector === 'object' && Object.keys(g.spec.selector).length > 0 && matchesSelector(gw.labels, g.spec.selector));
    const foreign = bound.filter((g) => g !== gateway);
    if (foreign.length > 0) undecided.push(`Gateway${foreign.length > 1 ? 's' : ''} ${foreign.map(fullName).join(', ')} select${foreign.length > 1 ? '' : 's'} the same pods as ${fullName(gateway)}: their servers and routes are merged into the same Envoy`);
    const proxy = `gateway ${fullName(gateway)}`;

    // Listener: the gateway Service port → the pods' port → the servers on it.
    const servers = bound.flatMap((g) => asList(g.spec.servers).map((s, i) => ({ g, s, i })));
    const services = this.index.servicesSelecting(gw);
    const mapPort = (p: number) => {
      for (const svc of services) {
        const sp = servicePortOf(svc, p);
        if (sp) return { target: targetPortOf(gw, sp) ?? p, svc };
      }
      return { target: p, svc: undefined as Res | undefined };
    };
    let port = flight.port;
    if (port === undefined) {
      const wantTls = flight.tls === true;
      const first = servers.find(({ g, s }) => g === gateway && (wantTls === isTlsServer(s))) ?? servers.find(({ g }) => g === gateway);
      const target = Number(first?.s?.port?.number ?? 80);
      const svcPort = services.flatMap((svc) => asList(svc.spec.ports)).find((sp: any) => (targetPortOf(gw, sp) ?? sp?.port) === target);
      port = svcPort ? Number(svcPort.port) : target;
    }
    const { target, svc } = mapPort(port);
    const onPort = servers.filter(({ s }) => Number(s?.port?.number) === target);
    if (onPort.length === 0) {
      steps.push(step(TraceStepKind.ENTRY, proxy, false, () => `no server of ${bound.map((g) => `Gateway ${fullName(g)}`).join(', ')} listens on port ${target}${svc ? ` (Service ${fullName(svc)} port ${port})` : ''}`, gateway, 'spec.servers'));
      return { steps, branches: [], undecided, end: ending(TraceOutcome.CONNECTION_REFUSED, undefined, () => `nothing listens on port ${port} of ${proxy}: connection refused`) };
    }
    const protocol = String(onPort[0].s?.port?.protocol ?? 'HTTP').toUpperCase();
    // HTTPS terminated at the gateway is HTTP from there on; TLS terminated is TCP; passed through, TLS.
    const passthrough = ['PASSTHROUGH', 'AUTO_PASSTHROUGH'].includes(String(onPort[0].s?.tls?.mode ?? ''));
    const klass = protocol === 'HTTPS' && !passthrough ? 'http' : protocol === 'TLS' && !passthrough ? 'tcp' : PROTOCOL_CLASS[protocol] ?? 'tcp';
    const host = (flight.host ?? '').toLowerCase();
    const tlsServer = onPort.some(({ s }) => isTlsServer(s));
    const clientTls = flight.tls ?? tlsServer;
    const portText = `port ${target}${svc && port !== target ? ` (Service ${fullName(svc)} port ${port})` : ''}`;
    if (tlsServer !== clientTls) {
      steps.push(step(TraceStepKind.ENTRY, proxy, false, () => `the ${protocol} server on ${portText} ${tlsServer ? 'expects TLS and the client sends plaintext' : 'speaks plaintext and the client starts TLS'}`, onPort[0].g, `spec.servers[${onPort[0].i}]`));
      return { steps, branches: [], undecided, end: ending(TraceOutcome.CONNECTION_RESET, undefined, () => 'the TLS handshake fails: the connection is reset') };
    }
    // With TLS the SNI chooses the server; plaintext HTTP servers of one port share one route table.
    const serverHosts = (s: any, g: Res) => asList(s?.hosts).map((h: any) => {
      const text = String(h);
      const slash = text.indexOf('/');
      return slash < 0 ? { ns: '*', host: text } : { ns: text.slice(0, slash) === '.' ? g.ns : text.slice(0, slash), host: text.slice(slash + 1) };
    });
    const covers = (s: any, g: Res) => serverHosts(s, g).some((h) => hostMatchesPattern(host || '*', h.host.toLowerCase(), g.ns) || (host === '' && h.host === '*'));
    const chosen = tlsServer ? onPort.filter(({ s, g }) => covers(s, g)) : onPort;
    if (chosen.length === 0) {
      steps.push(step(TraceStepKind.ENTRY, proxy, false, () => `no ${protocol} server on ${portText} serves SNI ${host || '(none)'}`, onPort[0].g, `spec.servers[${onPort[0].i}].hosts`));
      return { steps, branches: [], undecided, end: ending(TraceOutcome.CONNECTION_RESET, undefined, () => 'no server matches the SNI: the connection is closed') };
    }
    const first = chosen[0];
    const tlsMode = String(first.s?.tls?.mode ?? (tlsServer ? 'SIMPLE' : ''));
    if (tlsServer && (tlsMode === 'SIMPLE' || tlsMode === 'MUTUAL' || tlsMode === 'OPTIONAL_MUTUAL')) {
      const credential = first.s?.tls?.credentialName ?? asList(first.s?.tls?.credentialNames)[0] ?? (first.s?.tls?.serverCertificate ? 'a certificate file' : undefined);
      if (!credential) {
        steps.push(step(TraceStepKind.ENTRY, proxy, false, () => `the ${protocol} server on ${portText} has no certificate (tls.credentialName)`, first.g, `spec.servers[${first.i}].tls`));
        return { steps, branches: [], undecided, end: ending(TraceOutcome.CONNECTION_RESET, undefined, () => 'no certificate to terminate TLS with: the handshake fails') };
      }
      if (tlsMode === 'MUTUAL' && flight.clientCertificate === false) {
        steps.push(step(TraceStepKind.ENTRY, proxy, false, () => `the server on ${portText} is MUTUAL and the client presents no certificate`, first.g, `spec.servers[${first.i}].tls.mode`));
        return { steps, branches: [], undecided, end: ending(TraceOutcome.CONNECTION_RESET, undefined, () => 'mutual TLS without a client certificate: the handshake fails') };
      }
      if (typeof credential === 'string' && credential !== 'a certificate file' && !this.index.get('Secret', gw.ns, credential)) {
        undecided.push(`the Secret "${credential}" (${gw.ns}) with the server certificate is not in the manifests; the trace assumes it exists`);
      }
    }
    if (!tlsServer && first.s?.tls?.httpsRedirect === true) {
      steps.push(step(TraceStepKind.ENTRY, proxy, true, () => `server ${first.i} of Gateway ${fullName(first.g)} on ${portText} redirects plain HTTP to HTTPS`, first.g, `spec.servers[${first.i}].tls.httpsRedirect`));
      return { steps, branches: [], undecided, end: ending(TraceOutcome.REDIRECTED, 301, () => `301 to https://${host}${flight.rawPath}`) };
    }
    const serverText = () => `${protocol} on ${portText}, server ${first.i} of Gateway ${fullName(first.g)}${tlsServer ? ` (TLS ${tlsMode}${first.s?.tls?.credentialName ? ` with credential ${first.s.tls.credentialName}` : ''})` : ''}`;
    steps.push(step(TraceStepKind.ENTRY, proxy, true, serverText, first.g, `spec.servers[${first.i}]`));

    // The gateway's own checks on HTTP: the request, the JWT, the policies on the gateway pods.
    const admission = this.gatewayAdmission(gw, proxy, client, flight, host, target, klass, steps);
    if (admission.end) return { steps, branches: [], undecided, end: admission.end };
    const authn = admission.authn;

    // Routing: the VirtualServices bound to the Gateway that owns each server, within the server's host namespaces.
    const vss: Res[] = [];
    for (const { s, g } of chosen) {
      for (const sh of serverHosts(s, g)) {
        if (host && !hostMatchesPattern(host, sh.host.toLowerCase(), g.ns)) continue;
        const ctx: MatchContext = { port: target, gateway: `${g.ns}/${g.name}`, vsNamespace: '', sourceLabels: gw.labels, sourceNamespace: gw.ns, scheme: clientTls ? 'https' : 'http' };
        for (const vs of applicableVirtualServices(this.vsIndex, host, ctx, g.ns, () => true)) {
          if ((sh.ns === '*' || sh.ns === vs.ns) && !vss.includes(vs)) vss.push(vs);
        }
      }
    }
    const gatewayKey = `${first.g.ns}/${first.g.name}`;
    const forwarded: Flight = {
      ...flight,
      token: authn?.stripsToken ? undefined : flight.token,
      headers: { ...flight.headers, ...(authn?.addHeaders ?? {}) },
      remoteIp: client.ip,
      sni: undefined,
    };
    const entry = this.index.registry.lookup(gw.ns, host) ?? { res: gateway, ports: [] } as RegistryEntry;
    if (klass === 'tls') {
      const sniFlight = { ...forwarded, sni: host };
      return this.routeAndHop(gwCallerEnvoy, sniFlight, host, host, entry, target, 'tls', gatewayKey, steps, undecided, vss, gwCallerEnvoy);
    }
    return this.routeAndHop(gwCallerEnvoy, forwarded, host, host, entry, target, klass, gatewayKey, steps, undecided, vss, gwCallerEnvoy,
      authn?.claims);
  }

  /** The pods of an ingress gateway (an Istio Gateway's selector, a Gateway API Gateway's name label), or their stand-in. */
  gatewayWorkload(gateway: Res): Workload {
    if (gateway.group !== 'networking.istio.io') {
      return this.index.workloadsMatching({ [GATEWAY_NAME_LABEL]: gateway.name }, gateway.ns)[0] ?? this.index.kubeGatewayStandIn(gateway);
    }
    const selector: Record<string, string> = gateway.spec.selector && typeof gateway.spec.selector === 'object' ? gateway.spec.selector : {};
    return (Object.keys(selector).length ? this.index.workloadsMatching(selector)[0] : undefined) ?? this.index.gatewayStandIn(gateway, selector);
  }

  /** What an ingress gateway's own Envoy checks: the request (HTTP), the JWT, the authorization policies on its pods. */
  private gatewayAdmission(gw: Workload, proxy: string, client: Caller, flight: Flight, host: string, port: number, klass: 'http' | 'tcp' | 'tls',
    steps: Step[]): { authn?: AuthenticationResult; end?: Ending } {
    let authn: AuthenticationResult | undefined;
    if (klass === 'http') {
      const bad = badRequestReason(flight.method, flight.rawPath);
      if (bad) return { end: ending(TraceOutcome.BAD_REQUEST, 400, () => `${proxy} refuses it: ${bad}`) };
      const result = authenticate(flight.token, this.requestAuthenticationsFor(gw));
      authn = result;
      steps.push(step(TraceStepKind.AUTHENTICATION, proxy, !result.rejected, () => result.summary, result.policy));
      if (result.rejected) return { end: ending(TraceOutcome.UNAUTHENTICATED, 401, () => `${proxy} rejects the JWT: 401`) };
    }
    const attrs = this.attributes(undefined, client.ip, flight, authn, host, port, klass === 'http');
    const result = authorize(this.policiesFor(gw), attrs, 'envoy', flight.externalAuthorizerAllows);
    steps.push(step(TraceStepKind.AUTHORIZATION, proxy, result.allowed, () => result.summary, result.policy, result.ruleIndex !== undefined ? `spec.rules[${result.ruleIndex}]` : undefined));
    if (!result.allowed) return { end: ending(TraceOutcome.FORBIDDEN, klass === 'http' ? 403 : undefined, () => `${proxy} denies it${klass === 'http' ? ': 403' : ''}`) };
    return { authn };
  }

  /**
   * Traces a request that enters through a Kubernetes Gateway API `Gateway` (class `istio`): the listener on the port
   * (protocol, TLS, the most specific hostname), the gateway's own authentication and authorization (policies attached
   * with targetRefs), the routes bound to the listener (parentRef, sectionName, allowedRoutes, hostnames) converted
   * and ordered as Istio does, then one hop per backend, with the gateway's identity `<name>-<class>`.
   */
  traceViaKubeGateway(gateway: Res, client: Caller, flight: Flight): EngineTrace {
    const steps: Step[] = [];
    const undecided: string[] = [];
    const proxy = `gateway ${fullName(gateway)}`;
    const gw = this.gatewayWorkload(gateway);
    // Istio deploys the gateway's pods itself (automated deployment): they are not in the manifests.
    if (gw.res === gateway) undecided.push(`the pods of Gateway ${fullName(gateway)} are deployed by Istio (Deployment ${gateway.ns}/${kubeGatewayServiceAccount(gateway)}), not in the manifests: the trace assumes they run as ServiceAccount ${gw.ns}/${gw.serviceAccount}`);
    const gwCaller: Caller = { ...this.callerOf(gw), dataplane: 'gateway', principal: this.index.principalOf(gw.ns, gw.serviceAccount), label: proxy };
    const listeners = asList(gateway.spec.listeners).map((l, i) => ({ l, i }));
    const isTls = (l: any) => ['HTTPS', 'TLS'].includes(String(l?.protocol ?? ''));
    const port = flight.port ?? Number((listeners.find(({ l }) => isTls(l) === (flight.tls === true)) ?? listeners[0])?.l?.port ?? 80);
    const onPort = listeners.filter(({ l }) => Number(l?.port) === port);
    if (onPort.length === 0) {
      steps.push(step(TraceStepKind.ENTRY, proxy, false, () => `no listener of Gateway ${fullName(gateway)} is on port ${port}`, gateway, 'spec.listeners'));
      return { steps, branches: [], undecided, end: ending(TraceOutcome.CONNECTION_REFUSED, undefined, () => `nothing listens on port ${port} of ${proxy}: connection refused`) };
    }
    const protocol = String(onPort[0].l?.protocol ?? 'HTTP');
    const tlsListener = isTls(onPort[0].l);
    const clientTls = flight.tls ?? tlsListener;
    if (tlsListener !== clientTls) {
      steps.push(step(TraceStepKind.ENTRY, proxy, false, () => `the ${protocol} listener on port ${port} ${tlsListener ? 'expects TLS and the client sends plaintext' : 'speaks plaintext and the client starts TLS'}`, gateway, `spec.listeners[${onPort[0].i}]`));
      return { steps, branches: [], undecided, end: ending(TraceOutcome.CONNECTION_RESET, undefined, () => 'the TLS handshake fails: the connection is reset') };
    }
    const host = hostOnly(flight.host ?? '');
    const chosen = listenerForHost(onPort, host);
    if (!chosen) {
      const hostnames = onPort.map(({ l }) => l?.hostname).join(', ');
      steps.push(step(TraceStepKind.ENTRY, proxy, false, () => `no listener on port ${port} serves ${tlsListener ? 'SNI' : 'host'} ${host || '(none)'} (hostnames: ${hostnames})`, gateway, `spec.listeners[${onPort[0].i}].hostname`));
      return tlsListener
        ? { steps, branches: [], undecided, end: ending(TraceOutcome.CONNECTION_RESET, undefined, () => 'no listener matches the SNI: the connection is closed') }
        : { steps, branches: [], undecided, end: ending(TraceOutcome.NOT_FOUND, 404, () => `no listener serves host ${host}: 404`) };
    }
    const listener = chosen.l;
    const field = `spec.listeners[${chosen.i}]`;
    const tlsMode = String(listener?.tls?.mode ?? (tlsListener ? 'Terminate' : ''));
    const passthrough = tlsMode === 'Passthrough';
    const klass: 'http' | 'tcp' | 'tls' = protocol === 'HTTP' || (protocol === 'HTTPS' && !passthrough) ? 'http' : protocol === 'TLS' && passthrough ? 'tls' : 'tcp';
    if (tlsListener && !passthrough) {
      const refs = asList(listener?.tls?.certificateRefs);
      const grants = this.index.of('ReferenceGrant.gateway.networking.k8s.io');
      const refused = refs.map((r) => certificateRefRefused(grants, gateway, r)).find((r) => r !== undefined);
      if (refs.length === 0 || refused) {
        steps.push(step(TraceStepKind.ENTRY, proxy, false, () => `the ${protocol} listener "${listener?.name}" has no usable certificate: ${refused ? `${refused} (RefNotPermitted), so Istio does not program the listener` : 'no tls.certificateRefs'}`, gateway, `${field}.tls.certificateRefs`));
        return { steps, branches: [], undecided, end: ending(TraceOutcome.CONNECTION_RESET, undefined, () => 'no certificate to terminate TLS with: the handshake fails') };
      }
      const secret = refs[0];
      if ((secret?.kind ?? 'Secret') === 'Secret' && !this.index.get('Secret', String(secret?.namespace ?? gateway.ns), String(secret?.name))) {
        undecided.push(`the Secret "${secret?.name}" (${secret?.namespace ?? gateway.ns}) with the listener's certificate is not in the manifests; the trace assumes it exists`);
      }
    }
    steps.push(step(TraceStepKind.ENTRY, proxy, true, () => `${protocol} on port ${port}, listener "${listener?.name}" of Gateway ${fullName(gateway)}${listener?.hostname ? ` (hostname ${listener.hostname})` : ''}${tlsListener ? ` (TLS ${tlsMode})` : ''}`, gateway, field));

    // The gateway's own checks on HTTP: the request, the JWT, the policies attached to the Gateway.
    const admission = this.gatewayAdmission(gw, proxy, client, flight, host, port, klass, steps);
    if (admission.end) return { steps, branches: [], undecided, end: admission.end };
    const authn = admission.authn;

    // The routes bound to the listener whose hostnames admit the request.
    const kind = klass === 'http' ? 'HTTPRoute' : klass === 'tls' ? 'TLSRoute' : 'TCPRoute';
    const nsLabels = (ns: string) => this.index.namespace(ns)?.labels;
    const { bound, refused } = routesForListener(this.index.of(`${kind}.gateway.networking.k8s.io`), gateway, listener, kind, nsLabels);
    for (const r of refused) undecided.push(`not bound to listener "${listener?.name}": ${r}`);
    const routes = bound.filter((r) => routeHostnamesMatch(r, host)).sort(routeOrder);
    if (routes.length === 0) {
      const why = bound.length > 0 ? ` (the hostnames of ${bound.map(describeRes).join(', ')} do not include ${host})` : refused.length > 0 ? ` (${refused.join('; ')})` : '';
      steps.push(step(TraceStepKind.ROUTING, proxy, false, () => `no ${kind} bound to listener "${listener?.name}" serves ${host || 'the request'}${why}`, gateway, field));
      return klass === 'http'
        ? { steps, branches: [], undecided, end: ending(TraceOutcome.NOT_FOUND, 404, () => `no route matches: 404 (NR) from ${proxy}`) }
        : { steps, branches: [], undecided, end: ending(TraceOutcome.CONNECTION_RESET, undefined, () => `no ${kind} takes it: ${proxy} closes the connection`) };
    }
    const gatewayKey = `${gateway.ns}/${gateway.name}`;
    const asIstio = klass === 'http' ? convertHttpRoutes(routes, this.backendRefused)! : convertTcpRoutes(routes, this.backendRefused)!;
    // Istio's internal VirtualService of a Gateway's routes is bound to that Gateway.
    const converted: ConvertedRoutes = { ...asIstio, vs: { ...asIstio.vs, spec: { ...asIstio.vs.spec, gateways: [gatewayKey] } } };
    const forwarded: Flight = {
      ...flight,
      token: authn?.stripsToken ? undefined : flight.token,
      headers: { ...flight.headers, ...(authn?.addHeaders ?? {}) },
      remoteIp: client.ip,
      sni: klass === 'tls' ? host : undefined,
    };
    const entry = this.index.registry.lookup(gateway.ns, host) ?? { res: gateway, ports: [] } as RegistryEntry;
    return this.routeAndHop(gwCaller, forwarded, host, host, entry, port, klass === 'http' ? 'http' : 'tcp', gatewayKey, steps, undecided, [], gwCaller,
      authn?.claims, converted);
  }

  /** Policies of `kind` attached with targetRefs to a Kubernetes Gateway (gateway pods named by `gateway.networking.k8s.io/gateway-name`). */
  private targetedTo(kind: string, w: Workload, gatewayName: string): Res[] {
    const root = this.index.options.rootNamespace;
    return this.index.of(kind).filter((p) => refsOf(p).some((ref: any) =>
      (ref?.kind === 'Gateway' && ref.name === gatewayName && p.ns === w.ns)
      || (ref?.kind === 'GatewayClass' && p.ns === root)));
  }
}

/** Where a hop goes. */
export interface HopTarget {
  readonly host: string;
  readonly weight: number;
  /** The route destination, when a route chose it. */
  readonly routed?: RoutedDestination;
  /** The registry entry, when known without a route. */
  readonly service?: Res;
  readonly port?: number;
  /** The port the request arrived on at the caller's proxy (for a route destination without a port). */
  readonly requestPort?: number;
  /** A workload called directly. */
  readonly direct?: Workload;
  /** Sent by the PassthroughCluster: no routing, no DestinationRule, no mTLS. */
  readonly passthrough?: boolean;
}

function routeHttpNs(vss: Res[], req: HttpRequest, withNs: (vs: Res) => MatchContext,
  delegates: (ref: any, vs: Res) => Res | undefined): RouteDecision {
  // Each VirtualService's rules are matched with its own namespace (short gateway names resolve there).
  for (let i = 0; i < vss.length; i++) {
    const d = routeHttp([vss[i]], req, withNs(vss[i]), delegates);
    if (d.action !== 'none') return { ...d, conflicting: vss.filter((v) => v !== vss[i]) };
  }
  return { action: 'none', vs: vss[0], destinations: [], conflicting: vss.slice(1), notes: [] };
}

function routeL4Ns(vss: Res[], protocol: 'tcp' | 'tls', withNs: (vs: Res) => MatchContext): RouteDecision {
  for (let i = 0; i < vss.length; i++) {
    const d = routeL4([vss[i]], protocol, withNs(vss[i]));
    if (d.action !== 'none') return { ...d, conflicting: vss.filter((v) => v !== vss[i]) };
  }
  return { action: 'none', vs: vss[0], destinations: [], conflicting: vss.slice(1), notes: [] };
}

function routeSummary(rule: any, protocol: string, vs: Res | undefined, field: string | undefined, vsNs: string, matchIndex: number,
  req: HttpRequest): RouteSummary {
  if (protocol !== 'http') return { object: vs, field, mirrors: [] };
  const written = rule?.retries;
  const retries = written && typeof written === 'object'
    ? { attempts: Number(written.attempts ?? 2), retryOn: written.retryOn, perTryTimeout: written.perTryTimeout, isDefault: false }
    : { attempts: 2, retryOn: DEFAULT_RETRY_ON, isDefault: true };
  const rw = rewritten(rule, matchIndex, req.pathWithQuery, req.host);
  return {
    object: vs,
    field,
    timeout: typeof rule?.timeout === 'string' ? rule.timeout : undefined,
    retries,
    fault: faultOf(rule).text,
    mirrors: mirrorsOf(rule, vsNs),
    rewrite: rw.text,
    // Envoy bypasses the CORS filter on a route that redirects or answers directly.
    cors: rule?.redirect || rule?.directResponse ? undefined : corsEffect(rule, req),
  };
}

function isTlsServer(s: any): boolean {
  const protocol = String(s?.port?.protocol ?? '').toUpperCase();
  return protocol === 'HTTPS' || protocol === 'TLS';
}

/** Label keys read from callers: Sidecar and DestinationRule workload selectors, VirtualService `sourceLabels` matches. */
function callerLabelKeys(index: MeshIndex): Set<string> {
  const keys = new Set<string>();
  const add = (labels: unknown) => {
    if (labels && typeof labels === 'object') for (const k of Object.keys(labels)) keys.add(k);
  };
  for (const s of index.of('Sidecar')) add(s.spec.workloadSelector?.labels);
  for (const dr of index.of('DestinationRule')) add(dr.spec.workloadSelector?.matchLabels);
  for (const vs of index.of('VirtualService')) {
    for (const protocol of ['http', 'tcp', 'tls']) {
      for (const rule of asList(vs.spec[protocol])) for (const m of asList(rule?.match)) add(m?.sourceLabels);
    }
  }
  return keys;
}

function refsOf(p: Res): any[] {
  return [p.spec.targetRef, ...asList(p.spec.targetRefs)].filter((r) => r && typeof r === 'object');
}

function firstPort(entry: RegistryEntry | undefined): number | undefined {
  if (!entry) return undefined;
  const ports = asList(entry.res.kind === 'ServiceEntry' ? entry.res.spec.ports : entry.res.spec.ports);
  const p = ports[0];
  const n = entry.res.kind === 'ServiceEntry' ? p?.number : p?.port;
  return n === undefined ? undefined : Number(n);
}

function firstContainerPort(w: Workload): number {
  return Number(containerPorts(w)[0]?.containerPort ?? 0);
}

/** `http`, `tcp` or `tls` for a port of a registry entry (an unknown port is sniffed: HTTP when it is). */
function protocolOf(entry: RegistryEntry | undefined, port: number, tcp = false): 'http' | 'tcp' | 'tls' {
  if (!entry) return tcp ? 'tcp' : 'http';
  if (entry.res.kind === 'ServiceEntry') {
    const p = asList(entry.res.spec.ports).find((x: any) => Number(x?.number) === port);
    const protocol = String(p?.protocol ?? 'TCP').toUpperCase();
    return PROTOCOL_CLASS[protocol] ?? 'tcp';
  }
  const sp = servicePortOf(entry.res, port);
  const protocol = sp ? portProtocol(sp) : undefined;
  if (protocol === undefined) return tcp ? 'tcp' : 'http';
  if (protocol === 'https' || protocol === 'tls') return 'tls';
  return isHttpPort(sp) ? 'http' : 'tcp';
}

function proxyName(c: Caller): string {
  switch (c.dataplane) {
    case 'sidecar': return `sidecar of ${c.label}`;
    case 'ambient': return `ztunnel of ${c.label}`;
    case 'gateway': case 'waypoint': return c.label;
    default: return c.label;
  }
}

function entrySummary(c: Caller): string {
  if (c.dataplane === 'none') return `${c.label} has no Istio proxy: it sends plaintext, and no VirtualService or Sidecar applies to it`;
  if (c.dataplane === 'ambient') return `${c.label} is in ambient mode: ztunnel carries its connections (mTLS as ${c.principal})`;
  return `${c.label} sends it through its Istio proxy (identity ${c.principal})`;
}

/** The port of an authority (`reviews:9080` → 9080), if it has one. */
function portOf(authority: string): number | undefined {
  const m = /:(\d+)$/.exec(authority);
  return m && !authority.endsWith(']') ? Number(m[1]) : undefined;
}

function hostOnly(authority: string): string {
  const a = authority.toLowerCase();
  const colon = a.lastIndexOf(':');
  return colon > 0 && !a.startsWith('[') && /^\d+$/.test(a.slice(colon + 1)) ? a.slice(0, colon) : a;
}

function ending(outcome: TraceOutcome, status: number | undefined, explanation: () => string): Ending {
  return { outcome, status, explanation };
}

function step(kind: TraceStepKind, proxy: string, passed: boolean, summary: () => string, object?: Res, field?: string): Step {
  return { kind, proxy, passed, summary, object, field };
}

const round = (n: number) => Math.round(n * 100) / 100;

/**
 * A trace continued at another proxy (the waypoint an ingress gateway sends to), as branches of the first proxy's
 * route: each keeps the host the first proxy routed to; its steps say where the waypoint's own routes sent it.
 */
function asBranches(t: EngineTrace, host: string, port: number, weightPercent: number): BranchResult[] {
  if (t.end || t.branches.length === 0) {
    const end = t.end ?? ending(TraceOutcome.UNAVAILABLE, 503, () => 'the waypoint has no destination: 503');
    return [{ host, port, weightPercent, outcome: end.outcome, status: end.status, steps: t.steps, explanation: end.explanation }];
  }
  return t.branches.map((b) => ({ ...b, host, weightPercent: round((weightPercent * b.weightPercent) / 100), steps: [...t.steps, ...b.steps] }));
}
const asList = (v: unknown): any[] => (Array.isArray(v) ? v : []);

/** Lower-case merged headers of a request. */
export { mergeHeaders };
