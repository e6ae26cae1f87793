// Mesh routes as Kubernetes Gateway API objects (RoutingApi.GATEWAY_API, the default in ambient mode). Sources:
// Istio's samples/bookinfo/gateway-api/route-*.yaml and samples/bookinfo/platform/kube/bookinfo-versions.yaml (read at
// test time), the HTTPRoute CRD of Gateway API v1.6.1 (../shared/crds/gateway-api), istio.io ambient "Use Layer 7
// features" (a waypoint applies HTTPRoutes attached to a Service: parentRefs kind Service).
import { Chart, Duration, Testing } from 'cdk8s';
import {
  CorsOrigin, Dataplane, Fault, HeaderMatch, HttpMethod, Mesh, MeshService, Mirror, PathMatch, Protocol, RetryOn, RoutingApi, ServiceVersion,
} from '../../src';
import { MeshSimulator } from '../../src/analysis';
import { Manifest, loadSample, ofKind, one, sampleTest } from '../support/manifests';

interface Bookinfo {
  chart: Chart;
  mesh: Mesh;
  reviews: MeshService;
  v: { [name: string]: ServiceVersion };
}

function bookinfo(props: { dataplane?: Dataplane; routingApi?: RoutingApi } = { dataplane: Dataplane.ambient({ waypoint: true }) }): Bookinfo {
  const chart = new Chart(Testing.app(), 'bookinfo', { namespace: 'bookinfo' });
  const mesh = new Mesh(chart, 'mesh', props);
  const svc = (name: string) => new MeshService(chart, name, { mesh, image: `${name}:1`, port: 9080 });
  const productpage = svc('productpage');
  const reviews = svc('reviews');
  reviews.allowFrom(productpage);
  const v = { v1: reviews.defaultVersion, v2: reviews.addVersion('v2', { image: 'reviews:2' }), v3: reviews.addVersion('v3', { image: 'reviews:3' }) };
  productpage.callsTo(reviews);
  return { chart, mesh, reviews, v };
}

const synth = (b: Bookinfo) => Testing.synth(b.chart) as Manifest[];

describe('RoutingApi', () => {
  test('ambient meshes route with the Gateway API by default, sidecar meshes with VirtualServices; both on request', () => {
    expect(bookinfo().mesh.routingApi).toBe(RoutingApi.GATEWAY_API);
    expect(bookinfo({ dataplane: Dataplane.sidecar() }).mesh.routingApi).toBe(RoutingApi.ISTIO);
    expect(bookinfo({ dataplane: Dataplane.sidecar(), routingApi: RoutingApi.GATEWAY_API }).mesh.routingApi).toBe(RoutingApi.GATEWAY_API);
    const ambientIstio = bookinfo({ dataplane: Dataplane.ambient({ waypoint: true }), routingApi: RoutingApi.ISTIO });
    expect(ofKind(synth(ambientIstio), 'HTTPRoute')).toHaveLength(0);
    expect(ambientIstio.reviews.virtualService).toBeDefined();
  });

  test('with the Gateway API: no VirtualService, the DestinationRule stays (its traffic policies apply at the waypoint)', () => {
    const b = bookinfo();
    const out = synth(b);
    expect(ofKind(out, 'VirtualService')).toHaveLength(0);
    expect(b.reviews.virtualService).toBeUndefined();
    expect(one(out, 'DestinationRule', 'reviews').spec.host).toBe('reviews.bookinfo.svc.cluster.local');
    // A service with one version and no route needs no HTTPRoute: its Service's pods are all of that version.
    expect(ofKind(out, 'HTTPRoute').map((r) => r.metadata.name)).toEqual(['reviews']);
  });
});

describe("Istio's bookinfo Gateway API samples, reproduced", () => {
  sampleTest.each([
    ['route-reviews-v1.yaml', (b: Bookinfo) => [{ version: b.v.v1 }]],
    ['route-reviews-90-10.yaml', (b: Bookinfo) => [{ version: b.v.v1, weight: 90 }, { version: b.v.v2, weight: 10 }]],
    ['route-reviews-50-v3.yaml', (b: Bookinfo) => [{ version: b.v.v1, weight: 50 }, { version: b.v.v3, weight: 50 }]],
    ['route-reviews-v3.yaml', (b: Bookinfo) => [{ version: b.v.v3 }]],
  ])('%s', (file, destinations) => {
    const b = bookinfo();
    b.reviews.routeTraffic({ destinations: destinations(b) });
    const out = synth(b);
    const [sample] = loadSample(`bookinfo/gateway-api/${file}`);
    const ours = one(out, 'HTTPRoute', 'reviews');
    expect(ours.apiVersion).toBe(sample.apiVersion);
    expect(ours.spec).toEqual(sample.spec);
    // Each backend is a Service of bookinfo-versions.yaml: the same name, port and selector.
    for (const ref of sample.spec.rules[0].backendRefs) {
      const [versionService] = loadSample('bookinfo/platform/kube/bookinfo-versions.yaml').filter((m) => m.metadata.name === ref.name);
      const svc = one(out, 'Service', ref.name);
      expect(svc.spec.selector).toEqual(versionService.spec.selector);
      expect(svc.spec.ports[0].port).toBe(versionService.spec.ports[0].port);
    }
  });

  test('a Service per version only where a route needs one: the default version (the default route) and the versions routes name', () => {
    const b = bookinfo();
    b.reviews.routeTraffic({ destinations: [{ version: b.v.v1, weight: 90 }, { version: b.v.v2, weight: 10 }] });
    const names = ofKind(synth(b), 'Service').map((s) => s.metadata.name).sort();
    expect(names).toEqual(['productpage', 'reviews', 'reviews-v1', 'reviews-v2']);
    expect(b.reviews.versionServices.map((s) => s.name)).toEqual(['reviews-v1', 'reviews-v2']);
  });
});

describe('PathMatch.pathPrefix: whole path elements, in both APIs', () => {
  test('an HTTPRoute PathPrefix with the Gateway API; the regex /api(/.*)? in a VirtualService; traced alike', () => {
    const route = (b: Bookinfo) => b.reviews.routeTraffic({ matches: [{ path: PathMatch.pathPrefix('/api/') }], destinations: [{ version: b.v.v2 }] });
    const gw = bookinfo();
    route(gw);
    const gwOut = synth(gw);
    expect(one(gwOut, 'HTTPRoute', 'reviews').spec.rules[0].matches).toEqual([{ path: { type: 'PathPrefix', value: '/api' } }]);
    const istio = bookinfo({ dataplane: Dataplane.sidecar() });
    route(istio);
    const istioOut = synth(istio);
    expect(one(istioOut, 'VirtualService', 'reviews').spec.http[0].match).toEqual([{ uri: { regex: '/api(/.*)?' } }]);
    for (const out of [gwOut, istioOut]) {
      const sim = new MeshSimulator(out);
      const to = (path: string) => sim.trace({ source: 'bookinfo/productpage-v1', host: 'reviews:9080', path }).destinations.map((d) => d.destination.subset ?? d.destination.host.split('.')[0]);
      expect([to('/api'), to('/api/v1'), to('/apis')]).toEqual([[expect.stringMatching(/v2/)], [expect.stringMatching(/v2/)], [expect.stringMatching(/v1/)]]);
    }
  });
});

describe('routes as HTTPRoute rules', () => {
  test('a header route, the catch-all split; rules in the order Istio matches them (most header matches first), with filters and timeouts', () => {
    const b = bookinfo();
    b.reviews.routeTraffic({ destinations: [{ version: b.v.v1, weight: 80 }, { version: b.v.v2, weight: 20 }] });
    b.reviews.routeTraffic({
      matches: [{ headers: [HeaderMatch.exact('end-user', 'jason'), HeaderMatch.prefix('x-env', 'stag')] }],
      destinations: [{ version: b.v.v3 }],
      timeout: Duration.millis(1500),
      requestHeaders: { set: { 'x-canary': 'true' }, remove: ['x-debug'] },
      responseHeaders: { add: { 'x-served-by': 'v3' } },
      mirror: Mirror.toVersion(b.v.v2),
      mirrorPercent: 10,
    });
    b.reviews.routeTraffic({ matches: [{ path: PathMatch.exact('/old'), method: HttpMethod.GET }], redirect: { uri: '/new' } });
    const route = one(synth(b), 'HTTPRoute', 'reviews');
    expect(route.spec.parentRefs).toEqual([{ group: '', kind: 'Service', name: 'reviews', port: 9080 }]);
    expect(route.spec.rules).toEqual([
      {
        matches: [{ path: { type: 'Exact', value: '/old' }, method: 'GET' }],
        filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplaceFullPath', replaceFullPath: '/new' }, statusCode: 301 } }],
      },
      {
        matches: [{ headers: [{ name: 'end-user', value: 'jason' }, { name: 'x-env', type: 'RegularExpression', value: 'stag.*' }] }],
        filters: [
          { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-canary', value: 'true' }], remove: ['x-debug'] } },
          { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-served-by', value: 'v3' }] } },
          { type: 'RequestMirror', requestMirror: { backendRef: { name: 'reviews-v2', port: 9080 }, percent: 10 } },
        ],
        backendRefs: [{ name: 'reviews-v3', port: 9080 }],
        // Gateway API durations are `^([0-9]{1,5}(h|m|s|ms)){1,4}$`: 1.5s is written 1s500ms.
        timeouts: { request: '1s500ms' },
      },
      { backendRefs: [{ name: 'reviews-v1', port: 9080, weight: 80 }, { name: 'reviews-v2', port: 9080, weight: 20 }] },
    ]);
    expect(b.reviews.gatewayRoute?.kind).toBe('HTTPRoute');
  });

  test('virtualServiceName names the HTTPRoute, which the simulator traces as the route in effect', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const mesh = new Mesh(chart, 'mesh', { dataplane: Dataplane.ambient({ waypoint: true }) });
    const api = new MeshService(chart, 'api', { mesh, image: 'api:1', port: 8080, virtualServiceName: 'api-routes' });
    const web = new MeshService(chart, 'web', { mesh, image: 'web:1', port: 8080 });
    // A declared, admitted caller: the route promise (CM228) is traced from it through the waypoint at synth.
    api.allowFrom(web);
    web.callsTo(api);
    api.routeTraffic({ destinations: [{ version: api.defaultVersion, weight: 50 }, { version: api.addVersion('v2', { image: 'api:2' }), weight: 50 }] });
    const out = Testing.synth(chart) as Manifest[];
    expect(one(out, 'HTTPRoute', 'api-routes').spec.parentRefs[0].name).toBe('api');
    const trace = new MeshSimulator(out).trace({ source: 'shop/web-v1', host: 'api.shop.svc.cluster.local:8080' });
    expect(trace.route?.object).toMatchObject({ kind: 'HTTPRoute', name: 'api-routes' });
  });

  test('a TCP service: a TCPRoute with weighted backends', () => {
    const chart = new Chart(Testing.app(), 'db', { namespace: 'db' });
    const mesh = new Mesh(chart, 'mesh', { dataplane: Dataplane.ambient({ waypoint: true }) });
    const db = new MeshService(chart, 'db', { mesh, image: 'db:1', port: 5432, protocol: Protocol.TCP });
    const app = new MeshService(chart, 'app', { mesh, image: 'app:1', port: 8080 });
    db.allowFrom(app);
    app.callsTo(db);
    const v2 = db.addVersion('v2', { image: 'db:2' });
    db.routeTraffic({ destinations: [{ version: db.defaultVersion, weight: 75 }, { version: v2, weight: 25 }] });
    const route = one(Testing.synth(chart) as Manifest[], 'TCPRoute', 'db');
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route.spec).toEqual({
      parentRefs: [{ group: '', kind: 'Service', name: 'db', port: 5432 }],
      rules: [{ backendRefs: [{ name: 'db-v1', port: 5432, weight: 75 }, { name: 'db-v2', port: 5432, weight: 25 }] }],
    });
  });
});

describe('CM246: what the Gateway API cannot express is refused, with the reason', () => {
  const refused: Array<[string, (b: Bookinfo) => void, RegExp]> = [
    ['a fault', (b) => b.reviews.routeTraffic({ destinations: [{ version: b.v.v1 }], fault: Fault.abort(503, 10) }), /the Gateway API has no fault injection/],
    ['a retry policy', (b) => b.reviews.routeTraffic({ destinations: [{ version: b.v.v1 }], retry: { attempts: 3, retryOn: [RetryOn.CONNECT_FAILURE] } }),
      /Gateway API v1\.6\.1 \(standard channel\) has no retry policy.*Fix: remove retry/],
    ['a direct response', (b) => b.reviews.routeTraffic({ matches: [{ path: PathMatch.exact('/health') }], directResponse: { status: 200 } }), /no direct response/],
    ['a string path prefix', (b) => b.reviews.routeTraffic({ matches: [{ path: PathMatch.prefix('/api') }], destinations: [{ version: b.v.v2 }] }),
      /"\/api" is a string prefix in a VirtualService .* a Gateway API PathPrefix matches whole path elements.*Fix: match whole path elements with PathMatch\.pathPrefix\('\/api'\), or PathMatch\.regex\('\/api\.\*'\)/],
    ['a source workload', (b) => b.reviews.routeTraffic({ matches: [{ sourceWorkload: b.v.v1 }], destinations: [{ version: b.v.v2 }] }), /cannot match the calling workload/],
    ['an absent header', (b) => b.reviews.routeTraffic({ matches: [{ headers: [HeaderMatch.absent('x')] }], destinations: [{ version: b.v.v2 }] }), /absence of header "x"/],
    ['a redirect code 300', (b) => b.reviews.routeTraffic({ matches: [{ path: PathMatch.exact('/a') }], redirect: { uri: '/b', redirectCode: 300 } }), /not 300/],
    ['a CORS policy', (b) => b.reviews.routeTraffic({ destinations: [{ version: b.v.v1 }], corsPolicy: { allowOrigins: [CorsOrigin.exact('https://a.example.com')] } }),
      /does not write the HTTPRoute CORS filter yet\. Fix: answer CORS in the service/],
  ];
  test.each(refused)('%s', (_what, declare, message) => {
    const b = bookinfo();
    expect(() => declare(b)).toThrow(/CM246 Route the Gateway API cannot express: the mesh routes with the Gateway API \(RoutingApi.GATEWAY_API, the default in ambient mode\)/);
    expect(() => declare(bookinfo())).toThrow(message);
    // The same route is accepted with VirtualServices.
    expect(() => declare(bookinfo({ dataplane: Dataplane.ambient({ waypoint: true }), routingApi: RoutingApi.ISTIO }))).not.toThrow();
  });

  test('CM247: a version Service named like another service of the mesh', () => {
    const b = bookinfo();
    new MeshService(b.chart, 'reviews-v2-svc', { mesh: b.mesh, name: 'reviews-v4', image: 'x:1', port: 80 });
    expect(() => b.reviews.addVersion('v4', { image: 'reviews:4' }).service.routeTraffic({ destinations: [{ version: b.reviews.versions[3] }] }))
      .toThrow(/CM247 Version Service name taken: routing by version with the Gateway API needs a Service "reviews-v4" for version "v4" of service "reviews", and service .* has that name/);
  });
});
