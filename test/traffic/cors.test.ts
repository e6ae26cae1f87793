// CORS on routes (issue 17, part 3): Istio's VirtualService CorsPolicy (istio.io docs/reference/config/networking/
// virtual-service/#CorsPolicy) rendered from `corsPolicy`, checked, and proven at synth: a preflight from an allowed
// origin must be answered by Envoy's CORS filter on the routing proxy (envoyproxy.io configuration/http/http_filters/
// cors_filter: "Any legal OPTIONS requests will be responded directly by the filter").
import { ApiObject, Chart, Duration, JsonPatch, Testing } from 'cdk8s';
import {
  AuthorizationMode, CorsOrigin, CorsPolicy, HttpMethod, IngressGateway, Mesh, MeshService, MeshSimulator, PathMatch, Protocol,
  TraceOutcome, UnmatchedPreflights,
} from '../../src';
import { Manifest, one } from '../support/manifests';

function shop() {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
  const mesh = new Mesh(chart, 'mesh', { authorization: AuthorizationMode.NONE });
  const api = new MeshService(chart, 'api', { mesh, image: 'api:1', port: 8080 });
  return { chart, mesh, api };
}

const APP = 'https://app.example.com';
const POLICY: CorsPolicy = {
  allowOrigins: [CorsOrigin.exact(APP), CorsOrigin.regex('https://[a-z]+\\.example\\.org')],
  allowMethods: [HttpMethod.GET, HttpMethod.POST],
  allowHeaders: ['content-type', 'authorization'],
  exposeHeaders: ['x-request-id'],
  maxAge: Duration.hours(24),
  allowCredentials: true,
};

describe('corsPolicy on routeTraffic', () => {
  test('renders Istio\'s corsPolicy in the route\'s rule (StringMatch origins, maxAge in seconds)', () => {
    const { chart, api } = shop();
    api.routeTraffic({ destinations: [{ version: api.defaultVersion }], corsPolicy: { ...POLICY, unmatchedPreflights: UnmatchedPreflights.IGNORE } });
    const rule = one(Testing.synth(chart) as Manifest[], 'VirtualService', 'api').spec.http[0];
    expect(rule.corsPolicy).toEqual({
      allowOrigins: [{ exact: APP }, { regex: 'https://[a-z]+\\.example\\.org' }],
      allowMethods: ['GET', 'POST'],
      allowHeaders: ['content-type', 'authorization'],
      exposeHeaders: ['x-request-id'],
      maxAge: '86400s',
      allowCredentials: true,
      unmatchedPreflights: 'IGNORE',
    });
    expect(rule).toMatchSnapshot();
  });

  test('the simulator answers a preflight from an allowed origin at the caller\'s sidecar, and routes the actual request', () => {
    const { chart, api } = shop();
    api.routeTraffic({ destinations: [{ version: api.defaultVersion }], corsPolicy: POLICY });
    const sim = new MeshSimulator(Testing.synth(chart));
    const request = { sourcePrincipal: 'cluster.local/ns/shop/sa/web', host: 'api.shop.svc.cluster.local:8080', path: '/orders' };
    const preflight = sim.trace({ ...request, method: 'OPTIONS', headers: { 'origin': APP, 'access-control-request-method': 'POST' } });
    expect(preflight).toMatchObject({ outcome: TraceOutcome.PREFLIGHT_ANSWERED, status: 200 });
    expect(preflight.route!.corsPolicy!.preflightResponseHeaders).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET,POST',
      'access-control-allow-headers': 'content-type,authorization',
      'access-control-max-age': '86400',
    });
    expect(sim.trace({ ...request, method: 'POST', headers: { origin: APP } }).outcome).toBe(TraceOutcome.REACHED);
  });

  test('the promise (CM228): a preflight from an allowed origin is answered; removing the corsPolicy from the output breaks it', () => {
    const { chart, api } = shop();
    api.routeTraffic({ destinations: [{ version: api.defaultVersion }], corsPolicy: POLICY });
    expect(() => Testing.synth(chart)).not.toThrow();
    ApiObject.of(api.virtualService!).addJsonPatch(JsonPatch.remove('/spec/http/0/corsPolicy'));
    expect(() => Testing.synth(chart)).toThrow(/\[shop\/api\/Route1\] CM228 Route not kept by the output: the catch-all route of service "api" promises that OPTIONS \/ from cluster\.local\/ns\/shop\/sa\/default to api\.shop\.svc\.cluster\.local:8080 \(headers origin: https:\/\/app\.example\.com, access-control-request-method: GET\) is answered 200 by the routing proxy's CORS filter \(a preflight from an allowed origin\), but traced, rule spec\.http\[0\] of VirtualService shop\/api takes the preflight \(OPTIONS\) and has no corsPolicy/);
  });

  test('a route matching only GET cannot take the preflight (OPTIONS), so its corsPolicy would never answer it: the promise says where the preflight goes', () => {
    const { chart, api } = shop();
    api.routeTraffic({ matches: [{ path: PathMatch.prefix('/orders'), method: HttpMethod.GET }], destinations: [{ version: api.defaultVersion }], corsPolicy: { allowOrigins: [CorsOrigin.exact(APP)] } });
    expect(() => Testing.synth(chart)).toThrow(/\[shop\/api\/Route1\] CM228 Route not kept by the output: route 1 of service "api" promises that OPTIONS \/orders .*\(headers origin: https:\/\/app\.example\.com, access-control-request-method: GET\) is answered 200 by the routing proxy's CORS filter \(a preflight from an allowed origin\), but traced, rule spec\.http\[1\] of VirtualService shop\/api takes the preflight \(OPTIONS\) and has no corsPolicy; a browser's preflight is an OPTIONS request, so the matches of the route with the corsPolicy must admit OPTIONS/);
  });
});

describe('corsPolicy on exposeViaGateway', () => {
  test('the gateway route carries it, and the gateway answers the preflight (CM506 promise)', () => {
    const { chart, mesh, api } = shop();
    const gateway = new IngressGateway(chart, 'gateway', { mesh, hosts: ['shop.example.com'] });
    api.exposeViaGateway(gateway, { paths: [PathMatch.prefix('/api')], corsPolicy: { allowOrigins: [CorsOrigin.prefix('https://app.')], allowMethods: [HttpMethod.PUT] } });
    const vs = one(Testing.synth(chart) as Manifest[], 'VirtualService', 'gateway');
    expect(vs.spec.http[0].corsPolicy).toEqual({ allowOrigins: [{ prefix: 'https://app.' }], allowMethods: ['PUT'] });
    const sim = new MeshSimulator(Testing.synth(chart));
    const t = sim.trace({ gateway: 'shop/gateway', host: 'shop.example.com', path: '/api/x', method: 'OPTIONS', headers: { 'origin': 'https://app.example.com', 'access-control-request-method': 'PUT' } });
    expect(t).toMatchObject({ outcome: TraceOutcome.PREFLIGHT_ANSWERED, status: 200 });
    expect(t.steps.find((s) => s.kind === 'ROUTING')!.proxy).toBe('gateway shop/gateway');
    ApiObject.of(gateway.virtualServices[0]).addJsonPatch(JsonPatch.remove('/spec/http/0/corsPolicy'));
    expect(() => Testing.synth(chart)).toThrow(/\[shop\/api\] CM506 Gateway exposure not kept by the output: api\.exposeViaGateway\(gateway\) promises that OPTIONS shop\.example\.com\/api through gateway shop\/gateway \(headers origin: https:\/\/app\.example\.com, access-control-request-method: PUT\) is answered 200 by the routing proxy's CORS filter \(a preflight from an allowed origin\), but traced, rule spec\.http\[0\]\.match\[0\] of VirtualService shop\/gateway takes the preflight \(OPTIONS\) and has no corsPolicy/);
  });
});

describe('bad CORS policies (CM229)', () => {
  const bad = (policy: CorsPolicy) => () => {
    const { api } = shop();
    api.routeTraffic({ destinations: [{ version: api.defaultVersion }], corsPolicy: policy });
  };
  test('credentials for any origin are refused: Envoy echoes the origin, so any page could send the user\'s cookies', () => {
    expect(bad({ allowOrigins: [CorsOrigin.any()], allowCredentials: true })).toThrow(/\[shop\/api\/Route1\] CM229 Invalid CORS policy: corsPolicy allows credentials for any origin \("\*"\): Envoy echoes the caller's origin, so any web page could send the user's cookies and read the answer\. Fix: list the origins that may send credentials/);
    expect(bad({ allowOrigins: [CorsOrigin.prefix('https://')], allowCredentials: true })).toThrow(/CM229 Invalid CORS policy: corsPolicy allows credentials for origin prefix "https:\/\/", which matches every site/);
    expect(bad({ allowOrigins: [CorsOrigin.regex('https://.*')], allowCredentials: true })).toThrow(/CM229 .*origin regex "https:\/\/\.\*", which matches every site/);
    expect(bad({ allowOrigins: [CorsOrigin.any()] })).not.toThrow();
  });
  test('origins that a browser never sends, no origins, fractional max age', () => {
    expect(bad({ allowOrigins: [] })).toThrow(/CM229 Invalid CORS policy: corsPolicy has no allowOrigins, so no browser origin may call the route\. Fix: list the origins/);
    expect(bad({ allowOrigins: [CorsOrigin.exact('https://app.example.com/')] })).toThrow(/CM229 Invalid CORS policy: corsPolicy origin "https:\/\/app\.example\.com\/" is not an origin: a browser sends scheme:\/\/host\[:port\], without a path or a trailing slash, so it never matches\. Fix: write it as "https:\/\/app\.example\.com"/);
    expect(bad({ allowOrigins: [CorsOrigin.exact('app.example.com')] })).toThrow(/CM229 .*Fix: write it as "https:\/\/app\.example\.com"/);
    expect(bad({ allowOrigins: [CorsOrigin.prefix('https://app.example.com/api')] })).toThrow(/CM229 .*origin prefix "https:\/\/app\.example\.com\/api" has a path/);
    expect(bad({ allowOrigins: [CorsOrigin.exact(APP)], maxAge: Duration.millis(1500) })).toThrow(/CM229 Invalid CORS policy: corsPolicy maxAge 1 second 500 millis is not a whole number of seconds .*Fix: use Duration\.seconds\(2\)/);
    expect(bad({ allowOrigins: [CorsOrigin.exact(APP)], allowHeaders: ['Content-Type'] })).toThrow(/CM207 .*corsPolicy allowHeaders entry "Content-Type" has upper-case letters/);
    expect(bad({ allowOrigins: [CorsOrigin.regex('(?!x)')] })).toThrow(/CM208/);
  });
  test('a redirect or direct response bypasses Envoy\'s CORS filter, so corsPolicy there is refused (CM214); TCP services have no CORS (CM216)', () => {
    const { chart, mesh, api } = shop();
    expect(() => api.routeTraffic({ matches: [{ path: PathMatch.exact('/old') }], redirect: { uri: '/new' }, corsPolicy: { allowOrigins: [CorsOrigin.exact(APP)] } }))
      .toThrow(/CM214 Route needs exactly one action: corsPolicy has no effect on a route that answers with a redirect/);
    const db = new MeshService(chart, 'db', { mesh, image: 'db:1', port: 5432, protocol: Protocol.TCP });
    expect(() => db.routeTraffic({ destinations: [{ version: db.defaultVersion }], corsPolicy: { allowOrigins: [CorsOrigin.exact(APP)] } })).toThrow(/CM216 .*corsPolicy cannot apply/);
  });
});
