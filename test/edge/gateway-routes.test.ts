// Routes through a gateway, as a new user writes them and as the request simulator plays them on the output:
// first match wins, so the library writes the routes in the order that serves what each exposure says.
import { Chart, Testing } from 'cdk8s';
import { HttpMethod, IngressGateway, Mesh, MeshService, MeshSimulator, PathMatch, TraceOutcome } from '../../src';
import { one } from '../support/manifests';

function shop() {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
  const mesh = new Mesh(chart, 'mesh');
  const web = new MeshService(chart, 'web', { mesh, image: 'web:1', port: 8080 });
  const api = new MeshService(chart, 'api', { mesh, image: 'api:1', port: 8080 });
  const gateway = new IngressGateway(chart, 'gateway', { mesh, hosts: ['shop.example.com'] });
  return { chart, web, api, gateway };
}

describe('gateway routes', () => {
  test('`/` for web exposed before `/api` for api: /api/orders reaches api and /index.html web', () => {
    const { chart, web, api, gateway } = shop();
    web.exposeViaGateway(gateway, { paths: [PathMatch.prefix('/')] });
    api.exposeViaGateway(gateway, { paths: [PathMatch.prefix('/api')] });
    const manifests = Testing.synth(chart);
    expect(one(manifests, 'VirtualService', 'gateway').spec.http.map((r: any) => [r.match[0].uri.prefix, r.route[0].destination.host]))
      .toEqual([['/api', 'api.shop.svc.cluster.local'], ['/', 'web.shop.svc.cluster.local']]);
    const sim = new MeshSimulator(manifests);
    const via = (path: string) => sim.trace({ gateway: 'shop/gateway', host: 'shop.example.com', path });
    expect(via('/api/orders')).toMatchObject({ outcome: TraceOutcome.REACHED, destinations: [{ destination: { host: 'api.shop.svc.cluster.local' } }] });
    expect(via('/index.html')).toMatchObject({ outcome: TraceOutcome.REACHED, destinations: [{ destination: { host: 'web.shop.svc.cluster.local' } }] });
  });

  test('`/` for web exposed before PathMatch.pathPrefix(\'/api\') for api: the regex /api(/.*)? is placed first (the prefix / covers it)', () => {
    const { chart, web, api, gateway } = shop();
    web.exposeViaGateway(gateway, { paths: [PathMatch.prefix('/')] });
    api.exposeViaGateway(gateway, { paths: [PathMatch.pathPrefix('/api')] });
    const manifests = Testing.synth(chart);
    expect(one(manifests, 'VirtualService', 'gateway').spec.http.map((r: any) => [r.match[0].uri, r.route[0].destination.host]))
      .toEqual([[{ regex: '/api(/.*)?' }, 'api.shop.svc.cluster.local'], [{ prefix: '/' }, 'web.shop.svc.cluster.local']]);
    const sim = new MeshSimulator(manifests);
    const host = (path: string) => sim.trace({ gateway: 'shop/gateway', host: 'shop.example.com', path }).destinations[0].destination.host;
    expect([host('/api'), host('/api/orders'), host('/apis')]).toEqual(['api.shop.svc.cluster.local', 'api.shop.svc.cluster.local', 'web.shop.svc.cluster.local']);
  });

  test('CM227: two exposures with the same matches for different services cannot both be served', () => {
    const { chart, web, api, gateway } = shop();
    web.exposeViaGateway(gateway, { paths: [PathMatch.prefix('/')] });
    api.exposeViaGateway(gateway, { paths: [PathMatch.prefix('/')] });
    expect(() => Testing.synth(chart)).toThrow(/\[shop\/api\] CM227 Two routes take the same requests: the route of gateway "gateway" to service "api" takes exactly the requests of the route of gateway "gateway" to service "web" \(shop\/web\).*Fix: give one of them different matches/);
  });
});

describe('what exposing a service lets the gateway do (14.3b) and which pods a Gateway binds (14.3c)', () => {
  test('the user\'s allowFrom(gateway, { methods }) is what the gateway may do: exposing adds no wider rule', () => {
    const { chart, web, gateway } = shop();
    web.allowFrom(gateway, { methods: [HttpMethod.GET, HttpMethod.HEAD] });
    web.exposeViaGateway(gateway);
    const manifests = Testing.synth(chart);
    expect(one(manifests, 'AuthorizationPolicy', 'web-allow').spec.rules).toEqual([
      { from: [{ source: { principals: ['cluster.local/ns/shop/sa/gateway'] } }], to: [{ operation: { methods: ['GET', 'HEAD'] } }] },
    ]);
    const sim = new MeshSimulator(manifests);
    const via = (method: string) => sim.trace({ gateway: 'shop/gateway', host: 'shop.example.com', method, path: '/' });
    expect(via('GET').outcome).toBe(TraceOutcome.REACHED);
    expect(via('POST')).toMatchObject({ outcome: TraceOutcome.FORBIDDEN, status: 403 });
  });

  test('without one, the gateway is admitted for exactly the exposed hosts and paths', () => {
    const { chart, web, api, gateway } = shop();
    web.exposeViaGateway(gateway, { paths: [PathMatch.prefix('/static'), PathMatch.exact('/')] });
    api.exposeViaGateway(gateway, { paths: [PathMatch.regex('/api/v[0-9]+/.*')] });
    const manifests = Testing.synth(chart);
    expect(one(manifests, 'AuthorizationPolicy', 'web-allow').spec.rules).toEqual([{
      from: [{ source: { principals: ['cluster.local/ns/shop/sa/gateway'] } }],
      to: [{ operation: { hosts: ['shop.example.com'], paths: ['/static*', '/'] } }],
    }]);
    // A regex cannot be an authorization path: the gateway may call api on every path of the exposed host.
    expect(one(manifests, 'AuthorizationPolicy', 'api-allow').spec.rules[0].to).toEqual([{ operation: { hosts: ['shop.example.com'] } }]);
    const sim = new MeshSimulator(manifests);
    expect(sim.trace({ gateway: 'shop/gateway', host: 'shop.example.com', path: '/static/app.js' }).outcome).toBe(TraceOutcome.REACHED);
    // Straight from the gateway's identity, a path that was not exposed is refused by web itself.
    expect(sim.trace({ sourcePrincipal: 'cluster.local/ns/shop/sa/gateway', host: 'web.shop:8080', headers: { host: 'shop.example.com' }, path: '/admin' }).outcome)
      .toBe(TraceOutcome.FORBIDDEN);
  });

  test('two teams\' gateways named "gateway" select only their own pods', () => {
    const app = Testing.app();
    const team = (ns: string) => {
      const chart = new Chart(app, ns, { namespace: ns });
      const mesh = new Mesh(chart, 'mesh');
      const web = new MeshService(chart, 'web', { mesh, image: 'web:1', port: 8080 });
      web.exposeViaGateway(new IngressGateway(chart, 'gateway', { mesh, hosts: [`${ns}.example.com`] }));
      return chart;
    };
    const manifests = [team('team-a'), team('team-b')].flatMap((chart) => Testing.synth(chart));
    const selectors = manifests.filter((m) => m.kind === 'Gateway').map((g) => g.spec.selector);
    expect(selectors).toEqual([
      { 'gateway.cdk8s-mesh.dev/name': 'gateway', 'gateway.cdk8s-mesh.dev/namespace': 'team-a' },
      { 'gateway.cdk8s-mesh.dev/name': 'gateway', 'gateway.cdk8s-mesh.dev/namespace': 'team-b' },
    ]);
    const t = new MeshSimulator(manifests).trace({ gateway: 'team-a/gateway', host: 'team-a.example.com' });
    expect(t.outcome).toBe(TraceOutcome.REACHED);
    expect(t.undecided.join()).not.toMatch(/select the same pods/);
  });
});
