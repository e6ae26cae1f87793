import { ApiObject, Duration, JsonPatch, Lazy, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct, IConstruct } from 'constructs';
import { meshError } from '../errors';
import { registerGatewayApiTarget } from './gateway-api-target';
import { ExposedRoute, gatewayExposureDeclaration } from './gateway-promises';
import { checkExternalHost, hostCovers } from './hosts';
import { existingGatewayAnnotations } from '../analysis/gateway-pods';
import { GATEWAY_NAME_LABEL } from '../analysis/simulator/kube-gateway';
import {
  Gateway, GatewaySpecServersTlsMode, VirtualService, VirtualServiceSpec, VirtualServiceSpecHttp, VirtualServiceSpecHttpMatch, VirtualServiceSpecTcp,
  VirtualServiceSpecTls,
} from '../imports/networking.istio.io';
import { istioDuration } from '../internal/duration';
import { requireDnsLabel, requireDnsSubdomain } from '../internal/names';
import { removeAddressLabel, removeImagePullPolicy } from '../internal/workloads';
import { Mesh } from '../mesh/mesh';
import type { MeshService } from '../mesh/mesh-service';
import { declare } from '../mesh/promises';
import { isHttpProtocol, isTlsProtocol } from '../mesh/protocol';
import { RoutingApi } from '../mesh/routing-api';
import { describePorts, MeshServicePort } from '../mesh/service-port';
import { IWorkloadTarget, WorkloadSelector } from '../mesh/workload-target';
import { gatewayApiGap, GatewayApiGap, orderGatewayRules, renderGatewayRule } from '../render/gateway-route';
import { renderDestinations, renderMatch, renderRetries, renderRewrite } from '../render/http-route';
import {
  compact, CrossNamespaceBackends, GATEWAY_API_VERSION, ingressBackendRefs, kubeListeners, noteVersionBackends, REFERENCE_GRANT_VERSION,
  renderKubeListener, renderReferenceGrant,
} from '../render/kube-ingress';
import { orderRules } from '../render/route-order';
import { allowFromGateway } from '../security/allow-from';
import { AuthorizationMode, AuthorizationPolicy } from '../security/authorization-policy';
import { Operation } from '../security/operation';
import { IPeer, PeerConfig } from '../security/peer';
import { CorsPolicy } from '../traffic/cors';
import { checkCorsPolicy, renderCorsPolicy } from '../traffic/cors-rules';
import { mayBeNonIdempotent, routeMethods } from '../traffic/idempotency';
import { HttpMatch, PathMatch, StringMatchKind } from '../traffic/match';
import { LocalRateLimit, RateLimitOptions } from '../traffic/rate-limit';
import { RetryPolicy } from '../traffic/resilience';
import { UriRewrite } from '../traffic/route-actions';
import { WeightedDestination } from '../traffic/traffic-split';
import { checkDuration, checkPath, checkRegex, checkRetryPolicy, checkWholeNumber } from '../traffic/validation';

/** TLS settings of an HTTPS or TLS gateway listener. */
export class GatewayTls {
  /** Terminate TLS with the certificate in the Kubernetes Secret `credentialName`. */
  public static simple(credentialName: string): GatewayTls {
    return new GatewayTls(GatewaySpecServersTlsMode.SIMPLE, credentialName);
  }

  /**
   * Terminate TLS and require client certificates, verified with the CA in the Secret
   * (key `ca.crt`, or a `<credentialName>-cacert` Secret).
   */
  public static mutual(credentialName: string): GatewayTls {
    return new GatewayTls(GatewaySpecServersTlsMode.MUTUAL, credentialName);
  }

  /** Do not terminate TLS: route the encrypted stream by SNI to the service. */
  public static passthrough(): GatewayTls {
    return new GatewayTls(GatewaySpecServersTlsMode.PASSTHROUGH, undefined);
  }

  /** The Istio TLS mode. */
  public readonly mode: string;
  /** The Secret holding the certificate, key (and CA). */
  public readonly credentialName?: string;

  private constructor(mode: GatewaySpecServersTlsMode, credentialName: string | undefined) {
    this.mode = mode;
    this.credentialName = credentialName;
  }
}

/** The application protocol of a gateway listener. */
export enum GatewayProtocol {
  /** Plain HTTP. */
  HTTP = 'HTTP',
  /** HTTPS, terminated at the gateway. */
  HTTPS = 'HTTPS',
  /** Opaque TCP. */
  TCP = 'TCP',
  /** TLS, passed through and routed by SNI. */
  TLS = 'TLS',
}

/** Options shared by every listener. */
export interface GatewayListenerOptions {
  /**
   * The port the gateway's Envoy listens on (the Istio Gateway server port).
   *
   * @default - 8080 for HTTP, 8443 for HTTPS; required for TCP and TLS
   */
  readonly port?: number;

  /**
   * The port of the gateway's Kubernetes Service (what clients connect to). With the Gateway API (the mesh's
   * RoutingApi.GATEWAY_API) it is the Gateway listener's port: the Service Istio deploys listens there.
   *
   * @default - 80 for HTTP, 443 for HTTPS, else the same as `port`
   */
  readonly servicePort?: number;

  /**
   * The hosts this listener serves: domain names or `*.domain` wildcards (or `*`).
   *
   * @default - the gateway's hosts
   */
  readonly hosts?: string[];

  /**
   * The listener name (unique within the gateway).
   *
   * @default - `<protocol>-<port>`, e.g. `http-8080`
   */
  readonly name?: string;
}

/** Options of {@link GatewayListener.http}. */
export interface HttpListenerOptions extends GatewayListenerOptions {
  /**
   * Answer every request with a 301 redirect to HTTPS.
   *
   * @default false
   */
  readonly httpsRedirect?: boolean;
}

/** Options of {@link GatewayListener.https}. */
export interface HttpsListenerOptions extends GatewayListenerOptions {
  /** How TLS is terminated: `GatewayTls.simple(secret)` or `GatewayTls.mutual(secret)`. */
  readonly tls: GatewayTls;
}

/** A port the ingress gateway listens on. */
export class GatewayListener {
  /** Plain HTTP (default port 8080, Service port 80). */
  public static http(options: HttpListenerOptions = {}): GatewayListener {
    const httpsRedirect = options.httpsRedirect ?? false;
    return new GatewayListener(GatewayProtocol.HTTP, options.port ?? 8080, options.servicePort ?? 80, options, undefined, httpsRedirect);
  }

  /** HTTPS terminated at the gateway (default port 8443, Service port 443). */
  public static https(options: HttpsListenerOptions): GatewayListener {
    return new GatewayListener(GatewayProtocol.HTTPS, options.port ?? 8443, options.servicePort ?? 443, options, options.tls, false);
  }

  /** Opaque TCP on `options.port`. */
  public static tcp(options: GatewayListenerOptions): GatewayListener {
    return new GatewayListener(GatewayProtocol.TCP, options.port ?? 0, options.servicePort ?? options.port ?? 0, options, undefined, false);
  }

  /** TLS passed through to the service, routed by SNI, on `options.port`. */
  public static tlsPassthrough(options: GatewayListenerOptions): GatewayListener {
    const port = options.port ?? 0;
    return new GatewayListener(GatewayProtocol.TLS, port, options.servicePort ?? port, options, GatewayTls.passthrough(), false);
  }

  /** The listener's protocol. */
  public readonly protocol: GatewayProtocol;
  /** The gateway Envoy port. */
  public readonly port: number;
  /** The gateway Service port. */
  public readonly servicePort: number;
  /** The hosts served, when set on the listener. */
  public readonly hosts?: string[];
  /** The listener name. */
  public readonly name: string;
  /** TLS settings. */
  public readonly tls?: GatewayTls;
  /** Whether plain HTTP is redirected to HTTPS. */
  public readonly httpsRedirect: boolean;

  private constructor(protocol: GatewayProtocol, port: number, servicePort: number, options: GatewayListenerOptions,
    tls: GatewayTls | undefined, httpsRedirect: boolean) {
    this.protocol = protocol;
    this.port = port;
    this.servicePort = servicePort;
    this.hosts = options.hosts;
    this.name = options.name ?? `${protocol.toLowerCase()}-${port}`;
    this.tls = tls;
    this.httpsRedirect = httpsRedirect;
  }
}

/** An ingress gateway deployed elsewhere (e.g. Istio's default `istio-ingressgateway`). */
export interface ExistingGatewayOptions {
  /** Labels of the gateway pods, e.g. `{ istio: 'ingressgateway' }`. */
  readonly selector: { [key: string]: string };
  /** The namespace of the gateway pods (where TLS Secrets must be). */
  readonly namespaceName: string;
  /**
   * The gateway pods' ServiceAccount (their mesh identity).
   *
   * @default 'istio-ingressgateway-service-account' (Istio's default gateway)
   */
  readonly serviceAccountName?: string;
}

/** Horizontal autoscaling of the gateway Deployment. */
export interface GatewayAutoscaling {
  /** Minimum replicas. */
  readonly minReplicas: number;
  /** Maximum replicas. */
  readonly maxReplicas: number;
  /**
   * Target average CPU utilization, 1–100.
   *
   * @default 80
   */
  readonly cpuUtilizationPercent?: number;
}

/** Properties of an {@link IngressGateway}. */
export interface IngressGatewayProps {
  /** The mesh (namespace) the gateway serves. */
  readonly mesh: Mesh;

  /**
   * Name of the Istio Gateway, and of the gateway's Deployment, Service and ServiceAccount.
   *
   * @default - the construct id
   */
  readonly name?: string;

  /**
   * Name of the gateway-bound VirtualService (further ones, for other host sets, get `-2`, `-3`).
   *
   * @default - the gateway name
   */
  readonly virtualServiceName?: string;

  /**
   * Hosts served by listeners that do not name their own.
   *
   * @default ['*']
   */
  readonly hosts?: string[];

  /**
   * The listeners.
   *
   * @default [GatewayListener.http()]
   */
  readonly listeners?: GatewayListener[];

  /**
   * Bind to gateway pods deployed elsewhere instead of deploying the gateway's own Envoy. Not with the Gateway API,
   * where Istio deploys the pods of a Gateway of class `istio` (CM520).
   *
   * @default - the gateway's own Deployment, Service, ServiceAccount and Role are written
   */
  readonly existingGateway?: ExistingGatewayOptions;

  /**
   * Replicas of the gateway Deployment (ignored with autoscaling). Not with the Gateway API (CM520): scale the
   * Deployment Istio deploys with `autoscaling`.
   *
   * @default 2
   */
  readonly replicas?: number;

  /**
   * Resources of the gateway container. Not with the Gateway API (CM520).
   *
   * @default - requests 100m CPU / 128Mi, limits 2000m / 1024Mi (Istio's gateway chart)
   */
  readonly resources?: kplus.ContainerResources;

  /**
   * Type of the gateway's Kubernetes Service (with the Gateway API, the Gateway's `networking.istio.io/service-type`
   * annotation).
   *
   * @default kplus.ServiceType.LOAD_BALANCER
   */
  readonly serviceType?: kplus.ServiceType;

  /**
   * Annotations of the gateway's Kubernetes Service (e.g. cloud load-balancer settings); with the Gateway API, the
   * Gateway's `spec.infrastructure.annotations`, which Istio copies to the Service and Deployment it deploys.
   *
   * @default - none
   */
  readonly serviceAnnotations?: { [key: string]: string };

  /**
   * Horizontal Pod Autoscaler for the gateway.
   *
   * @default - none
   */
  readonly autoscaling?: GatewayAutoscaling;

  /**
   * Keep at least this many gateway pods during voluntary disruptions (a PodDisruptionBudget).
   *
   * @default - no PodDisruptionBudget
   */
  readonly minAvailable?: number;

  /**
   * Which API the gateway is written with: `RoutingApi.GATEWAY_API`, a Kubernetes Gateway API `Gateway` of class
   * `istio` (Istio deploys its Envoy) with HTTPRoutes, or `RoutingApi.ISTIO`, an Istio `Gateway` and VirtualService
   * with the gateway's own Deployment. Istio Gateways keep working in ambient mode (istio.io "Migrate policies"), so a
   * gateway that needs what the Gateway API form cannot carry (a regex CORS origin, mutual TLS, `existingGateway`,
   * `replicas`) stays an Istio Gateway in a mesh routed with the Gateway API.
   *
   * @default - the mesh's routingApi
   */
  readonly routingApi?: RoutingApi;
}

/** Options of `MeshService.exposeViaGateway` and {@link IngressGateway.addRoute}. */
export interface ExposeViaGatewayOptions {
  /**
   * Request paths routed to the service (any of them).
   *
   * @default [PathMatch.prefix('/')]
   */
  readonly paths?: PathMatch[];

  /**
   * Full matches instead of `paths` (any of them; the fields of one match all hold).
   *
   * @default - the `paths`
   */
  readonly matches?: HttpMatch[];

  /**
   * Hosts of the gateway this route serves.
   *
   * @default - every host of the gateway's HTTP listeners
   */
  readonly hosts?: string[];

  /**
   * The Service port the gateway sends to, for a multi-port service (e.g. its gRPC port); its protocol picks the
   * gateway listener (HTTP or HTTPS for HTTP and gRPC, TLS, TCP).
   *
   * @default - the service's primary port (the first of its ports)
   */
  readonly port?: number;

  /**
   * Rewrite the path or authority before forwarding (e.g. strip a prefix: `{ uri: '/' }`).
   *
   * @default - none
   */
  readonly rewrite?: UriRewrite;

  /**
   * Timeout for the request.
   *
   * @default - no timeout
   */
  readonly timeout?: Duration;

  /**
   * Retry policy.
   *
   * @default - Istio's defaults, written out
   */
  readonly retry?: RetryPolicy;

  /**
   * Cross-Origin Resource Sharing for browsers calling the service through the gateway: the
   * gateway answers preflights from allowed origins itself.
   *
   * @default - no CORS policy
   */
  readonly corsPolicy?: CorsPolicy;

  /**
   * Versions that receive the gateway's requests.
   *
   * @default - the same split as the service's own catch-all route, so ingress traffic honours the mesh's subsets
   */
  readonly destinations?: WeightedDestination[];

  /**
   * For TCP and TLS services: the gateway listener port that forwards to the service.
   *
   * @default - the gateway's only TCP (or TLS) listener
   */
  readonly listenerPort?: number;
}

/** One service exposed through the gateway. */
interface GatewayRoute extends ExposedRoute {
  /** The construct whose call declared it (the service, for `exposeViaGateway`). */
  readonly declaredBy: Construct;
}

/**
 * An ingress gateway. When the mesh routes with the Gateway API (`RoutingApi.GATEWAY_API`, the default in ambient
 * mode): a Kubernetes Gateway API `Gateway` of class `istio` (Istio deploys its Envoy: Deployment, Service and
 * ServiceAccount `<name>-istio`), HTTPRoutes (TCPRoutes, TLSRoutes) bound to its listeners, and ReferenceGrants where
 * a route sends to another namespace. Otherwise an Istio `Gateway` (its listeners, hosts and TLS), the gateway-bound
 * VirtualService(s) routing to exposed services, and — unless bound to an existing gateway —
 * the gateway's own Envoy: a Deployment injected with Istio's `gateway` template (image
 * `auto`), its ServiceAccount, a LoadBalancer Service, the Role/RoleBinding that lets it read
 * its TLS Secrets, and optionally an autoscaler and a PodDisruptionBudget.
 *
 * @example
 * const gateway = new IngressGateway(chart, 'gateway', { mesh, hosts: ['shop.example.com'],
 *   listeners: [GatewayListener.https({ tls: GatewayTls.simple('shop-cert') }), GatewayListener.http({ httpsRedirect: true })] });
 * productpage.exposeViaGateway(gateway, { paths: [PathMatch.prefix('/')] });
 */
export class IngressGateway extends Construct implements IWorkloadTarget, IPeer {
  /** The mesh the gateway serves. */
  public readonly mesh: Mesh;
  /** Name of the Istio Gateway (and of the gateway workload). */
  public readonly name: string;
  /** The listeners. */
  public readonly listeners: GatewayListener[];
  /** Labels of the gateway pods (the Istio Gateway's selector; with the Gateway API, the label Istio gives the pods it deploys). */
  public readonly selector: { [key: string]: string };
  /** Namespace of the gateway pods. */
  public readonly podNamespace: string;
  /** The gateway pods' mesh identity. */
  public readonly principal: string;
  /** The Istio Gateway, or (with the Gateway API) the Kubernetes Gateway API Gateway. */
  public readonly gateway: ApiObject;
  /** The gateway's Deployment, unless bound to an existing gateway or deployed by Istio (the Gateway API). */
  public readonly deployment?: kplus.Deployment;
  /** The gateway's Kubernetes Service, unless bound to an existing gateway or deployed by Istio (the Gateway API). */
  public readonly service?: kplus.Service;

  /**
   * True when the gateway is a Kubernetes Gateway API `Gateway` of class `istio` (the mesh routes with
   * RoutingApi.GATEWAY_API): Istio deploys its Envoy (`<name>-istio`), and its routes are HTTPRoutes, TCPRoutes and
   * TLSRoutes bound to its listeners.
   */
  public readonly usesGatewayApi: boolean;

  private readonly routeGroups = new Map<string, { virtualService: ApiObject; routes: GatewayRoute[] }>();
  private readonly kubeRouteGroups = new Map<string, { route: ApiObject; routes: GatewayRoute[] }>();
  private readonly grants = new Map<string, { grant: ApiObject; backends: CrossNamespaceBackends }>();
  private readonly tcpListenerServices = new Map<GatewayListener, MeshService>();
  private readonly virtualServiceName: string;
  private readonly defaultHosts: string[];

  public constructor(scope: Construct, id: string, props: IngressGatewayProps) {
    super(scope, id);
    this.mesh = props.mesh;
    this.name = props.name ?? id;
    requireDnsLabel(this, 'gateway name', this.name, true);
    this.virtualServiceName = props.virtualServiceName ?? this.name;
    requireDnsSubdomain(this, 'VirtualService name', this.virtualServiceName);
    this.defaultHosts = props.hosts ?? ['*'];
    this.listeners = props.listeners ?? [GatewayListener.http()];
    this.checkListeners();

    const existing = props.existingGateway;
    this.usesGatewayApi = (props.routingApi ?? this.mesh.routingApi) === RoutingApi.GATEWAY_API;
    const namespace = this.mesh.namespaceName;
    if (this.usesGatewayApi) {
      this.checkGatewayApiProps(props);
      // Istio deploys the gateway (automated deployment): Deployment, Service and ServiceAccount `<name>-istio`, pods
      // labelled with the Gateway's name (istio/istio PR 43103; the gateway pod of Istio's analyzer test data
      // k8sgateway-selector.yaml).
      this.selector = { [GATEWAY_NAME_LABEL]: this.name };
      this.podNamespace = namespace;
      this.principal = `${this.mesh.trustDomain}/ns/${namespace}/sa/${this.name}-istio`;
      registerGatewayApiTarget(this, this.name);
      const annotations = props.serviceType ? { 'networking.istio.io/service-type': props.serviceType } : undefined;
      this.gateway = new ApiObject(this, 'Gateway', {
        apiVersion: GATEWAY_API_VERSION,
        kind: 'Gateway',
        metadata: { name: this.name, namespace, annotations },
        spec: {
          gatewayClassName: 'istio',
          // Copied by Istio to the Service and Deployment it deploys.
          infrastructure: props.serviceAnnotations ? { annotations: { ...props.serviceAnnotations } } : undefined,
          listeners: this.listeners.flatMap((l) => kubeListeners(l, this.listenerHosts(l)).map(renderKubeListener)),
        },
      });
      if (this.listeners.some((l) => l.httpsRedirect)) this.renderHttpsRedirect();
      // Attached to what Istio generates: the Deployment `<name>-istio` and its pods' gateway-name label (istio.io
      // "Kubernetes Gateway API", Resource Attachment and Scaling).
      this.addScaling(props, `${this.name}-istio`, { ...this.selector });
    } else {
      // Istio binds a Gateway to every pod its selector matches, in any namespace: two teams' gateways both named
      // `gateway` would serve each other's routes. The library's own gateway pods carry their name and namespace.
      this.selector = existing?.selector ?? ownGatewayLabels(this.name, this.mesh.namespaceName);
      if (Object.keys(this.selector).length === 0) {
        throw meshError(this, 'CM507', 'existingGateway.selector is empty, so the Gateway would apply to every gateway pod of the mesh', 'give the labels of the gateway pods, e.g. { istio: "ingressgateway" }');
      }
      this.podNamespace = existing?.namespaceName ?? this.mesh.namespaceName;
      const serviceAccountName = existing ? existing.serviceAccountName ?? 'istio-ingressgateway-service-account' : this.name;
      this.principal = `${this.mesh.trustDomain}/ns/${this.podNamespace}/sa/${serviceAccountName}`;

      this.gateway = new Gateway(this, 'Gateway', {
        // Where the pods of a gateway deployed elsewhere run and as whom: what the request simulator reads to trace
        // requests through them (the output does not hold them).
        metadata: {
          name: this.name, namespace, annotations: existing ? existingGatewayAnnotations(this.podNamespace, serviceAccountName) : undefined,
        },
        spec: {
          selector: this.selector,
          servers: this.listeners.map((l) => ({
            port: { number: l.port, name: l.name, protocol: l.protocol },
            hosts: this.listenerHosts(l),
            tls: l.tls
              ? { mode: l.tls.mode as GatewaySpecServersTlsMode, credentialName: l.tls.credentialName }
              : (l.httpsRedirect ? { httpsRedirect: true } : undefined),
          })),
        },
      });

      if (!existing) {
        const workload = this.deployWorkload(props);
        this.deployment = workload.deployment;
        this.service = workload.service;
      }
    }
    if (this.mesh.authorization === AuthorizationMode.DEFAULT_DENY && this.podNamespace === namespace) {
      // The namespace's allow-nothing selects the gateway pods too, which would refuse every
      // client: the gateway accepts anyone on its listener ports (the services behind it
      // decide who gets in). A Gateway API gateway's policy attaches to the Gateway (targetRefs).
      new AuthorizationPolicy(this, 'AllowIngress', {
        mesh: this.mesh,
        name: `${this.name}-ingress`,
        target: this,
        rules: [{ operations: [Operation.of({ ports: this.listeners.map((l) => (this.usesGatewayApi ? l.servicePort : l.port)) })] }],
      });
    }
  }

  /**
   * Limits the requests each gateway pod admits (local rate limiting, context GATEWAY); the rest
   * are answered 429. Same as `new LocalRateLimit(scope, id, { gateway, ... })`.
   */
  public addRateLimit(options: RateLimitOptions): LocalRateLimit {
    let n = 1;
    while (this.node.tryFindChild(`RateLimit${n}`)) n++;
    return new LocalRateLimit(this, `RateLimit${n}`, { ...options, gateway: this });
  }

  /** As a caller: the gateway pods' mesh identity. */
  public toPeerConfig(): PeerConfig {
    return { principals: [this.principal] };
  }

  /** Selects the gateway pods. */
  public toWorkloadSelector(): WorkloadSelector {
    return { namespaceName: this.podNamespace, matchLabels: { ...this.selector } };
  }

  /**
   * Routes requests arriving at the gateway to `service` (on its port, with the mesh's
   * subsets). Same as `service.exposeViaGateway(gateway, options)`.
   */
  public addRoute(service: MeshService, options: ExposeViaGatewayOptions = {}): void {
    // An ingress gateway sends to a Service's pods, skipping its waypoint and the L7 policies there (the gateway's
    // path restrictions, JwtAuth), unless the Service opts in (istio.io "Migrate policies"; pilot's
    // EndpointBuilder.findServiceWaypoint): every service exposed by a gateway in a waypoint mesh does.
    if (service.mesh.waypoint) service.service.metadata.addLabel('istio.io/ingress-use-waypoint', 'true');
    checkDuration(this, 'timeout', options.timeout);
    const target = exposedPort(this, service, options);
    if (options.retry) checkRetryPolicy(this, options.retry, target.protocol);
    checkCorsPolicy(this, options.corsPolicy);
    for (const path of options.paths ?? []) {
      if (path.kind === StringMatchKind.REGEX) checkRegex(this, 'path regex', path.value);
      else checkPath(this, 'path', path.value);
    }
    if (options.destinations && service.mesh.waypoint) {
      throw meshError(this, 'CM248', `the route to service "${service.name}" splits traffic across versions at the gateway, but in an ambient mesh with a waypoint the gateway sends every request to the waypoint, which routes by the service's own routes (a version chosen at the gateway is not kept)`,
        `declare the split on the service (${service.name}.routeTraffic({ destinations, matches })), which the waypoint applies to ingress traffic too, and remove destinations here`);
    }
    for (const d of options.destinations ?? []) {
      if (d.version.service !== service) {
        throw meshError(this, 'CM204', `destination version "${d.version.name}" belongs to service "${d.version.service.name}", not "${service.name}"`, `pick versions of ${service.name}`);
      }
    }
    const listener = this.listenerFor(service, options);
    const hosts = options.hosts ?? this.listenerHosts(listener);
    for (const host of hosts) {
      checkExternalHost(this, 'CM501', 'route host', host, true);
      if (!this.listeners.some((l) => l.protocol === listener.protocol && this.listenerHosts(l).some((p) => hostCovers(p, host)))) {
        throw meshError(this, 'CM504', `route host "${host}" for service "${service.name}" is not served by any ${listener.protocol} listener of gateway "${this.name}" (hosts: ${this.listenerHosts(listener).join(', ')})`,
          'add the host to the gateway (hosts or the listener\'s hosts), or route one of the gateway\'s hosts');
      }
    }
    const route = { service, options, hosts, listener, declaredBy: service };
    if (this.usesGatewayApi) {
      this.addKubeRoute(route);
    } else {
      const key = [...hosts].sort().join(',');
      let group = this.routeGroups.get(key);
      if (!group) {
        // One gateway-bound VirtualService per distinct host set, rendered at synth.
        const routes: GatewayRoute[] = [];
        const index = this.routeGroups.size + 1;
        const virtualService = new VirtualService(this, index === 1 ? 'VirtualService' : `VirtualService${index}`, {
          metadata: { name: index === 1 ? this.virtualServiceName : `${this.virtualServiceName}-${index}`, namespace: this.mesh.namespaceName },
          spec: Lazy.any({ produce: () => this.renderRoutes(hosts, routes) }) as VirtualServiceSpec,
        });
        group = { virtualService, routes };
        this.routeGroups.set(key, group);
      }
      group.routes.push(route);
    }
    // The gateway's own Service (and the one Istio deploys for a Gateway API Gateway) maps servicePort to the listener;
    // Istio's shared gateway is not in the output, so the request is traced at the listener's port.
    const entryPort = this.usesGatewayApi || this.deployment ? listener.servicePort : listener.port;
    declare(service, service.mesh, gatewayExposureDeclaration(this, route, entryPort));
    if (service.mesh.authorization === AuthorizationMode.DEFAULT_DENY) {
      // Exposing a service means the gateway may call it for the exposed hosts and paths only (or for what the user
      // declared with service.allowFrom(gateway, ...)). A rewritten or regex path cannot be expressed as an
      // authorization path: the gateway is then allowed on every path of those hosts.
      const http = listener.protocol === GatewayProtocol.HTTP || listener.protocol === GatewayProtocol.HTTPS;
      const authority = options.rewrite?.authority;
      const forwarded = authority !== undefined ? [authority] : hosts.includes('*') ? undefined : hosts;
      // A multi-port service admits the gateway on the exposed port only.
      const ports = service.ports.length > 1 ? [exposedPort(this, service, options).port] : undefined;
      allowFromGateway(service, this, { hosts: http ? forwarded : undefined, paths: http ? authorizationPaths(options) : undefined, ports });
    }
  }

  /** The gateway-bound VirtualServices, one per distinct host set of the routes. */
  public get virtualServices(): ApiObject[] {
    return [...this.routeGroups.values()].map((g) => g.virtualService);
  }

  /** The Gateway API routes bound to the gateway (HTTPRoutes, TCPRoutes, TLSRoutes), with the Gateway API. */
  public get gatewayApiRoutes(): ApiObject[] {
    return [...this.kubeRouteGroups.values()].map((g) => g.route);
  }

  /** The ReferenceGrants that let the gateway's routes send to Services of other namespaces, with the Gateway API. */
  public get referenceGrants(): ApiObject[] {
    return [...this.grants.values()].map((g) => g.grant);
  }

  /** What the Gateway API form cannot carry of the gateway's own settings: refused, never dropped. */
  private checkGatewayApiProps(props: IngressGatewayProps): void {
    const refuse = (what: string, fix: string) => {
      throw meshError(this, 'CM520', `gateway "${this.name}" is a Gateway API Gateway (RoutingApi.GATEWAY_API, the mesh's routing API unless the gateway's routingApi says otherwise), and ${what}`, fix);
    };
    const istio = 'or keep this gateway an Istio Gateway with its own Deployment (new IngressGateway(..., { routingApi: RoutingApi.ISTIO }))';
    if (props.existingGateway) refuse('a Gateway of class istio gets its own pods from Istio: it cannot bind to gateway pods deployed elsewhere (existingGateway)', `remove existingGateway, ${istio}`);
    const deployment: Array<[unknown, string]> = [[props.replicas, 'replicas'], [props.resources, 'resources']];
    for (const [value, name] of deployment) {
      if (value !== undefined) {
        refuse(`Istio deploys its Envoy (Deployment ${this.name}-istio), whose ${name} the library does not write`,
          `remove ${name} (scale with autoscaling; configure the deployment Istio creates with the Gateway's spec.infrastructure.parametersRef), ${istio}`);
      }
    }
    const mutual = this.listeners.find((l) => l.tls?.mode === GatewaySpecServersTlsMode.MUTUAL);
    if (mutual) refuse(`listener "${mutual.name}" requires client certificates (GatewayTls.mutual), which a Gateway verifies with a CA ConfigMap (spec.tls.frontend) the library does not write`, `use GatewayTls.simple, ${istio}`);
    // The Gateway API listener port is the Service port Istio deploys. HTTPS and TLS listeners may share one for
    // distinct hosts (chosen by SNI); otherwise each needs its own.
    const tls = (l: GatewayListener) => l.protocol === GatewayProtocol.HTTPS || l.protocol === GatewayProtocol.TLS;
    const disjoint = (a: string[], b: string[]) => !a.some((x) => b.some((y) => hostCovers(x, y) || hostCovers(y, x)));
    this.listeners.forEach((l, i) => {
      const clash = this.listeners.slice(0, i).find((o) => o.servicePort === l.servicePort
        && !(tls(o) && tls(l) && disjoint(this.listenerHosts(o), this.listenerHosts(l))));
      if (clash) {
        throw meshError(this, 'CM503', `listeners "${clash.name}" and "${l.name}" both take servicePort ${l.servicePort}, the port of their Gateway API listeners`,
          'give each listener its own servicePort (HTTPS and TLS listeners may share one for distinct hosts)');
      }
    });
  }

  /** With the Gateway API: the HTTP listeners that redirect to HTTPS answer with a RequestRedirect route. */
  private renderHttpsRedirect(): void {
    const parentRefs = this.listeners.filter((l) => l.httpsRedirect)
      .flatMap((l) => kubeListeners(l, this.listenerHosts(l)).map((k) => ({ name: this.name, sectionName: k.name })));
    new ApiObject(this, 'HttpsRedirect', {
      apiVersion: GATEWAY_API_VERSION,
      kind: 'HTTPRoute',
      metadata: { name: `${this.name}-https-redirect`, namespace: this.mesh.namespaceName },
      // As Istio's httpsRedirect: 301 to https, same host and path; the port is the scheme's (443).
      spec: { parentRefs, rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }] },
    });
  }

  /** With the Gateway API: the route's HTTPRoute (one per host set), TCPRoute or TLSRoute, and its ReferenceGrant. */
  private addKubeRoute(route: GatewayRoute): void {
    const { service, options, hosts, listener } = route;
    const http = listener.protocol === GatewayProtocol.HTTP || listener.protocol === GatewayProtocol.HTTPS;
    const refuse = (gap: GatewayApiGap) => {
      throw meshError(this, 'CM521', `gateway "${this.name}" is a Gateway API Gateway (RoutingApi.GATEWAY_API, the mesh's routing API unless the gateway's routingApi says otherwise), and for service "${service.name}" ${gap.what}`, gap.fix);
    };
    if (http) {
      if (options.corsPolicy) refuse({ what: 'the library does not write the HTTPRoute CORS filter yet', fix: 'answer CORS in the service, or keep this gateway an Istio Gateway (new IngressGateway(..., { routingApi: RoutingApi.ISTIO }))' });
      const { rewrite, timeout, retry } = options;
      const gap = gatewayApiGap(service, { matches: declaredMatches(options), rewrite, timeout, retry });
      if (gap) refuse(gap);
    } else if (listener.protocol === GatewayProtocol.TCP) {
      const taken = this.tcpListenerServices.get(listener);
      if (taken && taken !== service) {
        throw meshError(this, 'CM522', `TCP listener "${listener.name}" of gateway "${this.name}" already forwards to service "${taken.name}"; two TCPRoutes on one listener conflict (a TCP connection carries no host to choose by)`,
          'give each TCP service its own listener (GatewayListener.tcp({ port })) and pass listenerPort');
      }
      this.tcpListenerServices.set(listener, service);
    } else if (hosts.includes('*')) {
      refuse({ what: 'a TLSRoute must name the SNI hosts it takes (hostnames), and the route serves "*"', fix: 'give the TLS listener or the route its host names (hosts)' });
    }
    // In a waypoint mesh the route sends to the Service itself (see kubeBackendRefs): no version Services needed.
    if (!service.mesh.waypoint) noteVersionBackends(options.destinations ?? service._routing.catchAllDestinations(options.port));
    const kind = http ? 'HTTPRoute' : listener.protocol === GatewayProtocol.TCP ? 'TCPRoute' : 'TLSRoute';
    const key = http ? `http:${[...hosts].sort().join(',')}` : `${kind}:${service.name}:${listener.name}`;
    let group = this.kubeRouteGroups.get(key);
    if (!group) {
      const routes: GatewayRoute[] = [];
      const index = [...this.kubeRouteGroups.keys()].filter((k) => k.startsWith('http:')).length + 1;
      const base = http ? (index === 1 ? this.virtualServiceName : `${this.virtualServiceName}-${index}`) : `${this.name}-${service.name}`;
      const name = [...this.kubeRouteGroups.values()].some((g) => g.route.metadata.name === base) ? `${base}-${listener.name}` : base;
      const id = http ? (index === 1 ? 'HTTPRoute' : `HTTPRoute${index}`) : `${kind}-${service.name}-${listener.name}`;
      const object = new ApiObject(this, id, {
        apiVersion: GATEWAY_API_VERSION,
        kind,
        metadata: { name, namespace: this.mesh.namespaceName },
        spec: Lazy.any({ produce: () => this.renderKubeRoute(kind, hosts, routes) }),
      });
      group = { route: object, routes };
      this.kubeRouteGroups.set(key, group);
    }
    group.routes.push(route);
    for (const ref of this.kubeBackendRefs(service, options)) {
      if (ref.namespace === undefined) continue;
      const backends = this.grantIn(ref.namespace);
      backends.kinds.add(kind);
      backends.services.add(ref.name);
    }
  }

  /**
   * The backendRefs of a route to `service`: one per version it splits across (its version Service), or, in a waypoint
   * mesh, the Service itself: the gateway sends to the waypoint (istio.io/ingress-use-waypoint), which routes the
   * Service's traffic by the service's own routes.
   */
  private kubeBackendRefs(service: MeshService, options: ExposeViaGatewayOptions): any[] {
    const ns = this.mesh.namespaceName;
    if (service.mesh.waypoint) {
      const other = service.mesh.namespaceName === ns ? undefined : service.mesh.namespaceName;
      return [compact({ name: service.name, namespace: other, port: exposedPort(this, service, options).port })];
    }
    return ingressBackendRefs(options.destinations ?? service._routing.catchAllDestinations(options.port), ns, options.port);
  }

  /** The ReferenceGrant in namespace `ns` that lets the gateway's routes send there (created on first use). */
  private grantIn(ns: string): CrossNamespaceBackends {
    let entry = this.grants.get(ns);
    if (!entry) {
      const backends: CrossNamespaceBackends = { kinds: new Set(), services: new Set() };
      const from = this.mesh.namespaceName;
      const name = `${this.name}-from-${from}`;
      requireDnsSubdomain(this, 'ReferenceGrant name', name);
      const grant = new ApiObject(this, `ReferenceGrant-${ns}`, {
        apiVersion: REFERENCE_GRANT_VERSION,
        kind: 'ReferenceGrant',
        metadata: { name, namespace: ns },
        spec: Lazy.any({ produce: () => renderReferenceGrant(from, backends) }),
      });
      entry = { grant, backends };
      this.grants.set(ns, entry);
    }
    return entry.backends;
  }

  /** The parentRefs of a route: the gateway's listeners of `protocols` whose hostnames meet the route's hosts. */
  private parentRefsFor(hosts: string[], listeners: GatewayListener[]): any[] {
    return listeners.filter((l) => !l.httpsRedirect).flatMap((l) => kubeListeners(l, this.listenerHosts(l))
      .filter((k) => !k.hostname || hosts.includes('*') || hosts.some((h) => hostCovers(k.hostname!, h) || hostCovers(h, k.hostname!)))
      .map((k) => ({ name: this.name, sectionName: k.name })));
  }

  private renderKubeRoute(kind: string, hosts: string[], routes: GatewayRoute[]): any {
    const hostnames = hosts.includes('*') ? undefined : [...hosts];
    if (kind === 'HTTPRoute') {
      const http = this.listeners.filter((l) => l.protocol === GatewayProtocol.HTTP || l.protocol === GatewayProtocol.HTTPS);
      // Two exposures that take the same requests cannot both be served (CM227, as with the Istio form).
      const placed = orderRules(routes.map((r) => ({
        ...r, description: `the route of gateway "${this.name}" to service "${r.service.name}"`, matches: declaredMatches(r.options).map((m) => renderMatch(r.service, m)),
      })), `the HTTPRoute of gateway "${this.name}" for ${hosts.join(', ')}`);
      const rules = placed.map(({ service, options }) => {
        const rule = renderGatewayRule({ matches: declaredMatches(options), rewrite: options.rewrite, timeout: options.timeout });
        // A PathPrefix "/" match is every request: no matches at all, as Istio's samples write it.
        const matches = (rule.matches ?? []).every((m: any) => Object.keys(m).length === 0) ? undefined : rule.matches;
        return compact({ ...rule, matches, backendRefs: this.kubeBackendRefs(service, options) });
      });
      return compact({ parentRefs: this.parentRefsFor(hosts, http), hostnames, rules: orderGatewayRules(rules) });
    }
    const { service, options, listener } = routes[0];
    const rules = [{ backendRefs: this.kubeBackendRefs(service, options) }];
    return compact({ parentRefs: this.parentRefsFor(hosts, [listener]), hostnames: kind === 'TLSRoute' ? hostnames : undefined, rules });
  }

  private listenerHosts(listener: GatewayListener): string[] {
    return listener.hosts ?? this.defaultHosts;
  }

  private checkListeners(): void {
    const ports = new Set<number>();
    const names = new Set<string>();
    for (const l of this.listeners) {
      checkWholeNumber(this, 'CM503', `${l.protocol} listener port`, l.port, 1, 65535);
      checkWholeNumber(this, 'CM503', `${l.protocol} listener servicePort`, l.servicePort, 1, 65535);
      if (ports.has(l.port)) {
        throw meshError(this, 'CM503', `two listeners use port ${l.port}`, 'give each listener its own port');
      }
      ports.add(l.port);
      requireDnsLabel(this, 'listener name', l.name);
      if (names.has(l.name)) throw meshError(this, 'CM503', `two listeners are named "${l.name}"`, 'give each listener its own name');
      names.add(l.name);
      for (const host of this.listenerHosts(l)) checkExternalHost(this, 'CM501', 'gateway host', host, true);
      if (l.protocol === GatewayProtocol.HTTPS) {
        if (!l.tls || !l.tls.credentialName) {
          throw meshError(this, 'CM502', `HTTPS listener on port ${l.port} has no TLS certificate`,
            "pass tls: GatewayTls.simple('<secret with tls.crt and tls.key>') or GatewayTls.mutual(...)");
        }
      }
      if (l.tls?.credentialName !== undefined) requireDnsSubdomain(this, 'TLS credential (Secret) name', l.tls.credentialName);
    }
  }

  private listenerFor(service: MeshService, options: ExposeViaGatewayOptions): GatewayListener {
    const protocol = exposedPort(this, service, options).protocol;
    const wanted = isHttpProtocol(protocol) ? [GatewayProtocol.HTTP, GatewayProtocol.HTTPS]
      : isTlsProtocol(protocol) ? [GatewayProtocol.TLS] : [GatewayProtocol.TCP];
    const candidates = this.listeners.filter((l) => wanted.includes(l.protocol) && !l.httpsRedirect
      && (options.listenerPort === undefined || l.port === options.listenerPort));
    if (candidates.length === 0) {
      throw meshError(this, 'CM505', `gateway "${this.name}" has no ${wanted.join(' or ')} listener${options.listenerPort ? ` on port ${options.listenerPort}` : ''} for ${protocol} service "${service.name}"`,
        `add ${wanted[0] === GatewayProtocol.HTTP ? 'GatewayListener.http() or .https(...)' : wanted[0] === GatewayProtocol.TLS ? 'GatewayListener.tlsPassthrough({ port })' : 'GatewayListener.tcp({ port })'} to the gateway's listeners`);
    }
    if (!isHttpProtocol(protocol) && candidates.length > 1) {
      throw meshError(this, 'CM505', `gateway "${this.name}" has ${candidates.length} ${wanted[0]} listeners; which one forwards to service "${service.name}" is ambiguous`,
        `pass listenerPort (one of ${candidates.map((c) => c.port).join(', ')})`);
    }
    return candidates[0];
  }

  private renderRoutes(hosts: string[], routes: GatewayRoute[]): VirtualServiceSpec {
    const http: Array<{ declaredBy: Construct; description: string; matches: VirtualServiceSpecHttpMatch[]; rule: VirtualServiceSpecHttp }> = [];
    const tcp: VirtualServiceSpecTcp[] = [];
    const tls: VirtualServiceSpecTls[] = [];
    for (const { service, options, listener, declaredBy } of routes) {
      // In a waypoint mesh the gateway sends to the waypoint (istio.io/ingress-use-waypoint), which routes the
      // Service's traffic by the service's own routes: a subset chosen here would be ignored there.
      const port = exposedPort(this, service, options).port;
      const route = service.mesh.waypoint
        ? [{ destination: { host: service.host, port: { number: port } } }]
        : renderDestinations(options.destinations ?? service._routing.catchAllDestinations(options.port), port);
      if (listener.protocol === GatewayProtocol.TCP) {
        tcp.push({ match: [{ port: listener.port }], route });
      } else if (listener.protocol === GatewayProtocol.TLS) {
        tls.push({ match: [{ port: listener.port, sniHosts: hosts }], route });
      } else {
        const declared = options.matches ?? (options.paths ?? [PathMatch.prefix('/')]).map((path) => ({ path }));
        const matches = declared.map((m) => renderMatch(service, m));
        // Requests that may be POST or PATCH are not retried after they may have reached the service.
        const safeOnly = mayBeNonIdempotent(routeMethods(service, declared));
        http.push({
          declaredBy,
          description: `the route of gateway "${this.name}" to service "${service.name}"`,
          matches,
          rule: {
            match: matches,
            route,
            timeout: options.timeout && istioDuration(options.timeout),
            retries: renderRetries(options.retry, safeOnly, false),
            rewrite: renderRewrite(options.rewrite),
            corsPolicy: renderCorsPolicy(options.corsPolicy),
          },
        });
      }
    }
    // First match wins on the gateway too: `/api` for one service must come before `/` for another.
    const ordered = orderRules(http, `the gateway-bound VirtualService of "${this.name}" for ${hosts.join(', ')}`).map((r) => r.rule);
    return {
      hosts,
      gateways: [this.name],
      http: ordered.length ? ordered : undefined,
      tcp: tcp.length ? tcp : undefined,
      tls: tls.length ? tls : undefined,
    };
  }

  /** The HorizontalPodAutoscaler of the gateway's Deployment and the PodDisruptionBudget of its pods, when asked for. */
  private addScaling(props: IngressGatewayProps, deploymentName: string, podLabels: { [key: string]: string }): void {
    const namespace = this.mesh.namespaceName;
    if (props.autoscaling) {
      const a = props.autoscaling;
      checkWholeNumber(this, 'CM507', 'autoscaling.minReplicas', a.minReplicas, 1);
      checkWholeNumber(this, 'CM507', 'autoscaling.maxReplicas', a.maxReplicas, a.minReplicas);
      checkWholeNumber(this, 'CM507', 'autoscaling.cpuUtilizationPercent', a.cpuUtilizationPercent, 1, 100);
      new ApiObject(this, 'Autoscaler', {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: this.name, namespace },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deploymentName },
          minReplicas: a.minReplicas,
          maxReplicas: a.maxReplicas,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: a.cpuUtilizationPercent ?? 80 } } }],
        },
      });
    }
    if (props.minAvailable !== undefined) {
      checkWholeNumber(this, 'CM507', 'minAvailable', props.minAvailable, 1);
      new ApiObject(this, 'PodDisruptionBudget', {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: this.name, namespace },
        spec: { minAvailable: props.minAvailable, selector: { matchLabels: podLabels } },
      });
    }
  }

  private deployWorkload(props: IngressGatewayProps): { deployment: kplus.Deployment; service: kplus.Service } {
    const namespace = this.mesh.namespaceName;
    const labels = { app: this.name, istio: this.name, ...ownGatewayLabels(this.name, namespace) };
    const serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', { metadata: { name: this.name, namespace } });
    const deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: { name: this.name, namespace, labels },
      replicas: props.autoscaling ? undefined : props.replicas ?? 2,
      select: false,
      serviceAccount,
      podMetadata: {
        // Istio's gateway injection: the `gateway` template replaces the `auto` image with
        // the proxy, whatever the namespace's own injection setting.
        labels: { ...labels, 'sidecar.istio.io/inject': 'true' },
        annotations: { 'inject.istio.io/templates': 'gateway' },
      },
      containers: [{
        name: 'istio-proxy',
        image: 'auto',
        ports: [...this.listeners.map((l) => ({ number: l.port })), { number: 15021 }, { number: 15090 }],
        resources: props.resources ?? {
          cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(2000) },
          memory: { request: Size.mebibytes(128), limit: Size.mebibytes(1024) },
        },
      }],
    });
    deployment.select(kplus.LabelSelector.of({ labels: { app: this.name, istio: this.name } }));
    // Names and labels are exact and stable: no hashed cdk8s-plus label on the pods; the kubelet's own pull policy.
    removeAddressLabel(deployment);
    removeImagePullPolicy(deployment, 0);

    const service = new kplus.Service(this, 'Service', {
      metadata: { name: this.name, namespace, labels, annotations: props.serviceAnnotations },
      type: props.serviceType ?? kplus.ServiceType.LOAD_BALANCER,
      ports: [
        // Istio's readiness endpoint, used by cloud load-balancer health checks.
        { name: 'http-status', port: 15021, targetPort: 15021 },
        ...this.listeners.map((l) => ({ name: `${servicePortPrefix(l.protocol)}-${l.servicePort}`, port: l.servicePort, targetPort: l.port })),
      ],
    });
    service.selectLabel('istio', this.name);

    // Lets the gateway read the TLS Secrets named in `credentialName` (as Istio's chart does).
    new ApiObject(this, 'Role', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: this.name, namespace },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'watch', 'list'] }],
    });
    new ApiObject(this, 'RoleBinding', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: this.name, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: this.name },
      subjects: [{ kind: 'ServiceAccount', name: this.name }],
    });

    if (props.autoscaling) {
      // The autoscaler owns the replica count; a count in the manifest would fight it on every sync.
      ApiObject.of(deployment).addJsonPatch(JsonPatch.remove('/spec/replicas'));
    } else {
      checkWholeNumber(this, 'CM507', 'replicas', props.replicas, 0);
    }
    this.addScaling(props, this.name, labels);
    return { deployment, service };
  }
}

/** The matches of an exposure: `matches`, else one per path (default: every path). */
/** The port of `service` a gateway route sends to: `options.port`, or the primary port. */
export function exposedPort(scope: IConstruct, service: MeshService, options: ExposeViaGatewayOptions): MeshServicePort {
  if (options.port === undefined) return service.ports[0];
  const found = service.ports.find((p) => p.port === options.port);
  if (!found) {
    throw meshError(scope, 'CM239', `the route to service "${service.name}" sends to port ${options.port}, which is not one of its Service ports (${describePorts(service)})`,
      `use ${service.ports.map((p) => p.port).join(' or ')}`);
  }
  return found;
}

function declaredMatches(options: ExposeViaGatewayOptions): HttpMatch[] {
  return options.matches ?? (options.paths ?? [PathMatch.prefix('/')]).map((path) => ({ path }));
}

/** The labels that select one gateway's own pods, and only them, across the cluster. */
function ownGatewayLabels(name: string, namespaceName: string): { [key: string]: string } {
  return { 'gateway.cdk8s-mesh.dev/name': name, 'gateway.cdk8s-mesh.dev/namespace': namespaceName };
}

/** The exposed paths as AuthorizationPolicy paths (`/static*` for a prefix), if they can be. */
function authorizationPaths(options: ExposeViaGatewayOptions): string[] | undefined {
  if (options.rewrite?.uri !== undefined || options.rewrite?.uriRegex !== undefined) return undefined;
  const paths = options.matches ? options.matches.map((m) => m.path) : options.paths ?? [PathMatch.prefix('/')];
  if (paths.some((p) => p === undefined || p.kind === StringMatchKind.REGEX || p.kind === StringMatchKind.PREFIX && p.value === '/')) return undefined;
  // A prefix of whole path elements admits the prefix itself and what follows a `/`.
  return paths.flatMap((p) => (p!.kind !== StringMatchKind.PREFIX ? [p!.value] : p!.wholeSegments ? [p!.value, `${p!.value}/*`] : [`${p!.value}*`]));
}

function servicePortPrefix(protocol: GatewayProtocol): string {
  return protocol === GatewayProtocol.HTTP ? 'http' : protocol === GatewayProtocol.HTTPS ? 'https' : protocol === GatewayProtocol.TLS ? 'tls' : 'tcp';
}
