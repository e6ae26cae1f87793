import { clusterServiceOf } from './hosts';
import { Res } from './manifests';
import { MeshIndex, Workload, fullName } from './model';
import { AnalysisOptions } from './options';
import { resolveOptions } from './run';
import { Call, Caller, SimulatorEngine } from './simulator-engine';

/** What the destination does with a request. */
export enum DecisionKind {
  /** The request reaches the application. */
  ALLOW = 'ALLOW',
  /** An AuthorizationPolicy denies it (HTTP 403, or a closed TCP connection). */
  DENY = 'DENY',
  /** A RequestAuthentication rejects its JWT (HTTP 401). */
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  /** The connection fails before any policy: STRICT mTLS from a plaintext caller, or mTLS to a port that disables it. */
  CONNECTION_REFUSED = 'CONNECTION_REFUSED',
}

/** An object of the manifests. */
export interface ObjectReference {
  readonly kind: string;
  readonly namespaceName?: string;
  readonly name: string;
}

/** The outcome of a simulated request. */
export interface Decision {
  readonly allowed: boolean;
  readonly kind: DecisionKind;
  /** The policy that decided (AuthorizationPolicy, RequestAuthentication or PeerAuthentication), if one did. */
  readonly policy?: ObjectReference;
  /** Index of the deciding rule in the AuthorizationPolicy's `spec.rules`. */
  readonly ruleIndex?: number;
  /** Why, step by step (mTLS, JWT, policies). */
  readonly explanation: string;
}

/** A JWT as the destination's proxy would see it after checking its signature. */
export interface JwtToken {
  readonly issuer: string;
  readonly subject: string;
  readonly audiences?: string[];
  /** The `azp` claim (`request.auth.presenter`). */
  readonly presenter?: string;
  /** Other claims, for `request.auth.claims[...]` conditions (lists allowed, e.g. `{ groups: ['group1'] }`). */
  readonly claims?: { [name: string]: any };
}

/** A request to simulate. Without a source it comes from a plaintext client outside the mesh. */
export interface SimulatedRequest {
  /** Calling workload: name of a Deployment (or other pod-template owner, or Pod), or `namespace/name`. */
  readonly sourceWorkload?: string;
  /** Calling identity by service account name (an in-mesh caller running as it). */
  readonly sourceServiceAccount?: string;
  /** Calling mTLS identity, as is (`cluster.local/ns/foo/sa/bar`, `spiffe://` optional). */
  readonly sourcePrincipal?: string;
  /**
   * Namespace of `sourceWorkload` / `sourceServiceAccount` when they give none.
   * @default the default namespace
   */
  readonly sourceNamespaceName?: string;
  readonly sourceIp?: string;
  /** @default - no token */
  readonly token?: JwtToken;
  /** Destination Service: name, `namespace/name` or FQDN. */
  readonly destinationService?: string;
  /** Destination workload (instead of a Service): Deployment name or `namespace/name`. */
  readonly destinationWorkload?: string;
  /**
   * Namespace of the destination when it gives none.
   * @default the default namespace
   */
  readonly destinationNamespaceName?: string;
  /**
   * Service port (workload port for a workload destination).
   * @default the first port
   */
  readonly port?: number;
  /** @default 'GET' */
  readonly method?: string;
  /** @default '/' */
  readonly path?: string;
  /** @default - none */
  readonly headers?: { [name: string]: string };
  /** @default the destination's FQDN */
  readonly host?: string;
  /** TLS SNI for `connection.sni`. @default - the mTLS SNI Istio uses (`outbound_.<port>_._.<fqdn>`) */
  readonly sni?: string;
  /**
   * What a CUSTOM (external) authorizer answers when a CUSTOM policy sends it the request.
   * @default true
   */
  readonly externalAuthorizerAllows?: boolean;
}

/** Who may call whom: `allowed[i][j]` says whether every workload of `services[i]` may call `services[j]`. */
export interface AccessMatrix {
  /** `namespace/name` of each Service with workloads, sorted. */
  readonly services: string[];
  readonly allowed: boolean[][];
}

/**
 * Decides requests between the workloads of a set of manifests the way Istio does: PeerAuthentication (mTLS
 * identity), RequestAuthentication (JWT), then AuthorizationPolicy CUSTOM, DENY and ALLOW.
 */
export class PolicySimulator {
  private readonly index: MeshIndex;
  private readonly engine: SimulatorEngine;
  private readonly workloads = new Map<string, Workload>();

  constructor(manifests: any[], options?: AnalysisOptions) {
    this.index = new MeshIndex(manifests, resolveOptions(options));
    this.engine = new SimulatorEngine(this.index);
    for (const w of this.index.workloads) this.workloads.set(`${w.ns}/${w.res.name}`, w);
  }

  /** Decides one request. Throws when a named source or destination is not in the manifests. */
  public decide(request: SimulatedRequest): Decision {
    return this.decideFrom(this.callers(request), request);
  }

  /**
   * Decides a request from `source` (a workload, a Service — all its workloads must be allowed — or a ServiceAccount;
   * `name` or `namespace/name`) to `destination` (a Service, or a workload). `request` adds the port, method, path, token...
   */
  public call(source: string, destination: string, request: SimulatedRequest = {}): Decision {
    const [fromNs, fromName] = split(source, this.index.options.defaultNamespace);
    const [toNs, toName] = split(destination, this.index.options.defaultNamespace);
    const fromService = this.index.get('Service', fromNs, fromName);
    const workload = this.workloads.get(`${fromNs}/${fromName}`);
    const callers: Caller[] = workload ? [{ workload, ip: request.sourceIp }]
      : fromService ? this.index.serviceWorkloads(fromService).map((w) => ({ workload: w, ip: request.sourceIp }))
        : this.index.get('ServiceAccount', fromNs, fromName) ? [{ serviceAccount: fromName, namespaceName: fromNs, ip: request.sourceIp }]
          : fail(`No workload, Service or ServiceAccount ${qualified(source, fromNs)}`);
    if (callers.length === 0) fail(`Service ${qualified(source, fromNs)} selects no workload`);
    const target: SimulatedRequest = this.service(toName, toNs) ? { destinationService: `${toNs}/${toName}` } : { destinationWorkload: `${toNs}/${toName}` };
    return this.decideFrom(callers, { ...request, ...target });
  }

  /** `call(source, destination, request).allowed`. */
  public canCall(source: string, destination: string, request?: SimulatedRequest): boolean {
    return this.call(source, destination, request).allowed;
  }

  /** Service × service: may every workload of a Service send `GET /` to the first port of another? */
  public accessMatrix(): AccessMatrix {
    const services = this.index.of('Service').filter((s) => this.index.serviceWorkloads(s).length > 0);
    return {
      services: services.map(fullName),
      allowed: services.map((from) => services.map((to) => this.canCall(fullName(from), fullName(to)))),
    };
  }

  /** The access matrix as a fixed-width text table (rows call columns), for snapshots and reviews. */
  public accessMatrixTable(): string {
    const m = this.accessMatrix();
    const width = Math.max(9, ...m.services.map((s) => s.length));
    const header = ['from \\ to'.padEnd(width), ...m.services.map((s) => s.padEnd(width))].join('  ').trimEnd();
    const rows = m.services.map((s, i) => [s.padEnd(width), ...m.allowed[i].map((a) => (a ? 'allow' : 'deny').padEnd(width))].join('  ').trimEnd());
    return [header, ...rows].join('\n') + '\n';
  }

  private callers(request: SimulatedRequest): Caller[] {
    const ns = request.sourceNamespaceName ?? this.index.options.defaultNamespace;
    const ip = request.sourceIp;
    if (request.sourcePrincipal) return [{ principal: request.sourcePrincipal, ip }];
    if (request.sourceServiceAccount) return [{ serviceAccount: request.sourceServiceAccount, namespaceName: ns, ip }];
    if (!request.sourceWorkload) return [{ ip }];
    const workload = this.workload(request.sourceWorkload, ns) ?? fail(`No workload ${qualified(request.sourceWorkload, ns)}`);
    return [{ workload, ip }];
  }

  /** Every caller must be allowed; the first refusal decides. */
  private decideFrom(callers: Caller[], request: SimulatedRequest): Decision {
    const dns = request.destinationNamespaceName ?? this.index.options.defaultNamespace;
    let service: Res | undefined;
    let workload: Workload | undefined;
    if (request.destinationWorkload) workload = this.workload(request.destinationWorkload, dns) ?? fail(`No workload ${qualified(request.destinationWorkload, dns)}`);
    else if (request.destinationService) service = this.service(request.destinationService, dns) ?? fail(`No Service ${qualified(request.destinationService, dns)}`);
    else fail('The request needs a destinationService or a destinationWorkload');
    const verdicts = callers.map((caller) => this.engine.decide(this.callOf(request, caller, service, workload)));
    const v = verdicts.find((d) => !d.allowed) ?? verdicts[0];
    return {
      allowed: v.allowed,
      kind: v.verdict as DecisionKind,
      policy: v.policy ? { kind: v.policy.kind, namespaceName: v.policy.ns || undefined, name: v.policy.name } : undefined,
      ruleIndex: v.ruleIndex,
      explanation: v.explanation,
    };
  }

  private callOf(request: SimulatedRequest, caller: Caller, service?: Res, workload?: Workload): Call {
    return {
      caller,
      token: request.token,
      service,
      workload,
      port: request.port,
      method: request.method ?? 'GET',
      path: request.path ?? '/',
      headers: request.headers ?? {},
      host: request.host,
      sni: request.sni,
      externalAuthorizerAllows: request.externalAuthorizerAllows ?? true,
    };
  }

  private workload(ref: string, defaultNs: string): Workload | undefined {
    const [ns, name] = split(ref, defaultNs);
    return this.workloads.get(`${ns}/${name}`);
  }

  private service(ref: string, defaultNs: string): Res | undefined {
    const fqdn = clusterServiceOf(ref);
    const [ns, name] = fqdn ? [fqdn.namespaceName, fqdn.name] : split(ref, defaultNs);
    return this.index.get('Service', ns, name);
  }
}

function split(ref: string, defaultNs: string): [string, string] {
  const i = ref.indexOf('/');
  return i < 0 ? [defaultNs, ref] : [ref.slice(0, i), ref.slice(i + 1)];
}

/** `"namespace/name"` for messages. */
function qualified(ref: string, defaultNs: string): string {
  return `"${split(ref, defaultNs).join('/')}"`;
}

function fail(message: string): never {
  throw new Error(message);
}
