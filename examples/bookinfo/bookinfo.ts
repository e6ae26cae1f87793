// Istio's bookinfo sample application as a cdk8s-mesh chart.
// (Inside this repository the library is imported from its sources; in your own app write
// `from 'cdk8s-mesh'`.)
import { Chart, ChartProps, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import {
  CanaryStep, Dataplane, ExternalPort, ExternalService, Fault, GatewayListener, HeaderMatch, HttpMethod, IngressGateway, JwtAuth, LoadBalancer, Mesh,
  MeshDashboard, MeshService, MeshServiceOptions, PathMatch, PrometheusScraping, RetryOn, RoutingApi, Telemetry, TelemetryProvider,
} from '../../src';

/** Properties of the bookinfo chart. */
export interface BookinfoProps extends ChartProps {
  /** @default 'bookinfo' */
  readonly namespaceName?: string;
  /** @default Dataplane.sidecar() */
  readonly dataplane?: Dataplane;
  /** @default - the Mesh's default for the dataplane */
  readonly routingApi?: RoutingApi;
  /**
   * Deliver reviews v3 with Argo Rollouts (what the Argo CD variant, examples/argocd, deploys): everyone but the testers
   * goes to v3, whose new revisions a canary rolls out step by step, gated by reviews' objectives.
   * @default false - the catch-all route splits v1 90% / v3 10% by hand
   */
  readonly progressiveDelivery?: boolean;
}

/**
 * productpage → details, productpage → reviews (v1, v2, v3) → ratings, all on port 9080,
 * each with its own service account `bookinfo-<service>` as in Istio's sample.
 */
export class BookinfoChart extends Chart {
  public readonly mesh: Mesh;
  public readonly productpage: MeshService;
  public readonly details: MeshService;
  public readonly reviews: MeshService;
  public readonly ratings: MeshService;
  /** The ingress gateway in front of productpage (traffic section). */
  public readonly gateway: IngressGateway;
  /** End-user JWT validation on productpage (security section). */
  public readonly jwt: JwtAuth;

  public constructor(scope: Construct, id: string, props: BookinfoProps = {}) {
    const namespaceName = props.namespaceName ?? 'bookinfo';
    super(scope, id, { ...props, namespace: namespaceName });

    this.mesh = new Mesh(this, 'mesh', { namespaceName, dataplane: props.dataplane, routingApi: props.routingApi });
    const service = (name: string, options: Partial<MeshServiceOptions> = {}) =>
      new MeshService(this, name, {
        mesh: this.mesh,
        name,
        image: image(name, 'v1'),
        port: 9080,
        replicas: 1,
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        serviceAccountName: `bookinfo-${name}`,
        ...options,
      });

    this.details = service('details');
    this.ratings = service('ratings');
    this.reviews = service('reviews', {
      env: { LOG_DIR: '/tmp/logs' },
      scratchDirectories: ['/tmp', '/opt/ibm/wlp/output'],
    });
    this.reviews.addVersion('v2', { image: image('reviews', 'v2') });
    this.reviews.addVersion('v3', { image: image('reviews', 'v3') });
    this.productpage = service('productpage', { scratchDirectories: ['/tmp'] });

    // ---- traffic (issue #3) ---------------------------------------------------------------
    // Istio's bookinfo-gateway, with its own Envoy in this namespace: the five productpage
    // paths of samples/bookinfo/networking/bookinfo-gateway.yaml. Exposing productpage also
    // lets the gateway call it on those paths (the namespace is default-deny).
    this.gateway = new IngressGateway(this, 'gateway', {
      mesh: this.mesh,
      name: 'bookinfo-gateway',
      virtualServiceName: 'bookinfo',
      listeners: [GatewayListener.http({ port: 8080, name: 'http' })],
      autoscaling: { minReplicas: 2, maxReplicas: 5 },
      minAvailable: 1,
    });
    // Istio's two bookinfo gateways differ here: networking/bookinfo-gateway.yaml matches string prefixes (a
    // VirtualService), gateway-api/bookinfo-gateway.yaml whole path elements (PathPrefix, the Gateway API's prefix).
    const prefix = this.mesh.routingApi === RoutingApi.ISTIO ? PathMatch.prefix : PathMatch.pathPrefix;
    this.productpage.exposeViaGateway(this.gateway, {
      paths: [PathMatch.exact('/productpage'), prefix('/static'), PathMatch.exact('/login'), PathMatch.exact('/logout'), prefix('/api/v1/products')],
      timeout: Duration.seconds(15),
    });

    // Two things the Gateway API routes (the default in ambient mode) cannot express in v1.6.1: a
    // retry policy (HTTPRoute `retry` reached the standard channel in v1.7) and fault injection.
    // Declared where the routes are VirtualServices; refused with CM246 elsewhere, never dropped.
    const virtualServices = this.mesh.routingApi === RoutingApi.ISTIO;

    // reviews: testers (end-user jason) see v2; everyone else is on v1 with a 10% canary of v3.
    const [reviewsV1, reviewsV2, reviewsV3] = this.reviews.versions;
    this.reviews.routeTraffic({
      matches: [{ headers: [HeaderMatch.exact('end-user', 'jason')] }],
      destinations: [{ version: reviewsV2 }],
    });
    this.reviews.routeTraffic({
      destinations: props.progressiveDelivery ? [{ version: reviewsV3 }] : [{ version: reviewsV1, weight: 90 }, { version: reviewsV3, weight: 10 }],
      timeout: Duration.seconds(2),
      ...(virtualServices && {
        retry: { attempts: 2, perTryTimeout: Duration.millis(500), retryOn: [RetryOn.CONNECT_FAILURE, RetryOn.REFUSED_STREAM, RetryOn.GATEWAY_ERROR] },
      }),
    });

    // Argo Rollouts moves v3's route from its stable to its canary pods: 10%, analysis, 50%, analysis, then all
    // (docs/gitops.md, "Progressive delivery").
    if (props.progressiveDelivery) {
      this.reviews.deliverProgressively(reviewsV3, {
        steps: [CanaryStep.weight(10), CanaryStep.pause(Duration.minutes(2)), CanaryStep.analysis(), CanaryStep.weight(50), CanaryStep.analysis()],
      });
    }

    // ratings: fail fast and eject failing pods; stay in the caller's region unless it fails.
    this.ratings.addCircuitBreaker({
      connectionPool: { maxConnections: 100, maxPendingRequests: 50, maxRequestsPerConnection: 10 },
      outlierDetection: { consecutive5xxErrors: 5, interval: Duration.seconds(10), baseEjectionTime: Duration.seconds(30), maxEjectionPercent: 50 },
    });
    this.ratings.addLoadBalancing({
      loadBalancer: LoadBalancer.consistentHashByHeader('end-user'),
      localityFailover: [{ sourceRegion: 'us-east1', targetRegion: 'us-central1' }],
    });
    // Chaos testing of reviews' timeout handling (Istio's fault-injection task): a 7s delay,
    // only for requests carrying the test header.
    if (virtualServices) {
      this.ratings.routeTraffic({
        matches: [{ headers: [HeaderMatch.exact('x-bookinfo-chaos', 'ratings-delay')] }],
        destinations: [{ version: this.ratings.defaultVersion }],
        fault: Fault.delay(Duration.seconds(7), 100),
      });
    }

    // details v2 fetches book data from Google's API (egress-rule-google-apis.yaml): the app
    // calls port 80 and the sidecar originates TLS, so the call can be timed out and retried.
    const googleapis = new ExternalService(this, 'googleapis', {
      mesh: this.mesh,
      hosts: ['www.googleapis.com'],
      ports: [ExternalPort.http(80), ExternalPort.https(443)],
      tlsOrigination: { port: 80 },
      timeout: Duration.seconds(5),
    });
    this.details.callsTo(googleapis);
    // ---- end of traffic -------------------------------------------------------------------

    // ---- security (issue #4) -------------------------------------------------------------
    // The Mesh defaults give STRICT mTLS and a default-deny namespace (`allow-nothing`): each
    // service accepts only the callers declared here, identified by their ServiceAccounts
    // (the gateway's permission comes with exposeViaGateway above).
    this.details.allowFrom(this.productpage, { methods: [HttpMethod.GET] });
    this.reviews.allowFrom(this.productpage, { methods: [HttpMethod.GET] });
    this.ratings.allowFrom(this.reviews, { methods: [HttpMethod.GET] });
    // productpage's JSON API requires a token from Istio's testing issuer; its pages do not.
    this.jwt = new JwtAuth(this, 'jwt', {
      mesh: this.mesh,
      target: this.productpage,
      issuers: [{
        issuer: 'testing@secure.istio.io',
        jwksUri: 'https://raw.githubusercontent.com/istio/istio/release-1.30/security/tools/jwt/samples/jwks.json',
      }],
    });
    this.jwt.protect(this.productpage, { paths: ['/api/*'] });
    // ---- end of security ------------------------------------------------------------------

    // ---- observability (issue #5) ---------------------------------------------------------
    // Traces go to the Zipkin API of Istio's Jaeger addon (samples/addons/jaeger.yaml, Service
    // `zipkin` in istio-system). Istio ignores a provider its MeshConfig lacks, so install Istio
    // with `this.mesh.meshConfigValues()` (Helm values for istiod).
    const jaeger = TelemetryProvider.zipkin({ name: 'jaeger', service: 'zipkin.istio-system.svc.cluster.local', port: 9411 });
    this.mesh.addTelemetryProvider(jaeger);
    // The namespace's one selector-less Telemetry: trace 10% of requests, log failed ones.
    new Telemetry(this, 'telemetry', {
      mesh: this.mesh,
      tracing: { providers: [jaeger], randomSamplingPercent: 10 },
      accessLogging: { providers: [TelemetryProvider.ENVOY], filter: 'response.code >= 400' },
    });
    // Envoy metrics of every proxy through prometheus-operator (Istio's envoy-stats-monitor).
    new PrometheusScraping(this, 'scraping', { mesh: this.mesh });
    // Objectives become PrometheusRule alerts; the dashboards draw them as thresholds.
    this.productpage.addObjective({ availabilityPercent: 99.5, latency: Duration.millis(500) });
    this.reviews.addObjective({ availabilityPercent: 99.9, latency: Duration.millis(300), latencyPercentile: 95 });
    new MeshDashboard(this, 'dashboards', { mesh: this.mesh, perService: true });
    // ---- end of observability -------------------------------------------------------------
  }
}

function image(service: string, version: string): string {
  return `registry.istio.io/release/examples-bookinfo-${service}-${version}:1.20.3`;
}
