import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { ExposeViaGatewayOptions, IngressGateway } from '../edge/ingress-gateway';
import { formatMessage, meshError } from '../errors';
import { CallTarget, ICallable } from './dependency';
import { Mesh } from './mesh';
import { stepsOf } from './promises';
import { Protocol } from './protocol';
import { MeshServicePort, resolveServicePorts, ServicePortOptions } from './service-port';
import { ServiceVersion, ServiceVersionOptions, WorkloadOptions } from './service-version';
import { synthesisSimulator } from './synth-analysis';
import { IWorkloadTarget, WorkloadSelector } from './workload-target';
import { TraceStepKind } from '../analysis/simulator/types';
import { requireDnsLabel, requireDnsSubdomain } from '../internal/names';
import { validateOncePerSynthesis } from '../internal/synthesis';
import { ServiceObjective, ServiceObjectiveOptions } from '../observability/objective';
import { HostRouting } from '../render/host-routing';
import { renderScopedSidecar } from '../render/sidecar';
import { allowFrom, allowFromPeersOf } from '../security/allow-from';
import { AllowFromOptions, AuthorizationPolicy } from '../security/authorization-policy';
import { IPeer, PeerConfig } from '../security/peer';
import { Canary, CanaryOptions } from '../traffic/canary';
import { CircuitBreaker, CircuitBreakerOptions } from '../traffic/circuit-breaker';
import { LoadBalancing, LoadBalancingOptions } from '../traffic/load-balancing';
import { LocalRateLimit, RateLimitOptions } from '../traffic/rate-limit';
import { TrafficSplit, TrafficSplitOptions } from '../traffic/traffic-split';

/** Options of a {@link MeshService}. */
export interface MeshServiceOptions extends WorkloadOptions {
  /**
   * The service name: the Kubernetes Service other services call, and the `app` label.
   * A DNS label starting with a letter.
   *
   * @default - the construct id
   */
  readonly name?: string;

  /** Container image of the first version. */
  readonly image: string;

  /**
   * The Service port clients call: the short form of a single-port service. Give this or `ports`.
   *
   * @default - none: give `ports`
   */
  readonly port?: number;

  /**
   * The container port the application listens on (with `port`).
   *
   * @default - the same as `port`
   */
  readonly targetPort?: number;

  /**
   * The application protocol, written as the port name prefix and `appProtocol` (with `port`).
   *
   * @default Protocol.HTTP
   */
  readonly protocol?: Protocol;

  /**
   * Suffix of the port name (`<protocol>-<suffix>`), for services that name their ports (with `port`).
   *
   * @default - the port is named after the protocol alone, e.g. `http`
   */
  readonly portNameSuffix?: string;

  /**
   * The ports of a multi-port service, each with its protocol, e.g. HTTP 8080, gRPC 9090 and TCP 5432. The first is
   * the service's primary port (`port`, `protocol`): what routes without a `port`, probes without a port, metrics
   * scraping and the ingress gateway use unless told otherwise. Give this or `port`.
   *
   * @default - the one port given by `port`
   */
  readonly ports?: ServicePortOptions[];

  /**
   * Name of the ServiceAccount: the service's mesh identity
   * (`<trustDomain>/ns/<namespace>/sa/<serviceAccountName>`).
   *
   * @default - the service name
   */
  readonly serviceAccountName?: string;

  /**
   * Name of the first version.
   *
   * @default 'v1'
   */
  readonly version?: string;

  /**
   * Name of the host's VirtualService (or, with RoutingApi.GATEWAY_API, of its HTTPRoute or
   * TCPRoute), e.g. to keep the name of an existing object when migrating hand-written YAML.
   *
   * @default - the service name
   */
  readonly virtualServiceName?: string;

  /**
   * Name of the host's DestinationRule.
   *
   * @default - the service name
   */
  readonly destinationRuleName?: string;

  /**
   * Extra labels of the Service object.
   *
   * @default - `app` and `service`, both the service name
   */
  readonly serviceLabels?: { [key: string]: string };
}

/** Properties of a {@link MeshService}. */
export interface MeshServiceProps extends MeshServiceOptions {
  /** The mesh (namespace) the service belongs to. */
  readonly mesh: Mesh;
}

/**
 * One logical service of the mesh: its identity (a ServiceAccount), its name (a Service),
 * one Deployment per version, and exactly ONE DestinationRule (a subset per version) and ONE
 * VirtualService (the routes) for its host.
 *
 * Routing, resilience and security constructs extend those two objects rather than writing
 * their own, because Istio does not merge several VirtualServices for one host (IST0109).
 *
 * @example
 * const reviews = new MeshService(chart, 'reviews', { mesh, image: 'reviews:1', port: 9080 });
 * const v2 = reviews.addVersion('v2', { image: 'reviews:2' });
 */
export class MeshService extends Construct implements IWorkloadTarget, IPeer, ICallable {
  /** The mesh the service belongs to. */
  public readonly mesh: Mesh;
  /** The service name (Kubernetes Service name and `app` label). */
  public readonly name: string;
  /** The fully qualified host other services call: `<name>.<namespace>.svc.cluster.local`. */
  public readonly host: string;
  /** The primary Service port (the first of `ports`). */
  public readonly port: number;
  /** The primary container port. */
  public readonly targetPort: number;
  /** The application protocol of the primary port. */
  public readonly protocol: Protocol;
  /** The primary Service port's name (`<protocol>[-suffix]`). */
  public readonly portName: string;
  /** Every port of the Service, the primary port first. */
  public readonly ports: MeshServicePort[];
  /** The service's mesh identity: `<trustDomain>/ns/<namespace>/sa/<serviceAccount>`. */
  public readonly principal: string;
  /** The ServiceAccount (the mesh identity of every version's pods). */
  public readonly serviceAccount: kplus.ServiceAccount;
  /** The Kubernetes Service. */
  public readonly service: kplus.Service;
  /** The first version, the target of the default route. */
  public readonly defaultVersion: ServiceVersion;
  /** The host's one DestinationRule (a subset per version, traffic policies). */
  public readonly destinationRule: ApiObject;
  /** The host's one VirtualService (the routes of all traffic constructs), with RoutingApi.ISTIO. */
  public readonly virtualService?: ApiObject;
  /** The Sidecar scoping this service's proxies to its dependencies (with `Mesh.scopeSidecars`). */
  public readonly sidecar?: ApiObject;

  /**
   * Settings every version inherits.
   * @internal
   */
  public readonly _workloadDefaults: ServiceVersionOptions;
  /**
   * The routes and policies of this host, rendered into its VirtualService and DestinationRule.
   * @internal
   */
  public readonly _routing: HostRouting;

  private readonly _versions = new Map<string, ServiceVersion>();
  private readonly _dependencies: ICallable[] = [];
  private readonly _extraPodAnnotations: { [key: string]: string } = {};

  public constructor(scope: Construct, id: string, props: MeshServiceProps) {
    super(scope, id);
    const mesh = props.mesh;
    this.mesh = mesh;
    const chartNamespace = Chart.of(this).namespace;
    if (chartNamespace && chartNamespace !== mesh.namespaceName) {
      throw meshError(this, 'CM103', `the service is in a Chart for namespace "${chartNamespace}" but its mesh is namespace "${mesh.namespaceName}"`,
        `create the service in a Chart for namespace "${mesh.namespaceName}" (or one without a namespace), or pass the Mesh of "${chartNamespace}"`);
    }
    this.name = props.name ?? id;
    requireDnsLabel(this, 'service name', this.name, true);
    this.ports = resolveServicePorts(this, props);
    const primary = this.ports[0];
    this.port = primary.port;
    this.targetPort = primary.targetPort;
    this.protocol = primary.protocol;
    this.portName = primary.name;
    const namespace = mesh.namespaceName;
    this.host = `${this.name}.${namespace}.svc.cluster.local`;
    const serviceAccountName = props.serviceAccountName ?? this.name;
    requireDnsSubdomain(this, 'service account name', serviceAccountName);
    this.principal = `${mesh.trustDomain}/ns/${namespace}/sa/${serviceAccountName}`;
    mesh._registerService(this);

    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: { name: serviceAccountName, namespace },
    });

    this.service = new kplus.Service(this, 'Service', {
      metadata: {
        name: this.name,
        namespace,
        labels: { ...props.serviceLabels, app: this.name, service: this.name },
      },
      ports: this.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort })),
    });
    this.service.selectLabel('app', this.name);
    // cdk8s-plus has no appProtocol; Istio reads it before the port name.
    this.ports.forEach((p, i) => ApiObject.of(this.service).addJsonPatch(JsonPatch.add(`/spec/ports/${i}/appProtocol`, p.protocol)));

    // Everything that is not about the Service itself is a workload setting versions inherit.
    const {
      mesh: _m, name: _n, port: _p, targetPort: _t, protocol: _pr, portNameSuffix: _s, ports: _ps,
      serviceAccountName: _a, version: _v, serviceLabels: _l, virtualServiceName: _vs, destinationRuleName: _dr,
      ...workload
    } = props;
    this._workloadDefaults = workload;
    this._routing = new HostRouting(this);
    this.defaultVersion = this.addVersion(props.version ?? 'v1');
    const objects = this._routing.createObjects(this, {
      virtualServiceName: props.virtualServiceName ?? this.name,
      destinationRuleName: props.destinationRuleName ?? this.name,
    });
    this.destinationRule = objects.destinationRule;
    this.virtualService = objects.virtualService;
    if (mesh.scopeSidecars) this.sidecar = renderScopedSidecar(this);
  }

  /**
   * The host's one Gateway API mesh route (an HTTPRoute, or a TCPRoute for TCP), with RoutingApi.GATEWAY_API, once a
   * route or a second version needs one (until then, requests go to the Service's pods, all of the one version).
   */
  public get gatewayRoute(): ApiObject | undefined {
    return this._routing.gatewayRoute;
  }

  /** The Services `<service>-<version>` that Gateway API routes send a version's requests to (Istio's bookinfo-versions.yaml). */
  public get versionServices(): ApiObject[] {
    return this._routing.versionServices;
  }

  /** Every version, in the order they were added; the first is the default version. */
  public get versions(): ServiceVersion[] {
    return [...this._versions.values()];
  }

  /**
   * The port of this service with Service port (or, failing that, container port) `port`, or undefined.
   *
   * @param port a Service port or a container port
   */
  public findPort(port: number): MeshServicePort | undefined {
    return this.ports.find((p) => p.port === port) ?? this.ports.find((p) => p.targetPort === port);
  }

  /**
   * Adds a version: a Deployment `<service>-<name>` and a DestinationRule subset `<name>`.
   * Settings not given are inherited from the service.
   *
   * @param name the version name, e.g. `v2`
   */
  public addVersion(name: string, options: ServiceVersionOptions = {}): ServiceVersion {
    this.checkNewVersion(this, name);
    return new ServiceVersion(this, name, { ...options, service: this, name });
  }

  /**
   * Routes requests to this service: a weighted split across versions, for the requests the
   * matches select (or every request: the catch-all route, which replaces the default route).
   * Same as `new TrafficSplit(...)`.
   */
  public routeTraffic(options: TrafficSplitOptions): TrafficSplit {
    return new TrafficSplit(this, this.nextId('Route'), { ...options, service: this });
  }

  /**
   * Delivers `version` with Argo Rollouts: its Deployment becomes a `Rollout` whose canary steps move the weights of
   * the version's routes (Istio subset-level traffic splitting), gated by an analysis of the service's objectives.
   * Same as `new Canary(...)`.
   *
   * @example reviews.deliverProgressively(v3, { steps: [CanaryStep.weight(20), CanaryStep.analysis(), CanaryStep.weight(50), CanaryStep.pause()] });
   */
  public deliverProgressively(version: ServiceVersion, options: CanaryOptions): Canary {
    return new Canary(this, this.nextId('Canary'), { ...options, service: this, version });
  }

  /**
   * Limits connections and ejects failing pods, for the service or one version.
   * Same as `new CircuitBreaker(...)`.
   */
  public addCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
    return new CircuitBreaker(this, this.nextId('CircuitBreaker'), { ...options, service: this });
  }

  /**
   * Limits the requests each pod's sidecar admits (local rate limiting: an EnvoyFilter with
   * Envoy's local rate limit filter); the rest are answered 429. Same as `new LocalRateLimit(...)`.
   *
   * @example api.addRateLimit({ requests: 100, per: Duration.seconds(1), burst: 200 });
   */
  public addRateLimit(options: RateLimitOptions): LocalRateLimit {
    return new LocalRateLimit(this, this.nextId('RateLimit'), { ...options, service: this });
  }

  /**
   * Sets how requests are spread over pods and localities, for the service or one version.
   * Same as `new LoadBalancing(...)`.
   */
  public addLoadBalancing(options: LoadBalancingOptions): LoadBalancing {
    return new LoadBalancing(this, this.nextId('LoadBalancing'), { ...options, service: this });
  }

  /**
   * Declares a service level objective (availability and/or latency), written as
   * PrometheusRule alerts on Istio's metrics. Same as `new ServiceObjective(...)`.
   */
  public addObjective(options: ServiceObjectiveOptions): ServiceObjective {
    return new ServiceObjective(this, this.nextId('Objective'), { ...options, service: this });
  }

  /**
   * Declares that this service calls `targets` (other services, external services, hosts).
   * With scoped Sidecars (the default), each proxy of this service is configured for exactly
   * its dependencies and the control plane; a call to anything else fails.
   */
  public callsTo(...targets: ICallable[]): void {
    for (const target of targets) {
      if (target === this) {
        throw meshError(this, 'CM241', `service "${this.name}" declares a call to itself`, 'remove it: a service reaches its own pods without a declaration');
      }
      if (this._dependencies.includes(target)) continue;
      this._dependencies.push(target);
      if (this._dependencies.length === 1) this.node.addValidation(validateOncePerSynthesis(this, () => this.validateDeclaredCalls()));
    }
  }

  /** The dependencies declared with {@link callsTo} (and implied by `allowFrom`). */
  public get dependencies(): ICallable[] {
    return [...this._dependencies];
  }

  /**
   * As a dependency: the service's host in its namespace, and the hosts its routes mirror to
   * (the caller's proxy sends the copies).
   */
  public toCallTarget(): CallTarget {
    return { egressHosts: [`${this.mesh.namespaceName}/${this.host}`, ...this._routing.mirrorTargets()], description: `service "${this.name}"` };
  }

  /**
   * Routes requests arriving at an ingress gateway to this service (on its port, with the
   * same version split as its own catch-all route).
   */
  public exposeViaGateway(gateway: IngressGateway, options: ExposeViaGatewayOptions = {}): void {
    gateway.addRoute(this, options);
  }

  /** Selects the pods of every version of this service (label `app`). */
  public toWorkloadSelector(): WorkloadSelector {
    return { namespaceName: this.mesh.namespaceName, matchLabels: { app: this.name } };
  }

  /** As a caller: the service's mesh identity (its ServiceAccount's principal). */
  public toPeerConfig(): PeerConfig {
    return { principals: [this.principal] };
  }

  /**
   * Allows `peer` (a service, a mesh, a JwtAuth, a gateway or a {@link Peer}) to call this
   * service, optionally only with some methods, paths or ports: a rule of the ALLOW policy
   * `<service>-allow` (one per service, one rule per caller), returned.
   *
   * Once a service has an ALLOW policy it accepts only what its ALLOW policies allow (with the
   * Mesh's default-deny, even before).
   *
   * @example ratings.allowFrom(reviews, { methods: [HttpMethod.GET] });
   */
  public allowFrom(peer: IPeer, options: AllowFromOptions = {}): AuthorizationPolicy {
    return allowFrom(this, peer, options);
  }

  /**
   * Registers a version created for this service.
   * @internal
   */
  public _registerVersion(version: ServiceVersion): void {
    this.checkNewVersion(version, version.name);
    this._versions.set(version.name, version);
    this._routing.versionAdded();
    for (const [key, value] of Object.entries(this._extraPodAnnotations)) this.annotatePods(version, key, value);
  }

  /**
   * Adds pod annotations to every version, present and future (e.g. Prometheus scraping).
   * @internal
   */
  public _addPodAnnotations(annotations: { [key: string]: string }): void {
    for (const [key, value] of Object.entries(annotations)) {
      this._extraPodAnnotations[key] = value;
      for (const version of this._versions.values()) this.annotatePods(version, key, value);
    }
  }

  private annotatePods(version: ServiceVersion, key: string, value: string): void {
    const existing = version.deployment.podMetadata.toJson().annotations?.[key];
    if (existing !== undefined && existing !== value) {
      throw meshError(version, 'CM414', `pod annotation "${key}" is "${existing}", but Prometheus scraping sets it to "${value}"`,
        `remove "${key}" from podAnnotations and let the scraping settings write it`);
    }
    version.deployment.podMetadata.addAnnotation(key, value);
  }

  /**
   * CM240: a declared call must get through on the synthesized output: traced by the request simulator from this
   * service's workloads to the callee, with the requests the callee's ALLOW policies describe. A call its Sidecar does
   * not let out, that no rule admits, or that finds no ready pod fails in production (502, 403 or 503).
   */
  private validateDeclaredCalls(): string[] {
    // A callee that named this service in allowFrom proves the call itself, request by declared request (CM332).
    const callees = this._dependencies.filter((d): d is MeshService => d instanceof MeshService && !allowFromPeersOf(d).includes(this));
    if (callees.length === 0 || !this.mesh.checkDeclarations) return [];
    const sim = synthesisSimulator(this.mesh);
    const errors: string[] = [];
    for (const callee of callees) {
      const trace = sim._declaredCall(`${this.mesh.namespaceName}/${this.name}`, `${callee.mesh.namespaceName}/${callee.name}`);
      if (!trace) continue;
      const failed = stepsOf(trace).find((step) => !step.passed);
      const why = failed ? `${failed.proxy}: ${failed.summary}` : trace.explanation;
      const denied = failed?.kind === TraceStepKind.AUTHORIZATION;
      errors.push(formatMessage('CM240',
        `service "${this.name}" declares a call to service "${callee.name}", but ${denied ? `no ALLOW policy of "${callee.name}" admits "${this.name}" (${this.principal})` : 'the call does not get through'}: traced, it ends ${trace.outcome}${trace.status ? ` (${trace.status})` : ''} at step ${failed?.kind ?? 'OUTCOME'}: ${why}`,
        denied ? `add ${callee.name}.allowFrom(${this.name}) (with the methods and paths it uses), or remove the call` : 'fix the step named above (see `cdk8s-mesh trace` for the whole trace), or remove the call'));
    }
    return errors;
  }

  /** `<prefix>1`, `<prefix>2`, … : deterministic ids for constructs made by convenience methods. */
  private nextId(prefix: string): string {
    let n = 1;
    while (this.node.tryFindChild(`${prefix}${n}`)) n++;
    return `${prefix}${n}`;
  }

  private checkNewVersion(scope: Construct, name: string): void {
    const existing = this._versions.get(name);
    if (existing) {
      throw meshError(scope, 'CM105', `service "${this.name}" already has a version "${name}" (${existing.node.path})`,
        'give each version a distinct name, e.g. v1, v2, v3');
    }
  }
}

