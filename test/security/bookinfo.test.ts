import { Testing } from 'cdk8s';
import { TEST_ISSUER, TEST_JWKS } from './support';
import { BookinfoChart } from '../../examples/bookinfo/bookinfo';
import { MeshSimulator } from '../../src/analysis';
import { Manifest, one } from '../support/manifests';

/** The security section of examples/bookinfo: secure by default, and still working. */
describe('examples/bookinfo security', () => {
  const chart = new BookinfoChart(Testing.app(), 'bookinfo');
  const manifests = Testing.synth(chart) as Manifest[];
  const policy = (name: string) => one(manifests, 'AuthorizationPolicy', name, 'bookinfo').spec;
  const principal = (service: string) => `cluster.local/ns/bookinfo/sa/bookinfo-${service}`;
  // The example's own ingress gateway (IngressGateway `bookinfo-gateway` in the namespace).
  const GATEWAY = 'cluster.local/ns/bookinfo/sa/bookinfo-gateway';
  const GATEWAY_PATHS = ['/productpage', '/static*', '/login', '/logout', '/api/v1/products*'];

  test('STRICT mTLS and a default-deny namespace', () => {
    expect(one(manifests, 'PeerAuthentication', 'default', 'bookinfo').spec).toEqual({ mtls: { mode: 'STRICT' } });
    expect(policy('allow-nothing')).toEqual({});
  });

  test('the gateway may call productpage (on the exposed paths); productpage may GET details and reviews; reviews may GET ratings', () => {
    expect(policy('productpage-allow').rules).toEqual([{ from: [{ source: { principals: [GATEWAY] } }], to: [{ operation: { paths: GATEWAY_PATHS } }] }]);
    const get = (caller: string) => [{ from: [{ source: { principals: [principal(caller)] } }], to: [{ operation: { methods: ['GET'] } }] }];
    expect(policy('details-allow').rules).toEqual(get('productpage'));
    expect(policy('reviews-allow').rules).toEqual(get('productpage'));
    expect(policy('ratings-allow').rules).toEqual(get('reviews'));
  });

  test("a token from Istio's testing issuer is required on productpage's /api paths", () => {
    expect(one(manifests, 'RequestAuthentication', 'jwt', 'bookinfo').spec).toEqual({
      selector: { matchLabels: { app: 'productpage' } },
      jwtRules: [{ issuer: TEST_ISSUER, jwksUri: TEST_JWKS }],
    });
    expect(policy('productpage-require-jwt')).toEqual({
      selector: { matchLabels: { app: 'productpage' } },
      action: 'DENY',
      rules: [{ from: [{ source: { notRequestPrincipals: [`${TEST_ISSUER}/*`] } }], to: [{ operation: { paths: ['/api/*'] } }] }],
    });
  });

  test('who may call whom, as the policy simulator evaluates the output', () => {
    const sim = new MeshSimulator(manifests, { defaultNamespace: 'bookinfo' });
    const token = { issuer: TEST_ISSUER, subject: TEST_ISSUER };
    const gateway = { sourcePrincipal: GATEWAY, destination: 'productpage' };
    // The application's own calls work...
    expect(sim.canCall('productpage', 'details')).toBe(true);
    expect(sim.canCall('productpage', 'reviews')).toBe(true);
    expect(sim.canCall('reviews', 'ratings')).toBe(true);
    expect(sim.decide({ ...gateway, path: '/productpage' }).allowed).toBe(true);
    expect(sim.decide({ ...gateway, method: 'POST', path: '/login' }).allowed).toBe(true);
    expect(sim.decide({ ...gateway, path: '/api/v1/products', token }).allowed).toBe(true);
    // ...and nothing else does.
    expect(sim.decide({ ...gateway, path: '/api/v1/products' }).allowed).toBe(false);
    expect(sim.decide({ ...gateway, path: '/admin' }).allowed).toBe(false);
    expect(sim.canCall('productpage', 'details', { method: 'POST' })).toBe(false);
    expect(sim.canCall('details', 'ratings')).toBe(false);
    expect(sim.canCall('ratings', 'reviews')).toBe(false);
    expect(sim.canCall('reviews', 'productpage')).toBe(false);
  });
});
