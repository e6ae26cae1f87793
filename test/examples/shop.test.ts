import { App, Testing } from 'cdk8s';
import { ISSUER, ShopApp } from '../../examples/shop/shop';
import { MeshAnalysis, MeshSimulator, RequestTrace, TraceOutcome, TraceRequest } from '../../src';

/**
 * The shop's user journeys (issue 14, part 4), traced by the request simulator on the synthesized YAML: what each
 * request does end to end (gateway listener and TLS, route, mTLS, JWT, authorization, egress), and the refused ones.
 */
function synthesize() {
  const app = Testing.app();
  const shop = new ShopApp(app);
  const manifests = (app as App).charts.flatMap((c) => Testing.synth(c));
  return { shop, manifests, sim: new MeshSimulator(manifests, { defaultNamespace: 'storefront' }) };
}

const { manifests, sim } = synthesize();
const token = { issuer: ISSUER, subject: 'alice', audiences: ['shop'] };
const viaGateway = (extra: TraceRequest): RequestTrace => sim.trace({ gateway: 'storefront/gateway', host: 'shop.example.com', port: 443, tls: true, ...extra });
const hostOf = (t: RequestTrace) => [...new Set(t.destinations.map((d) => d.destination.host))];
const weights = (t: RequestTrace) => Object.fromEntries(t.destinations.map((d) => [d.destination.subset, d.destination.weightPercent]));

describe('examples/shop: user journeys', () => {
  test('analyzes clean', () => {
    const findings = MeshAnalysis.analyze(manifests).filter((f) => f.severity !== 'Info');
    expect(MeshAnalysis.format(findings)).toEqual(MeshAnalysis.format([]));
  });

  test('outside → gateway (HTTPS) → web: the pages', () => {
    const t = viaGateway({ path: '/products/42' });
    expect(t.outcome).toBe(TraceOutcome.REACHED);
    expect(hostOf(t)).toEqual(['web.storefront.svc.cluster.local']);
    expect(t.steps[0].summary).toMatch(/HTTPS .* \(TLS SIMPLE with credential shop-example-com-tls\)/);
  });

  test('outside → gateway → api: /api goes to api, not to web (the longer prefix first), with a token', () => {
    const t = viaGateway({ path: '/api/orders', token });
    expect(t.outcome).toBe(TraceOutcome.REACHED);
    expect(hostOf(t)).toEqual(['api.storefront.svc.cluster.local']);
    expect(t.route?.timeout).toBe('10s');
    expect(viaGateway({ path: '/api', method: 'POST', token }).outcome).toBe(TraceOutcome.REACHED);
  });

  test('refused at the edge: no token on /api (403), an invalid token (401), POST to the pages (403), plain HTTP (301 to HTTPS)', () => {
    expect(viaGateway({ path: '/api/orders' })).toMatchObject({ outcome: TraceOutcome.FORBIDDEN, status: 403 });
    expect(viaGateway({ path: '/api/orders', token: { ...token, valid: false } })).toMatchObject({ status: 401 });
    expect(viaGateway({ path: '/', method: 'POST' })).toMatchObject({ outcome: TraceOutcome.FORBIDDEN, status: 403 });
    expect(viaGateway({ path: '/', port: 80, tls: false })).toMatchObject({ outcome: TraceOutcome.REDIRECTED, status: 301 });
  });

  test("a partner site's preflight for the API is answered at the gateway (CORS); another origin's is not", () => {
    const preflight = (origin: string) => viaGateway({ path: '/api/orders', method: 'OPTIONS', headers: { 'origin': origin, 'access-control-request-method': 'POST' } });
    const partner = preflight('https://eu.partners.example.com');
    expect(partner.outcome).toBe(TraceOutcome.PREFLIGHT_ANSWERED);
    expect(partner.status).toBe(200);
    expect(preflight('https://evil.example.org').outcome).not.toBe(TraceOutcome.PREFLIGHT_ANSWERED);
  });

  test('the gateway pods limit requests locally: 200 a second, bursts of 400 (an EnvoyFilter before the router)', () => {
    const filter = manifests.find((m: any) => m.kind === 'EnvoyFilter' && m.metadata.namespace === 'storefront');
    expect(filter.spec.workloadSelector.labels).toEqual(expect.objectContaining({ 'gateway.cdk8s-mesh.dev/name': 'gateway' }));
    expect(JSON.stringify(filter.spec)).toContain('"max_tokens":400');
    expect(JSON.stringify(filter.spec)).toContain('"tokens_per_fill":200');
  });

  test('api → catalog: 90% v1 and a 10% canary of v2; testers on v2', () => {
    const t = sim.trace({ source: 'storefront/api', host: 'catalog.backend', port: 9090, path: '/items' });
    expect(t.outcome).toBe(TraceOutcome.REACHED);
    expect(weights(t)).toEqual({ v1: 90, v2: 10 });
    const tester = sim.trace({ source: 'storefront/api', host: 'catalog.backend', port: 9090, path: '/items', headers: { 'x-shop-tester': 'true' } });
    expect(weights(tester)).toEqual({ v2: 100 });
  });

  test('api → cart: a 3 s timeout and 2 retries on connection failures; POST admitted', () => {
    const t = sim.trace({ source: 'storefront/api', host: 'cart.backend', port: 9090, method: 'POST', path: '/items' });
    expect(t.outcome).toBe(TraceOutcome.REACHED);
    expect(t.route).toMatchObject({ timeout: '3s', retries: { attempts: 2 } });
  });

  test('api → payments: POST /payments only; payments → the provider; nobody else reaches either', () => {
    expect(sim.trace({ source: 'storefront/api', host: 'payments.backend', port: 9090, method: 'POST', path: '/payments' }).outcome).toBe(TraceOutcome.REACHED);
    expect(sim.trace({ source: 'storefront/api', host: 'payments.backend', port: 9090, method: 'GET', path: '/payments' }).status).toBe(403);
    expect(sim.trace({ source: 'storefront/web', host: 'payments.backend', port: 9090, method: 'POST', path: '/payments' }).allowed).toBe(false);
    const out = sim.trace({ source: 'backend/payments', host: 'api.payments.example.net', port: 443, tcp: true, sni: 'api.payments.example.net' });
    expect(out.outcome).toBe(TraceOutcome.REACHED);
    const cart = sim.trace({ source: 'backend/cart', host: 'api.payments.example.net', port: 443, tcp: true, sni: 'api.payments.example.net' });
    expect(cart.allowed).toBe(false);
    expect(cart.explanation).toMatch(/Sidecar backend\/cart/);
  });

  test('refused inside: web → catalog, a plaintext client outside the mesh → catalog', () => {
    expect(sim.trace({ source: 'storefront/web', host: 'catalog.backend', port: 9090 }).allowed).toBe(false);
    const plaintext = sim.trace({ destination: 'backend/catalog', port: 9090 });
    expect(plaintext.allowed).toBe(false);
    expect(plaintext.explanation).toMatch(/STRICT/);
  });
});
