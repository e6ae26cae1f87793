import { clusterServiceOf, toFqdn } from './hosts';
import { Res } from './manifests';
import { fullName, MeshIndex, Workload } from './model';
import { AnalysisOptions } from './options';
import { resolveOptions } from './run';
import { Caller, EngineTrace, Flight, SimulatorEngine, Step, Target } from './simulator/engine';
import { exampleRequests, exampleTokens } from './simulator/examples';
import { mergeHeaders } from './simulator/http-request';
import { isIngressGateway } from './simulator/kube-gateway';
import {
  AccessMatrix, Decision, DecisionKind, DestinationTrace, JwtToken, ObjectReference, RequestTrace, TraceOutcome, TraceRequest, TraceStep,
  TraceStepKind,
} from './simulator/types';

export * from './simulator/types';

const SIMULATORS = new WeakMap<MeshIndex, MeshSimulator>();

/**
 * Plays requests through a set of manifests the way Istio does, step by step: where the request enters (a workload's
 * sidecar or ztunnel, an ingress gateway's listener and server, or a client outside the mesh), what the caller's
 * proxy lets out (Sidecar egress, outboundTrafficPolicy), which VirtualService rule routes it and with what weights,
 * retries, timeout, fault and mirror, the pods behind the destination, the hop's mutual TLS, the JWT, and the
 * authorization policies at the gateway and the destination. Works on synthesized objects or any hand-written YAML.
 *
 * @example
 * const sim = new MeshSimulator(chart.toJson());
 * const trace = sim.trace({ source: 'shop/web', host: 'catalog', method: 'GET', path: '/items' });
 * expect(trace.outcome).toBe(TraceOutcome.REACHED);
 */
export class MeshSimulator {
  /**
   * The simulator of an index the analysis already built (the checks, the topology and the synth-time promises share it).
   * @internal
   */
  public static _of(index: MeshIndex): MeshSimulator {
    let sim = SIMULATORS.get(index);
    if (!sim) {
      sim = Object.create(MeshSimulator.prototype) as MeshSimulator;
      sim.init(index);
      SIMULATORS.set(index, sim);
    }
    return sim;
  }

  private index!: MeshIndex;
  private engine!: SimulatorEngine;
  private workloadsByName!: Map<string, Workload>;

  /**
   * @param manifests plain Kubernetes and Istio objects (`chart.toJson()`, or parsed YAML)
   */
  constructor(manifests: any[], options?: AnalysisOptions) {
    this.init(new MeshIndex(manifests, resolveOptions(options)));
  }

  /**
   * Traces one request. Throws when the request names a source, gateway or destination the manifests do not have.
   */
  public trace(request: TraceRequest): RequestTrace {
    const callers = this.callers(request);
    const traces = callers.map((caller) => this.traceFrom(caller, request));
    const refused = traces.findIndex((t) => !t.allowed);
    if (traces.length === 1 || refused < 0) return traces[0];
    const some = traces.filter((t) => t.allowed).length;
    const t = traces[refused];
    const note = `${callers[refused].label} is one of ${callers.length} workloads of ${request.source}${some ? `; ${some} of them would succeed` : ''}`;
    return { ...t, undecided: [...t.undecided], explanation: `${t.explanation} (${note})` };
  }

  /** The authorization view of {@link trace}: allowed, or which policy refused it. */
  public decide(request: TraceRequest): Decision {
    return decisionOf(this.trace(request));
  }

  /**
   * Decides a request from `caller` (a workload, a Service — all its workloads must be allowed — or a ServiceAccount;
   * `name` or `namespace/name`) to `callee` (a Service, a workload or a host). `request` adds the port, method, path,
   * headers, token...
   */
  public call(caller: string, callee: string, request: TraceRequest = {}): Decision {
    return this.decide({ ...request, source: caller, destination: callee });
  }

  /** `call(caller, callee, request).allowed`. */
  public canCall(caller: string, callee: string, request?: TraceRequest): boolean {
    return this.call(caller, callee, request).allowed;
  }

  /** Service × service: may every workload of a Service send `GET /` to the first port of another (the full trace: egress, routing, pods, mTLS, policies)? */
  public accessMatrix(): AccessMatrix {
    const services = this.index.of('Service').filter((s) => this.engine.serviceWorkloads(s).length > 0);
    const callers = services.map((s) => this.engine.distinctCallers(this.engine.serviceWorkloads(s).map((w) => this.engine.callerOf(w))));
    const flight: Flight = { method: 'GET', rawPath: '/', headers: {}, externalAuthorizerAllows: true };
    return {
      services: services.map(fullName),
      allowed: services.map((_from, i) => services.map((to) => {
        const target: Target = { host: toFqdn(to.name, to.ns) };
        return callers[i].every((c) => admitted(this.engine.trace(c, flight, target)));
      })),
    };
  }

  /**
   * A declared call from `source` to `destination` (a Service): the requests the destination's ALLOW policies describe
   * (and `GET /`, `POST /`, `DELETE /`), without a token and with a valid token of each issuer the destination
   * accepts, are traced; the call gets through when one of them does. Returns nothing when it does, else the trace of
   * `GET /` without a token (put into words only then).
   * @internal
   */
  public _declaredCall(source: string, destination: string): RequestTrace | undefined {
    const [dns, name] = split(destination, this.index.options.defaultNamespace);
    const svc = this.index.get('Service', dns, name);
    // In ambient mode with a waypoint, the L7 policies are the waypoint's (targetRefs), not the pods'.
    const waypoint = svc ? this.engine.waypointFor(svc) : undefined;
    const atWaypoint = (kind: string) => (svc && waypoint ? this.engine.waypointPoliciesFor(kind, svc, waypoint) : []);
    const policies = svc ? [...new Set([...this.engine.serviceWorkloads(svc).flatMap((w) => this.engine.authorizationPoliciesFor(w)), ...atWaypoint('AuthorizationPolicy')])] : [];
    const requests = svc ? exampleRequests(policies, svc) : [{ method: 'GET', path: '/' }];
    const ras = svc ? [...new Set([...this.engine.serviceWorkloads(svc).flatMap((w) => this.engine.requestAuthenticationsFor(w)), ...atWaypoint('RequestAuthentication')])] : [];
    const tokens = [undefined, ...exampleTokens(ras, policies)];
    // Traced without putting them into words (only the trace returned is), once per distinct caller.
    const callers = this.engine.distinctCallers(this.callers({ source }));
    const target = this.target({ destination }, callers[0]);
    for (const token of tokens) {
      for (const r of requests) {
        const flight: Flight = { method: r.method, rawPath: r.path, headers: {}, port: 'port' in r ? r.port : undefined, token, externalAuthorizerAllows: true };
        if (callers.every((c) => admitted(this.engine.trace(c, flight, target)))) return undefined;
      }
    }
    return this.trace({ source, destination, method: requests[0].method, path: requests[0].path });
  }

  /**
   * Valid tokens that stand for what `destination` (a Service or workload, `namespace/name`) accepts and its policies
   * ask for: one per issuer of its RequestAuthentications (none when it validates no token).
   * @internal
   */
  public _tokensFor(destination: string): JwtToken[] {
    const [dns, name] = split(destination, this.index.options.defaultNamespace);
    const svc = this.index.get('Service', dns, name);
    const workloads = svc ? this.engine.serviceWorkloads(svc) : [this.workloadsByName.get(`${dns}/${name}`)].filter((w): w is Workload => w !== undefined);
    // In ambient mode the Service's waypoint enforces the policies attached to it (targetRefs), not the pods.
    const waypoint = svc ? this.engine.waypointFor(svc) : undefined;
    const attached = (kind: string) => (waypoint ? this.engine.waypointPoliciesFor(kind, svc, waypoint) : []);
    const policies = [...new Set([...workloads.flatMap((w) => this.engine.authorizationPoliciesFor(w)), ...attached('AuthorizationPolicy')])];
    const ras = [...new Set([...workloads.flatMap((w) => this.engine.requestAuthenticationsFor(w)), ...attached('RequestAuthentication')])];
    return exampleTokens(ras, policies);
  }

  /**
   * Example tokens that pass the JWT requirements of an ingress gateway's own pods (`namespace/name` of an Istio or
   * Gateway API Gateway), for the promises of exposures.
   * @internal
   */
  public _tokensForGateway(gatewayName: string): JwtToken[] {
    const w = this.engine.gatewayWorkload(this.gateway(gatewayName));
    return exampleTokens(this.engine.requestAuthenticationsFor(w), this.engine.authorizationPoliciesFor(w));
  }

  /** The access matrix as a fixed-width text table (rows call columns), for snapshots and reviews. */
  public accessMatrixTable(): string {
    const m = this.accessMatrix();
    const width = Math.max(9, ...m.services.map((s) => s.length));
    const header = ['from \\ to'.padEnd(width), ...m.services.map((s) => s.padEnd(width))].join('  ').trimEnd();
    const rows = m.services.map((s, i) => [s.padEnd(width), ...m.allowed[i].map((a) => (a ? 'allow' : 'deny').padEnd(width))].join('  ').trimEnd());
    return [header, ...rows].join('\n') + '\n';
  }

  private init(index: MeshIndex): void {
    this.index = index;
    this.engine = SimulatorEngine.of(index);
    this.workloadsByName = new Map();
    for (const w of index.workloads) {
      const key = `${w.ns}/${w.res.name}`;
      if (!this.workloadsByName.has(key)) this.workloadsByName.set(key, w);
    }
  }

  private traceFrom(caller: Caller, request: TraceRequest): RequestTrace {
    const flight: Flight = {
      method: request.method ?? 'GET',
      rawPath: request.path ?? '/',
      headers: mergeHeaders(request.headers),
      host: request.host,
      port: request.port,
      token: request.token,
      tls: request.tls,
      clientCertificate: request.clientCertificate,
      sni: request.sni,
      externalAuthorizerAllows: request.externalAuthorizerAllows ?? true,
      tcp: request.tcp,
    };
    if (request.gateway) {
      const gateway = this.gateway(request.gateway, request.sourceNamespaceName);
      const host = request.host ?? (request.destination ? undefined : '');
      const entering = { ...flight, host: host ?? request.destination };
      return materialize(gateway.group === 'networking.istio.io'
        ? this.engine.traceViaGateway(gateway, caller, entering)
        : this.engine.traceViaKubeGateway(gateway, caller, entering));
    }
    return materialize(this.engine.trace(caller, flight, this.target(request, caller)));
  }

  private callers(request: TraceRequest): Caller[] {
    const ns = request.sourceNamespaceName ?? this.index.options.defaultNamespace;
    const ip = request.sourceIp;
    if (request.sourcePrincipal) {
      const principal = request.sourcePrincipal.replace(/^spiffe:\/\//, '');
      const m = /\/ns\/([^/]+)\/sa\//.exec(principal);
      const pns = m?.[1] ?? ns;
      return [{ ns: pns, principal, labels: {}, dataplane: this.principalDataplane(pns), ip, label: `an in-mesh caller running as ${principal}` }];
    }
    if (!request.source) return [{ ns, labels: {}, dataplane: 'none', ip, label: 'a client outside the mesh' }];
    const [sns, name] = split(request.source, ns);
    const workload = this.workloadsByName.get(`${sns}/${name}`);
    if (workload) return [this.engine.callerOf(workload, ip)];
    const service = this.index.get('Service', sns, name);
    if (service) {
      const workloads = this.engine.serviceWorkloads(service);
      if (workloads.length === 0) fail(`Service ${sns}/${name} selects no workload, so it cannot be a caller`);
      return workloads.map((w) => this.engine.callerOf(w, ip));
    }
    if (this.index.get('ServiceAccount', sns, name)) {
      const principal = this.index.principalOf(sns, name);
      return [{ ns: sns, principal, labels: {}, dataplane: this.principalDataplane(sns), ip, label: `an in-mesh caller running as ServiceAccount ${sns}/${name}` }];
    }
    return fail(`No workload, Service or ServiceAccount "${sns}/${name}" in the manifests (source "${request.source}")`);
  }

  /** A caller known by its identity only: enrolled in ambient where its namespace is, else a sidecar (it has an identity, so it is in the mesh). */
  private principalDataplane(ns: string): 'sidecar' | 'ambient' {
    return this.index.dataplaneOf(ns, {}, {}, {}) === 'ambient' ? 'ambient' : 'sidecar';
  }

  private target(request: TraceRequest, caller: Caller): Target {
    if (!request.destination) {
      if (request.host === undefined) fail('The request needs a destination (a Service, workload or host) or a host');
      return { host: request.host };
    }
    const dest = request.destination;
    const fqdn = clusterServiceOf(dest);
    const [dns, name] = fqdn ? [fqdn.namespaceName, fqdn.name] : split(dest, request.sourceNamespaceName ?? this.index.options.defaultNamespace);
    const service = this.index.get('Service', dns, name);
    if (service) return { host: request.host ?? toFqdn(service.name, service.ns) };
    const workload = this.workloadsByName.get(`${dns}/${name}`);
    if (workload) return { workload };
    if (dest.includes('.') && !dest.includes('/')) return { host: request.host ?? dest };
    if (this.index.registry.lookup(caller.ns, dest)) return { host: request.host ?? dest };
    return fail(`No Service, workload or host "${dest}" in the manifests`);
  }

  private gateway(gatewayName: string, defaultNs?: string): Res {
    const [ns, name] = split(gatewayName, defaultNs ?? this.index.options.defaultNamespace);
    const kube = 'Gateway.gateway.networking.k8s.io';
    const ingress = (g: Res | undefined) => (g && isIngressGateway(g) ? g : undefined);
    const found = this.index.get('Gateway', ns, name) ?? ingress(this.index.get(kube, ns, name))
      ?? (gatewayName.includes('/') ? undefined : this.index.of('Gateway').find((g) => g.name === name) ?? this.index.of(kube).find((g) => g.name === name && isIngressGateway(g)));
    return found ?? fail(`No Istio Gateway "${ns}/${name}" in the manifests (nor a Gateway API ingress Gateway of that name)`);
  }
}

/** True when every weighted destination of a trace is reached (without putting the trace into words). */
export function admitted(t: EngineTrace): boolean {
  if (t.end) return t.end.outcome === TraceOutcome.REACHED;
  return t.branches.length > 0 && t.branches.every((b) => b.outcome === TraceOutcome.REACHED);
}

function ref(res: Res | undefined): ObjectReference | undefined {
  return res ? { kind: res.kind, namespaceName: res.ns || undefined, name: res.name } : undefined;
}

function publicStep(s: Step): TraceStep {
  return { kind: s.kind, proxy: s.proxy, passed: s.passed, summary: s.summary(), object: ref(s.object), field: s.field };
}

/** Puts an engine trace into its public, worded form. */
export function materialize(t: EngineTrace): RequestTrace {
  const steps = t.steps.map(publicStep);
  const destinations: DestinationTrace[] = t.branches.map((b) => ({
    destination: { service: ref(b.service), host: b.host, subset: b.subset, port: b.port, weightPercent: b.weightPercent },
    outcome: b.outcome,
    status: b.status,
    workload: b.workload ? ref(b.workload.res) : undefined,
    steps: b.steps.map(publicStep),
    explanation: b.explanation(),
  }));
  const deciding = t.end ? undefined : destinations.find((d) => d.outcome !== TraceOutcome.REACHED) ?? destinations[0];
  const outcome = t.end?.outcome ?? deciding!.outcome;
  const status = t.end ? t.end.status : deciding!.status;
  const route = t.route && {
    object: ref(t.route.object),
    field: t.route.field,
    timeout: t.route.timeout,
    retries: t.route.retries,
    fault: t.route.fault,
    mirrors: t.route.mirrors,
    rewrite: t.route.rewrite,
    corsPolicy: t.route.cors && (({ answered, ...rest }) => rest)(t.route.cors),
  };
  const story = [...steps.map((s) => s.summary)];
  if (t.end) story.push(t.end.explanation());
  else if (destinations.length === 1) story.push(...destinations[0].steps.map((s) => s.summary), destinations[0].explanation);
  else for (const d of destinations) story.push(`${d.destination.weightPercent}% to ${d.destination.host}${d.destination.subset ? ` subset ${d.destination.subset}` : ''}: ${[...d.steps.map((s) => s.summary), d.explanation].join('; ')}`);
  return {
    outcome,
    allowed: t.end ? t.end.outcome === TraceOutcome.REACHED : destinations.every((d) => d.outcome === TraceOutcome.REACHED),
    status,
    steps,
    route,
    destinations,
    undecided: [...t.undecided],
    explanation: story.join('; '),
  };
}

/** The authorization view of a trace. */
export function decisionOf(trace: RequestTrace): Decision {
  if (trace.allowed) {
    const authz = [...trace.steps, ...(trace.destinations[0]?.steps ?? [])].reverse().find((s) => s.kind === TraceStepKind.AUTHORIZATION);
    return { allowed: true, kind: DecisionKind.ALLOW, policy: authz?.object, ruleIndex: ruleIndexOf(authz), explanation: trace.explanation, trace };
  }
  const branch = trace.destinations.find((d) => d.outcome !== TraceOutcome.REACHED);
  const failed = [...trace.steps, ...(branch?.steps ?? [])].find((s) => !s.passed);
  const kind = failed?.kind === TraceStepKind.AUTHORIZATION ? DecisionKind.DENY
    : failed?.kind === TraceStepKind.AUTHENTICATION ? DecisionKind.UNAUTHENTICATED
      : failed?.kind === TraceStepKind.MTLS ? DecisionKind.CONNECTION_REFUSED
        : DecisionKind.NOT_DELIVERED;
  const ruleIndex = kind === DecisionKind.DENY ? ruleIndexOf(failed) : undefined;
  return { allowed: false, kind, policy: failed?.object, ruleIndex, explanation: trace.explanation, trace };
}

function ruleIndexOf(s: TraceStep | undefined): number | undefined {
  const m = s?.field ? /^spec\.rules\[(\d+)\]$/.exec(s.field) : null;
  return m ? Number(m[1]) : undefined;
}

function split(name: string, defaultNs: string): [string, string] {
  const i = name.indexOf('/');
  return i < 0 ? [defaultNs, name] : [name.slice(0, i), name.slice(i + 1)];
}

function fail(message: string): never {
  throw new Error(message);
}
