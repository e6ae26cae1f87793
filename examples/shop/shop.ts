// The shop of issue 14: two namespaces written from the README and the guides, every declaration proven at synth.
// (Inside this repository the library is imported from its sources; in your own app write `from 'cdk8s-mesh'`.)
import { Chart, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import {
  ApplicationSource, ArgoCdApplication, ArgoCdProject, CircuitBreaker, CorsOrigin, Dataplane, ExternalPort, ExternalService, GatewayListener, GatewayTls,
  HeaderMatch, HttpMethod, IngressGateway, JwtAuth, Mesh, MeshDashboard, MeshService, PathMatch, PrometheusScraping, RetryOn,
  RoutingApi, Telemetry, TelemetryProvider,
} from '../../src';

/** Where the rendered YAML of the shop lives, for Argo CD. */
export const REPO_URL = 'https://github.com/example/shop-gitops.git';
/** The identity provider whose tokens the shop's API accepts. */
export const ISSUER = 'https://id.example.com';

/** Properties of the shop. */
export interface ShopProps {
  /** The dataplane of both namespaces. @default Dataplane.sidecar() */
  readonly dataplane?: Dataplane;
}

/**
 * storefront: `web` (the pages, `/`) and `api` (the JSON API, `/api`, JWT required) behind an HTTPS ingress gateway;
 * backend: `catalog` (v1 with a 10% canary of v2, and v2 for testers), `cart` (retries and a timeout) and `payments`
 * (a circuit breaker, and egress to the payment provider). Each service accepts only the callers declared here.
 */
export class ShopApp {
  public readonly storefront: Chart;
  public readonly backend: Chart;
  public readonly gitops: Chart;
  public readonly storefrontMesh: Mesh;
  public readonly backendMesh: Mesh;
  public readonly web: MeshService;
  public readonly api: MeshService;
  public readonly catalog: MeshService;
  public readonly cart: MeshService;
  public readonly payments: MeshService;
  public readonly gateway: IngressGateway;
  public readonly provider: ExternalService;
  public readonly jwt: JwtAuth;
  public readonly application: ArgoCdApplication;

  public constructor(scope: Construct, props: ShopProps = {}) {
    this.storefront = new Chart(scope, 'storefront', { namespace: 'storefront' });
    this.backend = new Chart(scope, 'backend', { namespace: 'backend' });
    this.storefrontMesh = new Mesh(this.storefront, 'mesh', { namespaceName: 'storefront', dataplane: props.dataplane });
    this.backendMesh = new Mesh(this.backend, 'mesh', { namespaceName: 'backend', dataplane: props.dataplane });

    // ---- services ------------------------------------------------------------------------------
    this.web = new MeshService(this.storefront, 'web', { mesh: this.storefrontMesh, image: 'registry.example.com/shop/web:1.4.0', port: 8080 });
    this.api = new MeshService(this.storefront, 'api', { mesh: this.storefrontMesh, image: 'registry.example.com/shop/api:2.1.0', port: 8080 });
    this.catalog = new MeshService(this.backend, 'catalog', { mesh: this.backendMesh, image: 'registry.example.com/shop/catalog:1.0.0', port: 9090 });
    const catalogV2 = this.catalog.addVersion('v2', { image: 'registry.example.com/shop/catalog:2.0.0' });
    this.cart = new MeshService(this.backend, 'cart', { mesh: this.backendMesh, image: 'registry.example.com/shop/cart:3.2.0', port: 9090 });
    this.payments = new MeshService(this.backend, 'payments', { mesh: this.backendMesh, image: 'registry.example.com/shop/payments:1.7.0', port: 9090 });

    // ---- ingress: HTTPS for / (web) and /api (api); plain HTTP is redirected ----------------------
    // An Istio Gateway with its own Envoy on both dataplanes: the partner sites' CORS origin is a regex, which the
    // Gateway API's CORS filter (wildcards only) cannot express.
    this.gateway = new IngressGateway(this.storefront, 'gateway', {
      mesh: this.storefrontMesh,
      routingApi: RoutingApi.ISTIO,
      hosts: ['shop.example.com'],
      listeners: [GatewayListener.https({ tls: GatewayTls.simple('shop-example-com-tls') }), GatewayListener.http({ httpsRedirect: true })],
    });
    this.web.exposeViaGateway(this.gateway, { paths: [PathMatch.prefix('/')] });
    // The API is also called from the shop's partner sites, in the browser: CORS for them, answered by the gateway.
    this.api.exposeViaGateway(this.gateway, {
      paths: [PathMatch.prefix('/api')],
      timeout: Duration.seconds(10),
      corsPolicy: {
        allowOrigins: [CorsOrigin.exact('https://partners.example.com'), CorsOrigin.regex('https://[a-z0-9-]+\\.partners\\.example\\.com')],
        allowMethods: [HttpMethod.GET, HttpMethod.POST],
        allowHeaders: ['authorization', 'content-type'],
        maxAge: Duration.hours(1),
        allowCredentials: true,
      },
    });
    // Each gateway pod admits at most 200 requests a second (bursts of 400); the rest are answered 429.
    this.gateway.addRateLimit({ requests: 200, per: Duration.seconds(1), burst: 400 });

    // ---- traffic -------------------------------------------------------------------------------
    // catalog: testers (header x-shop-tester: true) on v2; everyone else on v1 with a 10% canary of v2.
    this.catalog.routeTraffic({ matches: [{ headers: [HeaderMatch.exact('x-shop-tester', 'true')] }], destinations: [{ version: catalogV2 }] });
    this.catalog.routeTraffic({ destinations: [{ version: this.catalog.defaultVersion, weight: 90 }, { version: catalogV2, weight: 10 }] });
    // cart: a 3 s budget, retried only where the request cannot have reached cart (it admits POST: adding an item
    // twice is what retrying on gateway errors could do, CM215).
    // (The Gateway API routes of ambient mode have no retry policy in v1.6.1: there, Istio's default retries apply.)
    this.cart.routeTraffic({
      timeout: Duration.seconds(3),
      ...(this.backendMesh.routingApi === RoutingApi.ISTIO && {
        retry: { attempts: 2, perTryTimeout: Duration.seconds(1), retryOn: [RetryOn.CONNECT_FAILURE, RetryOn.REFUSED_STREAM] },
      }),
    });
    // payments: shed load and eject failing pods.
    new CircuitBreaker(this.backend, 'payments-breaker', {
      service: this.payments,
      connectionPool: { maxConnections: 50, maxPendingRequests: 20, maxRequestsPerConnection: 10 },
      outlierDetection: { consecutive5xxErrors: 3, interval: Duration.seconds(10), baseEjectionTime: Duration.seconds(30), maxEjectionPercent: 50 },
    });
    // The payment provider, outside the mesh: only payments may call it (REGISTRY_ONLY egress).
    this.provider = new ExternalService(this.backend, 'payment-provider', {
      mesh: this.backendMesh,
      hosts: ['api.payments.example.net'],
      ports: [ExternalPort.https()],
    });
    this.payments.callsTo(this.provider);

    // ---- security: least privilege --------------------------------------------------------------
    // STRICT mTLS and default-deny are the Mesh defaults; each service admits exactly what is declared.
    this.web.allowFrom(this.gateway, { methods: [HttpMethod.GET, HttpMethod.HEAD] });
    this.api.allowFrom(this.gateway, { methods: [HttpMethod.GET, HttpMethod.POST], paths: ['/api', '/api/*'] });
    this.api.allowFrom(this.web, { methods: [HttpMethod.GET], paths: ['/api', '/api/*'] });
    this.catalog.allowFrom(this.api, { methods: [HttpMethod.GET] });
    this.cart.allowFrom(this.api, { methods: [HttpMethod.GET, HttpMethod.POST, HttpMethod.DELETE] });
    this.payments.allowFrom(this.api, { methods: [HttpMethod.POST], paths: ['/payments'] });
    // End users of the API carry a token of the shop's identity provider, validated by api's proxy.
    this.jwt = new JwtAuth(this.storefront, 'jwt', {
      mesh: this.storefrontMesh,
      target: this.api,
      issuers: [{ issuer: ISSUER, jwksUri: `${ISSUER}/.well-known/jwks.json`, audiences: ['shop'] }],
    });
    this.jwt.protect(this.api, { paths: ['/api', '/api/*'] });

    // ---- observability ---------------------------------------------------------------------------
    for (const mesh of [this.storefrontMesh, this.backendMesh]) {
      const jaeger = TelemetryProvider.zipkin({ name: 'jaeger', service: 'zipkin.istio-system.svc.cluster.local', port: 9411 });
      mesh.addTelemetryProvider(jaeger);
      const chart = Chart.of(mesh);
      new Telemetry(chart, 'telemetry', { mesh, tracing: { providers: [jaeger], randomSamplingPercent: 5 } });
      new PrometheusScraping(chart, 'scraping', { mesh });
      new MeshDashboard(chart, 'dashboards', { mesh, perService: true });
    }
    this.api.addObjective({ availabilityPercent: 99.9, latency: Duration.millis(300), latencyPercentile: 95 });
    this.payments.addObjective({ availabilityPercent: 99.95, latency: Duration.millis(800) });

    // ---- delivery: Argo CD applies the rendered YAML (CI renders dist/ into manifests/shop) -------
    this.gitops = new Chart(scope, 'shop-gitops');
    const project = new ArgoCdProject(this.gitops, 'project', {
      description: 'The shop, written with cdk8s-mesh',
      sourceRepos: [REPO_URL],
      destinations: [{ namespaceName: 'storefront' }, { namespaceName: 'backend' }],
    });
    this.application = new ArgoCdApplication(this.gitops, 'shop', {
      project,
      source: ApplicationSource.directory({ repoUrl: REPO_URL, path: 'manifests/shop', targetRevision: 'main' }),
      destination: { namespaceName: 'storefront' },
    });
  }
}
