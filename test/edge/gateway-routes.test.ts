// Routes through a gateway, as a new user writes them and as the request simulator plays them on the output:
// first match wins, so the library writes the routes in the order that serves what each exposure says.
import { Chart, Testing } from 'cdk8s';
import { IngressGateway, Mesh, MeshService, MeshSimulator, PathMatch, TraceOutcome } from '../../src';
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

  test('CM227: two exposures with the same matches for different services cannot both be served', () => {
    const { chart, web, api, gateway } = shop();
    web.exposeViaGateway(gateway, { paths: [PathMatch.prefix('/')] });
    api.exposeViaGateway(gateway, { paths: [PathMatch.prefix('/')] });
    expect(() => Testing.synth(chart)).toThrow(/\[shop\/api\] CM227 Two routes take the same requests: the route of gateway "gateway" to service "api" takes exactly the requests of the route of gateway "gateway" to service "web" \(shop\/web\).*Fix: give one of them different matches/);
  });
});
