// The request simulator's trace against Istio's documented semantics. Each test names the Istio page (or the
// protobuf rule) it follows; outcomes are the ones the task pages state (200, 401, 403, a closed connection).
import { deployment, docs, namespace, service } from './fixtures';
import { MeshAnalysis, MeshSimulator, TraceOutcome, TraceRequest, TraceStepKind } from '../../src/analysis';
import { formatTrace } from '../../src/analysis/trace-format';

const sim = (yaml: string, options?: { meshConfig?: any }) => new MeshSimulator(MeshAnalysis.parseYaml(yaml), options);
const policy = (ns: string, name: string, spec: string, annotations = '') =>
  `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: ${name}, namespace: ${ns}${annotations ? `, annotations: { ${annotations} }` : ''} }\nspec: ${spec}\n`;
const authzStep = (t: ReturnType<MeshSimulator['trace']>) => t.destinations[0]?.steps.find((s) => s.kind === TraceStepKind.AUTHORIZATION);

/** httpbin (8000 → 8080) and sleep in namespace foo, sidecar-injected, as in Istio's authorization tasks. */
const FOO = docs(
  namespace('foo'),
  service('foo', 'httpbin', '[{ name: http, port: 8000, targetPort: 8080 }]'),
  deployment('foo', 'httpbin', { labels: 'app: httpbin, version: v1', serviceAccount: 'httpbin', containerPort: 8080 }),
  service('foo', 'sleep'),
  deployment('foo', 'sleep', { serviceAccount: 'sleep' }),
);
const fromSleep = (extra: TraceRequest = {}): TraceRequest => ({ source: 'foo/sleep', host: 'httpbin.foo:8000', port: 8000, ...extra });

/** security/tools/jwt/samples: demo.jwt and groups-scope.jwt. */
const DEMO = { issuer: 'testing@secure.istio.io', subject: 'testing@secure.istio.io', claims: { foo: 'bar' } };
const GROUPS = { ...DEMO, claims: { groups: ['group1', 'group2'], scope: ['scope1', 'scope2'] } };
const JWT_EXAMPLE = `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt-example, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  jwtRules: [{ issuer: testing@secure.istio.io, jwksUri: "https://raw.githubusercontent.com/istio/istio/release-1.30/security/tools/jwt/samples/jwks.json" }]
`;

describe("Istio's authorization tasks, traced", () => {
  // istio.io docs/tasks/security/authorization/authz-http (bookinfo in namespace default).
  const BOOKINFO = docs(
    namespace('default'),
    ...['productpage', 'details', 'reviews', 'ratings'].flatMap((s) => [
      service('default', s, '[{ name: http, port: 9080 }]'),
      deployment('default', `${s}-v1`, { labels: `app: ${s}, version: v1`, serviceAccount: `bookinfo-${s}`, containerPort: 9080 }),
    ]),
    policy('default', 'allow-nothing', '{}'),
  );
  const viewers = docs(
    policy('default', 'productpage-viewer', '{ selector: { matchLabels: { app: productpage } }, action: ALLOW, rules: [{ to: [{ operation: { methods: ["GET"] } }] }] }'),
    policy('default', 'details-viewer', '{ selector: { matchLabels: { app: details } }, action: ALLOW, rules: [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/bookinfo-productpage"] } }], to: [{ operation: { methods: ["GET"] } }] }] }'),
    policy('default', 'reviews-viewer', '{ selector: { matchLabels: { app: reviews } }, action: ALLOW, rules: [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/bookinfo-productpage"] } }], to: [{ operation: { methods: ["GET"] } }] }] }'),
  );
  const ratingsViewer = policy('default', 'ratings-viewer', '{ selector: { matchLabels: { app: ratings } }, action: ALLOW, rules: [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/bookinfo-reviews"] } }], to: [{ operation: { methods: ["GET"] } }] }] }');

  test('HTTP traffic: allow-nothing gives "RBAC: access denied"; the viewers let productpage read details and reviews; ratings waits for its own', () => {
    const denyAll = sim(BOOKINFO);
    const t = denyAll.trace({ source: 'default/reviews-v1', host: 'productpage:9080' });
    expect(t).toMatchObject({ outcome: TraceOutcome.FORBIDDEN, status: 403, allowed: false });
    expect(authzStep(t)).toMatchObject({ passed: false, object: { name: 'allow-nothing' } });
    const partly = sim(docs(BOOKINFO, viewers));
    expect(partly.trace({ source: 'default/productpage-v1', host: 'details:9080' })).toMatchObject({ outcome: TraceOutcome.REACHED, allowed: true });
    expect(partly.trace({ source: 'default/productpage-v1', host: 'details:9080', method: 'POST' })).toMatchObject({ outcome: TraceOutcome.FORBIDDEN, status: 403 });
    expect(partly.trace({ source: 'default/reviews-v1', host: 'ratings:9080' }).outcome).toBe(TraceOutcome.FORBIDDEN);
    expect(sim(docs(BOOKINFO, viewers, ratingsViewer)).trace({ source: 'default/reviews-v1', host: 'ratings:9080' }).outcome).toBe(TraceOutcome.REACHED);
  });

  // authz-tcp: tcp-echo on 9000, 9001 (in the Service) and 9002 (pod IP only), called by sleep.
  const TCP = docs(FOO,
    service('foo', 'tcp-echo', '[{ name: tcp, port: 9000 }, { name: tcp-other, port: 9001 }]'),
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: tcp-echo-v1, namespace: foo }\nspec: { selector: { matchLabels: { app: tcp-echo } }, template: { metadata: { labels: { app: tcp-echo } }, spec: { containers: [{ name: tcp-echo, image: tcp-echo, ports: [{ containerPort: 9000 }, { containerPort: 9001 }, { containerPort: 9002 }] }] } } }\n');
  const tcp = (yaml: string, port: number) => port === 9002
    ? sim(docs(TCP, yaml)).trace({ source: 'foo/sleep', destination: 'foo/tcp-echo-v1', port, tcp: true })
    : sim(docs(TCP, yaml)).trace({ source: 'foo/sleep', host: 'tcp-echo.foo', port });

  test('TCP traffic: ALLOW ports 9000 and 9001 rejects 9002; an HTTP-only field (methods) makes the ALLOW rule match nothing', () => {
    const ports = policy('foo', 'tcp-policy', '{ selector: { matchLabels: { app: tcp-echo } }, action: ALLOW, rules: [{ to: [{ operation: { ports: ["9000", "9001"] } }] }] }');
    expect([9000, 9001, 9002].map((p) => tcp(ports, p).outcome)).toEqual([TraceOutcome.REACHED, TraceOutcome.REACHED, TraceOutcome.FORBIDDEN]);
    const forbidden = tcp(ports, 9002);
    expect(forbidden.status).toBeUndefined(); // TCP: the connection is closed, no HTTP status
    const methods = policy('foo', 'tcp-policy', '{ selector: { matchLabels: { app: tcp-echo } }, action: ALLOW, rules: [{ to: [{ operation: { methods: ["GET"], ports: ["9000"] } }] }] }');
    expect([9000, 9001].map((p) => tcp(methods, p).outcome)).toEqual([TraceOutcome.FORBIDDEN, TraceOutcome.FORBIDDEN]);
  });

  test('TCP traffic: a DENY with methods only denies all TCP traffic; with ports ["9000"] only that port', () => {
    const all = policy('foo', 'tcp-policy', '{ selector: { matchLabels: { app: tcp-echo } }, action: DENY, rules: [{ to: [{ operation: { methods: ["GET"] } }] }] }');
    expect([9000, 9001].map((p) => tcp(all, p).outcome)).toEqual([TraceOutcome.FORBIDDEN, TraceOutcome.FORBIDDEN]);
    const port = policy('foo', 'tcp-policy', '{ selector: { matchLabels: { app: tcp-echo } }, action: DENY, rules: [{ to: [{ operation: { methods: ["GET"], ports: ["9000"] } }] }] }');
    expect([9000, 9001].map((p) => tcp(port, p).outcome)).toEqual([TraceOutcome.FORBIDDEN, TraceOutcome.REACHED]);
  });

  test('JWT: an invalid token gets 401, no token 200; with require-jwt no token gets 403; the groups claim picks groups-scope.jwt', () => {
    const ra = sim(docs(FOO, JWT_EXAMPLE));
    expect(ra.trace(fromSleep({ path: '/headers', token: { ...DEMO, valid: false } }))).toMatchObject({ outcome: TraceOutcome.UNAUTHENTICATED, status: 401 });
    expect(ra.trace(fromSleep({ path: '/headers' })).outcome).toBe(TraceOutcome.REACHED);
    const require = policy('foo', 'require-jwt', '{ selector: { matchLabels: { app: httpbin } }, action: ALLOW, rules: [{ from: [{ source: { requestPrincipals: ["testing@secure.istio.io/testing@secure.istio.io"] } }] }] }');
    const required = sim(docs(FOO, JWT_EXAMPLE, require));
    expect(required.trace(fromSleep({ path: '/headers' }))).toMatchObject({ outcome: TraceOutcome.FORBIDDEN, status: 403 });
    expect(required.trace(fromSleep({ path: '/headers', token: DEMO })).outcome).toBe(TraceOutcome.REACHED);
    const claims = sim(docs(FOO, JWT_EXAMPLE, require.replace('"] } }] }] }', '"] } }], when: [{ key: "request.auth.claims[groups]", values: ["group1"] }] }] }')));
    expect(claims.trace(fromSleep({ token: GROUPS })).outcome).toBe(TraceOutcome.REACHED);
    expect(claims.trace(fromSleep({ token: DEMO })).outcome).toBe(TraceOutcome.FORBIDDEN);
  });

  test('explicit deny: deny-method-get refuses GET, allows POST; the x-token variant lets admin through; allow-path-ip allows /ip only', () => {
    const denyGet = policy('foo', 'deny-method-get', '{ selector: { matchLabels: { app: httpbin } }, action: DENY, rules: [{ to: [{ operation: { methods: ["GET"] } }] }] }');
    const s = sim(docs(FOO, denyGet));
    expect(s.trace(fromSleep({ path: '/get' })).status).toBe(403);
    expect(s.trace(fromSleep({ path: '/post', method: 'POST' })).outcome).toBe(TraceOutcome.REACHED);
    const token = sim(docs(FOO, denyGet.replace('] } }] }] }', '] } }], when: [{ key: "request.headers[x-token]", notValues: ["admin"] }] }] }')));
    expect(token.trace(fromSleep({ headers: { 'x-token': 'admin' } })).outcome).toBe(TraceOutcome.REACHED);
    expect(token.trace(fromSleep({ headers: { 'x-token': 'guest' } })).outcome).toBe(TraceOutcome.FORBIDDEN);
    const ip = sim(docs(FOO, policy('foo', 'allow-path-ip', '{ selector: { matchLabels: { app: httpbin } }, action: ALLOW, rules: [{ to: [{ operation: { paths: ["/ip"] } }] }] }')));
    expect(ip.trace(fromSleep({ path: '/ip' })).outcome).toBe(TraceOutcome.REACHED);
    expect(ip.trace(fromSleep({ path: '/get' })).outcome).toBe(TraceOutcome.FORBIDDEN);
  });

  test('dry run: a dry-run DENY on /headers is not enforced; the trace says what it would have done', () => {
    const dry = policy('foo', 'dry-run-example', '{ selector: { matchLabels: { app: httpbin } }, action: DENY, rules: [{ to: [{ operation: { paths: ["/headers"] } }] }] }', '"istio.io/dry-run": "true"');
    const t = sim(docs(FOO, dry)).trace(fromSleep({ path: '/headers' }));
    expect(t.outcome).toBe(TraceOutcome.REACHED);
    expect(authzStep(t)!.summary).toMatch(/dry-run AuthorizationPolicy foo\/dry-run-example would deny it \(a shadow result only/);
  });

  // authz-ingress: the ingress gateway's own policy, by the client's IP.
  const INGRESS = docs(FOO,
    namespace('istio-system', 'istio-injection: disabled'),
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: istio-ingressgateway, namespace: istio-system }\nspec: { selector: { matchLabels: { istio: ingressgateway } }, template: { metadata: { labels: { app: istio-ingressgateway, istio: ingressgateway } }, spec: { serviceAccountName: istio-ingressgateway-service-account, containers: [{ name: istio-proxy, image: docker.io/istio/proxyv2:1.30.3, ports: [{ containerPort: 8080 }] }] } } }\n',
    service('istio-system', 'istio-ingressgateway', '[{ name: http2, port: 80, targetPort: 8080 }]', '{ istio: ingressgateway }'),
    'apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: { name: httpbin-gateway, namespace: foo }\nspec: { selector: { istio: ingressgateway }, servers: [{ port: { number: 8080, name: http, protocol: HTTP }, hosts: ["*"] }] }\n',
    'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: httpbin, namespace: foo }\nspec: { hosts: ["*"], gateways: [httpbin-gateway], http: [{ route: [{ destination: { host: httpbin, port: { number: 8000 } } }] }] }\n');
  const ingress = (policies: string, ip: string) => sim(docs(INGRESS, policies)).trace({ gateway: 'foo/httpbin-gateway', host: 'httpbin.example.com', port: 80, path: '/headers', sourceIp: ip });

  test('ingress: ALLOW ipBlocks on the gateway admits 1.2.3.4 and 5.6.7.0/24 and refuses others; remoteIpBlocks and DENY variants', () => {
    const allow = policy('istio-system', 'ingress-policy', '{ selector: { matchLabels: { app: istio-ingressgateway } }, action: ALLOW, rules: [{ from: [{ source: { ipBlocks: ["1.2.3.4", "5.6.7.0/24"] } }] }] }');
    expect(ingress(allow, '1.2.3.4')).toMatchObject({ outcome: TraceOutcome.REACHED, destinations: [{ destination: { host: 'httpbin.foo.svc.cluster.local', port: 8000 } }] });
    expect(ingress(allow, '5.6.7.89').outcome).toBe(TraceOutcome.REACHED);
    const refused = ingress(allow, '9.9.9.9');
    expect(refused).toMatchObject({ outcome: TraceOutcome.FORBIDDEN, status: 403 });
    expect(refused.steps.find((s) => s.kind === TraceStepKind.AUTHORIZATION)).toMatchObject({ passed: false, proxy: 'gateway foo/httpbin-gateway' });
    expect(ingress(allow.replace('ipBlocks', 'remoteIpBlocks'), '1.2.3.4').outcome).toBe(TraceOutcome.REACHED);
    const deny = policy('istio-system', 'ingress-policy', '{ selector: { matchLabels: { app: istio-ingressgateway } }, action: DENY, rules: [{ from: [{ source: { ipBlocks: ["1.2.3.4"] } }] }] }');
    expect(ingress(deny, '1.2.3.4').outcome).toBe(TraceOutcome.FORBIDDEN);
    expect(ingress(deny, '4.3.2.1').outcome).toBe(TraceOutcome.REACHED);
  });

  test('ingress JWT (authn-policy task): a DENY of notRequestPrincipals ["*"] on the gateway needs a valid token; per path for /headers only', () => {
    const ra = JWT_EXAMPLE.replace('namespace: foo', 'namespace: istio-system').replace('app: httpbin', 'istio: ingressgateway');
    const deny = policy('istio-system', 'frontend-ingress', '{ selector: { matchLabels: { istio: ingressgateway } }, action: DENY, rules: [{ from: [{ source: { notRequestPrincipals: ["*"] } }] }] }');
    const s = sim(docs(INGRESS, ra, deny));
    const via = (path: string, token?: typeof DEMO) => s.trace({ gateway: 'foo/httpbin-gateway', host: 'httpbin.example.com', port: 80, path, token });
    expect(via('/headers')).toMatchObject({ outcome: TraceOutcome.FORBIDDEN, status: 403 });
    expect(via('/headers', DEMO).outcome).toBe(TraceOutcome.REACHED);
    const perPath = sim(docs(INGRESS, ra, deny.replace('}] }] }', '}], to: [{ operation: { paths: ["/headers"] } }] }] }')));
    expect(perPath.trace({ gateway: 'foo/httpbin-gateway', host: 'httpbin.example.com', port: 80, path: '/headers' }).status).toBe(403);
    expect(perPath.trace({ gateway: 'foo/httpbin-gateway', host: 'httpbin.example.com', port: 80, path: '/ip' }).outcome).toBe(TraceOutcome.REACHED);
  });
});

describe("Istio's semantics, class by class", () => {
  test('1. an empty list is not a constraint: `from: []` and `methods: []` are "not set" (protobuf repeated fields have no presence)', () => {
    // protobuf.dev, Field Presence: repeated fields and maps do not track presence; an empty list is the default.
    const s = sim(docs(FOO, policy('foo', 'p', '{ selector: { matchLabels: { app: httpbin } }, rules: [{ to: [{ operation: { methods: [], paths: ["/ip"] } }] }] }')));
    expect(s.trace(fromSleep({ path: '/ip' })).outcome).toBe(TraceOutcome.REACHED);
    expect(s.trace(fromSleep({ path: '/get' })).outcome).toBe(TraceOutcome.FORBIDDEN);
    // Istio's webhook refuses an empty `from` ("`from` must not be empty"), so such a policy never exists in a cluster;
    // applied anyway (analyzeRefusedObjects), it is read the protobuf way: not set.
    const fromEmpty = docs(FOO, policy('foo', 'p', '{ selector: { matchLabels: { app: httpbin } }, rules: [{ from: [], to: [{ operation: { paths: ["/ip"] } }] }] }'));
    expect(sim(fromEmpty).trace(fromSleep({ path: '/get' })).outcome).toBe(TraceOutcome.REACHED);
    const applied = new MeshSimulator(MeshAnalysis.parseYaml(fromEmpty), { analyzeRefusedObjects: true });
    expect(applied.trace(fromSleep({ path: '/ip' })).outcome).toBe(TraceOutcome.REACHED);
    expect(applied.trace(fromSleep({ path: '/get' })).outcome).toBe(TraceOutcome.FORBIDDEN);
  });

  test('2. RequestAuthentication and request.auth.* apply to HTTP only: on TCP a token neither rejects nor admits', () => {
    // istio.io Authorization Policy Conditions: request.auth.principal, audiences, presenter, claims: "HTTP only".
    const yaml = docs(FOO, service('foo', 'db', '[{ name: tcp, port: 5432 }]'),
      deployment('foo', 'db', { serviceAccount: 'db', containerPort: 5432 }),
      JWT_EXAMPLE.replace('app: httpbin', 'app: db'),
      policy('foo', 'db', '{ selector: { matchLabels: { app: db } }, rules: [{ from: [{ source: { requestPrincipals: ["*"] } }] }] }'));
    const s = sim(yaml);
    const bad = s.trace({ source: 'foo/sleep', host: 'db', port: 5432, token: { ...DEMO, valid: false } });
    expect(bad.outcome).toBe(TraceOutcome.FORBIDDEN); // not 401: no JWT filter on TCP; and the HTTP-only rule never matches
    expect(bad.destinations[0].steps.some((st) => st.kind === TraceStepKind.AUTHENTICATION)).toBe(false);
    expect(s.trace({ source: 'foo/sleep', host: 'db', port: 5432, token: DEMO }).outcome).toBe(TraceOutcome.FORBIDDEN);
  });

  test('3. a method not in upper case is rejected with 400', () => {
    // istio.io Authorization Policy Normalization: "If the verb in the HTTP request is not in upper case, Istio rejects the request with HTTP 400."
    const t = sim(FOO).trace(fromSleep({ method: 'get' }));
    expect(t).toMatchObject({ outcome: TraceOutcome.BAD_REQUEST, status: 400, destinations: [] });
  });

  test('4. paths are normalized before authorization: query removed, dot segments resolved, unreserved characters decoded (BASE)', () => {
    // istio.io Authorization Policy Normalization: "%61-%7a ... Enabled by default with the normalization option BASE";
    // "/./ and /../ ... resolved according to RFC 3986"; "Istio authorization policies will remove everything after the ?".
    const deny = policy('foo', 'no-admin', '{ selector: { matchLabels: { app: httpbin } }, action: DENY, rules: [{ to: [{ operation: { paths: ["/admin"] } }] }] }');
    const s = sim(docs(FOO, deny));
    for (const path of ['/admin', '/admin?x=1', '/public/../admin', '/./admin', '/%61dmin', '/adm%69n?y']) {
      expect({ path, outcome: s.trace(fromSleep({ path })).outcome }).toEqual({ path, outcome: TraceOutcome.FORBIDDEN });
    }
    expect(s.trace(fromSleep({ path: '/admins' })).outcome).toBe(TraceOutcome.REACHED);
    // %2F is decoded only with DECODE_AND_MERGE_SLASHES; double slashes are merged from MERGE_SLASHES on.
    expect(s.trace(fromSleep({ path: '/x%2F..%2Fadmin' })).outcome).toBe(TraceOutcome.REACHED);
    const strict = sim(docs(FOO, deny), { meshConfig: { pathNormalization: { normalization: 'DECODE_AND_MERGE_SLASHES' } } });
    expect(strict.trace(fromSleep({ path: '/x%2F..%2Fadmin' })).outcome).toBe(TraceOutcome.FORBIDDEN);
    expect(strict.trace(fromSleep({ path: '//admin' })).outcome).toBe(TraceOutcome.FORBIDDEN);
    const none = sim(docs(FOO, deny), { meshConfig: { pathNormalization: { normalization: 'NONE' } } });
    expect(none.trace(fromSleep({ path: '/public/../admin' })).outcome).toBe(TraceOutcome.REACHED);
    expect(s.trace(fromSleep({ path: '/%00' }))).toMatchObject({ outcome: TraceOutcome.BAD_REQUEST, status: 400 });
  });

  test('5. "if either label is disabled, the pod is not injected": a pod label "true" does not override a disabled namespace', () => {
    // istio.io Installing the sidecar, "Controlling the injection policy".
    const yaml = docs(FOO, namespace('legacy', 'istio-injection: disabled'), service('legacy', 'old'),
      deployment('legacy', 'old', { labels: 'app: old, sidecar.istio.io/inject: "true"' }), policy('legacy', 'allow-nothing', '{}'));
    const t = sim(yaml).trace({ source: 'foo/sleep', host: 'old.legacy' });
    expect(t.outcome).toBe(TraceOutcome.REACHED);
    expect(t.destinations[0].steps.find((st) => st.kind === TraceStepKind.MTLS)!.summary).toMatch(/has no Istio proxy, so no mTLS or authorization policy is enforced/);
  });

  test('6. connection.sni is the outbound cluster name outbound_.<port>_.<subset>_.<fqdn>, whatever the Host header says', () => {
    // istio.io Authorization Policy Conditions: connection.sni, "requires mutual TLS enabled".
    const s = sim(docs(FOO, policy('foo', 'sni', '{ selector: { matchLabels: { app: httpbin } }, rules: [{ when: [{ key: connection.sni, values: ["outbound_.8000_._.httpbin.foo.svc.cluster.local"] }] }] }')));
    expect(s.trace(fromSleep({ host: 'httpbin.foo', headers: { host: 'anything.example.com' } })).outcome).toBe(TraceOutcome.REACHED);
    expect(s.trace({ host: 'httpbin.foo', port: 8000 }).outcome).not.toBe(TraceOutcome.REACHED);
  });

  test('7. request.auth.presenter comes only from a token a RequestAuthentication validated', () => {
    const rule = policy('foo', 'azp', '{ selector: { matchLabels: { app: httpbin } }, rules: [{ when: [{ key: request.auth.presenter, values: ["web-app"] }] }] }');
    const token = { ...DEMO, presenter: 'web-app' };
    expect(sim(docs(FOO, rule)).trace(fromSleep({ token })).outcome).toBe(TraceOutcome.FORBIDDEN);
    expect(sim(docs(FOO, JWT_EXAMPLE, rule)).trace(fromSleep({ token })).outcome).toBe(TraceOutcome.REACHED);
  });

  test('8. duplicate headers are merged with commas; header names ignore case', () => {
    // istio.io Authorization Policy Normalization: "Istio will merge duplicate headers to a single header by
    // concatenating all values using comma as a separator"; header names are compared case-insensitively.
    const s = sim(docs(FOO, policy('foo', 'hdr', '{ selector: { matchLabels: { app: httpbin } }, rules: [{ when: [{ key: "request.headers[X-Team]", values: ["a,b"] }] }] }')));
    expect(s.trace(fromSleep({ headers: { 'X-Team': 'a', 'x-team': 'b' } })).outcome).toBe(TraceOutcome.REACHED);
    expect(s.trace(fromSleep({ headers: { 'x-team': 'a' } })).outcome).toBe(TraceOutcome.FORBIDDEN);
  });

  test('9. the scope and permission claims are split on spaces; other claims only with spaceDelimitedClaims', () => {
    // istio/api#3547: "scope and permissions claims ... always treated as space-delimited"; spaceDelimitedClaims adds custom claims.
    const when = (key: string, value: string) => policy('foo', 'claim', `{ selector: { matchLabels: { app: httpbin } }, rules: [{ when: [{ key: "request.auth.claims[${key}]", values: ["${value}"] }] }] }`);
    const token = { ...DEMO, claims: { scope: 'read write', roles: 'editor admin' } };
    expect(sim(docs(FOO, JWT_EXAMPLE, when('scope', 'write'))).trace(fromSleep({ token })).outcome).toBe(TraceOutcome.REACHED);
    expect(sim(docs(FOO, JWT_EXAMPLE, when('roles', 'admin'))).trace(fromSleep({ token })).outcome).toBe(TraceOutcome.FORBIDDEN);
    const split = JWT_EXAMPLE.replace('jwks.json" }]', 'jwks.json", spaceDelimitedClaims: [roles] }]');
    expect(sim(docs(FOO, split, when('roles', 'admin'))).trace(fromSleep({ token })).outcome).toBe(TraceOutcome.REACHED);
  });

  const AMBIENT = docs(
    namespace('amb', 'istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint'),
    service('amb', 'api', '[{ name: http, port: 8080 }]'),
    deployment('amb', 'api', { serviceAccount: 'api', containerPort: 8080 }),
    service('amb', 'web'),
    deployment('amb', 'web', { serviceAccount: 'web' }),
    'apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: { name: waypoint, namespace: amb, labels: { istio.io/waypoint-for: service } }\nspec: { gatewayClassName: istio-waypoint, listeners: [{ name: mesh, port: 15008, protocol: HBONE }] }\n',
  );

  test('10. ambient: ztunnel sees the waypoint\'s identity once a waypoint is in the path; a namespace DISABLE is ignored', () => {
    // istio.io ambient "Use Layer 4 security policy": "Traffic arriving at the destination ztunnel will be coming from
    // the waypoint's identity"; "it is not possible to use the DISABLE mode in a policy. Such policies will be ignored".
    const byClient = policy('amb', 'api', '{ selector: { matchLabels: { app: api } }, rules: [{ from: [{ source: { principals: ["cluster.local/ns/amb/sa/web"] } }] }] }');
    const refused = sim(docs(AMBIENT, byClient)).trace({ source: 'amb/web', host: 'api', port: 8080 });
    expect(refused.outcome).toBe(TraceOutcome.FORBIDDEN);
    expect(authzStep(refused)!.proxy).toBe('ztunnel of Deployment amb/api');
    const byWaypoint = byClient.replace('sa/web', 'sa/waypoint');
    expect(sim(docs(AMBIENT, byWaypoint)).trace({ source: 'amb/web', host: 'api', port: 8080 }).outcome).toBe(TraceOutcome.REACHED);
    const disabled = docs(AMBIENT.replace(', istio.io/use-waypoint: waypoint', ''),
      'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: { name: default, namespace: istio-system }\nspec: { mtls: { mode: STRICT } }\n',
      'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: { name: default, namespace: amb }\nspec: { mtls: { mode: DISABLE } }\n');
    const plaintext = sim(disabled).trace({ host: 'api.amb', port: 8080 });
    expect(plaintext.outcome).toBe(TraceOutcome.CONNECTION_RESET);
    expect(plaintext.destinations[0].steps[1].summary).toMatch(/PeerAuthentication istio-system\/default spec.mtls.mode is STRICT.*PeerAuthentication amb\/default \(DISABLE\) is ignored in ambient mode/);
  });

  test('11. a ServiceAccount source `ns/name` is that namespace\'s identity, however the request is made', () => {
    const yaml = docs(FOO, 'apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: robot, namespace: b }\n',
      policy('foo', 'robot', '{ selector: { matchLabels: { app: httpbin } }, rules: [{ from: [{ source: { principals: ["cluster.local/ns/b/sa/robot"] } }] }] }'));
    const s = sim(yaml);
    expect(s.trace({ source: 'b/robot', host: 'httpbin.foo', port: 8000 }).outcome).toBe(TraceOutcome.REACHED);
    expect(s.trace({ source: 'robot', sourceNamespaceName: 'b', host: 'httpbin.foo', port: 8000 }).outcome).toBe(TraceOutcome.REACHED);
    expect(s.canCall('b/robot', 'foo/httpbin')).toBe(true);
  });
});

describe('routing, destinations and the hop', () => {
  const SHOP = docs(
    namespace('shop'),
    service('shop', 'reviews', '[{ name: http, port: 9080 }]'),
    deployment('shop', 'reviews-v1', { labels: 'app: reviews, version: v1', serviceAccount: 'reviews', containerPort: 9080 }),
    deployment('shop', 'reviews-v2', { labels: 'app: reviews, version: v2', serviceAccount: 'reviews', containerPort: 9080 }),
    service('shop', 'web'),
    deployment('shop', 'web', { serviceAccount: 'web' }),
    'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: reviews, namespace: shop }\nspec: { host: reviews, subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }] }\n',
  );
  const vs = (http: string) => `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: reviews, namespace: shop }\nspec: { hosts: [reviews], http: ${http} }\n`;
  const call = (yaml: string, extra: TraceRequest = {}, options?: { meshConfig?: any }) => sim(yaml, options).trace({ source: 'shop/web', host: 'reviews:9080', ...extra });

  test('a weighted split gives one destination per version with its share; a header match goes first (bookinfo test-v2)', () => {
    const yaml = docs(SHOP, vs(`[{ match: [{ headers: { end-user: { exact: jason } } }], route: [{ destination: { host: reviews, subset: v2 } }] },
      { route: [{ destination: { host: reviews, subset: v1 }, weight: 90 }, { destination: { host: reviews, subset: v2 }, weight: 10 }] }]`));
    const split = call(yaml);
    expect(split.destinations.map((d) => [d.destination.subset, d.destination.weightPercent, d.outcome])).toEqual([['v1', 90, TraceOutcome.REACHED], ['v2', 10, TraceOutcome.REACHED]]);
    expect(split.route).toMatchObject({ object: { kind: 'VirtualService', name: 'reviews' }, field: 'spec.http[1]', retries: { attempts: 2, isDefault: true }, timeout: undefined });
    const jason = call(yaml, { headers: { 'End-User': 'jason' } });
    expect(jason.route!.field).toBe('spec.http[0].match[0]');
    expect(jason.destinations.map((d) => [d.destination.subset, d.destination.weightPercent])).toEqual([['v2', 100]]);
    expect(jason.destinations[0].workload).toEqual({ kind: 'Deployment', namespaceName: 'shop', name: 'reviews-v2' });
  });

  test('timeouts, retries, faults, mirrors and rewrites of the rule are in the trace; an abort for every request ends it', () => {
    const yaml = docs(SHOP, vs(`[{ match: [{ uri: { prefix: /slow/ } }], timeout: 0.5s, retries: { attempts: 3, perTryTimeout: 100ms, retryOn: 5xx }, rewrite: { uri: /v2/ },
      fault: { delay: { fixedDelay: 7s, percentage: { value: 10 } } }, mirror: { host: reviews, subset: v2 }, mirrorPercentage: { value: 5 }, route: [{ destination: { host: reviews, subset: v1 } }] },
      { match: [{ uri: { exact: /broken } }], fault: { abort: { httpStatus: 555, percentage: { value: 100 } } }, route: [{ destination: { host: reviews, subset: v1 } }] },
      { route: [{ destination: { host: reviews, subset: v1 } }] }]`));
    expect(call(yaml, { path: '/slow/items' }).route).toEqual({
      object: { kind: 'VirtualService', namespaceName: 'shop', name: 'reviews' },
      field: 'spec.http[0].match[0]',
      timeout: '0.5s',
      retries: { attempts: 3, retryOn: '5xx', perTryTimeout: '100ms', isDefault: false },
      fault: 'delay 7s for 10% of requests',
      mirrors: ['reviews.shop.svc.cluster.local subset v2 (5%)'],
      rewrite: 'path /slow/items → /v2/items',
    });
    // Envoy replaces the matched prefix as written: `/slow` → `/v2/` turns /slow/items into /v2//items.
    expect(call(yaml.replace('prefix: /slow/', 'prefix: /slow'), { path: '/slow/items' }).route!.rewrite).toBe('path /slow/items → /v2//items');
    expect(call(yaml, { path: '/broken' })).toMatchObject({ outcome: TraceOutcome.ABORTED, status: 555, destinations: [] });
  });

  test('redirect and direct response answer at the caller\'s proxy', () => {
    const yaml = docs(SHOP, vs('[{ match: [{ uri: { exact: /old } }], redirect: { uri: /new, redirectCode: 308 } }, { match: [{ uri: { exact: /ping } }], directResponse: { status: 204 } }, { route: [{ destination: { host: reviews } }] }]'));
    expect(call(yaml, { path: '/old' })).toMatchObject({ outcome: TraceOutcome.REDIRECTED, status: 308 });
    expect(call(yaml, { path: '/old' }).explanation).toMatch(/redirects it \(308\) to http:\/\/reviews\/new/);
    expect(call(yaml, { path: '/ping' })).toMatchObject({ outcome: TraceOutcome.DIRECT_RESPONSE, status: 204 });
  });

  test('no rule matching is 404; a subset no DestinationRule defines and a version without pods are 503', () => {
    expect(call(docs(SHOP, vs('[{ match: [{ uri: { prefix: /api } }], route: [{ destination: { host: reviews } }] }]')), { path: '/' }))
      .toMatchObject({ outcome: TraceOutcome.NOT_FOUND, status: 404 });
    const missing = call(docs(SHOP, vs('[{ route: [{ destination: { host: reviews, subset: v3 } }] }]')));
    expect(missing).toMatchObject({ outcome: TraceOutcome.UNAVAILABLE, status: 503 });
    expect(missing.destinations[0].steps[0]).toMatchObject({ kind: TraceStepKind.DESTINATION, passed: false, object: { kind: 'DestinationRule' } });
    const dr = 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: reviews, namespace: shop }\nspec: { host: reviews, subsets: [{ name: v1, labels: { version: v1 } }, { name: v3, labels: { version: v3 } }] }\n';
    const noPods = call(docs(SHOP.split('---\n').filter((d) => !d.includes('kind: DestinationRule')).join('---\n'), dr, vs('[{ route: [{ destination: { host: reviews, subset: v3 } }] }]')));
    expect(noPods.destinations[0].explanation).toMatch(/no pod of Service shop\/reviews has the labels of subset v3/);
  });

  test('pods that never become Ready (a readiness probe on a port the container does not listen on) give 503', () => {
    const unready = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: api, namespace: shop }\nspec: { selector: { matchLabels: { app: api } }, template: { metadata: { labels: { app: api } }, spec: { containers: [{ name: api, image: api, ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { path: /healthz, port: 80 } } }] } } }\n';
    const t = sim(docs(SHOP, service('shop', 'api', '[{ name: http, port: 8080 }]'), unready)).trace({ source: 'shop/web', host: 'api', port: 8080 });
    expect(t).toMatchObject({ outcome: TraceOutcome.UNAVAILABLE, status: 503 });
    expect(t.explanation).toMatch(/readiness probe \(httpGet\) of container "api" targets port 80, but the container listens on 8080/);
  });

  test('egress: a Sidecar that does not import the host with REGISTRY_ONLY is 502 (BlackHoleCluster); ALLOW_ANY passes through', () => {
    const sidecar = (mode: string) => `apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: { name: web, namespace: shop }\nspec: { workloadSelector: { labels: { app: web } }, egress: [{ hosts: ["istio-system/*"] }], outboundTrafficPolicy: { mode: ${mode} } }\n`;
    const blocked = call(docs(SHOP, sidecar('REGISTRY_ONLY')));
    expect(blocked).toMatchObject({ outcome: TraceOutcome.BAD_GATEWAY, status: 502 });
    expect(blocked.steps[1]).toMatchObject({ kind: TraceStepKind.EGRESS, passed: false, object: { kind: 'Sidecar', name: 'web' } });
    const passthrough = call(docs(SHOP, sidecar('ALLOW_ANY')));
    expect(passthrough.outcome).toBe(TraceOutcome.REACHED);
    expect(passthrough.destinations[0].steps.find((s) => s.kind === TraceStepKind.MTLS)!.summary).toMatch(/PassthroughCluster sends plaintext/);
    expect(sim(docs(SHOP, sidecar('REGISTRY_ONLY'))).trace({ source: 'shop/web', host: 'api.example.com', port: 443 }).status).toBe(502);
    expect(sim(docs(SHOP, sidecar('ALLOW_ANY'))).trace({ source: 'shop/web', host: 'api.example.com', port: 443 }).outcome).toBe(TraceOutcome.REACHED);
  });

  test('mTLS: STRICT refuses a plaintext client; a DestinationRule with DISABLE towards STRICT is reset (503)', () => {
    const strict = 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: { name: default, namespace: shop }\nspec: { mtls: { mode: STRICT } }\n';
    expect(sim(docs(SHOP, strict)).trace({ host: 'reviews.shop', port: 9080 })).toMatchObject({ outcome: TraceOutcome.CONNECTION_RESET, status: undefined });
    const disable = 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: reviews, namespace: shop }\nspec: { host: reviews, trafficPolicy: { tls: { mode: DISABLE } }, subsets: [{ name: v1, labels: { version: v1 } }] }\n';
    const t = call(docs(SHOP.split('---\n').filter((d) => !d.includes('kind: DestinationRule')).join('---\n'), strict, disable));
    expect(t).toMatchObject({ outcome: TraceOutcome.CONNECTION_RESET, status: 503 });
    expect(t.destinations[0].steps.find((s) => s.kind === TraceStepKind.MTLS)).toMatchObject({ passed: false, field: 'spec.mtls.mode' });
  });

  test('two VirtualServices for one host: the trace says Istio\'s choice cannot be read from the manifests', () => {
    const other = vs('[{ route: [{ destination: { host: reviews, subset: v2 } }] }]').replace('name: reviews, namespace', 'name: reviews-2, namespace');
    const t = call(docs(SHOP, vs('[{ route: [{ destination: { host: reviews, subset: v1 } }] }]'), other));
    expect(t.undecided.join()).toMatch(/VirtualServices shop\/reviews, shop\/reviews-2 all define reviews.shop.svc.cluster.local for sidecars \(IST0109\)/);
  });

  test('delegation: the root rule hands the request to the delegate VirtualService\'s rules', () => {
    const root = 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: reviews, namespace: shop }\nspec: { hosts: [reviews], http: [{ match: [{ uri: { prefix: /v2 } }], delegate: { name: reviews-v2, namespace: shop } }, { route: [{ destination: { host: reviews, subset: v1 } }] }] }\n';
    const delegate = 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: reviews-v2, namespace: shop }\nspec: { http: [{ match: [{ uri: { prefix: /v2/api } }], route: [{ destination: { host: reviews, subset: v2 } }] }] }\n';
    const s = sim(docs(SHOP, root, delegate));
    const t = s.trace({ source: 'shop/web', host: 'reviews:9080', path: '/v2/api/x' });
    expect(t.route).toMatchObject({ object: { name: 'reviews-v2' }, field: 'spec.http[0].match[0]' });
    expect(t.destinations[0].destination.subset).toBe('v2');
    expect(s.trace({ source: 'shop/web', host: 'reviews:9080', path: '/v2/other' }).destinations[0].destination.subset).toBe('v1');
  });
});

describe('ingress gateways', () => {
  const SHOP = docs(
    namespace('shop'),
    service('shop', 'web', '[{ name: http, port: 8080 }]'),
    deployment('shop', 'web', { serviceAccount: 'web', containerPort: 8080 }),
    service('shop', 'api', '[{ name: http, port: 8080 }]'),
    deployment('shop', 'api', { serviceAccount: 'api', containerPort: 8080 }),
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: gateway, namespace: shop }\nspec: { selector: { matchLabels: { istio: gateway } }, template: { metadata: { labels: { istio: gateway, sidecar.istio.io/inject: "true" }, annotations: { inject.istio.io/templates: gateway } }, spec: { serviceAccountName: gateway, containers: [{ name: istio-proxy, image: auto, ports: [{ containerPort: 8080 }, { containerPort: 8443 }] }] } } }\n',
    service('shop', 'gateway', '[{ name: http, port: 80, targetPort: 8080 }, { name: https, port: 443, targetPort: 8443 }]', '{ istio: gateway }'),
  );
  const gw = (servers: string) => `apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: { name: gateway, namespace: shop }\nspec: { selector: { istio: gateway }, servers: ${servers} }\n`;
  const http = gw('[{ port: { number: 8080, name: http, protocol: HTTP }, hosts: [shop.example.com] }]');
  const routes = (rules: string) => `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: gateway, namespace: shop }\nspec: { hosts: [shop.example.com], gateways: [gateway], http: ${rules} }\n`;
  const enter = (yaml: string, path: string, extra: TraceRequest = {}) => sim(yaml).trace({ gateway: 'shop/gateway', host: 'shop.example.com', path, ...extra });

  test('first match wins at the gateway too: `/` written before `/api` sends /api/orders to web (and the analysis says so)', () => {
    const shadowed = docs(SHOP, http, routes('[{ match: [{ uri: { prefix: / } }], route: [{ destination: { host: web } }] }, { match: [{ uri: { prefix: /api } }], route: [{ destination: { host: api } }] }]'));
    expect(enter(shadowed, '/api/orders').destinations[0].destination.host).toBe('web.shop.svc.cluster.local');
    expect(MeshAnalysis.analyze(MeshAnalysis.parseYaml(shadowed)).map((f) => `${f.code} ${f.path}`)).toContain('IST0131 spec.http[1].match[0]');
    const ordered = docs(SHOP, http, routes('[{ match: [{ uri: { prefix: /api } }], route: [{ destination: { host: api } }] }, { match: [{ uri: { prefix: / } }], route: [{ destination: { host: web } }] }]'));
    expect(enter(ordered, '/api/orders').destinations[0].destination.host).toBe('api.shop.svc.cluster.local');
    expect(enter(ordered, '/index.html').destinations[0].destination.host).toBe('web.shop.svc.cluster.local');
  });

  test('the listener: no server on the port refuses the connection; a host no server serves is 404; plaintext to HTTPS is reset', () => {
    const yaml = docs(SHOP, http, routes('[{ route: [{ destination: { host: web } }] }]'));
    expect(enter(yaml, '/', { port: 443, tls: false })).toMatchObject({ outcome: TraceOutcome.CONNECTION_REFUSED });
    expect(enter(yaml, '/', { host: 'other.example.com' })).toMatchObject({ outcome: TraceOutcome.NOT_FOUND, status: 404 });
    const https = docs(SHOP, gw('[{ port: { number: 8443, name: https, protocol: HTTPS }, hosts: [shop.example.com], tls: { mode: SIMPLE, credentialName: shop-cert } }, { port: { number: 8080, name: http, protocol: HTTP }, hosts: [shop.example.com], tls: { httpsRedirect: true } }]'), routes('[{ route: [{ destination: { host: web } }] }]'));
    const ok = enter(https, '/', { port: 443 });
    expect(ok.outcome).toBe(TraceOutcome.REACHED);
    expect(ok.steps[0].summary).toMatch(/HTTPS on port 8443 \(Service shop\/gateway port 443\), server 0 of Gateway shop\/gateway \(TLS SIMPLE with credential shop-cert\)/);
    expect(ok.undecided.join()).toMatch(/Secret "shop-cert" \(shop\) .* is not in the manifests/);
    expect(enter(https, '/', { port: 443, tls: false }).outcome).toBe(TraceOutcome.CONNECTION_RESET);
    expect(enter(https, '/a', { port: 80 })).toMatchObject({ outcome: TraceOutcome.REDIRECTED, status: 301 });
    const noCert = docs(SHOP, gw('[{ port: { number: 8443, name: https, protocol: HTTPS }, hosts: [shop.example.com], tls: { mode: SIMPLE } }]'), routes('[{ route: [{ destination: { host: web } }] }]'));
    // Istio's webhook refuses the Gateway (SIMPLE TLS needs a credential), so it never exists in a cluster; applied
    // anyway (istioctl's file semantics, analyzeRefusedObjects), the listener has no certificate to offer.
    expect(() => enter(noCert, '/', { port: 443 })).toThrow(/No Istio Gateway "shop\/gateway" in the manifests/);
    const applied = new MeshSimulator(MeshAnalysis.parseYaml(noCert), { analyzeRefusedObjects: true });
    expect(applied.trace({ gateway: 'shop/gateway', host: 'shop.example.com', path: '/', port: 443 }).outcome).toBe(TraceOutcome.CONNECTION_RESET);
  });

  test('a Gateway of another namespace selecting the same pods is merged into the same Envoy, and the trace says so', () => {
    const foreign = gw('[{ port: { number: 8080, name: http, protocol: HTTP }, hosts: ["*"] }]').replace('name: gateway, namespace: shop', 'name: gateway, namespace: team-b');
    const t = enter(docs(SHOP, http, foreign, routes('[{ route: [{ destination: { host: web } }] }]')), '/');
    expect(t.undecided.join()).toMatch(/Gateway team-b\/gateway selects the same pods as shop\/gateway/);
  });

  test('the gateway forwards with its own identity: the destination admits the gateway\'s principal, not the client\'s', () => {
    const yaml = docs(SHOP, http, routes('[{ route: [{ destination: { host: web } }] }]'),
      policy('shop', 'web', '{ selector: { matchLabels: { app: web } }, rules: [{ from: [{ source: { principals: ["cluster.local/ns/shop/sa/gateway"] } }], to: [{ operation: { methods: ["GET"] } }] }] }'));
    expect(enter(yaml, '/').outcome).toBe(TraceOutcome.REACHED);
    const post = enter(yaml, '/', { method: 'POST' });
    expect(post).toMatchObject({ outcome: TraceOutcome.FORBIDDEN, status: 403 });
    expect(authzStep(post)!.proxy).toBe('sidecar of Deployment shop/web');
  });
});

// Envoy's CORS filter (envoyproxy.io docs/envoy/latest/configuration/http/http_filters/cors_filter: "Any legal OPTIONS
// requests will be responded directly by the filter and will not be passed to the next filter in the filter chain";
// "this filter will be bypassed if a direct response or route redirect is configured for the route"), its CorsPolicy
// `forward_not_matching_preflights` (default true; Istio's `unmatchedPreflights: IGNORE` sets it false), and Istio's
// VirtualService CorsPolicy reference (istio.io docs/reference/config/networking/virtual-service/#CorsPolicy).
describe('CORS: the routing proxy answers preflights (Envoy CORS filter)', () => {
  const SHOP = docs(
    namespace('shop'),
    service('shop', 'api', '[{ name: http, port: 8080 }]'),
    deployment('shop', 'api', { serviceAccount: 'api', containerPort: 8080 }),
    service('shop', 'web'),
    deployment('shop', 'web', { serviceAccount: 'web' }),
    policy('shop', 'allow-nothing', '{}'),
  );
  const cors = '{ allowOrigins: [{ exact: "https://app.example.com" }, { regex: "https://[a-z]+\\\\.example\\\\.org" }], allowMethods: [GET, POST], allowHeaders: [content-type], maxAge: 24h, allowCredentials: true }';
  const vs = (extra = '') => `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: api, namespace: shop }\nspec: { hosts: [api], http: [{ route: [{ destination: { host: api } }], corsPolicy: ${cors.slice(0, -2)}${extra} } }] }\n`;
  const preflight = (origin: string, extra: TraceRequest = {}): TraceRequest => ({
    source: 'shop/web',
    host: 'api:8080',
    method: 'OPTIONS',
    path: '/orders',
    headers: { 'Origin': origin, 'Access-Control-Request-Method': 'POST' },
    ...extra,
  });

  test('a preflight from an allowed origin is answered 200 by the caller\'s sidecar with the Access-Control-Allow-* headers; the service (deny-all) never sees it', () => {
    const t = sim(docs(SHOP, vs())).trace(preflight('https://app.example.com'));
    expect(t).toMatchObject({ outcome: TraceOutcome.PREFLIGHT_ANSWERED, status: 200, destinations: [] });
    expect(t.route!.corsPolicy).toMatchObject({
      preflight: true,
      originAllowed: true,
      allowCredentials: true,
      unmatchedPreflights: 'FORWARD',
      allowOrigins: ['exact:https://app.example.com', 'regex:https://[a-z]+\\.example\\.org'],
      preflightResponseHeaders: {
        'access-control-allow-origin': 'https://app.example.com',
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': 'GET,POST',
        'access-control-allow-headers': 'content-type',
        'access-control-max-age': '86400',
      },
    });
    expect(t.steps.find((s) => s.kind === TraceStepKind.ROUTING)!.summary).toMatch(/preflight from allowed origin https:\/\/app\.example\.com, answered 200 by Envoy's CORS filter/);
    expect(formatTrace(t)).toMatch(/^PREFLIGHT_ANSWERED \(200\) — not delivered\n[\s\S]*route: .*cors: origins exact:https:\/\/app\.example\.com, regex:https:\/\/\[a-z\]\+\\\.example\\\.org with credentials/);
    // A regex origin: the whole origin must match.
    expect(sim(docs(SHOP, vs())).trace(preflight('https://shop.example.org')).outcome).toBe(TraceOutcome.PREFLIGHT_ANSWERED);
  });

  test('a preflight from another origin goes on to the service (FORWARD, Envoy\'s default), or is answered without CORS headers (IGNORE)', () => {
    const forwarded = sim(docs(SHOP, vs())).trace(preflight('https://evil.example'));
    expect(forwarded.outcome).toBe(TraceOutcome.FORBIDDEN); // the service's allow-nothing decides
    expect(forwarded.route!.corsPolicy).toMatchObject({ preflight: true, originAllowed: false, preflightResponseHeaders: {} });
    const ignored = sim(docs(SHOP, vs(', unmatchedPreflights: IGNORE'))).trace(preflight('https://evil.example'));
    expect(ignored).toMatchObject({ outcome: TraceOutcome.PREFLIGHT_ANSWERED, status: 200 });
    expect(ignored.route!.corsPolicy!.preflightResponseHeaders).toEqual({ 'access-control-allow-credentials': 'true', 'access-control-allow-methods': 'GET,POST', 'access-control-allow-headers': 'content-type', 'access-control-max-age': '86400' });
  });

  test('not a preflight: OPTIONS without Access-Control-Request-Method, or the actual request, is routed; `*` allows any origin; a redirect bypasses the filter', () => {
    expect(sim(docs(SHOP, vs())).trace(preflight('https://app.example.com', { headers: { origin: 'https://app.example.com' } })).outcome).toBe(TraceOutcome.FORBIDDEN);
    const actual = sim(docs(SHOP, vs())).trace(preflight('https://app.example.com', { method: 'POST' }));
    expect(actual.outcome).toBe(TraceOutcome.FORBIDDEN);
    expect(actual.route!.corsPolicy).toMatchObject({ preflight: false, originAllowed: true, origin: 'https://app.example.com' });
    const any = vs().replace(cors, '{ allowOrigins: [{ exact: "*" }] }');
    expect(sim(docs(SHOP, any)).trace(preflight('https://whoever.example')).route!.corsPolicy!.preflightResponseHeaders).toEqual({ 'access-control-allow-origin': 'https://whoever.example' });
    const redirect = vs().replace('route: [{ destination: { host: api } }]', 'redirect: { uri: /v2 }');
    expect(sim(docs(SHOP, redirect)).trace(preflight('https://app.example.com'))).toMatchObject({ outcome: TraceOutcome.REDIRECTED, status: 301 });
  });

  // Istio puts the CORS filter after authentication and authorization (istio/istio#55318: "the request still goes
  // through the rbac filter"; #45716): a gateway policy requiring a token refuses the browser's preflight, which
  // carries none, before the CORS filter could answer it.
  test('at a gateway, its AuthorizationPolicy decides before the CORS filter: a policy requiring a token refuses the preflight (403)', () => {
    const GW = docs(
      SHOP,
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: gateway, namespace: shop }\nspec: { selector: { matchLabels: { istio: gateway } }, template: { metadata: { labels: { istio: gateway, sidecar.istio.io/inject: "true" }, annotations: { inject.istio.io/templates: gateway } }, spec: { serviceAccountName: gateway, containers: [{ name: istio-proxy, image: auto, ports: [{ containerPort: 8080 }] }] } } }\n',
      service('shop', 'gateway', '[{ name: http, port: 80, targetPort: 8080 }]', '{ istio: gateway }'),
      'apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: { name: gateway, namespace: shop }\nspec: { selector: { istio: gateway }, servers: [{ port: { number: 8080, name: http, protocol: HTTP }, hosts: [api.example.com] }] }\n',
      `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: edge, namespace: shop }\nspec: { hosts: [api.example.com], gateways: [gateway], http: [{ route: [{ destination: { host: api } }], corsPolicy: ${cors} }] }\n`,
    );
    const viaGateway = { gateway: 'shop/gateway', host: 'api.example.com', method: 'OPTIONS', path: '/orders', headers: { 'origin': 'https://app.example.com', 'access-control-request-method': 'POST' } };
    const allowGateway = policy('shop', 'gateway', '{ selector: { matchLabels: { istio: gateway } }, action: ALLOW, rules: [{}] }');
    const answered = sim(docs(GW, allowGateway)).trace(viaGateway);
    expect(answered).toMatchObject({ outcome: TraceOutcome.PREFLIGHT_ANSWERED, status: 200 });
    expect(answered.steps.find((s) => s.kind === TraceStepKind.ROUTING)!.proxy).toBe('gateway shop/gateway');
    const tokenOnly = policy('shop', 'gateway', '{ selector: { matchLabels: { istio: gateway } }, action: ALLOW, rules: [{ from: [{ source: { requestPrincipals: ["*"] } }] }] }');
    expect(sim(docs(GW, tokenOnly)).trace(viaGateway)).toMatchObject({ outcome: TraceOutcome.FORBIDDEN, status: 403 });
  });
});
