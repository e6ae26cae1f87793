import { Testing } from 'cdk8s';
import { TEST_ISSUER, TEST_JWKS, meshChart, service, specOf, synth } from './support';
import { AuthorizationMode, Condition, HttpMethod, JwtAuth, Mesh, Peer } from '../../src';
import { DecisionKind, MeshSimulator, TraceOutcome } from '../../src/analysis';
import { inventory, one } from '../support/manifests';

describe('least privilege from the service graph', () => {
  test('allowFrom writes one ALLOW policy per callee, one rule per caller, keyed on ServiceAccount principals', () => {
    // GIVEN: bookinfo's graph in a default-deny namespace
    const { chart, mesh } = meshChart('bookinfo', { authorization: AuthorizationMode.DEFAULT_DENY });
    const [productpage, details, reviews, ratings] = ['productpage', 'details', 'reviews', 'ratings']
      .map((name) => service(chart, mesh, name, { serviceAccountName: `bookinfo-${name}` }));
    // WHEN
    productpage.allowFrom(Peer.principal('cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account'));
    details.allowFrom(productpage, { methods: [HttpMethod.GET] });
    reviews.allowFrom(productpage, { methods: [HttpMethod.GET] });
    const policy = ratings.allowFrom(reviews, { methods: [HttpMethod.GET], paths: ['/ratings/{*}'], ports: [9080] });
    ratings.allowFrom(Peer.namespace('monitoring'), { ports: [9080] });
    // THEN
    const manifests = synth(chart);
    expect(inventory(manifests).filter((n) => n.startsWith('AuthorizationPolicy/'))).toEqual([
      'AuthorizationPolicy/allow-nothing', 'AuthorizationPolicy/productpage-allow', 'AuthorizationPolicy/details-allow',
      'AuthorizationPolicy/reviews-allow', 'AuthorizationPolicy/ratings-allow',
    ]);
    expect(specOf(manifests, 'AuthorizationPolicy', 'ratings-allow', 'bookinfo')).toEqual({
      selector: { matchLabels: { app: 'ratings' } },
      action: 'ALLOW',
      rules: [
        {
          from: [{ source: { principals: ['cluster.local/ns/bookinfo/sa/bookinfo-reviews'] } }],
          to: [{ operation: { methods: ['GET'], paths: ['/ratings/{*}'], ports: ['9080'] } }],
        },
        { from: [{ source: { namespaces: ['monitoring'] } }], to: [{ operation: { ports: ['9080'] } }] },
      ],
    });
    expect(specOf(manifests, 'AuthorizationPolicy', 'productpage-allow').rules).toEqual([
      { from: [{ source: { principals: ['cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account'] } }] },
    ]);
    expect(policy.name).toBe('ratings-allow');
    // A calling service also declares the call, so its proxy knows the callee.
    expect(reviews.dependencies).toEqual([ratings]);
    expect(productpage.dependencies).toEqual([details, reviews]);
    expect(ratings.allowFrom(mesh)).toBe(policy);
    expect(manifests.filter((m) => m.kind === 'AuthorizationPolicy')).toMatchSnapshot();
  });

  test('a mesh as a peer is its namespace; a service as a peer is its principal', () => {
    const { chart, mesh } = meshChart('shop');
    const api = service(chart, mesh, 'api', { serviceAccountName: 'api-sa' });
    expect(mesh.toPeerConfig()).toEqual({ namespaces: ['shop'] });
    expect(api.toPeerConfig()).toEqual({ principals: ['cluster.local/ns/shop/sa/api-sa'] });
  });

  test('Mesh authorization: DEFAULT_DENY by default writes allow-nothing; NONE writes nothing', () => {
    const deny = Testing.chart();
    const mesh = new Mesh(deny, 'mesh', { namespaceName: 'shop' });
    expect(mesh.authorization).toBe(AuthorizationMode.DEFAULT_DENY);
    expect(one(synth(deny), 'AuthorizationPolicy', 'allow-nothing', 'shop').spec).toEqual({});
    expect(mesh.defaultDenyPolicy?.name).toBe('allow-nothing');

    const open = Testing.chart();
    new Mesh(open, 'mesh', { namespaceName: 'shop', authorization: AuthorizationMode.NONE });
    expect(synth(open).filter((m) => m.kind === 'AuthorizationPolicy')).toEqual([]);
  });
});

describe('allowFrom + JwtAuth.protect compose', () => {
  /**
   * ratings is called by reviews (allowFrom) and requires a token (protect). Istio evaluates a
   * workload's policies in this order:
   *   1. CUSTOM policies (none here);
   *   2. DENY policies: if any rule matches, the request is refused (403), whatever else exists;
   *   3. ALLOW policies: if the workload has any, the request must match one of their rules;
   *      `allow-nothing` contributes none, `ratings-allow` allows the reviews principal.
   *
   * As written:
   *   - reviews, no token: `ratings-require-jwt` (DENY, notRequestPrincipals [testing@secure.istio.io/*])
   *     matches (there is no request principal), so the request is refused at step 2. The ALLOW for
   *     reviews is never consulted: protect() cannot be bypassed by an ALLOW.
   *   - details, valid token: the DENY does not match (the request principal is
   *     testing@secure.istio.io/testing@secure.istio.io); at step 3 no ALLOW rule matches (ratings-allow
   *     names the reviews principal only), so it is refused: protect() does not widen who may call.
   *     (An ALLOW with requestPrincipals instead would have let details in, ORed with ratings-allow.)
   *   - reviews, valid token: no DENY matches, ratings-allow matches: allowed.
   */
  test('a call from reviews without a token is refused, and one from another service with a valid token is refused', () => {
    // GIVEN
    const { chart, mesh } = meshChart('bookinfo', { authorization: AuthorizationMode.DEFAULT_DENY });
    const [details, reviews, ratings] = ['details', 'reviews', 'ratings'].map((name) => service(chart, mesh, name));
    // WHEN
    ratings.allowFrom(reviews);
    const jwt = new JwtAuth(chart, 'jwt', { mesh, target: ratings, issuers: [{ issuer: TEST_ISSUER, jwksUri: TEST_JWKS }] });
    jwt.protect(ratings);
    // THEN: the policies as written
    const manifests = synth(chart);
    expect(specOf(manifests, 'AuthorizationPolicy', 'ratings-require-jwt')).toEqual({
      selector: { matchLabels: { app: 'ratings' } },
      action: 'DENY',
      rules: [{ from: [{ source: { notRequestPrincipals: ['testing@secure.istio.io/*'] } }] }],
    });
    expect(specOf(manifests, 'AuthorizationPolicy', 'ratings-allow').rules).toEqual([
      { from: [{ source: { principals: ['cluster.local/ns/bookinfo/sa/reviews'] } }] },
    ]);

    // AND: their evaluation, by the policy simulator of src/analysis (CUSTOM → DENY → ALLOW)
    const sim = new MeshSimulator(manifests, { defaultNamespace: 'bookinfo' });
    const token = { issuer: TEST_ISSUER, subject: TEST_ISSUER };
    expect(sim.call('reviews', 'ratings')).toMatchObject({ allowed: false, kind: DecisionKind.DENY, policy: { name: 'ratings-require-jwt' } });
    // details' Sidecar does not import ratings (no declared call): REGISTRY_ONLY sends it to the BlackHoleCluster.
    expect(sim.call('details', 'ratings', { token })).toMatchObject({ allowed: false, kind: DecisionKind.NOT_DELIVERED, trace: { outcome: TraceOutcome.BAD_GATEWAY, status: 502 } });
    // With details' identity but no such Sidecar, ratings' own policies refuse it.
    const asDetails = sim.decide({ sourcePrincipal: details.principal, destination: 'ratings', token });
    expect(asDetails).toMatchObject({ allowed: false, kind: DecisionKind.DENY });
    expect(asDetails.explanation).toMatch(/ALLOW policies apply \(.*AuthorizationPolicy bookinfo\/ratings-allow\) and none of their rules matches/);
    expect(sim.call('reviews', 'ratings', { token })).toMatchObject({ allowed: true, policy: { name: 'ratings-allow' } });
    expect(sim.canCall('details', 'ratings')).toBe(false);
    expect(details.name).toBe('details');
  });

  test('required claims refuse a valid token without the claim, before any ALLOW', () => {
    const { chart, mesh } = meshChart('bookinfo', { authorization: AuthorizationMode.DEFAULT_DENY });
    const [reviews, ratings] = ['reviews', 'ratings'].map((name) => service(chart, mesh, name));
    ratings.allowFrom(reviews);
    const jwt = new JwtAuth(chart, 'jwt', { mesh, issuers: [{ issuer: TEST_ISSUER, jwksUri: TEST_JWKS }] });
    jwt.protect(ratings, { requiredClaims: [Condition.jwtClaim('groups').oneOf('group1')] });
    const sim = new MeshSimulator(synth(chart), { defaultNamespace: 'bookinfo' });
    const demo = { issuer: TEST_ISSUER, subject: TEST_ISSUER };
    expect(sim.call('reviews', 'ratings', { token: demo })).toMatchObject({ allowed: false, kind: DecisionKind.DENY, policy: { name: 'ratings-require-jwt' }, ruleIndex: 1 });
    expect(sim.canCall('reviews', 'ratings', { token: { ...demo, claims: { groups: ['group1', 'group2'] } } })).toBe(true);
  });
});
