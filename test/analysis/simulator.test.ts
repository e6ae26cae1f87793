// The policy simulator against the truth tables of Istio's security tasks (authz-http, authz-deny, authz-jwt,
// authz-tcp) and the AuthorizationPolicy reference, plus mTLS, ambient and CUSTOM semantics.
import { deployment, docs, namespace, service } from './fixtures';
import { DecisionKind, MeshAnalysis, MeshSimulator } from '../../src/analysis';

/** httpbin and sleep in namespace foo (sidecar-injected), as in Istio's authorization tasks; curl; legacy without sidecar. */
const WORKLOADS = docs(
  namespace('foo'),
  'apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: httpbin, namespace: foo }\n',
  service('foo', 'httpbin', '[{ name: http, port: 8000, targetPort: 8080 }]'),
  deployment('foo', 'httpbin', { labels: 'app: httpbin, version: v1', serviceAccount: 'httpbin', containerPort: 8080 }),
  service('foo', 'sleep'),
  deployment('foo', 'sleep', { serviceAccount: 'sleep' }),
  deployment('foo', 'curl', { serviceAccount: 'curl' }),
  deployment('foo', 'legacy', { annotations: 'sidecar.istio.io/inject: "false"' }),
);

const simulator = (policies: string) => new MeshSimulator(MeshAnalysis.parseYaml(`${WORKLOADS}\n---\n${policies}`));
const get = { destination: 'foo/httpbin', source: 'foo/sleep', method: 'GET', path: '/ip' };
const post = { ...get, method: 'POST' };

/** The JWT of Istio's samples (security/tools/jwt/samples): demo.jwt and groups-scope.jwt. */
const DEMO_JWT = { issuer: 'testing@secure.istio.io', subject: 'testing@secure.istio.io', claims: { foo: 'bar' } };
const GROUPS_JWT = { ...DEMO_JWT, claims: { groups: ['group1', 'group2'], scope: ['scope1', 'scope2'] } };

const JWT_EXAMPLE = `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt-example, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  jwtRules:
  - issuer: testing@secure.istio.io
    jwksUri: https://raw.githubusercontent.com/istio/istio/release-1.30/security/tools/jwt/samples/jwks.json
`;
const REQUIRE_JWT = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: require-jwt, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: ALLOW
  rules:
  - from:
    - source:
        requestPrincipals: ["testing@secure.istio.io/testing@secure.istio.io"]
`;

describe('Istio task truth tables', () => {
  test('allow-nothing denies everything in the namespace', () => {
    const sim = simulator(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-nothing, namespace: foo }
spec: {}
`);
    for (const request of [get, post, { ...get, source: 'foo/curl' }]) {
      const d = sim.decide(request);
      expect(d.kind).toBe(DecisionKind.DENY);
      expect(d.policy).toEqual({ kind: 'AuthorizationPolicy', namespaceName: 'foo', name: 'allow-nothing' });
    }
    expect(sim.decide(get).explanation).toMatch(/ALLOW policies apply \(AuthorizationPolicy foo\/allow-nothing\) and none of their rules matches/);
  });

  const DENY_GET = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-method-get, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: DENY
  rules:
  - to:
    - operation: { methods: ["GET"] }
`;

  test('deny-method-get denies GET and allows POST', () => {
    const sim = simulator(DENY_GET);
    const d = sim.decide(get);
    expect(d).toMatchObject({ allowed: false, kind: DecisionKind.DENY, policy: { name: 'deny-method-get' }, ruleIndex: 0 });
    expect(sim.decide(post).allowed).toBe(true);
  });

  test('deny-method-get with the x-token notValues condition allows GET with x-token: admin', () => {
    const sim = simulator(`${DENY_GET}    when:\n    - key: request.headers[x-token]\n      notValues: ["admin"]\n`);
    expect(sim.decide(get).allowed).toBe(false);
    expect(sim.decide({ ...get, headers: { 'x-token': 'guest' } }).allowed).toBe(false);
    expect(sim.decide({ ...get, headers: { 'X-Token': 'admin' } }).allowed).toBe(true);
    expect(sim.decide(post).allowed).toBe(true);
  });

  test('require-jwt denies a request without a token and allows the testing@secure.istio.io principal', () => {
    const sim = simulator(`${JWT_EXAMPLE}---${REQUIRE_JWT}`);
    expect(sim.decide(get)).toMatchObject({ allowed: false, kind: DecisionKind.DENY, policy: { name: 'require-jwt' } });
    const ok = sim.decide({ ...get, token: DEMO_JWT });
    expect(ok).toMatchObject({ allowed: true, kind: DecisionKind.ALLOW, policy: { name: 'require-jwt' }, ruleIndex: 0 });
    expect(ok.explanation).toMatch(/request principal testing@secure.istio.io\/testing@secure.istio.io/);
  });

  test('an invalid token (issuer not configured on the workload) is rejected with 401, before any policy', () => {
    const sim = simulator(`${JWT_EXAMPLE}---${REQUIRE_JWT}`);
    const d = sim.decide({ ...get, token: { issuer: 'https://evil.example.com', subject: 'mallory' } });
    expect(d).toMatchObject({ allowed: false, kind: DecisionKind.UNAUTHENTICATED, policy: { kind: 'RequestAuthentication', name: 'jwt-example' } });
  });

  test('RequestAuthentication alone: no token passes, an invalid token gets 401', () => {
    const sim = simulator(JWT_EXAMPLE);
    expect(sim.decide(get).allowed).toBe(true);
    expect(sim.decide({ ...get, token: { issuer: 'other', subject: 'x' } }).kind).toBe(DecisionKind.UNAUTHENTICATED);
    expect(sim.decide({ ...get, token: DEMO_JWT }).allowed).toBe(true);
  });

  test('the claims variant denies a token without group1', () => {
    const sim = simulator(`${JWT_EXAMPLE}---${REQUIRE_JWT}    when:\n    - key: request.auth.claims[groups]\n      values: ["group1"]\n`);
    expect(sim.decide({ ...get, token: DEMO_JWT }).allowed).toBe(false);
    expect(sim.decide({ ...get, token: GROUPS_JWT }).allowed).toBe(true);
    expect(sim.decide(get).allowed).toBe(false);
  });

  test('ALLOW by principal allows only that service account', () => {
    const sim = simulator(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: httpbin-viewer, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: ALLOW
  rules:
  - from:
    - source: { principals: ["cluster.local/ns/foo/sa/sleep"] }
    to:
    - operation: { methods: ["GET"] }
`);
    expect(sim.canCall('foo/sleep', 'foo/httpbin')).toBe(true);
    expect(sim.canCall('foo/curl', 'foo/httpbin')).toBe(false);
    // A caller without a sidecar sends plaintext: no principal at all.
    const legacy = sim.call('foo/legacy', 'foo/httpbin');
    expect(legacy.allowed).toBe(false);
    expect(legacy.explanation).toMatch(/has no Istio proxy and sends plaintext/);
    expect(sim.canCall('foo/sleep', 'foo/httpbin', { method: 'POST' })).toBe(false);
  });

  test('a DENY wins over an ALLOW', () => {
    const sim = simulator(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-all, namespace: foo }
spec:
  action: ALLOW
  rules: [{}]
---
${DENY_GET}`);
    expect(sim.decide(get)).toMatchObject({ allowed: false, policy: { name: 'deny-method-get' } });
    expect(sim.decide(post)).toMatchObject({ allowed: true, policy: { name: 'allow-all' } });
  });
});

describe('TCP traffic (authz-tcp task)', () => {
  const TCP_ECHO = `${service('foo', 'tcp-echo', '[{ name: tcp, port: 9000 }, { name: tcp-other, port: 9001 }, { name: tcp-third, port: 9002 }]')}---
${deployment('foo', 'tcp-echo')}---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: tcp-policy, namespace: foo }
spec:
  selector: { matchLabels: { app: tcp-echo } }
`;
  const tcp = (port: number) => ({ destination: 'foo/tcp-echo', source: 'foo/sleep', port });

  test('ALLOW ports 9000 and 9001 rejects 9002', () => {
    const sim = simulator(`${TCP_ECHO}  action: ALLOW\n  rules:\n  - to:\n    - operation: { ports: ["9000", "9001"] }\n`);
    expect([9000, 9001, 9002].map((p) => sim.decide(tcp(p)).allowed)).toEqual([true, true, false]);
  });

  test('an ALLOW rule with an HTTP-only field never matches TCP traffic', () => {
    const sim = simulator(`${TCP_ECHO}  action: ALLOW\n  rules:\n  - to:\n    - operation: { methods: ["GET"], ports: ["9000"] }\n`);
    expect([9000, 9001].map((p) => sim.decide(tcp(p)).allowed)).toEqual([false, false]);
    expect(sim.decide(tcp(9000)).explanation).toMatch(/rules with HTTP-only fields never match/);
  });

  test('a DENY rule ignores HTTP-only fields on TCP: methods GET denies everything, with ports only that port', () => {
    const all = simulator(`${TCP_ECHO}  action: DENY\n  rules:\n  - to:\n    - operation: { methods: ["GET"] }\n`);
    expect([9000, 9001].map((p) => all.decide(tcp(p)).allowed)).toEqual([false, false]);
    const one = simulator(`${TCP_ECHO}  action: DENY\n  rules:\n  - to:\n    - operation: { methods: ["GET"], ports: ["9000"] }\n`);
    expect([9000, 9001].map((p) => one.decide(tcp(p)).allowed)).toEqual([false, true]);
  });
});

describe('matching semantics', () => {
  const allow = (rule: string) => simulator(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: rule, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  rules:
${rule}`);

  test('paths: prefix, suffix, {*} and {**} templates', () => {
    const sim = allow('  - to:\n    - operation: { paths: ["/info*", "*.png", "/user/{*}/profile", "/files/{**}"] }\n');
    const ok = (path: string) => sim.decide({ ...get, path }).allowed;
    expect(['/info', '/info/x', '/a/b.png', '/user/42/profile', '/files/a/b/c'].map(ok)).toEqual([true, true, true, true, true]);
    expect(['/inf', '/a.jpg', '/user/4/2/profile', '/file'].map(ok)).toEqual([false, false, false, false]);
  });

  test('ports are the workload (target) port, as strings', () => {
    const sim = allow('  - to:\n    - operation: { ports: ["8080"] }\n');
    expect(sim.decide(get).allowed).toBe(true);
    expect(allow('  - to:\n    - operation: { ports: ["8000"] }\n').decide(get).allowed).toBe(false);
  });

  test('namespaces and notNamespaces need an mTLS identity', () => {
    expect(allow('  - from:\n    - source: { namespaces: ["foo"] }\n').canCall('foo/sleep', 'foo/httpbin')).toBe(true);
    expect(allow('  - from:\n    - source: { namespaces: ["foo"] }\n').canCall('foo/legacy', 'foo/httpbin')).toBe(false);
    expect(allow('  - from:\n    - source: { notNamespaces: ["foo"] }\n').canCall('foo/sleep', 'foo/httpbin')).toBe(false);
    expect(allow('  - from:\n    - source: { notNamespaces: ["foo"] }\n').canCall('foo/legacy', 'foo/httpbin')).toBe(true);
  });

  test('principals with prefix and suffix wildcards; notPrincipals', () => {
    expect(allow('  - from:\n    - source: { principals: ["cluster.local/ns/foo/*"] }\n').canCall('foo/curl', 'foo/httpbin')).toBe(true);
    expect(allow('  - from:\n    - source: { principals: ["*/sa/sleep"] }\n').canCall('foo/curl', 'foo/httpbin')).toBe(false);
    expect(allow('  - from:\n    - source: { principals: ["*"] }\n').canCall('foo/legacy', 'foo/httpbin')).toBe(false);
    expect(allow('  - from:\n    - source: { notPrincipals: ["*"] }\n').canCall('foo/legacy', 'foo/httpbin')).toBe(true);
  });

  test('ipBlocks and source.ip conditions', () => {
    const sim = allow('  - from:\n    - source: { ipBlocks: ["1.2.3.4", "5.6.7.0/24"] }\n');
    expect(['1.2.3.4', '5.6.7.99', '5.6.8.1'].map((sourceIp) => sim.decide({ ...get, sourceIp }).allowed)).toEqual([true, true, false]);
    const when = allow('  - when:\n    - key: source.ip\n      notValues: ["10.0.0.0/8"]\n');
    expect(when.decide({ ...get, sourceIp: '10.1.2.3' }).allowed).toBe(false);
    expect(when.decide({ ...get, sourceIp: '192.168.0.1' }).allowed).toBe(true);
  });

  test('when: source.principal, source.namespace, destination.port, request.auth.* and request principals', () => {
    const sim = (key: string, values: string) => allow(`  - when:\n    - key: ${key}\n      values: [${values}]\n`);
    expect(sim('source.principal', '"cluster.local/ns/foo/sa/sleep"').decide(get).allowed).toBe(true);
    expect(sim('source.namespace', '"bar"').decide(get).allowed).toBe(false);
    expect(sim('destination.port', '"8080"').decide(get).allowed).toBe(true);
    const jwt = (key: string, values: string) => simulator(`${JWT_EXAMPLE}---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: jwt, namespace: foo }
spec:
  rules:
  - when:
    - key: ${key}
      values: [${values}]
`);
    const token = { ...DEMO_JWT, audiences: ['httpbin'], presenter: 'web-client' };
    expect(jwt('request.auth.audiences', '"httpbin"').decide({ ...get, token }).allowed).toBe(true);
    expect(jwt('request.auth.presenter', '"web-*"').decide({ ...get, token }).allowed).toBe(true);
    expect(jwt('request.auth.principal', '"testing@secure.istio.io/*"').decide({ ...get, token }).allowed).toBe(true);
    expect(jwt('request.auth.claims[foo]', '"baz"').decide({ ...get, token }).allowed).toBe(false);
  });

  test('requestPrincipals ["*"] needs any valid token; notRequestPrincipals ["*"] matches none', () => {
    const sim = simulator(`${JWT_EXAMPLE}---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: frontend-ingress, namespace: foo }
spec:
  action: DENY
  rules:
  - from:
    - source: { notRequestPrincipals: ["*"] }
`);
    expect(sim.decide(get).allowed).toBe(false);
    expect(sim.decide({ ...get, token: DEMO_JWT }).allowed).toBe(true);
  });

  test('dry-run policies are ignored', () => {
    const sim = simulator(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: dry-run-example, namespace: foo, annotations: { istio.io/dry-run: "true" } }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: DENY
  rules:
  - to:
    - operation: { paths: ["/headers"] }
`);
    expect(sim.decide({ ...get, path: '/headers' }).allowed).toBe(true);
  });

  test('a CUSTOM policy defers to the external authorizer, before DENY and ALLOW', () => {
    const sim = simulator(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ext-authz, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: CUSTOM
  provider: { name: opa }
  rules:
  - to:
    - operation: { paths: ["/admin*"] }
`);
    expect(sim.decide({ ...get, path: '/admin', externalAuthorizerAllows: false })).toMatchObject({ allowed: false, policy: { name: 'ext-authz' } });
    expect(sim.decide({ ...get, path: '/admin' }).explanation).toMatch(/sends it to opa, assumed to allow it/);
    expect(sim.decide({ ...get, path: '/public', externalAuthorizerAllows: false }).allowed).toBe(true);
  });
});

describe('scopes and mTLS', () => {
  test('an allow-nothing policy in the root namespace applies mesh-wide; with a selector to matching workloads only', () => {
    const meshWide = simulator('apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: allow-nothing, namespace: istio-system }\nspec: {}\n');
    expect(meshWide.decide(get)).toMatchObject({ allowed: false, policy: { namespaceName: 'istio-system' } });
    const selected = simulator('apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: deny-v1, namespace: istio-system }\nspec: { selector: { matchLabels: { version: v1 } } }\n');
    expect(selected.decide(get).allowed).toBe(false);
    expect(selected.decide({ ...get, destination: 'foo/sleep' }).allowed).toBe(true);
  });

  test('an empty selector selects the whole namespace', () => {
    const sim = simulator('apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: deny-all, namespace: foo }\nspec: { selector: { matchLabels: {} }, action: DENY, rules: [{}] }\n');
    expect(sim.decide(get)).toMatchObject({ allowed: false, policy: { name: 'deny-all' } });
  });

  const STRICT = `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: istio-system }
spec: { mtls: { mode: STRICT } }
`;

  test('STRICT mTLS refuses plaintext callers before any policy; a port-level DISABLE lets them in', () => {
    const sim = simulator(STRICT);
    expect(sim.call('foo/legacy', 'foo/httpbin')).toMatchObject({ allowed: false, kind: DecisionKind.CONNECTION_REFUSED, policy: { kind: 'PeerAuthentication', name: 'default' } });
    expect(sim.decide({ destination: 'foo/httpbin' }).kind).toBe(DecisionKind.CONNECTION_REFUSED);
    expect(sim.canCall('foo/sleep', 'foo/httpbin')).toBe(true);
    const exception = simulator(`${STRICT}---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: httpbin, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  mtls: { mode: UNSET }
  portLevelMtls: { "8080": { mode: DISABLE } }
`);
    expect(exception.canCall('foo/legacy', 'foo/httpbin')).toBe(true);
  });

  test('a DestinationRule that disables TLS makes in-mesh callers plaintext too', () => {
    const sim = simulator(`${STRICT}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: httpbin, namespace: foo }
spec: { host: httpbin.foo.svc.cluster.local, trafficPolicy: { tls: { mode: DISABLE } } }
`);
    expect(sim.call('foo/sleep', 'foo/httpbin')).toMatchObject({ kind: DecisionKind.CONNECTION_REFUSED });
  });

  test('a destination without a proxy enforces nothing', () => {
    const sim = simulator('apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: allow-nothing, namespace: foo }\nspec: {}\n');
    expect(sim.call('foo/sleep', 'foo/legacy')).toMatchObject({ allowed: true, kind: DecisionKind.ALLOW });
  });

  test('ambient: ztunnel enforces L4 only, a waypoint enforces attached L7 policies', () => {
    const AMBIENT = docs(
      namespace('shop', 'istio.io/dataplane-mode: ambient'),
      service('shop', 'cart'),
      deployment('shop', 'cart'),
      deployment('shop', 'web', { serviceAccount: 'web' }),
    );
    const selectorL7 = simulator(`${AMBIENT}---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: cart-get, namespace: shop }
spec:
  selector: { matchLabels: { app: cart } }
  rules: [{ to: [{ operation: { methods: ["GET"] } }] }]
`);
    expect(selectorL7.canCall('shop/web', 'shop/cart')).toBe(false);
    const waypoint = simulator(`${AMBIENT.replace('istio.io/dataplane-mode: ambient', 'istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint')}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: waypoint, namespace: shop }
spec: { gatewayClassName: istio-waypoint, listeners: [{ name: mesh, port: 15008, protocol: HBONE }] }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: cart-get, namespace: shop }
spec:
  targetRefs: [{ kind: Service, group: "", name: cart }]
  rules: [{ from: [{ source: { principals: ["cluster.local/ns/shop/sa/web"] } }], to: [{ operation: { methods: ["GET"] } }] }]
`);
    expect(waypoint.canCall('shop/web', 'shop/cart')).toBe(true);
    expect(waypoint.canCall('shop/web', 'shop/cart', { method: 'DELETE' })).toBe(false);
    expect(waypoint.canCall('shop/cart', 'shop/cart')).toBe(false);
  });
});

describe('helpers', () => {
  const sim = simulator(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: httpbin-from-sleep, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  rules: [{ from: [{ source: { principals: ["cluster.local/ns/foo/sa/sleep"] } }] }]
`);

  test('canCall takes workloads, Services and ServiceAccounts as callers and names what it cannot find', () => {
    expect(sim.canCall('foo/sleep', 'foo/httpbin')).toBe(true);
    expect(sim.canCall('foo/httpbin', 'foo/httpbin')).toBe(false);
    const viaServiceAccount = new MeshSimulator(MeshAnalysis.parseYaml(`${WORKLOADS}
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: sleep, namespace: bar }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: from-bar, namespace: foo }
spec:
  rules: [{ from: [{ source: { namespaces: ["bar"] } }] }]
`));
    expect(viaServiceAccount.canCall('bar/sleep', 'foo/httpbin')).toBe(true);
    expect(viaServiceAccount.canCall('foo/sleep', 'foo/httpbin')).toBe(false);
    expect(() => sim.canCall('foo/nobody', 'foo/httpbin')).toThrow('No workload, Service or ServiceAccount "foo/nobody"');
    expect(() => sim.decide({ destination: 'foo/missing' })).toThrow('No Service, workload or host "foo/missing"');
  });

  test('the access matrix is service × service and reads as a table', () => {
    const m = sim.accessMatrix();
    expect(m.services).toEqual(['foo/httpbin', 'foo/sleep']);
    expect(m.allowed).toEqual([[false, true], [true, true]]);
    expect(sim.accessMatrixTable()).toMatchSnapshot();
  });
});
