import { Testing } from 'cdk8s';
import { BookinfoChart } from '../../examples/bookinfo/bookinfo';
import { MeshSimulator, RequestTrace, TraceOutcome, TraceRequest } from '../../src';

/**
 * Bookinfo's journeys (issue 14, part 4), traced on the example's synthesized YAML: Istio's bookinfo-gateway paths,
 * the reviews routing of the request-routing and traffic-shifting tasks, the authorization of the authz-http task,
 * the JWT on productpage's API, and egress to Google's API with TLS origination (egress-tls-origination task).
 */
const chart = new BookinfoChart(Testing.app(), 'bookinfo');
const sim = new MeshSimulator(Testing.synth(chart), { defaultNamespace: 'bookinfo' });
const TOKEN = { issuer: 'testing@secure.istio.io', subject: 'testing@secure.istio.io' };
const viaGateway = (extra: TraceRequest): RequestTrace => sim.trace({ gateway: 'bookinfo/bookinfo-gateway', port: 80, ...extra });
const weights = (t: RequestTrace) => Object.fromEntries(t.destinations.map((d) => [d.destination.subset, d.destination.weightPercent]));

describe('examples/bookinfo: journeys', () => {
  test("outside → bookinfo-gateway → productpage on the sample's five paths; another path is 404", () => {
    for (const path of ['/productpage', '/static/style.css', '/login', '/logout']) {
      const t = viaGateway({ path });
      expect({ path, outcome: t.outcome }).toEqual({ path, outcome: TraceOutcome.REACHED });
      expect(t.destinations[0].destination.host).toBe('productpage.bookinfo.svc.cluster.local');
    }
    expect(viaGateway({ path: '/admin' })).toMatchObject({ outcome: TraceOutcome.NOT_FOUND, status: 404 });
  });

  test("productpage's JSON API needs a token of Istio's testing issuer; its pages do not", () => {
    expect(viaGateway({ path: '/api/v1/products' })).toMatchObject({ outcome: TraceOutcome.FORBIDDEN, status: 403 });
    expect(viaGateway({ path: '/api/v1/products', token: TOKEN }).outcome).toBe(TraceOutcome.REACHED);
    expect(viaGateway({ path: '/api/v1/products', token: { ...TOKEN, valid: false } }).status).toBe(401);
  });

  test('productpage → reviews: jason on v2, everyone else 90% v1 and 10% v3, with a 2 s timeout', () => {
    const jason = sim.trace({ source: 'bookinfo/productpage', host: 'reviews:9080', path: '/reviews/0', headers: { 'end-user': 'jason' } });
    expect(weights(jason)).toEqual({ v2: 100 });
    const anyone = sim.trace({ source: 'bookinfo/productpage', host: 'reviews:9080', path: '/reviews/0' });
    expect(anyone.outcome).toBe(TraceOutcome.REACHED);
    expect(weights(anyone)).toEqual({ v1: 90, v3: 10 });
    expect(anyone.route?.timeout).toBe('2s');
  });

  test('who may call whom: GET only along the declared edges', () => {
    expect(sim.trace({ source: 'bookinfo/reviews', host: 'ratings:9080', path: '/ratings/0' }).outcome).toBe(TraceOutcome.REACHED);
    expect(sim.trace({ source: 'bookinfo/productpage', host: 'details:9080', path: '/details/0' }).outcome).toBe(TraceOutcome.REACHED);
    expect(sim.trace({ source: 'bookinfo/productpage', host: 'details:9080', method: 'POST', path: '/details/0' }).status).toBe(403);
    expect(sim.trace({ source: 'bookinfo/productpage', host: 'ratings:9080', path: '/ratings/0' }).allowed).toBe(false);
    expect(sim.trace({ destination: 'bookinfo/details', port: 9080 }).allowed).toBe(false);
  });

  test('details → www.googleapis.com: port 80, TLS originated by the sidecar; reviews may not', () => {
    const t = sim.trace({ source: 'bookinfo/details', host: 'www.googleapis.com', port: 80, path: '/books/v1/volumes' });
    expect(t.outcome).toBe(TraceOutcome.REACHED);
    expect(t.route?.timeout).toBe('5s');
    expect(sim.trace({ source: 'bookinfo/reviews', host: 'www.googleapis.com', port: 80 }).allowed).toBe(false);
  });
});
