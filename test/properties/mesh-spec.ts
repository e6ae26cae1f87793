import { App, Chart, Duration } from 'cdk8s';
import * as fc from 'fast-check';
import {
  CircuitBreaker, Dataplane, ExternalPort, ExternalService, Fault, GatewayListener, HeaderMatch, HttpMethod, IngressGateway, JwtAuth, LoadBalancer,
  LoadBalancerAlgorithm, Mesh, MeshService, MtlsMode, MtlsPolicy, PathMatch, Protocol, RetryOn, Telemetry, TelemetryProvider,
} from '../../src';

/**
 * Random valid meshes as plain data (so fast-check can shrink and print them), and the program
 * that builds one with the library. Every spec is valid by construction: unique DNS names,
 * weights summing to 100, retry budgets within the timeout, durations in whole milliseconds.
 */

export interface RouteSpec {
  readonly kind: 'header' | 'path' | 'method';
  readonly value: string;
  readonly version: number;
  /** Index of the service whose version is the destination (only mutations set it: invalid). */
  readonly versionOf?: number;
  readonly timeoutMs?: number;
  readonly retry?: { attempts: number; perTryMs?: number };
}

export interface ServiceSpec {
  readonly name: string;
  readonly port: number;
  readonly protocol: 'http' | 'grpc' | 'tcp';
  readonly versions: number;
  /** Weights of the catch-all split over the versions (sum 100), or none. */
  readonly split?: number[];
  readonly route?: RouteSpec;
  readonly fault?: { delayMs?: number; abortStatus?: number; percent: number };
  readonly breaker?: { maxConnections?: number; consecutive5xxErrors?: number; ejectionPercent?: number; version?: number };
  readonly loadBalancer?: 'round-robin' | 'least-request' | 'hash-header' | 'hash-cookie';
  readonly mtls?: 'STRICT' | 'PERMISSIVE' | 'DISABLE';
  readonly exposed: boolean;
}

export interface EdgeSpec {
  readonly caller: number;
  readonly callee: number;
  readonly methods?: HttpMethod[];
  /** Authorization paths (`/api/*` a prefix, else exact), for HTTP callees. */
  readonly paths?: string[];
}

export interface MeshSpec {
  readonly services: ServiceSpec[];
  readonly edges: EdgeSpec[];
  readonly externals: { hosts: string[]; http: boolean; caller?: number; timeoutMs?: number }[];
  readonly jwt?: { protect: number[] };
  readonly samplingPercent?: number;
  readonly gateway: boolean;
}

const NAME_WORDS = ['cart', 'catalog', 'checkout', 'payments', 'users', 'search', 'reviews', 'ratings', 'details', 'orders',
  'shipping', 'stock', 'email', 'auth', 'profile', 'media', 'pricing', 'promo', 'billing', 'ledger'];

const dnsName = fc.tuple(fc.constantFrom(...NAME_WORDS), fc.integer({ min: 0, max: 99 })).map(([w, n]) => (n === 0 ? w : `${w}-${n}`));

/** Whole-number weights summing to 100 for `n` destinations. */
const weights = (n: number) => fc.array(fc.integer({ min: 0, max: 100 }), { minLength: n - 1, maxLength: n - 1 })
  .map((cuts) => {
    const sorted = [0, ...cuts.sort((a, b) => a - b), 100];
    return sorted.slice(1).map((v, i) => v - sorted[i]);
  })
  .filter((w) => w.some((x) => x > 0));

const routeSpec = (versions: number): fc.Arbitrary<RouteSpec> => fc.record({
  kind: fc.constantFrom('header', 'path', 'method'),
  value: fc.constantFrom('alpha', 'beta', 'canary', 'v2'),
  version: fc.integer({ min: 0, max: versions - 1 }),
  timeoutMs: fc.option(fc.integer({ min: 1, max: 30_000 }), { nil: undefined }),
  retry: fc.option(fc.record({
    attempts: fc.integer({ min: 0, max: 5 }),
    perTryMs: fc.option(fc.integer({ min: 1, max: 5_000 }), { nil: undefined }),
  }), { nil: undefined }),
}, { requiredKeys: ['kind', 'value', 'version'] }).map((r) => {
  // Keep the budget within the timeout, and no per-try timeout without retries (both are
  // library rules, tested on their own).
  if (!r.retry) return r;
  const perTryMs = r.retry.attempts === 0 ? undefined : r.retry.perTryMs;
  const timeoutMs = perTryMs && r.timeoutMs !== undefined ? Math.max(r.timeoutMs, perTryMs * (r.retry.attempts + 1)) : r.timeoutMs;
  return { ...r, timeoutMs, retry: { attempts: r.retry.attempts, perTryMs } };
});

const serviceSpec = (name: string): fc.Arbitrary<ServiceSpec> => fc.integer({ min: 1, max: 4 }).chain((versions) => fc.record({
  name: fc.constant(name),
  port: fc.integer({ min: 1, max: 65535 }),
  protocol: fc.constantFrom<ServiceSpec['protocol']>('http', 'http', 'grpc', 'tcp'),
  versions: fc.constant(versions),
  split: versions > 1 ? fc.option(weights(versions), { nil: undefined }) : fc.constant(undefined),
  route: fc.option(routeSpec(versions), { nil: undefined }),
  fault: fc.option(fc.record({
    delayMs: fc.option(fc.integer({ min: 1, max: 10_000 }), { nil: undefined }),
    abortStatus: fc.option(fc.integer({ min: 200, max: 599 }), { nil: undefined }),
    percent: fc.integer({ min: 0, max: 100 }),
  }).filter((f) => f.delayMs !== undefined || f.abortStatus !== undefined), { nil: undefined }),
  breaker: fc.option(fc.record({
    maxConnections: fc.option(fc.integer({ min: 1, max: 10_000 }), { nil: undefined }),
    consecutive5xxErrors: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
    ejectionPercent: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
    version: fc.option(fc.integer({ min: 0, max: versions - 1 }), { nil: undefined }),
  }).filter((b) => b.maxConnections !== undefined || b.consecutive5xxErrors !== undefined || b.ejectionPercent !== undefined), { nil: undefined }),
  loadBalancer: fc.option(fc.constantFrom<NonNullable<ServiceSpec['loadBalancer']>>('round-robin', 'least-request', 'hash-header', 'hash-cookie'), { nil: undefined }),
  mtls: fc.option(fc.constantFrom<NonNullable<ServiceSpec['mtls']>>('STRICT', 'PERMISSIVE', 'DISABLE'), { nil: undefined }),
  exposed: fc.boolean(),
}));

/** A random valid mesh of 1–`maxServices` services. */
export function meshSpec(maxServices = 30): fc.Arbitrary<MeshSpec> {
  return fc.uniqueArray(dnsName, { minLength: 1, maxLength: maxServices })
    .chain((names) => fc.tuple(...names.map(serviceSpec)))
    .chain((services) => {
      const n = services.length;
      // Callers are identified by their mTLS certificate, so a service that accepts plaintext
      // only (mTLS DISABLE) can be neither a callee nor exposed (CM331, tested on its own).
      const plaintext = (i: number) => services[i].mtls === 'DISABLE';
      // Every possible call, then a random selection of at most 3 per service (a filter on
      // random pairs would loop forever when no pair qualifies).
      const possible = [...Array(n).keys()].flatMap((caller) => [...Array(n).keys()]
        .filter((callee) => callee !== caller && !plaintext(callee)).map((callee) => ({ caller, callee })));
      const methods = fc.option(fc.subarray([HttpMethod.GET, HttpMethod.POST], { minLength: 1 }), { nil: undefined });
      const paths = fc.option(fc.constantFrom<string[]>(['/api/*'], ['/v1/orders'], ['/healthz', '/items/*']), { nil: undefined });
      const edges = fc.subarray(possible, { maxLength: Math.min(3 * n, possible.length) })
        .chain((chosen) => fc.tuple(...chosen.map((e) => fc.tuple(methods, paths).map(([m, p]): EdgeSpec => ({ ...e, methods: m, paths: p })))));
      return fc.record({
        services: fc.constant(services.map((s, i) => (plaintext(i) ? { ...s, exposed: false } : s))),
        edges,
        externals: fc.uniqueArray(fc.record({
          hosts: fc.uniqueArray(fc.constantFrom('api.stripe.com', 'api.github.com', 'www.googleapis.com', 'hooks.slack.com'), { minLength: 1, maxLength: 1 }),
          http: fc.boolean(),
          caller: fc.option(fc.integer({ min: 0, max: n - 1 }), { nil: undefined }),
          timeoutMs: fc.option(fc.integer({ min: 1, max: 60_000 }), { nil: undefined }),
        }), { maxLength: 3, selector: (e) => e.hosts[0] }),
        jwt: fc.option(fc.record({
          protect: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { minLength: 1, maxLength: Math.min(3, n) }),
        }), { nil: undefined }),
        samplingPercent: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
        gateway: fc.boolean(),
      });
    });
}

/** The issuer of the JWTs that protected services require. */
export const JWT_ISSUER = 'https://id.example.com';

/** What a built mesh declared, for the properties to check the output against. */
export interface BuiltMesh {
  readonly app: App;
  readonly chart: Chart;
  readonly services: MeshService[];
}

/** How {@link buildMesh} builds the mesh, besides the spec. */
export interface BuildOptions {
  /** @default - the Mesh's default (sidecars) */
  readonly dataplane?: Dataplane;
}

/** Builds the mesh `spec` describes, in namespace `shop`, with the library. */
export function buildMesh(spec: MeshSpec, options: BuildOptions = {}): BuiltMesh {
  const all: MeshService[] = [];
  const app = new App({ outdir: '/tmp/cdk8s-mesh-properties' });
  const chart = new Chart(app, 'shop', { namespace: 'shop' });
  const mesh = new Mesh(chart, 'mesh', { dataplane: options.dataplane });
  const services = spec.services.map((s, i) => {
    const protocol = s.protocol === 'tcp' ? Protocol.TCP : s.protocol === 'grpc' ? Protocol.GRPC : Protocol.HTTP;
    // The construct id is not the name, so a duplicate name reaches the library's own check.
    const service = new MeshService(chart, `service-${i}`, { mesh, name: s.name, image: `example/${s.name}:1`, port: s.port, protocol, replicas: 1 });
    for (let v = 2; v <= s.versions; v++) service.addVersion(`v${v}`, { image: `example/${s.name}:${v}` });
    all.push(service);
    return service;
  });
  spec.services.forEach((s, i) => configureService(mesh, services[i], s, all));

  for (const edge of spec.edges) {
    const http = spec.services[edge.callee].protocol !== 'tcp';
    services[edge.callee].allowFrom(services[edge.caller], http ? { methods: edge.methods, paths: edge.paths } : {});
  }
  spec.externals.forEach((e, i) => {
    const external = new ExternalService(chart, `external-${i}`, {
      mesh,
      hosts: e.hosts,
      ports: e.http ? [ExternalPort.http(80), ExternalPort.https(443)] : [ExternalPort.https(443)],
      timeout: e.http && e.timeoutMs !== undefined ? Duration.millis(e.timeoutMs) : undefined,
    });
    if (e.caller !== undefined) services[e.caller].callsTo(external);
  });
  const protectedServices = (spec.jwt?.protect ?? []).filter((i) => spec.services[i].protocol !== 'tcp');
  if (protectedServices.length) {
    const jwt = new JwtAuth(chart, 'jwt', { mesh, issuers: [{ issuer: JWT_ISSUER, jwksUri: 'https://id.example.com/.well-known/jwks.json' }] });
    for (const i of protectedServices) jwt.protect(services[i]);
  }
  if (spec.samplingPercent !== undefined) {
    const zipkin = TelemetryProvider.zipkin({ name: 'zipkin', service: 'zipkin.istio-system.svc.cluster.local', port: 9411 });
    mesh.addTelemetryProvider(zipkin);
    new Telemetry(chart, 'telemetry', { mesh, tracing: { providers: [zipkin], randomSamplingPercent: spec.samplingPercent } });
  }
  const exposed = services.filter((_s, i) => spec.services[i].exposed && spec.services[i].protocol !== 'tcp');
  if (spec.gateway && exposed.length) {
    const gateway = new IngressGateway(chart, 'gateway', { mesh, hosts: ['shop.example.com'], listeners: [GatewayListener.http()] });
    // Whole path elements: what both an Istio Gateway's VirtualService and a Gateway API HTTPRoute express.
    exposed.forEach((s, i) => s.exposeViaGateway(gateway, { paths: [PathMatch.pathPrefix(`/${s.name}`)], timeout: Duration.seconds(i + 1) }));
  }
  return { app, chart, services };
}

function configureService(mesh: Mesh, service: MeshService, s: ServiceSpec, all: MeshService[]): void {
  const versions = service.versions;
  if (s.split) service.routeTraffic({ destinations: s.split.map((weight, v) => ({ version: versions[v], weight })) });
  const http = s.protocol !== 'tcp';
  if (http && s.route) {
    const r = s.route;
    const match = r.kind === 'header' ? { headers: [HeaderMatch.exact('x-track', r.value)] }
      : r.kind === 'path' ? { path: PathMatch.prefix(`/${r.value}`) } : { method: HttpMethod.GET, headers: [HeaderMatch.present(`x-${r.value}`)] };
    service.routeTraffic({
      matches: [match],
      destinations: [{ version: (r.versionOf === undefined ? service : all[r.versionOf]).versions[r.version] ?? versions[0] }],
      timeout: r.timeoutMs !== undefined ? Duration.millis(r.timeoutMs) : undefined,
      retry: r.retry && {
        attempts: r.retry.attempts,
        perTryTimeout: r.retry.perTryMs !== undefined ? Duration.millis(r.retry.perTryMs) : undefined,
        retryOn: r.retry.attempts ? [RetryOn.CONNECT_FAILURE, RetryOn.REFUSED_STREAM] : undefined,
      },
    });
  }
  if (http && s.fault) {
    const delay = s.fault.delayMs !== undefined ? Fault.delay(Duration.millis(s.fault.delayMs), s.fault.percent) : undefined;
    const abort = s.fault.abortStatus !== undefined ? Fault.abort(s.fault.abortStatus, s.fault.percent) : undefined;
    service.routeTraffic({
      matches: [{ headers: [HeaderMatch.exact('x-chaos', 'on')] }],
      destinations: [{ version: versions[0] }],
      fault: delay && abort ? Fault.combine(delay, abort) : (delay ?? abort)!,
    });
  }
  if (s.breaker) {
    new CircuitBreaker(service, 'breaker', {
      service,
      version: s.breaker.version !== undefined ? versions[s.breaker.version] : undefined,
      connectionPool: s.breaker.maxConnections !== undefined ? { maxConnections: s.breaker.maxConnections } : undefined,
      outlierDetection: s.breaker.consecutive5xxErrors !== undefined || s.breaker.ejectionPercent !== undefined
        ? { consecutive5xxErrors: s.breaker.consecutive5xxErrors, maxEjectionPercent: s.breaker.ejectionPercent } : undefined,
    });
  }
  if (s.loadBalancer) {
    const loadBalancer = s.loadBalancer === 'round-robin' ? LoadBalancer.of(LoadBalancerAlgorithm.ROUND_ROBIN)
      : s.loadBalancer === 'least-request' ? LoadBalancer.of(LoadBalancerAlgorithm.LEAST_REQUEST)
        : s.loadBalancer === 'hash-header' ? LoadBalancer.consistentHashByHeader('x-user') : LoadBalancer.consistentHashByCookie('session', { ttl: Duration.hours(1) });
    service.addLoadBalancing({ loadBalancer });
  }
  if (s.mtls) new MtlsPolicy(service, 'mtls', { mesh, target: service, mode: s.mtls as MtlsMode });
}
