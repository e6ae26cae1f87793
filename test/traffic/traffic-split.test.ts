import { Chart, Duration, Testing } from 'cdk8s';
import {
  Acknowledgement, AuthorizationPolicy, Fault, HeaderMatch, HttpMethod, Mesh, MeshService, MeshWarnings, Mirror, Operation, PathMatch, Peer,
  Protocol, QueryParamMatch, RetryOn, TrafficSplit, TrafficSplitOptions,
} from '../../src';
import { Manifest, one } from '../support/manifests';

function setup() {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
  const mesh = new Mesh(chart, 'mesh');
  const api = new MeshService(chart, 'api', { mesh, image: 'api:1', port: 8080 });
  const v2 = api.addVersion('v2', { image: 'api:2' });
  return { chart, mesh, api, v1: api.defaultVersion, v2 };
}
const httpRoutes = (chart: Chart, name = 'api') => one(Testing.synth(chart) as Manifest[], 'VirtualService', name).spec.http;
const HOST = 'api.shop.svc.cluster.local';

describe('TrafficSplit', () => {
  test('routes of one host merge into ONE VirtualService, most specific first, catch-all last', () => {
    // GIVEN
    const { chart, api, v1, v2 } = setup();
    // WHEN: declared broad-first
    api.routeTraffic({ destinations: [{ version: v1, weight: 90 }, { version: v2, weight: 10 }] });
    api.routeTraffic({ name: 'api', matches: [{ path: PathMatch.prefix('/api') }], destinations: [{ version: v1 }] });
    api.routeTraffic({ name: 'api-v2', matches: [{ path: PathMatch.prefix('/api/v2') }], destinations: [{ version: v2 }] });
    api.routeTraffic({ name: 'beta', matches: [{ headers: [HeaderMatch.exact('x-beta', 'true')] }], destinations: [{ version: v2 }] });
    // THEN: /api/v2 moves before /api, which would shadow it; unrelated routes keep their order
    const http = httpRoutes(chart);
    expect(http.map((r: any) => r.name ?? 'catch-all')).toEqual(['api-v2', 'api', 'beta', 'catch-all']);
    expect(http[3].route).toEqual([
      { destination: { host: HOST, subset: 'v1' }, weight: 90 },
      { destination: { host: HOST, subset: 'v2' }, weight: 10 },
    ]);
    expect(Testing.synth(chart).filter((m: any) => m.kind === 'VirtualService')).toHaveLength(1);
    expect(http).toMatchSnapshot();
  });

  test('matches: fields of one match are ANDed, several matches are ORed', () => {
    const { chart, api, v2 } = setup();
    api.routeTraffic({
      matches: [
        { path: PathMatch.regex('/items/[0-9]+'), method: HttpMethod.GET, headers: [HeaderMatch.prefix('user-agent', 'Mozilla'), HeaderMatch.absent('x-internal')] },
        { queryParams: [QueryParamMatch.exact('preview', 'true'), QueryParamMatch.present('debug')], ignoreUriCase: true, name: 'preview' },
        { headers: [HeaderMatch.present('x-canary'), HeaderMatch.regex('cookie', '.*session=canary.*')] },
      ],
      destinations: [{ version: v2 }],
    });
    expect(httpRoutes(chart)[0].match).toEqual([
      { uri: { regex: '/items/[0-9]+' }, method: { exact: 'GET' }, headers: { 'user-agent': { prefix: 'Mozilla' } }, withoutHeaders: { 'x-internal': {} } },
      { name: 'preview', queryParams: { preview: { exact: 'true' }, debug: {} }, ignoreUriCase: true },
      { headers: { 'x-canary': {}, 'cookie': { regex: '.*session=canary.*' } } },
    ]);
  });

  test('a source workload match becomes sourceLabels (and sourceNamespace across namespaces)', () => {
    const { chart, mesh, api, v2 } = setup();
    const web = new MeshService(chart, 'web', { mesh, image: 'web:1', port: 80 });
    const other = new Mesh(new Chart(chart.node.root as any, 'other'), 'mesh', { namespaceName: 'other' });
    const batch = new MeshService(other.node.scope as Chart, 'batch', { mesh: other, image: 'b:1', port: 80 });
    api.routeTraffic({ matches: [{ sourceWorkload: web.defaultVersion }], destinations: [{ version: v2 }] });
    api.routeTraffic({ matches: [{ sourceWorkload: batch }], destinations: [{ version: v2 }] });
    // Without the declared calls, the callers' proxies would not let requests out: the routes could never be used (CM228).
    expect(() => httpRoutes(chart)).toThrow(/\[shop\/api\/Route1\] CM228 Route not kept by the output: route 1 of service "api" promises that GET \/ from shop\/web-v1 to api\.shop\.svc\.cluster\.local:8080 goes to v2, but traced, it ends BAD_GATEWAY \(502\) at step EGRESS: sidecar of Deployment shop\/web-v1: Sidecar shop\/web does not import/);
    api.allowFrom(web);
    api.allowFrom(batch);
    expect(httpRoutes(chart).slice(0, 2).map((r: any) => r.match)).toEqual([
      [{ sourceLabels: { app: 'web', version: 'v1' } }],
      [{ sourceLabels: { app: 'batch' }, sourceNamespace: 'other' }],
    ]);
  });

  test('retries are always explicit: safe conditions where a request may be POST/PATCH, what was asked for, none with a fault', () => {
    const { chart, api, v1 } = setup();
    api.routeTraffic({ name: 'create', matches: [{ method: HttpMethod.POST }, { method: HttpMethod.PATCH }], destinations: [{ version: v1 }] });
    api.routeTraffic({ name: 'create-retried', matches: [{ method: HttpMethod.POST, path: PathMatch.exact('/idempotent') }], destinations: [{ version: v1 }], retry: { attempts: 5 } });
    api.routeTraffic({
      name: 'opt-in',
      matches: [{ method: HttpMethod.POST, path: PathMatch.exact('/upsert') }],
      destinations: [{ version: v1 }],
      retry: { attempts: 3, retryOn: [RetryOn.FIVE_XX] },
      allowNonIdempotentRetries: true,
    });
    api.routeTraffic({ name: 'chaos', matches: [{ headers: [HeaderMatch.exact('x-chaos', '1')] }], destinations: [{ version: v1 }], fault: Fault.abort(503, 50) });
    const byName = Object.fromEntries(httpRoutes(chart).map((r: any) => [r.name ?? 'default', r.retries]));
    expect(byName).toEqual({
      'create': { attempts: 2, retryOn: 'connect-failure,refused-stream' },
      'create-retried': { attempts: 5, retryOn: 'connect-failure,refused-stream' },
      'opt-in': { attempts: 3, retryOn: '5xx' },
      'chaos': { attempts: 0 },
      // No method declared anywhere: a request may be a POST.
      'default': { attempts: 2, retryOn: 'connect-failure,refused-stream' },
    });
  });

  describe('retries of requests that may be non-idempotent (finding 14.3d)', () => {
    // Istio retries a route that sets none 2 times on connect-failure, refused-stream,
    // unavailable, cancelled and retriable-status-codes 503 (pilot route/retry/retry.go); a 503
    // or a gRPC status comes from an upstream that may have processed the request, while
    // connect-failure and refused-stream mean it never saw it (Envoy router filter,
    // x-envoy-retry-on). RFC 9110 §9.2.2: POST, PATCH and CONNECT are not idempotent.
    const ISTIO_DEFAULT = { attempts: 2, retryOn: 'connect-failure,refused-stream,unavailable,cancelled,503' };
    const SAFE = { attempts: 2, retryOn: 'connect-failure,refused-stream' };
    const withCaller = () => {
      const s = setup();
      return { ...s, web: new MeshService(s.chart, 'web', { mesh: s.mesh, image: 'web:1', port: 8080 }) };
    };
    const retriesByRoute = (chart: Chart) => Object.fromEntries(httpRoutes(chart).map((r: any) => [r.name ?? 'default', r.retries]));

    test('a service whose policies admit only POST is not retried on 503 by its default route', () => {
      const { chart, api, web } = withCaller();
      api.allowFrom(web, { methods: [HttpMethod.POST] });
      expect(httpRoutes(chart)).toEqual([{ route: [{ destination: { host: HOST, subset: 'v1' } }], retries: SAFE }]);
      expect(httpRoutes(chart)).toMatchSnapshot();
    });

    test('a service that admits only idempotent methods keeps Istio\'s defaults, written out', () => {
      const { chart, mesh, api, web } = withCaller();
      const admin = new MeshService(chart, 'admin', { mesh, image: 'admin:1', port: 8080 });
      api.allowFrom(web, { methods: [HttpMethod.GET, HttpMethod.HEAD] });
      api.allowFrom(admin, { methods: [HttpMethod.PUT, HttpMethod.DELETE], paths: ['/items/*'] });
      expect(retriesByRoute(chart)).toEqual({ default: ISTIO_DEFAULT });
    });

    test('the route\'s own method matches and the admitted methods together decide', () => {
      const { chart, api, v1, web } = withCaller();
      api.allowFrom(web, { methods: [HttpMethod.GET, HttpMethod.POST] });
      api.routeTraffic({ name: 'reads', matches: [{ method: HttpMethod.GET, path: PathMatch.prefix('/items') }], destinations: [{ version: v1 }] });
      api.routeTraffic({ name: 'items', matches: [{ path: PathMatch.prefix('/items') }], destinations: [{ version: v1 }] });
      expect(retriesByRoute(chart)).toEqual({ reads: ISTIO_DEFAULT, items: SAFE, default: SAFE });
    });

    test('AuthorizationPolicy rules count like allowFrom; allow-nothing alone says nothing', () => {
      const { chart, mesh, api } = withCaller();
      expect(retriesByRoute(chart)).toEqual({ default: SAFE });
      new AuthorizationPolicy(chart, 'readers', { mesh, target: api, rules: [{ operations: [Operation.of({ notMethods: [HttpMethod.POST, HttpMethod.PATCH, HttpMethod.CONNECT] })] }] });
      expect(retriesByRoute(chart)).toEqual({ default: ISTIO_DEFAULT });
      new AuthorizationPolicy(chart, 'writers', { mesh, target: api, rules: [{ sources: [Peer.namespace('batch')], operations: [Operation.of({ methods: [HttpMethod.PATCH] })] }] });
      expect(retriesByRoute(chart)).toEqual({ default: SAFE });
    });

    test('allowNonIdempotentRetries: true asks for Istio\'s defaults', () => {
      const { chart, api, v1, web } = withCaller();
      api.allowFrom(web, { methods: [HttpMethod.POST] });
      api.routeTraffic({ destinations: [{ version: v1 }], allowNonIdempotentRetries: true });
      expect(retriesByRoute(chart)).toEqual({ default: ISTIO_DEFAULT });
    });

    test('CM215 at synth: an explicit retry on 5xx of a route whose service admits POST', () => {
      const { chart, api, v1, web } = withCaller();
      api.allowFrom(web, { methods: [HttpMethod.GET, HttpMethod.POST] });
      api.routeTraffic({ destinations: [{ version: v1 }], retry: { attempts: 3, retryOn: [RetryOn.CONNECT_FAILURE, RetryOn.FIVE_XX] } });
      expect(() => Testing.synth(chart)).toThrow(new RegExp('\\[shop/api/Route1\\] CM215 Retries of non-idempotent requests: the route\'s requests may be POST '
        + '\\(service "api" admits it: AuthorizationPolicy shop/api-allow\\) and it retries on 5xx, which can repeat a request the upstream already processed.*'
        + 'Fix: retry only on connect-failure, refused-stream or reset-before-request; give the non-idempotent methods a route of their own.*allowNonIdempotentRetries: true'));
    });

    test('CM215 at synth: an explicit retry on 5xx of a route whose method matches include POST', () => {
      const { chart, api, v1 } = withCaller();
      api.routeTraffic({
        matches: [{ method: HttpMethod.GET }, { method: HttpMethod.POST }],
        destinations: [{ version: v1 }],
        retry: { attempts: 2, retryOn: [RetryOn.RESET] },
      });
      expect(() => Testing.synth(chart)).toThrow(/\[shop\/api\/Route1\] CM215 .*the route's requests may be POST \(by its method matches\) and it retries on reset/);
    });

    test('an explicit retry is taken as written where nothing declares the methods, or with the opt-in', () => {
      const { chart, api, v1, v2, web } = withCaller();
      api.routeTraffic({ destinations: [{ version: v1 }], retry: { attempts: 3, retryOn: [RetryOn.GATEWAY_ERROR] } });
      expect(retriesByRoute(chart)).toEqual({ default: { attempts: 3, retryOn: 'gateway-error' } });
      api.allowFrom(web, { methods: [HttpMethod.POST] });
      api.routeTraffic({ name: 'v2', matches: [{ headers: [HeaderMatch.present('x-v2')] }], destinations: [{ version: v2 }], retry: { attempts: 1, retryOn: [RetryOn.FIVE_XX] }, allowNonIdempotentRetries: true });
      expect(() => Testing.synth(chart)).toThrow(/\[shop\/api\/Route1\] CM215 /);
      expect(() => Testing.synth(chart)).not.toThrow(/Route2/);
    });
  });

  test('retry settings: per-try timeout, status codes, backoff, remote localities', () => {
    const { chart, api, v1 } = setup();
    api.routeTraffic({
      destinations: [{ version: v1 }],
      timeout: Duration.seconds(10),
      retry: {
        attempts: 3,
        perTryTimeout: Duration.millis(2500),
        retryOn: [RetryOn.CONNECT_FAILURE],
        retryOnStatusCodes: [503, 429],
        backoff: Duration.millis(50),
        retryRemoteLocalities: true,
      },
    });
    expect(httpRoutes(chart)[0]).toMatchObject({
      timeout: '10s',
      retries: { attempts: 3, perTryTimeout: '2.5s', retryOn: 'connect-failure,503,429', backoff: '0.05s', retryRemoteLocalities: true },
    });
  });

  test('faults, mirroring, rewrite and header operations', () => {
    const { chart, mesh, api, v1, v2 } = setup();
    const shadow = new MeshService(chart, 'shadow', { mesh, image: 's:1', port: 8080 });
    api.routeTraffic({
      destinations: [{ version: v1 }],
      fault: Fault.combine(Fault.delay(Duration.millis(1500), 5), Fault.abort(503, 0.5)),
      mirror: Mirror.toVersion(v2),
      mirrorPercent: 10,
      rewrite: { uri: '/v1', authority: 'api.internal' },
      requestHeaders: { set: { 'x-route': 'main' }, remove: ['x-debug'] },
      responseHeaders: { add: { 'x-served-by': 'api' } },
      acknowledge: [Acknowledgement.FAULT_DISABLES_RETRIES],
    });
    api.routeTraffic({ matches: [{ path: PathMatch.prefix('/shadow') }], destinations: [{ version: v1 }], mirror: Mirror.toHost(shadow.host, { port: 8080 }) });
    const [shadowRoute, main] = httpRoutes(chart);
    expect(main).toMatchObject({
      fault: { delay: { fixedDelay: '1.5s', percentage: { value: 5 } }, abort: { httpStatus: 503, percentage: { value: 0.5 } } },
      mirror: { host: HOST, subset: 'v2' },
      mirrorPercentage: { value: 10 },
      rewrite: { uri: '/v1', authority: 'api.internal' },
      headers: { request: { set: { 'x-route': 'main' }, remove: ['x-debug'] }, response: { add: { 'x-served-by': 'api' } } },
    });
    expect(shadowRoute.mirror).toEqual({ host: 'shadow.shop.svc.cluster.local', port: { number: 8080 } });
  });

  test('redirects and direct responses answer without forwarding (no retries)', () => {
    const { chart, api } = setup();
    api.routeTraffic({ matches: [{ path: PathMatch.exact('/old') }], redirect: { uri: '/new', redirectCode: 308 } });
    api.routeTraffic({ matches: [{ path: PathMatch.exact('/healthz') }], directResponse: { status: 200, body: 'ok' } });
    const [redirect, direct] = httpRoutes(chart);
    expect(redirect).toEqual({ match: [{ uri: { exact: '/old' } }], redirect: { uri: '/new', redirectCode: 308 } });
    expect(direct).toEqual({ match: [{ uri: { exact: '/healthz' } }], directResponse: { status: 200, body: { string: 'ok' } } });
  });

  test('TCP and TLS services split connections by weight', () => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'shop' });
    const mesh = new Mesh(chart, 'mesh');
    const db = new MeshService(chart, 'db', { mesh, image: 'db:1', port: 5432, protocol: Protocol.TCP });
    const tls = new MeshService(chart, 'tls', { mesh, image: 't:1', port: 443, protocol: Protocol.TLS });
    db.routeTraffic({ destinations: [{ version: db.defaultVersion, weight: 70 }, { version: db.addVersion('v2'), weight: 30 }] });
    tls.routeTraffic({ destinations: [{ version: tls.addVersion('v2') }] });
    const manifests = Testing.synth(chart) as Manifest[];
    expect(one(manifests, 'VirtualService', 'db').spec.tcp).toEqual([{
      route: [
        { destination: { host: 'db.shop.svc.cluster.local', subset: 'v1' }, weight: 70 },
        { destination: { host: 'db.shop.svc.cluster.local', subset: 'v2' }, weight: 30 },
      ],
    }]);
    expect(one(manifests, 'VirtualService', 'tls').spec.tls).toEqual([{
      match: [{ sniHosts: ['tls.shop.svc.cluster.local'], port: 443 }],
      route: [{ destination: { host: 'tls.shop.svc.cluster.local', subset: 'v2' } }],
    }]);
  });

  test('new TrafficSplit() is the same as routeTraffic()', () => {
    const { chart, api, v2 } = setup();
    const split = new TrafficSplit(chart, 'canary', { service: api, destinations: [{ version: api.defaultVersion, weight: 95 }, { version: v2, weight: 5 }] });
    expect(split.isCatchAll).toBe(true);
    expect(httpRoutes(chart)).toHaveLength(1);
  });

  describe('resilience budget (reported, not fatal; can be acknowledged)', () => {
    let warn: jest.SpyInstance;
    beforeEach(() => { warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined); });
    afterEach(() => warn.mockRestore());

    test('CM250: retries that exceed the route timeout', () => {
      const { api, v1 } = setup();
      api.routeTraffic({ destinations: [{ version: v1 }], timeout: Duration.seconds(3), retry: { attempts: 3, perTryTimeout: Duration.seconds(1) } });
      expect(MeshWarnings.of(api)).toEqual([expect.stringMatching(
        /^\[shop\/api\/Route1\] CM250 .*3 retries after the first try, each up to 1 second, need up to 4000ms, but the route times out after 3 seconds.*Fix: .*Acknowledgement.RETRIES_EXCEED_TIMEOUT/)]);
      expect(warn).toHaveBeenCalledTimes(1);
    });

    test('CM251: fault injection with retries or a timeout', () => {
      const { api, v1 } = setup();
      api.routeTraffic({
        destinations: [{ version: v1 }], fault: Fault.delay(Duration.seconds(1), 10), retry: { attempts: 2 }, timeout: Duration.seconds(5),
      });
      expect(MeshWarnings.of(api)).toEqual([expect.stringMatching(/CM251 .*Istio then does not apply its retries or the timeout/)]);
    });

    test('acknowledged findings are not reported', () => {
      const { api, v1 } = setup();
      api.routeTraffic({
        destinations: [{ version: v1 }],
        timeout: Duration.seconds(3),
        retry: { attempts: 3, perTryTimeout: Duration.seconds(1) },
        acknowledge: [Acknowledgement.RETRIES_EXCEED_TIMEOUT],
      });
      expect(MeshWarnings.of(api)).toEqual([]);
      expect(warn).not.toHaveBeenCalled();
    });
  });

  describe('bad input', () => {
    /** A route to v1 with `options`, built when the returned function runs. */
    const route = (options: Partial<TrafficSplitOptions>) => () => {
      const { api, v1 } = setup();
      return api.routeTraffic({ destinations: [{ version: v1 }], ...options });
    };

    test('CM201: weights not summing to 100', () => {
      const { api, v1, v2 } = setup();
      expect(() => api.routeTraffic({ destinations: [{ version: v1, weight: 80 }, { version: v2, weight: 30 }] }))
        .toThrow(/\[shop\/api\/Route1\] CM201 Weights do not sum to 100: the weights sum to 110 \(v1=80, v2=30\). Fix: make them sum to 100/);
    });

    test('CM202: negative or fractional weight', () => {
      const { api, v1, v2 } = setup();
      expect(() => api.routeTraffic({ destinations: [{ version: v1, weight: 110 }, { version: v2, weight: -10 }] }))
        .toThrow(/CM202 .*weight of version "v1" is 110. Fix: use a whole number from 0 to 100/);
      expect(() => setup().api.routeTraffic({ destinations: [{ version: setup().v1, weight: -5 }, { version: setup().v2, weight: 105 }] })).toThrow(/CM20[24]/);
    });

    test('CM203: all weights zero', () => {
      const { api, v1, v2 } = setup();
      expect(() => api.routeTraffic({ destinations: [{ version: v1, weight: 0 }, { version: v2, weight: 0 }] }))
        .toThrow(/CM203 .*every destination has weight 0.*Fix: give at least one version a positive weight/);
    });

    test('CM222: several destinations without weights', () => {
      const { api, v1, v2 } = setup();
      expect(() => api.routeTraffic({ destinations: [{ version: v1 }, { version: v2 }] })).toThrow(/CM222 .*version "v1" has no weight/);
    });

    test('CM204: a version of another service', () => {
      const { chart, mesh, api } = setup();
      const other = new MeshService(chart, 'other', { mesh, image: 'o:1', port: 80 });
      expect(() => api.routeTraffic({ destinations: [{ version: other.defaultVersion }] }))
        .toThrow(/CM204 .*destination version "v1" belongs to service "other", not "api".*Fix: route other's traffic with other.routeTraffic\(\)/);
    });

    test('CM205: duplicate destinations', () => {
      const { api, v1 } = setup();
      expect(() => api.routeTraffic({ destinations: [{ version: v1, weight: 50 }, { version: v1, weight: 50 }] }))
        .toThrow(/CM205 .*version "v1" is listed twice.*Fix: list each version once/);
    });

    test('CM206: two catch-all routes', () => {
      const { api, v1, v2 } = setup();
      api.routeTraffic({ destinations: [{ version: v1 }] });
      expect(() => api.routeTraffic({ destinations: [{ version: v2 }] }))
        .toThrow(/\[shop\/api\/Route2\] CM206 .*service "api" already has a catch-all route \(shop\/api\/Route1\).*Fix: give this route matches/);
    });

    test('CM227: two routes with the same matches (one could never be used)', () => {
      const { api, v1, v2 } = setup();
      api.routeTraffic({ matches: [{ headers: [HeaderMatch.exact('end-user', 'jason')] }], destinations: [{ version: v1 }] });
      api.routeTraffic({ matches: [{ headers: [HeaderMatch.exact('end-user', 'jason')] }], destinations: [{ version: v2 }] });
      expect(() => Testing.synth(Chart.of(api)))
        .toThrow(/\[shop\/api\/Route2\] CM227 Two routes take the same requests: route 2 of service "api" takes exactly the requests of route 1 of service "api" \(shop\/api\/Route1\).*Fix: give one of them different matches/);
    });

    test('a route a broader earlier one would shadow is written first', () => {
      const { api, v1, v2 } = setup();
      api.routeTraffic({ matches: [{ path: PathMatch.prefix('/api') }], destinations: [{ version: v1 }] });
      api.routeTraffic({ matches: [{ path: PathMatch.exact('/api/v2/items'), method: HttpMethod.GET }], destinations: [{ version: v2 }] });
      const http = Testing.synth(Chart.of(api)).find((m: any) => m.kind === 'VirtualService').spec.http;
      expect(http.map((r: any) => r.match?.[0].uri)).toEqual([{ exact: '/api/v2/items' }, { prefix: '/api' }, undefined]);
    });

    test('CM207: invalid header names', () => {
      expect(route({ matches: [{ headers: [HeaderMatch.exact('End-User', 'jason')] }] }))
        .toThrow(/CM207 .*"End-User" has upper-case letters.*Fix: write it as "end-user"/);
      expect(route({ matches: [{ headers: [HeaderMatch.exact('end user', 'jason')] }] }))
        .toThrow(/CM207 .*"end user" is not an HTTP header name/);
      expect(route({ matches: [{ headers: [HeaderMatch.prefix('x-a', '')] }] })).toThrow(/CM207 .*empty prefix/);
    });

    test('CM208: invalid regular expressions', () => {
      expect(route({ matches: [{ path: PathMatch.regex('/items/(?!admin)') }] })).toThrow(/CM208 .*uses lookaround, which RE2 does not support/);
      expect(route({ matches: [{ path: PathMatch.regex('/items/([0-9]+') }] })).toThrow(/CM208 .*does not compile/);
      expect(route({ matches: [{ headers: [HeaderMatch.regex('x-id', '(a)\\1')] }] })).toThrow(/CM208 .*backreference/);
      expect(route({ matches: [{ path: PathMatch.regex('(?i)/items/[0-9]+') }] })).not.toThrow();
    });

    test('CM209: attempts < 0', () => {
      expect(route({ retry: { attempts: -1 } })).toThrow(/\[shop\/api\/Route1\] CM209 .*retry.attempts is -1. Fix: use a whole number of at least 0/);
    });

    test('CM221: a retriable status code that is not an HTTP status', () => {
      expect(route({ retry: { attempts: 2, retryOnStatusCodes: [503, 1000] } }))
        .toThrow(/CM221 .*retry.retryOnStatusCodes entry is 1000. Fix: use a whole number from 100 to 599/);
    });

    test('CM210: per-try timeout with zero attempts', () => {
      const { api, v1 } = setup();
      expect(() => api.routeTraffic({ destinations: [{ version: v1 }], retry: { attempts: 0, perTryTimeout: Duration.seconds(1) } }))
        .toThrow(/CM210 .*retry.attempts is 0 \(no retries\) but perTryTimeout is set.*Fix: remove perTryTimeout, or allow at least one retry/);
    });

    test('CM211: durations under 1ms or not whole milliseconds', () => {
      const { api, v1 } = setup();
      expect(() => api.routeTraffic({ destinations: [{ version: v1 }], timeout: Duration.millis(0.5) }))
        .toThrow(/CM211 .*timeout .* shorter than Istio's minimum of 1ms/);
      expect(() => setup().api.routeTraffic({ destinations: [{ version: setup().v1 }], timeout: Duration.millis(1.5) }))
        .toThrow(/CM211 .*not a whole number of milliseconds/);
      const s = setup();
      expect(() => s.api.routeTraffic({ destinations: [{ version: s.v1 }], fault: Fault.delay(Duration.millis(0), 10) }))
        .toThrow(/CM211 .*fault delay/);
    });

    test('CM211: durations longer than Go\'s maximum, which the CRDs\' CEL rule cannot parse (finding 14.3h)', () => {
      // Go's time.Duration is an int64 of nanoseconds: at most 2562047h47m16.854775807s; the
      // CRDs check `duration(self) >= duration('1ms')`, which fails to parse a longer one.
      const s = setup();
      expect(() => s.api.routeTraffic({ destinations: [{ version: s.v1 }], timeout: Duration.hours(2562048) }))
        .toThrow(/\[shop\/api\/Route1\] CM211 Invalid duration: timeout 106752 days is longer than Istio's maximum of 2562047h47m16.854s \(Go's longest duration\)\. Fix: use a whole number of milliseconds from 1ms to 2562047h/);
      const t = setup();
      expect(() => t.api.addCircuitBreaker({ outlierDetection: { baseEjectionTime: Duration.days(200_000) } })).toThrow(/CM211 .*outlierDetection.baseEjectionTime .*longer than Istio's maximum/);
      // The longest whole-millisecond duration is written the way Go parses it.
      const u = setup();
      u.api.routeTraffic({ destinations: [{ version: u.v1 }], timeout: Duration.millis(9_223_372_036_854) });
      expect(httpRoutes(u.chart)[0].timeout).toBe('9223372036.854s');
      const v = setup();
      v.api.routeTraffic({ destinations: [{ version: v.v1 }], timeout: Duration.hours(2562047) });
      expect(httpRoutes(v.chart)[0].timeout).toBe('2562047h');
    });

    test('CM212: fault percentage outside 0–100', () => {
      const s = setup();
      expect(() => s.api.routeTraffic({ destinations: [{ version: s.v1 }], fault: Fault.delay(Duration.seconds(1), 150) }))
        .toThrow(/CM212 .*fault delay percent is 150.*Fix: use a percentage from 0 to 100/);
      const t = setup();
      expect(() => t.api.routeTraffic({ destinations: [{ version: t.v1 }], fault: Fault.abort(500, -1) })).toThrow(/CM212 .*abort percent is -1/);
    });

    test('CM213: abort status outside 200–599', () => {
      const s = setup();
      expect(() => s.api.routeTraffic({ destinations: [{ version: s.v1 }], fault: Fault.abort(600) }))
        .toThrow(/CM213 .*fault abort status is 600. Fix: use a whole number from 200 to 599/);
    });

    test('CM214: no action, or two', () => {
      const { api } = setup();
      expect(() => api.routeTraffic({ matches: [{ path: PathMatch.exact('/x') }] }))
        .toThrow(/CM214 .*no destinations, redirect or directResponse\. Fix: give destinations \(the service has 2 versions: which receive the requests\?\), a redirect or a directResponse/);
      const s = setup();
      expect(() => s.api.routeTraffic({ destinations: [{ version: s.v1 }], redirect: { uri: '/y' } })).toThrow(/CM214 .*sets destinations and redirect/);
      const t = setup();
      expect(() => t.api.routeTraffic({ redirect: { uri: '/y' }, timeout: Duration.seconds(1) })).toThrow(/CM214 .*timeout has no effect on a route that answers with a redirect/);
    });

    test('a one-version service: a route that only sets a timeout and retries forwards to its version', () => {
      const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
      const cart = new MeshService(chart, 'cart', { mesh: new Mesh(chart, 'mesh'), image: 'cart:1', port: 8080 });
      cart.routeTraffic({ timeout: Duration.seconds(3), retry: { attempts: 2, retryOn: [RetryOn.CONNECT_FAILURE] } });
      expect(httpRoutes(chart, 'cart')).toEqual([expect.objectContaining({
        route: [{ destination: { host: 'cart.shop.svc.cluster.local', subset: 'v1' } }],
        timeout: '3s',
      })]);
    });

    test('CM215: retrying POST on conditions where the upstream may have processed it', () => {
      const s = setup();
      const retry = { attempts: 2, retryOn: [RetryOn.FIVE_XX] };
      expect(() => s.api.routeTraffic({ matches: [{ method: HttpMethod.POST }], destinations: [{ version: s.v1 }], retry }))
        .toThrow(/CM215 .*matches only POST\/PATCH requests and retries on 5xx.*Fix: .*allowNonIdempotentRetries: true/);
    });

    test('CM216: HTTP features on a TCP service', () => {
      const chart = new Chart(Testing.app(), 'c', { namespace: 'shop' });
      const mesh = new Mesh(chart, 'mesh');
      const db = new MeshService(chart, 'db', { mesh, image: 'db:1', port: 5432, protocol: Protocol.TCP });
      expect(() => db.routeTraffic({ destinations: [{ version: db.defaultVersion }], timeout: Duration.seconds(1) }))
        .toThrow(/CM216 .*service "db" speaks tcp, which Istio routes per connection, so timeout cannot apply/);
    });

    test('CM217: an empty match', () => {
      expect(route({ matches: [{}] })).toThrow(/CM217 .*matches\[0\] has no conditions/);
    });

    test('CM218/CM219/CM220/CM223/CM224/CM225/CM226: malformed actions', () => {
      const { api } = setup();
      expect(() => api.routeTraffic({ matches: [{ path: PathMatch.exact('/a') }], redirect: { redirectCode: 200, uri: '/b' } })).toThrow(/CM218 .*redirectCode is 200/);
      expect(route({ rewrite: {} })).toThrow(/CM219 .*rewrite changes nothing/);
      expect(route({ requestHeaders: { set: { ':path': '/x' } } })).toThrow(/CM220 .*sets pseudo-header ":path"/);
      expect(route({ matches: [{ path: PathMatch.prefix('api') }] })).toThrow(/CM223 .*"api" is not an absolute request path.*Fix: start it with "\/", e.g. "\/api"/);
      expect(route({ fault: Fault.grpcAbort('NOPE') })).toThrow(/CM224 .*"NOPE" is not a gRPC status name/);
      const s = setup();
      expect(() => s.api.routeTraffic({ matches: [{ path: PathMatch.exact('/a') }], directResponse: { status: 99 } })).toThrow(/CM225 .*status is 99/);
      expect(route({ mirrorPercent: 10 })).toThrow(/CM226 .*mirrorPercent is set without a mirror/);
    });
  });
});
