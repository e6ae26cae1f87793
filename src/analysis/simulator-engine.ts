import { exportScopes, toFqdn, visibleIn } from './hosts';
import { Res } from './manifests';
import { compareRes, fullName, matchesSelector, MeshIndex, push, Workload } from './model';
import { isHttpPort } from './protocols';
import { RequestAttributes, ruleMatches, ruleUsesHttpOnly } from './simulator-rules';

export type Verdict = 'ALLOW' | 'DENY' | 'UNAUTHENTICATED' | 'CONNECTION_REFUSED';

export interface Caller {
  /** The calling workload, when the caller is one of the manifests' workloads. */
  readonly workload?: Workload;
  /** Namespace and service account of an in-mesh caller given by identity only. */
  readonly namespaceName?: string;
  readonly serviceAccount?: string;
  /** A raw mTLS identity, used as is. */
  readonly principal?: string;
  readonly ip?: string;
}

export interface Token {
  readonly issuer: string;
  readonly subject: string;
  readonly audiences?: string[];
  readonly presenter?: string;
  readonly claims?: Record<string, unknown>;
}

export interface Call {
  readonly caller: Caller;
  readonly token?: Token;
  readonly service?: Res;
  readonly workload?: Workload;
  /** Service port (or workload port when calling a workload); defaults to the first. */
  readonly port?: number;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly host?: string;
  readonly sni?: string;
  /** What a CUSTOM (external) authorizer answers. */
  readonly externalAuthorizerAllows: boolean;
}

/** The decision on one call, with the policy and rule that made it. */
export interface Outcome {
  readonly allowed: boolean;
  readonly verdict: Verdict;
  readonly policy?: Res;
  readonly ruleIndex?: number;
  readonly explanation: string;
}

type Mode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/** The destination side of a call: one workload (pod template) and the port it receives on. */
interface Target {
  readonly workload: Workload;
  readonly service?: Res;
  readonly servicePort?: any;
  readonly port: number;
  readonly http: boolean;
  readonly host: string;
}

/**
 * Policies of one kind grouped by where they apply: mesh-wide (root namespace), per namespace, and by workload
 * selector (indexed by one label pair, so finding a workload's policies does not scan a namespace's policies).
 * `rootSelectors` says whether a selector in the root namespace selects workloads in every namespace.
 */
class PolicyScopes {
  private readonly meshWide: Res[] = [];
  private readonly namespaceWide = new Map<string, Res[]>();
  /** `<namespace or *>\0<key>=<value>` of the first selector pair → policies. */
  private readonly selected = new Map<string, Res[]>();

  constructor(policies: Res[], private readonly rootNamespace: string, rootSelectors: boolean) {
    for (const p of policies) {
      const selector = selectorOf(p);
      if (!selector) {
        if (p.ns === rootNamespace) this.meshWide.push(p);
        else push(this.namespaceWide, p.ns, p);
        continue;
      }
      // Istio ignores a PeerAuthentication with a selector in the root namespace.
      if (p.ns === rootNamespace && !rootSelectors) continue;
      const [k, v] = Object.entries(selector).sort()[0];
      const key = `${p.ns === rootNamespace ? '*' : p.ns}\u0000${k}=${v}`;
      push(this.selected, key, p);
    }
  }

  /** Policies that apply to `w`: mesh (root namespace, with selectors matching it), namespace, workload. */
  forWorkload(w: Workload): { mesh: Res[]; namespace: Res[]; workload: Res[] } {
    // meshWide comes from the index in compareRes order; it is copied only when a selector adds to it.
    let mesh = this.meshWide;
    const workload: Res[] = [];
    for (const k of Object.keys(w.labels)) {
      const pair = `${k}=${w.labels[k]}`;
      const meshSelected = this.selected.get(`*\u0000${pair}`);
      if (meshSelected) {
        for (const p of meshSelected) {
          if (!matchesSelector(w.labels, selectorOf(p)!)) continue;
          if (mesh === this.meshWide) mesh = [...this.meshWide];
          mesh.push(p);
        }
      }
      if (w.ns === this.rootNamespace) continue;
      const selected = this.selected.get(`${w.ns}\u0000${pair}`);
      if (selected) for (const p of selected) if (matchesSelector(w.labels, selectorOf(p)!)) workload.push(p);
    }
    return {
      mesh: mesh === this.meshWide ? mesh : mesh.sort(compareRes),
      namespace: this.namespaceWide.get(w.ns) ?? [],
      workload: workload.length > 1 ? workload.sort(compareRes) : workload,
    };
  }
}

/** The policy's `selector.matchLabels`; undefined when it selects the whole namespace (no selector, or an empty one). */
function selectorOf(p: Res): Record<string, string> | undefined {
  const labels = p.spec.selector?.matchLabels;
  return labels && Object.keys(labels).length > 0 ? labels : undefined;
}

const targeted = (p: Res) => p.spec.targetRef !== undefined || p.spec.targetRefs !== undefined;
const dryRun = (p: Res) => p.annotations['istio.io/dry-run'] === 'true';
const actionOf = (p: Res): string => p.spec.action ?? 'ALLOW';
const name = (p: Res) => `${p.kind} ${fullName(p)}`;

const ENGINES = new WeakMap<MeshIndex, SimulatorEngine>();

/** Decides requests the way the destination's Istio proxy does: mTLS, then JWT, then CUSTOM, DENY and ALLOW policies. */
export class SimulatorEngine {
  /**
   * The engine of `index`, built once: the checks and the topology share it, and with it what it
   * worked out per workload. Engines only read the index, so sharing cannot change a decision.
   */
  static of(index: MeshIndex): SimulatorEngine {
    let engine = ENGINES.get(index);
    if (!engine) {
      engine = new SimulatorEngine(index);
      ENGINES.set(index, engine);
    }
    return engine;
  }

  private readonly authz: PolicyScopes;
  private readonly peerAuthn: PolicyScopes;
  private readonly requestAuthn: PolicyScopes;

  /** {@link authorizationPoliciesFor} per workload (callers only read the lists). */
  private readonly authzByWorkload = new Map<Workload, Res[]>();

  constructor(readonly index: MeshIndex) {
    const root = index.options.rootNamespace;
    this.authz = new PolicyScopes(index.of('AuthorizationPolicy'), root, true);
    this.peerAuthn = new PolicyScopes(index.of('PeerAuthentication'), root, false);
    this.requestAuthn = new PolicyScopes(index.of('RequestAuthentication'), root, true);
  }

  decide(call: Call): Outcome {
    const targets = this.targets(call);
    const results = targets.map((t) => this.decideFor(call, t));
    const denied = results.find((r) => !r.allowed);
    if (!denied || results.length === 1) return denied ?? results[0];
    const some = results.filter((r) => r.allowed).length;
    return some === 0 ? denied : {
      ...denied,
      explanation: `${denied.explanation} (${some} of ${results.length} destination workloads would allow it; every one must, because requests are balanced across them)`,
    };
  }

  /** AuthorizationPolicies applying to `w` through its sidecar (or ztunnel): selector, namespace and root scope. */
  authorizationPoliciesFor(w: Workload): Res[] {
    let policies = this.authzByWorkload.get(w);
    if (!policies) {
      const s = this.authz.forWorkload(w);
      policies = [...s.mesh, ...s.namespace, ...s.workload].filter((p) => !targeted(p) && !dryRun(p));
      this.authzByWorkload.set(w, policies);
    }
    return policies;
  }

  requestAuthenticationsFor(w: Workload): Res[] {
    const s = this.requestAuthn.forWorkload(w);
    return [...s.mesh, ...s.namespace, ...s.workload].filter((p) => !targeted(p));
  }

  /** The PeerAuthentication mode on a workload port: workload (port-level first), then namespace, then mesh. */
  mtlsMode(w: Workload, port: number): { mode: Mode; policy?: Res } {
    const s = this.peerAuthn.forWorkload(w);
    const candidates: Array<[Res | undefined, string | undefined]> = [];
    for (const p of s.workload) candidates.push([p, p.spec.portLevelMtls?.[String(port)]?.mode], [p, p.spec.mtls?.mode]);
    for (const p of [...s.namespace, ...s.mesh]) candidates.push([p, p.spec.mtls?.mode]);
    for (const [policy, mode] of candidates) {
      if (mode && mode !== 'UNSET') return { mode: mode as Mode, policy };
    }
    return { mode: 'PERMISSIVE' };
  }

  private targets(call: Call): Target[] {
    if (call.workload) {
      const svc = call.service ?? this.index.servicesSelecting(call.workload)[0];
      return [this.target(call, call.workload, svc)];
    }
    const svc = call.service!;
    const workloads = this.index.serviceWorkloads(svc);
    if (workloads.length > 0) return workloads.map((w) => this.target(call, w, svc));
    // No backend in the manifests: policies still select by the Service's pod labels.
    return [this.target(call, this.index.standIn(svc, svc.spec.selector ?? {}), svc)];
  }

  private target(call: Call, w: Workload, svc: Res | undefined): Target {
    const ports: any[] = svc?.spec.ports ?? [];
    // `port` is the Service port when calling a Service, the workload port when calling a workload.
    const samePort = (p: any) => (call.workload ? targetPortOf(w, p) : p.port) === call.port;
    const servicePort = call.port === undefined ? ports[0] : ports.find(samePort);
    const port = servicePort ? targetPortOf(w, servicePort)
      : call.port ?? (w.podSpec.containers ?? []).flatMap((c: any) => c?.ports ?? [])[0]?.containerPort ?? 0;
    const host = call.host ?? (svc ? toFqdn(svc.name, svc.ns) : w.res.name);
    // A workload called without a Service port: the request is taken as HTTP, as sniffing would see it.
    return { workload: w, service: svc, servicePort, port, http: servicePort ? isHttpPort(servicePort) : true, host };
  }

  private decideFor(call: Call, t: Target): Outcome {
    const w = t.workload;
    const notes: string[] = [];
    if (w.dataplane === 'none') {
      return { allowed: true, verdict: 'ALLOW', explanation: `${describe(w)} has no Istio proxy, so no mTLS or authorization policy is enforced` };
    }
    // mTLS: does the connection carry a peer identity?
    const { mode, policy: paPolicy } = this.mtlsMode(w, t.port);
    const conn = this.connection(call, t, mode);
    notes.push(conn.note);
    if (mode === 'STRICT' && !conn.principal) {
      return {
        allowed: false,
        verdict: 'CONNECTION_REFUSED',
        policy: paPolicy,
        explanation: `${notes.join('; ')}; ${paPolicy ? name(paPolicy) : 'mTLS'} requires STRICT mTLS on port ${t.port}, so the connection is refused`,
      };
    }
    if (mode === 'DISABLE' && conn.explicitMtls) {
      return {
        allowed: false,
        verdict: 'CONNECTION_REFUSED',
        policy: paPolicy,
        explanation: `${notes.join('; ')}, but ${paPolicy ? name(paPolicy) : 'the server'} disables mTLS on port ${t.port}: the server cannot terminate it`,
      };
    }
    const principal = mode === 'DISABLE' ? undefined : conn.principal;
    // JWT.
    const jwt = this.authenticate(call, w);
    if (jwt.rejected) return { allowed: false, verdict: 'UNAUTHENTICATED', policy: jwt.policy, explanation: `${notes.join('; ')}; ${jwt.note}` };
    if (jwt.note) notes.push(jwt.note);
    const req: RequestAttributes = {
      principal,
      sourceIp: call.caller.ip,
      requestPrincipal: jwt.requestPrincipal,
      claims: jwt.claims,
      audiences: jwt.audiences,
      presenter: call.token?.presenter,
      host: t.host,
      port: t.port,
      method: call.method,
      path: call.path,
      headers: Object.fromEntries(Object.entries(call.headers).map(([k, v]) => [k.toLowerCase(), v])),
      sni: call.sni ?? (principal && t.servicePort ? `outbound_.${t.servicePort.port}_._.${t.host}` : undefined),
      http: t.http,
    };
    if (w.dataplane === 'sidecar') return this.authorize(req, this.authorizationPoliciesFor(w), call, notes);
    // Ambient: a waypoint (if the service has one) enforces the policies attached to it at L7, then ztunnel
    // enforces the selector policies at L4.
    const waypoint = t.service ? this.waypointFor(t.service) : undefined;
    if (waypoint) {
      const l7 = this.authorize(req, this.waypointPoliciesFor(t.service!, waypoint), call, [...notes, `through waypoint ${fullName(waypoint)}`]);
      if (!l7.allowed) return l7;
      notes.push(`waypoint ${fullName(waypoint)} allows it`);
    }
    return this.authorize({ ...req, http: false }, this.authorizationPoliciesFor(w), call, [...notes, 'ztunnel enforces L4 attributes only']);
  }

  /** The waypoint (a Kubernetes Gateway) a Service's traffic goes through: `istio.io/use-waypoint` on the Service or its namespace. */
  waypointFor(svc: Res): Res | undefined {
    const nsLabels = this.index.namespace(svc.ns)?.labels ?? {};
    const waypoint = svc.labels['istio.io/use-waypoint'] ?? nsLabels['istio.io/use-waypoint'];
    if (!waypoint || waypoint === 'none') return undefined;
    const ns = svc.labels['istio.io/use-waypoint-namespace'] ?? nsLabels['istio.io/use-waypoint-namespace'] ?? svc.ns;
    return this.index.get('Gateway.gateway.networking.k8s.io', ns, waypoint);
  }

  /** AuthorizationPolicies attached (targetRef/targetRefs) to the Service or to its waypoint. */
  waypointPoliciesFor(svc: Res, waypoint: Res): Res[] {
    const root = this.index.options.rootNamespace;
    return this.index.of('AuthorizationPolicy').filter((p) => !dryRun(p) && [p.spec.targetRef, ...(p.spec.targetRefs ?? [])].some((ref: any) =>
      (ref?.kind === 'Service' && ref.name === svc.name && p.ns === svc.ns)
      || (ref?.kind === 'Gateway' && ref.name === waypoint.name && p.ns === waypoint.ns)
      || (ref?.kind === 'GatewayClass' && ref.name === 'istio-waypoint' && p.ns === root)));
  }

  private connection(call: Call, t: Target, mode: Mode): { principal?: string; explicitMtls: boolean; note: string } {
    const c = call.caller;
    if (c.principal) return { principal: c.principal.replace(/^spiffe:\/\//, ''), explicitMtls: true, note: `mTLS as ${c.principal}` };
    const inMesh = c.workload ? c.workload.dataplane !== 'none' : c.serviceAccount !== undefined;
    if (!inMesh) return { explicitMtls: false, note: c.workload ? `${describe(c.workload)} has no Istio proxy and sends plaintext` : 'caller outside the mesh sends plaintext' };
    const ns = c.workload?.ns ?? c.namespaceName ?? this.index.options.defaultNamespace;
    const sa = c.workload?.serviceAccount ?? c.serviceAccount!;
    const principal = this.index.principalOf(ns, sa);
    const tls = t.servicePort ? this.clientTlsMode(t, ns) : undefined;
    if (tls?.mode === 'ISTIO_MUTUAL') return { principal, explicitMtls: true, note: `mTLS as ${principal} (${name(tls.rule)} sets ISTIO_MUTUAL)` };
    if (tls?.mode === 'DISABLE') return { explicitMtls: false, note: `${name(tls.rule)} disables TLS, so the caller sends plaintext` };
    if (tls?.mode) return { explicitMtls: false, note: `${name(tls.rule)} originates ${tls.mode} TLS, which carries no Istio peer identity` };
    if (mode === 'DISABLE') return { explicitMtls: false, note: 'auto mTLS sends plaintext to a port with mTLS disabled' };
    return { principal, explicitMtls: false, note: `auto mTLS as ${principal}` };
  }

  /** Client TLS mode from the DestinationRule for the host: the caller's namespace first, then the service's, then root. */
  private clientTlsMode(t: Target, callerNs: string): { mode: string; rule: Res } | undefined {
    const rules = this.index.destinationRulesFor(t.host).filter((dr) => visibleIn(exportScopes(dr.spec.exportTo, dr.ns), callerNs));
    const rule = [callerNs, t.service?.ns, this.index.options.rootNamespace].map((ns) => rules.find((dr) => dr.ns === ns)).find((dr) => dr);
    if (!rule) return undefined;
    const portLevel = (rule.spec.trafficPolicy?.portLevelSettings ?? []).find((p: any) => p?.port?.number === t.servicePort.port);
    const mode = portLevel?.tls?.mode ?? rule.spec.trafficPolicy?.tls?.mode;
    return mode ? { mode, rule } : undefined;
  }

  private authenticate(call: Call, w: Workload): {
    rejected?: boolean; policy?: Res; note?: string; requestPrincipal?: string; claims?: Record<string, unknown>; audiences?: string[];
  } {
    const token = call.token;
    if (!token) return { note: 'no JWT: no request principal' };
    const ras = this.requestAuthenticationsFor(w);
    if (ras.length === 0) return { note: 'no RequestAuthentication applies, so the JWT is not validated and gives no request principal' };
    for (const ra of ras) {
      for (const rule of ra.spec.jwtRules ?? []) {
        if (rule?.issuer !== token.issuer) continue;
        const audiences: string[] = rule.audiences ?? [];
        if (audiences.length > 0 && !(token.audiences ?? []).some((a) => audiences.includes(a))) {
          return { rejected: true, policy: ra, note: `the JWT's audiences are not among ${audiences.join(', ')} required by ${name(ra)}: 401` };
        }
        const requestPrincipal = `${token.issuer}/${token.subject}`;
        return {
          note: `JWT validated by ${name(ra)}: request principal ${requestPrincipal}`,
          requestPrincipal,
          claims: { ...token.claims, iss: token.issuer, sub: token.subject, ...(token.audiences ? { aud: token.audiences } : {}) },
          audiences: token.audiences,
        };
      }
    }
    return { rejected: true, policy: ras[0], note: `JWT issuer ${token.issuer} is not configured by ${ras.map(name).join(', ')}: the token is invalid (401)` };
  }

  private authorize(req: RequestAttributes, policies: Res[], call: Call, notes: string[]): Outcome {
    const match = (p: Res): number => (p.spec.rules ?? []).findIndex((rule: any) => {
      // On TCP an ALLOW (or CUSTOM) rule with HTTP-only fields never matches; DENY ignores those fields.
      if (!req.http && actionOf(p) !== 'DENY' && ruleUsesHttpOnly(rule)) return false;
      return ruleMatches(rule, req, p.ns);
    });
    const trail = [...notes];
    const because = (text: string) => [...trail, text].join('; ');
    for (const p of policies.filter((x) => actionOf(x) === 'CUSTOM')) {
      const i = match(p);
      if (i < 0) continue;
      const sent = `rule ${i} of ${name(p)} (CUSTOM) sends it to ${p.spec.provider?.name ?? 'the external authorizer'}`;
      if (!call.externalAuthorizerAllows) return { allowed: false, verdict: 'DENY', policy: p, ruleIndex: i, explanation: because(`${sent}, which denies it`) };
      trail.push(`${sent}, assumed to allow it`);
    }
    for (const p of policies.filter((x) => actionOf(x) === 'DENY')) {
      const i = match(p);
      if (i >= 0) return { allowed: false, verdict: 'DENY', policy: p, ruleIndex: i, explanation: because(`denied by rule ${i} of ${name(p)} (DENY)`) };
    }
    const allows = policies.filter((x) => actionOf(x) === 'ALLOW');
    if (allows.length === 0) return { allowed: true, verdict: 'ALLOW', explanation: because('no ALLOW policy applies, so it is allowed') };
    for (const p of allows) {
      const i = match(p);
      if (i >= 0) return { allowed: true, verdict: 'ALLOW', policy: p, ruleIndex: i, explanation: because(`allowed by rule ${i} of ${name(p)}`) };
    }
    return {
      allowed: false,
      verdict: 'DENY',
      policy: allows[0],
      explanation: because(`ALLOW policies apply (${allows.map(name).join(', ')}) and none of their rules matches${req.http ? '' : ' (TCP traffic: rules with HTTP-only fields never match)'}`),
    };
  }
}

/** The workload port a Service port delivers to (a named targetPort is looked up in the pod's container ports). */
export function targetPortOf(w: Workload, servicePort: any): number {
  const tp = servicePort.targetPort ?? servicePort.port;
  if (typeof tp === 'number') return tp;
  for (const c of w.podSpec.containers ?? []) {
    const p = (c?.ports ?? []).find((x: any) => x?.name === tp);
    if (p) return p.containerPort;
  }
  return servicePort.port;
}

function describe(w: Workload): string {
  return `${w.res.kind} ${fullName(w.res)}`;
}
