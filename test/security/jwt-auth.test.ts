import { TEST_ISSUER, TEST_JWKS, httpbin, meshChart, service, specOf, synth, workload } from './support';
import { AuthorizationMode, AuthorizationPolicy, Condition, Dataplane, IngressGateway, JwtAuth, MeshSimulator, TraceOutcome } from '../../src';
import { one } from '../support/manifests';
import { captureWarnings } from '../support/warnings';

/** Istio's own caveat for optional tokens, which the analysis repeats as CMA101 (istio.md B6). */
const TOKENLESS_ACCEPTED = /^CMA101 RequestAuthentication foo\/[a-z-]+ .*requests without a token are accepted/;

const issuers = [{ issuer: TEST_ISSUER, jwksUri: TEST_JWKS }];

describe('JwtAuth', () => {
  describe("reproduces Istio's authz-jwt task (istio.md B6)", () => {
    test('jwt-example: a RequestAuthentication alone (tokens optional)', () => {
      // GIVEN
      const { chart, mesh } = meshChart('foo');
      const bin = httpbin(chart, mesh);
      // WHEN
      new JwtAuth(chart, 'jwt-example', { mesh, target: bin, issuers, tokenOptional: true });
      // THEN: and the analysis says what that means
      let manifests: any[] = [];
      expect(captureWarnings(() => { manifests = synth(chart); })).toEqual([expect.stringMatching(TOKENLESS_ACCEPTED)]);
      const ra = one(manifests, 'RequestAuthentication', 'jwt-example', 'foo');
      expect(ra).toMatchObject({ apiVersion: 'security.istio.io/v1' });
      expect(ra.spec).toEqual({
        selector: { matchLabels: { app: 'httpbin' } },
        jwtRules: [{ issuer: 'testing@secure.istio.io', jwksUri: TEST_JWKS }],
      });
      expect(ra).toMatchSnapshot();
    });

    test('require-jwt: ALLOW requestPrincipals <iss>/<sub>, and its groups claim variant', () => {
      // GIVEN
      const { chart, mesh } = meshChart('foo');
      const bin = httpbin(chart, mesh);
      const jwt = new JwtAuth(chart, 'jwt-example', { mesh, target: bin, issuers });
      // WHEN
      new AuthorizationPolicy(chart, 'require-jwt', { mesh, target: bin, rules: [{ sources: [jwt.forSubject(TEST_ISSUER)] }] });
      new AuthorizationPolicy(chart, 'claims', {
        mesh,
        name: 'require-jwt-group1',
        target: bin,
        rules: [{
          sources: [jwt.forSubject(TEST_ISSUER)], conditions: [Condition.jwtClaim('groups').oneOf('group1')],
        }],
      });
      // THEN
      const manifests = synth(chart);
      expect(specOf(manifests, 'AuthorizationPolicy', 'require-jwt', 'foo')).toEqual({
        selector: { matchLabels: { app: 'httpbin' } },
        action: 'ALLOW',
        rules: [{ from: [{ source: { requestPrincipals: ['testing@secure.istio.io/testing@secure.istio.io'] } }] }],
      });
      expect(specOf(manifests, 'AuthorizationPolicy', 'require-jwt-group1', 'foo').rules).toEqual([{
        from: [{ source: { requestPrincipals: ['testing@secure.istio.io/testing@secure.istio.io'] } }],
        when: [{ key: 'request.auth.claims[groups]', values: ['group1'] }],
      }]);
      expect(manifests.filter((m) => /Authentication|AuthorizationPolicy/.test(m.kind))).toMatchSnapshot();
    });

    test('frontend-ingress: the authn-policy task\'s DENY without a token, at the ingress gateway', () => {
      const { chart, mesh } = meshChart('foo');
      const gateway = workload('istio-system', { istio: 'ingressgateway' });
      const jwt = new JwtAuth(chart, 'jwt-example', { mesh, target: gateway, issuers });
      jwt.protect(gateway, { name: 'frontend-ingress' });
      jwt.protect(gateway, { name: 'frontend-ingress-headers', paths: ['/headers'] });
      const manifests = synth(chart);
      expect(one(manifests, 'RequestAuthentication', 'jwt-example').metadata.namespace).toBe('istio-system');
      expect(one(manifests, 'AuthorizationPolicy', 'frontend-ingress', 'istio-system').spec).toEqual({
        selector: { matchLabels: { istio: 'ingressgateway' } },
        action: 'DENY',
        rules: [{ from: [{ source: { notRequestPrincipals: ['testing@secure.istio.io/*'] } }] }],
      });
      expect(specOf(manifests, 'AuthorizationPolicy', 'frontend-ingress-headers').rules).toEqual([{
        from: [{ source: { notRequestPrincipals: ['testing@secure.istio.io/*'] } }],
        to: [{ operation: { paths: ['/headers'] } }],
      }]);
    });
  });

  describe('protect()', () => {
    test('a namespace-wide JwtAuth keeps the token, so a protected service behind the namespace\'s gateway admits its requests', () => {
      // Istio's RequestAuthentication removes a validated token unless forwardOriginalToken is true (its reference:
      // "forwardOriginalToken: If true, the original token will be kept for the upstream request. Default is false").
      // Validated at the gateway and stripped there, it would never reach the service's proxy, which would refuse
      // every request through the gateway (CM506 says so at synth).
      const { chart, mesh } = meshChart('shop');
      const api = service(chart, mesh, 'api');
      const gateway = new IngressGateway(chart, 'gateway', { mesh });
      api.exposeViaGateway(gateway);
      const jwt = new JwtAuth(chart, 'jwt', { mesh, issuers });
      jwt.protect(api);
      const manifests = synth(chart);
      expect(specOf(manifests, 'RequestAuthentication', 'jwt', 'shop').jwtRules[0].forwardOriginalToken).toBe(true);
      const sim = new MeshSimulator(manifests);
      const token = { issuer: TEST_ISSUER, subject: 'alice' };
      expect(sim.trace({ gateway: 'shop/gateway', path: '/', token }).outcome).toBe(TraceOutcome.REACHED);
      expect(sim.trace({ gateway: 'shop/gateway', path: '/' }).status).toBe(403);

      // With Istio's default written explicitly, the promise of the exposure breaks at synth, at the service's proxy.
      const { chart: chart2, mesh: mesh2 } = meshChart('shop');
      const api2 = service(chart2, mesh2, 'api');
      const gateway2 = new IngressGateway(chart2, 'gateway', { mesh: mesh2 });
      api2.exposeViaGateway(gateway2);
      new JwtAuth(chart2, 'jwt', { mesh: mesh2, issuers: [{ ...issuers[0], forwardOriginalToken: false }] }).protect(api2);
      expect(() => synth(chart2)).toThrow(/\[test\/api\] CM506 Gateway exposure not kept by the output: api.exposeViaGateway\(gateway\) promises that GET any.example.com\/ through gateway shop\/gateway with a token of testing@secure.istio.io reaches service "api", but traced, it ends FORBIDDEN \(403\) at step AUTHORIZATION: sidecar of Deployment shop\/api-v1: denied by rule 0 of AuthorizationPolicy shop\/api-require-jwt/);
    });

    test('writes the RequestAuthentication and a DENY policy that requires a token of its issuers', () => {
      // GIVEN
      const { chart, mesh } = meshChart('shop');
      const api = service(chart, mesh, 'api');
      const jwt = new JwtAuth(chart, 'jwt', {
        mesh,
        issuers: [
          { issuer: 'https://id.example.com', jwksUri: 'https://id.example.com/.well-known/jwks.json', audiences: ['shop'] },
          { issuer: 'https://partner.example.org', jwks: '{"keys":[]}' },
        ],
      });
      // WHEN
      const policy = jwt.protect(api, { exceptPaths: ['/healthz', '/metrics'] });
      // THEN
      const manifests = synth(chart);
      // Namespace-wide: the token is kept for the next proxy (see 'a namespace-wide JwtAuth keeps the token ...').
      expect(specOf(manifests, 'RequestAuthentication', 'jwt', 'shop')).toEqual({
        jwtRules: [
          { issuer: 'https://id.example.com', jwksUri: 'https://id.example.com/.well-known/jwks.json', audiences: ['shop'], forwardOriginalToken: true },
          { issuer: 'https://partner.example.org', jwks: '{"keys":[]}', forwardOriginalToken: true },
        ],
      });
      expect(specOf(manifests, 'AuthorizationPolicy', 'api-require-jwt', 'shop')).toEqual({
        selector: { matchLabels: { app: 'api' } },
        action: 'DENY',
        rules: [{
          from: [{ source: { notRequestPrincipals: ['https://id.example.com/*', 'https://partner.example.org/*'] } }],
          to: [{ operation: { notPaths: ['/healthz', '/metrics'] } }],
        }],
      });
      expect(policy.name).toBe('api-require-jwt');
      expect(manifests.filter((m) => /Authentication|AuthorizationPolicy/.test(m.kind))).toMatchSnapshot();
    });

    test('required claims: one DENY rule per claim, with its values negated ("deny unless")', () => {
      // GIVEN
      const { chart, mesh } = meshChart('foo');
      const bin = httpbin(chart, mesh);
      const jwt = new JwtAuth(chart, 'jwt', { mesh, target: bin, issuers });
      // WHEN: a token with groups ∋ group1 AND scope ∌ read-only, on /api paths
      jwt.protect(bin, { paths: ['/api/{**}'], requiredClaims: [Condition.jwtClaim('groups').oneOf('group1'), Condition.jwtClaim('scope').noneOf('read-only')] });
      // THEN: rules are ORed, so each rule refuses what misses one requirement
      expect(specOf(synth(chart), 'AuthorizationPolicy', 'httpbin-require-jwt').rules).toEqual([
        { from: [{ source: { notRequestPrincipals: ['testing@secure.istio.io/*'] } }], to: [{ operation: { paths: ['/api/{**}'] } }] },
        { to: [{ operation: { paths: ['/api/{**}'] } }], when: [{ key: 'request.auth.claims[groups]', notValues: ['group1'] }] },
        { to: [{ operation: { paths: ['/api/{**}'] } }], when: [{ key: 'request.auth.claims[scope]', values: ['read-only'] }] },
      ]);
    });

    test('token locations, forwarding and claims copied to headers', () => {
      const { chart, mesh } = meshChart('foo');
      const bin = httpbin(chart, mesh);
      const issuer = {
        issuer: TEST_ISSUER,
        jwksUri: TEST_JWKS,
        fromHeaders: [{ name: 'x-jwt-assertion' }, { name: 'authorization', prefix: 'Bearer ' }],
        fromParams: ['my_token'],
        fromCookies: ['session'],
        forwardOriginalToken: true,
        outputClaimToHeaders: [{ claim: 'sub', header: 'x-jwt-sub' }],
      };
      new JwtAuth(chart, 'jwt', { mesh, target: bin, tokenOptional: true, issuers: [issuer] });
      // Every field is written under Istio's name, with the same value.
      let manifests: any[] = [];
      expect(captureWarnings(() => { manifests = synth(chart); })).toEqual([expect.stringMatching(TOKENLESS_ACCEPTED)]);
      expect(specOf(manifests, 'RequestAuthentication', 'jwt').jwtRules).toEqual([issuer]);
    });

    test('as a source: any valid token of its issuers', () => {
      const { chart, mesh } = meshChart('foo');
      const bin = httpbin(chart, mesh);
      const jwt = new JwtAuth(chart, 'jwt', { mesh, issuers });
      bin.allowFrom(jwt);
      expect(specOf(synth(chart), 'AuthorizationPolicy', 'httpbin-allow').rules).toEqual([
        { from: [{ source: { requestPrincipals: ['testing@secure.istio.io/*'] } }] },
      ]);
    });

    test('ambient mode with a waypoint: attached to the Service', () => {
      const { chart, mesh } = meshChart('foo', { dataplane: Dataplane.ambient({ waypoint: true }) });
      const bin = httpbin(chart, mesh);
      new JwtAuth(chart, 'jwt', { mesh, target: bin, issuers }).protect(bin);
      const manifests = synth(chart);
      expect(specOf(manifests, 'RequestAuthentication', 'jwt').targetRefs).toEqual([{ group: '', kind: 'Service', name: 'httpbin' }]);
      expect(specOf(manifests, 'AuthorizationPolicy', 'httpbin-require-jwt').targetRefs).toEqual([{ group: '', kind: 'Service', name: 'httpbin' }]);
    });
  });

  describe('bad input', () => {
    test('CM316: a jwksUri that is not http(s), and a jwks that is not a key set', () => {
      const { chart, mesh } = meshChart();
      expect(() => new JwtAuth(chart, 'a', { mesh, issuers: [{ issuer: 'iss', jwksUri: 'file:///etc/jwks.json' }] }))
        .toThrow(/\[test\/a\] CM316 .*issuer "iss" has jwksUri "file:\/\/\/etc\/jwks.json", which is not an http or https URL.*Fix: give the https URL/);
      expect(() => new JwtAuth(chart, 'b', { mesh, issuers: [{ issuer: 'iss', jwksUri: 'id.example.com/jwks' }] })).toThrow(/CM316 /);
      expect(() => new JwtAuth(chart, 'c', { mesh, issuers: [{ issuer: 'iss', jwks: 'not json' }] })).toThrow(/\[test\/c\] CM316 .*jwks that is not a JSON Web Key Set/);
    });

    test('CM317: both jwks and jwksUri', () => {
      const { chart, mesh } = meshChart();
      expect(() => new JwtAuth(chart, 'a', { mesh, issuers: [{ issuer: 'iss', jwksUri: TEST_JWKS, jwks: '{"keys":[]}' }] }))
        .toThrow(/\[test\/a\] CM317 .*issuer "iss" sets both jwksUri and jwks.*Fix: keep one/);
    });

    test('CM318: no issuers, an empty issuer, a repeated issuer', () => {
      const { chart, mesh } = meshChart();
      expect(() => new JwtAuth(chart, 'a', { mesh, issuers: [] })).toThrow(/\[test\/a\] CM318 .*issuers is empty/);
      expect(() => new JwtAuth(chart, 'b', { mesh, issuers: [{ issuer: ' ' }] })).toThrow(/\[test\/b\] CM318 .*empty `issuer`/);
      expect(() => new JwtAuth(chart, 'c', { mesh, issuers: [{ issuer: 'x' }, { issuer: 'x' }] })).toThrow(/\[test\/c\] CM318 .*issuer "x" is listed twice/);
    });

    test('CM319: tokens validated but never required', () => {
      const { chart, mesh } = meshChart();
      new JwtAuth(chart, 'jwt', { mesh, issuers });
      // The analysis of the output sees the same hole (CMA101), printed before the error.
      expect(captureWarnings(() => expect(() => synth(chart))
        .toThrow(/\[test\/jwt\] CM319 .*validates tokens but nothing requires one, so requests without a token pass.*Fix: call jwt\.protect\(service\)/)))
        .toEqual([expect.stringMatching(TOKENLESS_ACCEPTED)]);
    });

    test('CM320: protecting a workload the JwtAuth does not validate tokens for', () => {
      const { chart, mesh } = meshChart();
      const bin = httpbin(chart, mesh);
      const jwt = new JwtAuth(chart, 'jwt', { mesh, target: bin, issuers });
      expect(() => jwt.protect(service(chart, mesh, 'other')))
        .toThrow(/\[test\/jwt\] CM320 .*protect\(\) targets other in namespace "foo", whose tokens this JwtAuth does not validate \(it validates httpbin in "foo"\): every request would be refused/);
      expect(() => new JwtAuth(chart, 'ns', { mesh, issuers }).protect(workload('istio-system', { istio: 'ingressgateway' }))).toThrow(/CM320 /);
    });

    test('CM321: a required claim that is not a token attribute', () => {
      const { chart, mesh } = meshChart();
      const bin = httpbin(chart, mesh);
      expect(() => new JwtAuth(chart, 'jwt', { mesh, issuers }).protect(bin, { requiredClaims: [Condition.requestHeader('x-role').oneOf('admin')] }))
        .toThrow(/\[test\/jwt\] CM321 .*condition on "request.headers\[x-role\]", which is not an attribute of the token/);
    });

    test('CM322: JWT validation in ambient mode without a waypoint', () => {
      const { chart, mesh } = meshChart('foo', { dataplane: Dataplane.ambient() });
      expect(() => new JwtAuth(chart, 'jwt', { mesh, issuers }))
        .toThrow(/\[test\/jwt\] CM322 .*RequestAuthentication uses JWT validation, an L7 feature.*without a waypoint/);
    });

    test('CM324: protecting one target twice under one name', () => {
      const { chart, mesh } = meshChart();
      const bin = httpbin(chart, mesh);
      const jwt = new JwtAuth(chart, 'jwt', { mesh, issuers });
      jwt.protect(bin);
      expect(() => jwt.protect(bin, { paths: ['/x'] })).toThrow(/\[test\/jwt\] CM324 .*already wrote a policy "httpbin-require-jwt".*Fix: protect each target once, or pass a distinct name/);
    });

    test('CM327 / CM310: bad header names and empty token locations', () => {
      const { chart, mesh } = meshChart();
      expect(() => new JwtAuth(chart, 'a', { mesh, tokenOptional: true, issuers: [{ issuer: 'iss', outputClaimToHeaders: [{ claim: 'sub', header: 'x jwt' }] }] }))
        .toThrow(/\[test\/a\] CM327 .*header "x jwt", which is not a valid header name/);
      expect(() => new JwtAuth(chart, 'b', { mesh, tokenOptional: true, issuers: [{ issuer: 'iss', fromParams: [''] }] }))
        .toThrow(/\[test\/b\] CM310 .*issuer "iss" fromParams contains an empty value/);
      expect(() => new JwtAuth(chart, 'c', { mesh, tokenOptional: true, issuers: [{ issuer: 'iss', audiences: [] }] }))
        .toThrow(/\[test\/c\] CM309 .*issuer "iss" audiences is an empty list/);
    });

    test('default deny is the mesh default: protect() alone lets nobody in', () => {
      // Not an error, but documented: protect restricts and never grants.
      const { chart, mesh } = meshChart('foo', { authorization: AuthorizationMode.DEFAULT_DENY });
      const bin = httpbin(chart, mesh);
      new JwtAuth(chart, 'jwt', { mesh, issuers }).protect(bin);
      const kinds = synth(chart).filter((m) => m.kind === 'AuthorizationPolicy').map((m) => `${m.metadata.name}:${m.spec.action ?? 'ALLOW(nothing)'}`);
      expect(kinds).toEqual(['allow-nothing:ALLOW(nothing)', 'httpbin-require-jwt:DENY']);
    });
  });
});
