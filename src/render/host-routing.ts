import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { meshError } from '../errors';
import {
  backendName, GATEWAY_API_VERSION, gatewayApiGap, gatewayRouteKind, orderGatewayRules, orderGrpcRules, renderGatewayRule, renderGrpcRule,
  serviceParentRef,
} from './gateway-route';
import { renderDestinations, renderHttpRoute } from './http-route';
import { orderRoutes } from './route-order';
import {
  DestinationRule, DestinationRuleSpec, DestinationRuleSpecSubsetsTrafficPolicy, DestinationRuleSpecTrafficPolicy,
  DestinationRuleSpecTrafficPolicyConnectionPool, DestinationRuleSpecTrafficPolicyConnectionPoolHttp,
  DestinationRuleSpecTrafficPolicyConnectionPoolTcp, DestinationRuleSpecTrafficPolicyLoadBalancer,
  DestinationRuleSpecTrafficPolicyLoadBalancerSimple, DestinationRuleSpecTrafficPolicyOutlierDetection,
  DestinationRuleSpecTrafficPolicyTls, DestinationRuleSpecTrafficPolicyTlsMode,
  VirtualService, VirtualServiceSpec, VirtualServiceSpecHttp,
} from '../imports/networking.istio.io';
import { istioDuration } from '../internal/duration';
import { requireDnsLabel, requireDnsSubdomain } from '../internal/names';
import type { MeshService } from '../mesh/mesh-service';
import { isHttpProtocol, isTlsProtocol, Protocol } from '../mesh/protocol';
import { RoutingApi } from '../mesh/routing-api';
import type { ServiceVersion } from '../mesh/service-version';
import { _clientTlsMode, _effectiveMtls } from '../security/effective-mtls';
import { MtlsMode } from '../security/mtls-mode';
import type { Canary } from '../traffic/canary';
import type { CircuitBreaker } from '../traffic/circuit-breaker';
import type { LoadBalancing } from '../traffic/load-balancing';
import type { TrafficSplit, TrafficSplitOptions, WeightedDestination } from '../traffic/traffic-split';

/** Names of a host's VirtualService and DestinationRule. */
export interface HostObjectNames {
  readonly virtualServiceName: string;
  readonly destinationRuleName: string;
}

/**
 * Everything the library knows about traffic to one service host: the routes of every
 * TrafficSplit, the circuit breakers and load-balancing policies, per service or per version.
 * Rendered at synth time into the host's ONE VirtualService and ONE DestinationRule, so routes
 * and policies of one host are never spread over several objects (IST0109).
 */
export class HostRouting {
  private readonly routes: TrafficSplit[] = [];
  private readonly breakers = new Map<ServiceVersion | undefined, CircuitBreaker>();
  private readonly balancers = new Map<ServiceVersion | undefined, LoadBalancing>();
  private readonly targets = new Set<ServiceVersion>();
  private readonly _versionServices = new Map<ServiceVersion, ApiObject>();
  private readonly canaries = new Map<ServiceVersion, Canary>();
  private _gatewayRoute?: ApiObject;
  private scope?: Construct;
  private routeName?: string;

  public constructor(private readonly service: MeshService) {}

  /**
   * Creates the host's DestinationRule and, with RoutingApi.ISTIO, its VirtualService, rendered lazily at synth. With
   * RoutingApi.GATEWAY_API the HTTPRoute (or TCPRoute) is created once a route or a second version needs it.
   */
  public createObjects(scope: Construct, names: HostObjectNames): { virtualService?: ApiObject; destinationRule: ApiObject } {
    const namespace = this.service.mesh.namespaceName;
    requireDnsSubdomain(scope, 'VirtualService name', names.virtualServiceName);
    requireDnsSubdomain(scope, 'DestinationRule name', names.destinationRuleName);
    this.scope = scope;
    this.routeName = names.virtualServiceName;
    const destinationRule = new DestinationRule(scope, 'DestinationRule', {
      metadata: { name: names.destinationRuleName, namespace },
      spec: Lazy.any({ produce: () => this.renderDestinationRule() }) as DestinationRuleSpec,
    });
    if (this.usesGatewayApi) return { destinationRule };
    const virtualService = new VirtualService(scope, 'VirtualService', {
      metadata: { name: names.virtualServiceName, namespace },
      spec: Lazy.any({ produce: () => this.renderVirtualService() }) as VirtualServiceSpec,
    });
    return { virtualService, destinationRule };
  }

  /** True when the mesh routes with the Gateway API. */
  public get usesGatewayApi(): boolean {
    return this.service.mesh.routingApi === RoutingApi.GATEWAY_API;
  }

  /** The host's HTTPRoute or TCPRoute, once a route or a second version made it necessary. */
  public get gatewayRoute(): ApiObject | undefined {
    return this._gatewayRoute;
  }

  /** The Services `<service>-<version>` created for routes, by version. */
  public get versionServices(): ApiObject[] {
    return [...this._versionServices.values()];
  }

  /** Adds a route; a service has at most one catch-all route (it replaces the default route). */
  public addRoute(route: TrafficSplit): void {
    const catchAll = route.isCatchAll && this.routes.find((r) => r.isCatchAll);
    if (catchAll) {
      throw meshError(route, 'CM206', `service "${this.service.name}" already has a catch-all route (${catchAll.node.path}), and a second one could never be reached`,
        'give this route matches, or change the existing catch-all route instead of adding another');
    }
    const opaque = !isHttpProtocol(route.protocol)
      && this.routes.find((r) => !isHttpProtocol(r.protocol) && r.servicePort?.port === route.servicePort?.port);
    if (opaque) {
      const where = route.servicePort ? `port ${route.servicePort.port} of service "${this.service.name}"` : `service "${this.service.name}"`;
      throw meshError(route, 'CM206', `${where} already has a route (${opaque.node.path}); ${route.protocol} connections are routed by one rule per port, so a second one could never be reached`,
        'change the existing route instead of adding another');
    }
    if (this.usesGatewayApi) {
      const gap = gatewayApiGap(this.service, route._options, gatewayRouteKind(this.service) === 'GRPCRoute');
      if (gap) {
        throw meshError(route, 'CM246', `the mesh routes with the Gateway API (RoutingApi.GATEWAY_API${this.service.mesh.dataplane.isAmbient ? ', the default in ambient mode' : ''}), and ${gap.what}`, gap.fix);
      }
    }
    this.routes.push(route);
    if (!this.usesGatewayApi) return;
    this.ensureGatewayRoute(route);
    for (const d of route._options.destinations ?? []) this.noteTarget(d.version);
    const mirror = route._options.mirror?.version;
    if (mirror) mirror.service._routing.noteTarget(mirror);
  }

  /**
   * A version was added. With the Gateway API, a service with more than one version routes by version Services: its
   * default version (the default route's target) and every version a route names get one.
   */
  public versionAdded(): void {
    if (!this.usesGatewayApi || this.service.versions.length < 2) return;
    this.ensureGatewayRoute(this.service.versions[this.service.versions.length - 1]);
    this.noteTarget(this.service.defaultVersion);
    for (const v of [...this.targets]) this.ensureVersionService(v);
  }

  /**
   * `version` is named by a route: it needs a Service of its own once its service has more than one version.
   * @internal
   */
  public noteTarget(version: ServiceVersion): void {
    this.targets.add(version);
    if (this.service.versions.length > 1) this.ensureVersionService(version);
  }

  /** Hands a version's routes to Argo Rollouts: one Canary per version. */
  public addCanary(canary: Canary): void {
    const existing = this.canaries.get(canary.version);
    if (existing) {
      throw meshError(canary, 'CM260', `version "${canary.version.name}" of service "${this.service.name}" is already delivered progressively (${existing.node.path})`,
        'give each version one Canary, with all its steps');
    }
    this.canaries.set(canary.version, canary);
  }

  /** The routes (declared, or the default route as `undefined`) whose destinations name `version` next to other versions. */
  public routesSplitting(version: ServiceVersion): TrafficSplit[] {
    return this.routes.filter((r) => {
      const versions = (r._options.destinations ?? []).map((d) => d.version);
      return versions.includes(version) && versions.length > 1;
    });
  }

  /**
   * The names of the VirtualService's HTTP routes that send requests to `version` (rendered stable 100 / canary 0 for
   * Argo Rollouts), in the VirtualService's order.
   */
  public rolloutRouteNames(version: ServiceVersion): string[] {
    const canary = this.canaries.get(version);
    if (!canary || this.usesGatewayApi) return [];
    return (this.renderVirtualService().http ?? [])
      .filter((rule) => rule.route?.some((d) => d.destination.subset === canary.canarySubsetName))
      .map((rule) => rule.name!);
  }

  /** The routes limited to Service port `port` of a multi-port service. */
  public routesOn(port: number): TrafficSplit[] {
    return this.routes.filter((r) => r.servicePort?.port === port);
  }

  /** How many routes were added so far. */
  public get routeCount(): number {
    return this.routes.length;
  }

  /** Adds a circuit breaker; one per scope (the service, or one version). */
  public addCircuitBreaker(breaker: CircuitBreaker): void {
    const existing = this.breakers.get(breaker.version);
    if (existing) {
      throw meshError(breaker, 'CM232', `${scopeName(this.service, breaker.version)} already has a circuit breaker (${existing.node.path})`,
        'put all its connection pool and outlier detection settings in one circuit breaker');
    }
    this.breakers.set(breaker.version, breaker);
  }

  /** Adds a load-balancing policy; one per scope (the service, or one version). */
  public addLoadBalancing(policy: LoadBalancing): void {
    const existing = this.balancers.get(policy.version);
    if (existing) {
      throw meshError(policy, 'CM234', `${scopeName(this.service, policy.version)} already has a load-balancing policy (${existing.node.path})`,
        'put all its load-balancing settings in one policy');
    }
    this.balancers.set(policy.version, policy);
  }

  /** True when outlier detection applies to `version` (its own, or the service's). */
  public hasOutlierDetection(version?: ServiceVersion): boolean {
    return [version, undefined].some((v) => this.breakers.get(v)?.outlierDetection !== undefined);
  }

  /**
   * Where requests that match no specific route go: the catch-all route's destinations, or
   * the default version. Gateway routes use the same split, so ingress traffic honours the
   * mesh's subsets (IST0140).
   *
   * @param port a Service port of a multi-port service: its own route without matches comes first
   */
  public catchAllDestinations(port?: number): WeightedDestination[] {
    // A multi-port service's route on one port without matches takes that port's requests before the catch-all.
    const onPort = port === undefined ? undefined : this.routesOn(port).find((r) => !r._options.matches?.length);
    const catchAll = onPort ?? this.routes.find((r) => r.isCatchAll);
    return catchAll?._options.destinations?.length ? catchAll._options.destinations : [{ version: this.service.defaultVersion }];
  }

  /** Sidecar egress entries (`<namespace>/<host>`) of the hosts this host's routes mirror to. */
  public mirrorTargets(): string[] {
    return this.routes.flatMap((r) => {
      const mirror = r._options.mirror;
      if (!mirror) return [];
      return [mirror.version ? `${mirror.version.service.mesh.namespaceName}/${mirror.version.service.host}` : `*/${mirror.host}`];
    });
  }

  private ensureGatewayRoute(cause: Construct): void {
    if (this._gatewayRoute || !this.scope) return;
    const service = this.service;
    if (service.ports.length > 1) {
      throw meshError(cause, 'CM246', `the mesh routes with the Gateway API (RoutingApi.GATEWAY_API${service.mesh.dataplane.isAmbient ? ', the default in ambient mode' : ''}), and service "${service.name}" has ${service.ports.length} ports: the library writes one mesh route per host, bound to one port, so the others would reach every version's pods unrouted`,
        'give the ports their own services (one MeshService per port), keep this service at one version without routes, or route the mesh with RoutingApi.ISTIO');
    }
    const kind = gatewayRouteKind(service);
    this._gatewayRoute = new ApiObject(this.scope, kind, {
      apiVersion: GATEWAY_API_VERSION,
      kind,
      metadata: { name: this.routeName ?? service.name, namespace: service.mesh.namespaceName },
      spec: Lazy.any({ produce: () => this.renderGatewayRoute() }),
    });
  }

  /** The Service `<service>-<version>` selecting one version's pods (Istio's bookinfo-versions.yaml). */
  private ensureVersionService(version: ServiceVersion): void {
    if (this._versionServices.has(version)) return;
    const service = this.service;
    const name = `${service.name}-${version.name}`;
    const taken = service.mesh.services.find((s) => s.name === name);
    if (taken) {
      throw meshError(version, 'CM247', `routing by version with the Gateway API needs a Service "${name}" for version "${version.name}" of service "${service.name}", and service ${taken.node.path} has that name`,
        'rename one of the services or the version');
    }
    requireDnsLabel(version, 'version Service name', name, true);
    const ports = service.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort, appProtocol: p.protocol }));
    this._versionServices.set(version, new ApiObject(version, 'Service', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: service.mesh.namespaceName, labels: { app: service.name, version: version.name, service: name } },
      spec: { ports, selector: { app: service.name, version: version.name } },
    }));
  }

  private renderGatewayRoute(): any {
    const service = this.service;
    const parentRefs = [serviceParentRef(service)];
    if (!isHttpProtocol(service.protocol)) {
      const split = this.catchAllDestinations();
      const backendRefs = split.map((d) => ({ name: backendName(d.version), port: service.port, weight: split.length > 1 ? d.weight : undefined }));
      // A TLSRoute matches the SNI its clients send: the service's host, as the VirtualService's `tls` rule.
      const hostnames = isTlsProtocol(service.protocol) ? [service.host] : undefined;
      return { parentRefs, hostnames, rules: [{ backendRefs }] };
    }
    const grpc = gatewayRouteKind(service) === 'GRPCRoute';
    const rule = grpc ? renderGrpcRule : renderGatewayRule;
    const rules = orderRoutes(service, this.routes).map((r) => rule(r._options));
    if (!this.routes.some((r) => r.isCatchAll)) rules.push(rule({ destinations: [{ version: service.defaultVersion }] }));
    return { parentRefs, rules: grpc ? orderGrpcRules(rules) : orderGatewayRules(rules) };
  }

  private renderDestinationRule(): DestinationRuleSpec {
    const service = this.service;
    // Each port's mode for every version, or undefined (for all ports) when a port's mode differs by version.
    const byPort = service.ports.map((p) => _effectiveMtls(service, p.port));
    const hostModes = byPort.every((m) => m !== undefined) ? byPort as MtlsMode[] : undefined;
    return {
      host: service.host,
      trafficPolicy: this.renderTrafficPolicy(undefined, hostModes),
      subsets: service.versions.flatMap((v) => {
        const subset = {
          name: v.name,
          labels: { version: v.name },
          // Same shape at both levels; the generated types differ only in their names.
          trafficPolicy: this.renderTrafficPolicy(v, hostModes) as DestinationRuleSpecSubsetsTrafficPolicy | undefined,
        };
        // A version Argo Rollouts delivers: its own subset is the stable one; the canary subset selects the same pods
        // until the controller adds each ReplicaSet's `rollouts-pod-template-hash` to both, and has the same policies.
        const canary = this.canaries.get(v);
        return canary ? [subset, { ...subset, name: canary.canarySubsetName }] : [subset];
      }),
    };
  }

  /**
   * The traffic policy of the host (`version` undefined) or of one version's subset.
   *
   * @param hostModes the mTLS mode of each port (in `service.ports` order) for every version, or undefined when a port's
   * mode differs by version: client TLS is then written per subset
   */
  private renderTrafficPolicy(version: ServiceVersion | undefined, hostModes: MtlsMode[] | undefined): DestinationRuleSpecTrafficPolicy | undefined {
    const service = this.service;
    const ownModes = () => service.ports.map((p) => _effectiveMtls(service, p.port, version)!);
    const modes = version === undefined ? hostModes : (hostModes === undefined ? ownModes() : undefined);
    const common = this.commonPolicy(version);
    const tls = modes && clientTls(modes[0]);
    // Port-level settings replace the level's pool, outlier detection, load balancer and TLS for their port (Istio's
    // MergeTrafficPolicy: they do not inherit), so each one repeats the level's policy with its own client TLS.
    const portLevelSettings = (modes ?? []).flatMap((mode, i) => {
      if (i === 0 || (mode === MtlsMode.DISABLE) === (modes![0] === MtlsMode.DISABLE)) return [];
      const inherited = version === undefined ? common : { ...this.commonPolicy(undefined), ...compact(common ?? {}) };
      const tlsMode = _clientTlsMode(mode) as DestinationRuleSpecTrafficPolicyTlsMode;
      return [{ port: { number: service.ports[i].port }, ...inherited, tls: { mode: tlsMode } }];
    });
    if (!common && !tls && portLevelSettings.length === 0) return undefined;
    return compact<DestinationRuleSpecTrafficPolicy>({
      tls,
      ...common,
      // The generated types differ only in their names.
      portLevelSettings: portLevelSettings.length ? portLevelSettings as unknown as DestinationRuleSpecTrafficPolicy['portLevelSettings'] : undefined,
    });
  }

  /** The connection pool, outlier detection and load balancer of the host or of one version's subset. */
  private commonPolicy(version: ServiceVersion | undefined): Pick<DestinationRuleSpecTrafficPolicy, 'connectionPool' | 'outlierDetection' | 'loadBalancer'> | undefined {
    const breaker = this.breakers.get(version);
    const balancing = this.balancers.get(version)?.options;
    if (!breaker && !balancing) return undefined;
    const pool = breaker?.connectionPool;
    const outlier = breaker?.outlierDetection;
    const tcp = pool && compact<DestinationRuleSpecTrafficPolicyConnectionPoolTcp>({
      maxConnections: pool.maxConnections,
      connectTimeout: pool.connectTimeout && istioDuration(pool.connectTimeout),
    });
    const http = pool && compact<DestinationRuleSpecTrafficPolicyConnectionPoolHttp>({
      http1MaxPendingRequests: pool.maxPendingRequests,
      http2MaxRequests: pool.maxRequests,
      maxRequestsPerConnection: pool.maxRequestsPerConnection,
      maxRetries: pool.maxRetries,
      idleTimeout: pool.idleTimeout && istioDuration(pool.idleTimeout),
    });
    const lb = balancing?.loadBalancer?._spec;
    const hash = lb?.consistentHash;
    const failover = balancing?.localityFailover ?? [];
    const distribute = balancing?.localityDistribution ?? [];
    const loadBalancer = balancing && compact<DestinationRuleSpecTrafficPolicyLoadBalancer>({
      simple: lb?.simple as DestinationRuleSpecTrafficPolicyLoadBalancerSimple | undefined,
      consistentHash: hash && {
        httpHeaderName: hash.httpHeaderName,
        httpCookie: hash.httpCookie && {
          name: hash.httpCookie.name,
          ttl: hash.httpCookie.ttl && istioDuration(hash.httpCookie.ttl),
          path: hash.httpCookie.path,
        },
        useSourceIp: hash.useSourceIp,
        httpQueryParameterName: hash.httpQueryParameterName,
      },
      localityLbSetting: failover.length || distribute.length ? {
        enabled: true,
        failover: failover.length ? failover.map((f) => ({ from: f.sourceRegion, to: f.targetRegion })) : undefined,
        distribute: distribute.length ? distribute.map((d) => ({ from: d.sourceLocality, to: d.weights })) : undefined,
      } : undefined,
      warmup: balancing.warmup && { duration: istioDuration(balancing.warmup) },
    });
    return compact({
      connectionPool: pool && compact<DestinationRuleSpecTrafficPolicyConnectionPool>({ tcp, http }),
      outlierDetection: outlier && compact<DestinationRuleSpecTrafficPolicyOutlierDetection>({
        consecutive5XxErrors: outlier.consecutive5xxErrors,
        consecutiveGatewayErrors: outlier.consecutiveGatewayErrors,
        interval: outlier.interval && istioDuration(outlier.interval),
        baseEjectionTime: outlier.baseEjectionTime && istioDuration(outlier.baseEjectionTime),
        maxEjectionPercent: outlier.maxEjectionPercent,
        minHealthPercent: outlier.minHealthPercent,
      }),
      loadBalancer,
    });
  }

  /**
   * The host's VirtualService: `http` rules for its HTTP and gRPC ports, `tls` rules (by SNI and port) for its TLS
   * ports, `tcp` rules for its TCP ports. A multi-port service's rules each match one port and name it in their
   * destinations (istioctl IST0112: a route to a host with several ports must say which): a route without a port
   * becomes one rule per port of its protocol family, in its place in the order; the catch-all route's split applies
   * to every port that has no route of its own without matches.
   */
  private renderVirtualService(): VirtualServiceSpec {
    const service = this.service;
    const multi = service.ports.length > 1;
    const spec: { -readonly [K in keyof VirtualServiceSpec]: VirtualServiceSpec[K] } = { hosts: [service.host] };
    const ports = (test: (p: Protocol) => boolean) => service.ports.filter((p) => test(p.protocol));
    const isTcp = (p: Protocol) => !isHttpProtocol(p) && !isTlsProtocol(p);
    // A port whose own route has no matches takes all its requests: the catch-all adds no rule there.
    const ownCatchAll = (port: number) => this.routesOn(port).some((r) => !r._options.matches?.length);
    const httpPorts = ports(isHttpProtocol);
    if (httpPorts.length) {
      const routes = this.routes.filter((r) => isHttpProtocol(r.protocol));
      const rule = (options: TrafficSplitOptions, nonIdempotentOnly: boolean, port?: number) =>
        renderHttpRoute(service, { options, nonIdempotentOnly, port });
      const forEachPort = (options: TrafficSplitOptions, nonIdempotentOnly: boolean, catchAll: boolean) => (multi
        ? httpPorts.filter((p) => !catchAll || !ownCatchAll(p.port))
          .map((p) => rule(namedForPort(options, p.port, httpPorts.length), nonIdempotentOnly, p.port))
        : [rule(options, nonIdempotentOnly)]);
      const http: VirtualServiceSpecHttp[] = orderRoutes(service, routes).flatMap((r) => (r.servicePort
        ? [rule(r._options, r.isNonIdempotentOnly, r.servicePort.port)]
        : forEachPort(r._options, r.isNonIdempotentOnly, r.isCatchAll)));
      if (!routes.some((r) => r.isCatchAll)) http.push(...forEachPort({ destinations: [{ version: service.defaultVersion }] }, false, true));
      spec.http = handRoutesToRollouts(http, this.canaries);
    }
    const tls = ports(isTlsProtocol);
    if (tls.length) {
      spec.tls = tls.map((p) => ({
        match: [{ sniHosts: [service.host], port: p.port }],
        route: renderDestinations(this.catchAllDestinations(p.port), multi ? p.port : undefined),
      }));
    }
    const tcp = ports(isTcp);
    if (tcp.length) {
      spec.tcp = multi
        ? tcp.map((p) => ({ match: [{ port: p.port }], route: renderDestinations(this.catchAllDestinations(p.port), p.port) }))
        : [{ route: renderDestinations(this.catchAllDestinations()) }];
    }
    return spec;
  }
}

/** A named route copied to several ports: each copy's name says its port (Envoy's stats and access logs show it). */
function namedForPort(options: TrafficSplitOptions, port: number, copies: number): TrafficSplitOptions {
  return options.name === undefined || copies < 2 ? options : { ...options, name: `${options.name}-${port}` };
}

/**
 * Argo Rollouts' subset-level traffic splitting: each HTTP route whose one destination is a progressively delivered version
 * gets the canary subset as a second destination, stable 100 / canary 0 (the Rollout's initial state), and a name the
 * Rollout lists (`trafficRouting.istio.virtualService.routes`). The controller then moves the two weights, step by step.
 * A route splitting the version with other versions is left as declared: the Canary refuses it (CM262).
 *
 * @see https://argoproj.github.io/argo-rollouts/features/traffic-management/istio/
 */
function handRoutesToRollouts(http: VirtualServiceSpecHttp[], canaries: Map<ServiceVersion, Canary>): VirtualServiceSpecHttp[] {
  const counts = new Map<ServiceVersion, number>();
  return http.map((rule) => {
    const only = rule.route?.length === 1 ? rule.route[0] : undefined;
    const version = only && [...canaries.keys()].find((v) => v.name === only.destination.subset && v.service.host === only.destination.host);
    if (!only || !version) return rule;
    const n = (counts.get(version) ?? 0) + 1;
    counts.set(version, n);
    const canarySubset = canaries.get(version)!.canarySubsetName;
    return {
      ...rule,
      name: rule.name ?? (n === 1 ? version.name : `${version.name}-${n}`),
      route: [
        { ...only, weight: 100 },
        { ...only, destination: { ...only.destination, subset: canarySubset }, weight: 0 },
      ],
    };
  });
}

/**
 * Client TLS derived from the server's mTLS mode so the two can never disagree: written only where the workloads accept
 * plaintext only (DISABLE); everywhere else Istio's auto-mTLS picks mutual TLS.
 */
function clientTls(mode: MtlsMode): DestinationRuleSpecTrafficPolicyTls | undefined {
  return mode === MtlsMode.DISABLE ? { mode: _clientTlsMode(mode) as DestinationRuleSpecTrafficPolicyTlsMode } : undefined;
}

function scopeName(service: MeshService, version: ServiceVersion | undefined): string {
  return version ? `version "${version.name}" of service "${service.name}"` : `service "${service.name}"`;
}

/** `obj` without undefined fields, or undefined when nothing is left (Istio rejects empty policies). */
function compact<T extends object>(obj: T): T | undefined {
  const entries = Object.entries(obj).filter(([, v]) => v !== undefined);
  return entries.length ? Object.fromEntries(entries) as T : undefined;
}
