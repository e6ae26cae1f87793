// Checks of Gateway API mesh objects on hand-written YAML. Sources: the HTTPRoute CRD of Gateway API v1.6.1
// (parentRefs; a backendRef that cannot be resolved: "requests ... MUST receive a 500 status code"), istio.io
// "Use Layer 7 features" (mixing VirtualService and HTTPRoute for one workload is undefined), istio.io "Configure
// waypoint proxies" (a waypoint is used once a Namespace or Service carries istio.io/use-waypoint).
import { deployment, docs, namespace, service } from './fixtures';
import { Finding, MeshAnalysis, MeshSimulator, TraceOutcome } from '../../src';

const analyze = (yaml: string) => MeshAnalysis.analyze(MeshAnalysis.parseYaml(yaml));
const only = (findings: Finding[], code: string) => findings.filter((f) => f.code === code);
const BASE = docs(
  namespace('shop', 'istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint'),
  service('shop', 'reviews', '[{ name: http, port: 9080 }]'),
  service('shop', 'reviews-v1', '[{ name: http, port: 9080 }]', '{ app: reviews, version: v1 }'),
  deployment('shop', 'reviews-v1', { labels: 'app: reviews, version: v1', serviceAccount: 'reviews', containerPort: 9080 }),
);
const WAYPOINT = 'apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: { name: waypoint, namespace: shop }\n'
  + 'spec: { gatewayClassName: istio-waypoint, listeners: [{ name: mesh, port: 15008, protocol: HBONE }] }\n';
const route = (parent: string, backend: string, extra = '') => 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: reviews, namespace: shop }\n'
  + `spec: { parentRefs: [${parent}], rules: [{ backendRefs: [${backend}]${extra} }] }\n`;

describe('Gateway API references', () => {
  test('CMA126: a parentRef to a Service (or port) the manifests do not have', () => {
    const missing = analyze(docs(BASE, WAYPOINT, route('{ group: "", kind: Service, name: review, port: 9080 }', '{ name: reviews-v1, port: 9080 }')));
    expect(only(missing, 'CMA126')).toEqual([expect.objectContaining({
      kind: 'HTTPRoute',
      name: 'reviews',
      path: 'spec.parentRefs[0]',
      message: 'Service shop/review does not exist in the manifests: the HTTPRoute is attached to nothing there, so its rules apply to no request.',
    })]);
    const port = analyze(docs(BASE, WAYPOINT, route('{ group: "", kind: Service, name: reviews, port: 80 }', '{ name: reviews-v1, port: 9080 }')));
    expect(only(port, 'CMA126').map((f) => f.message)).toEqual([expect.stringMatching(/^Service shop\/reviews has no port 80 \(ports: 9080\)/)]);
    const fine = analyze(docs(BASE, WAYPOINT, route('{ group: "", kind: Service, name: reviews, port: 9080 }', '{ name: reviews-v1, port: 9080 }')));
    expect([...only(fine, 'CMA126'), ...only(fine, 'CMA127')]).toEqual([]);
  });

  test('CMA127: a backendRef (or a mirror) to a missing Service', () => {
    const findings = analyze(docs(BASE, WAYPOINT, route('{ group: "", kind: Service, name: reviews, port: 9080 }', '{ name: reviews-v2, port: 9080 }',
      ', filters: [{ type: RequestMirror, requestMirror: { backendRef: { name: shadow, port: 9080 } } }]')));
    expect(only(findings, 'CMA127').map((f) => [f.path, f.message.split(':')[0]])).toEqual([
      ['spec.rules[0].backendRefs[0]', 'Service shop/reviews-v2 does not exist in the manifests'],
      ['spec.rules[0].filters[0].requestMirror.backendRef', 'Service shop/shadow does not exist in the manifests'],
    ]);
  });

  test('CMA128: an HTTPRoute attached to a Service and a mesh VirtualService for its host', () => {
    const vs = (gateways: string) => `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: reviews, namespace: shop }\nspec: { hosts: [reviews]${gateways}, http: [{ route: [{ destination: { host: reviews } }] }] }\n`;
    const gamma = route('{ group: "", kind: Service, name: reviews, port: 9080 }', '{ name: reviews-v1, port: 9080 }');
    expect(only(analyze(docs(BASE, WAYPOINT, gamma, vs(''))), 'CMA128')).toEqual([expect.objectContaining({
      kind: 'VirtualService', path: 'spec.hosts[0]', message: expect.stringMatching(/HTTPRoute shop\/reviews is attached to the Service: mixing VirtualService and HTTPRoute for one workload is undefined in Istio/),
    })]);
    // A VirtualService bound to an ingress gateway only does not route the mesh's requests.
    expect(only(analyze(docs(BASE, WAYPOINT, gamma, vs(', gateways: [shop/gateway]'))), 'CMA128')).toEqual([]);
  });

  test('CMA129: a waypoint no Namespace or Service uses', () => {
    const unused = analyze(docs(BASE.replace(', istio.io/use-waypoint: waypoint', ''), WAYPOINT));
    expect(only(unused, 'CMA129')).toEqual([expect.objectContaining({ kind: 'Gateway', name: 'waypoint', message: expect.stringMatching(/the waypoint carries no traffic/) })]);
    expect(only(analyze(docs(BASE, WAYPOINT)), 'CMA129')).toEqual([]);
  });
});

describe('Gateway API ingress references (Gateway API v1.6.1: ReferenceGrant, listener distinctness, parentRef sectionName)', () => {
  const GATEWAY = (listeners: string, ns = 'shop', name = 'edge', extra = '') => `apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: { name: ${name}, namespace: ${ns} }\n`
    + `spec: { gatewayClassName: istio${extra}, listeners: [${listeners}] }\n`;
  const HTTP = '{ name: http, port: 80, protocol: HTTP }';
  const ingressRoute = (parent: string, backend: string) => 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: front, namespace: edge }\n'
    + `spec: { parentRefs: [${parent}], rules: [{ backendRefs: [${backend}] }] }\n`;
  const GRANT = (from: string) => 'apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: { name: from-edge, namespace: shop }\n'
    + `spec: { from: [${from}], to: [{ group: "", kind: Service, name: reviews }] }\n`;
  const EDGE = docs(namespace('edge', 'istio-injection: enabled'), GATEWAY(HTTP, 'edge'));

  test('CMA130: a backendRef to another namespace without a ReferenceGrant that permits it', () => {
    const front = ingressRoute('{ name: edge }', '{ name: reviews, namespace: shop, port: 9080 }');
    const refused = only(analyze(docs(BASE, EDGE, front)), 'CMA130');
    expect(refused).toEqual([expect.objectContaining({
      kind: 'HTTPRoute',
      name: 'front',
      path: 'spec.rules[0].backendRefs[0]',
      message: 'The backend shop/reviews is in another namespace, and no ReferenceGrant in namespace shop lets HTTPRoute objects of namespace edge refer to Service shop/reviews: Istio refuses the reference (RefNotPermitted), so the requests routed there get 500.',
    })]);
    expect(refused[0].fix).toMatch(/Add a ReferenceGrant in namespace shop with from \{group: gateway\.networking\.k8s\.io, kind: HTTPRoute, namespace: edge\}/);
    // A grant for exactly that reference; a grant for another namespace does not count.
    expect(only(analyze(docs(BASE, EDGE, front, GRANT('{ group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: edge }'))), 'CMA130')).toEqual([]);
    expect(only(analyze(docs(BASE, EDGE, front, GRANT('{ group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: other }'))), 'CMA130')).toHaveLength(1);
    // And the simulator agrees: without the grant the gateway answers 500.
    const sim = new MeshSimulator(MeshAnalysis.parseYaml(docs(BASE, EDGE, front)));
    expect(sim.trace({ gateway: 'edge/edge', host: 'shop.example.com', port: 80 })).toMatchObject({ outcome: TraceOutcome.DIRECT_RESPONSE, status: 500 });
  });

  test('CMA130: a listener certificateRef to a Secret of another namespace without a ReferenceGrant', () => {
    const https = '{ name: https, port: 443, protocol: HTTPS, tls: { mode: Terminate, certificateRefs: [{ kind: Secret, name: cert, namespace: shop }] } }';
    const findings = only(analyze(docs(BASE, namespace('edge', 'istio-injection: enabled'), GATEWAY(https, 'edge'))), 'CMA130');
    expect(findings).toEqual([expect.objectContaining({ kind: 'Gateway', path: 'spec.listeners[0].tls.certificateRefs[0]', message: expect.stringMatching(/Istio does not program the listener/) })]);
    const grant = 'apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: { name: certs, namespace: shop }\n'
      + 'spec: { from: [{ group: gateway.networking.k8s.io, kind: Gateway, namespace: edge }], to: [{ group: "", kind: Secret }] }\n';
    expect(only(analyze(docs(BASE, namespace('edge', 'istio-injection: enabled'), GATEWAY(https, 'edge'), grant)), 'CMA130')).toEqual([]);
  });

  test('CMA131: listeners on one port with one hostname, or protocols that cannot share a port', () => {
    const dup = only(analyze(docs(BASE, GATEWAY(`${HTTP}, { name: web, port: 80, protocol: HTTPS, tls: { mode: Terminate, certificateRefs: [{ name: c }] } }`))), 'CMA131');
    expect(dup).toEqual([expect.objectContaining({ path: 'spec.listeners[1]', message: 'Listener "web" conflicts with listener "http": HTTPS and HTTP cannot share port 80, so Istio marks them Conflicted and does not program them.' })]);
    const hosts = only(analyze(docs(BASE, GATEWAY('{ name: a, port: 443, protocol: HTTPS, hostname: a.example.com, tls: { certificateRefs: [{ name: c }] } }, { name: b, port: 443, protocol: TLS, hostname: a.example.com, tls: { mode: Passthrough } }'))), 'CMA131');
    expect(hosts.map((f) => f.message)).toEqual([expect.stringMatching(/both take port 443 for hostname a\.example\.com/)]);
    // Gateways sharing an address share their ports.
    const address = ', addresses: [{ type: IPAddress, value: 10.0.0.1 }]';
    expect(only(analyze(docs(BASE, GATEWAY(HTTP, 'shop', 'a', address), GATEWAY(HTTP, 'shop', 'b', address))), 'CMA131')).toHaveLength(2);
    // Distinct hostnames on one port, and HTTPS beside TLS, are fine; so are two Gateways with their own addresses.
    expect(only(analyze(docs(BASE, GATEWAY('{ name: a, port: 443, protocol: HTTPS, hostname: a.example.com, tls: { certificateRefs: [{ name: c }] } }, { name: b, port: 443, protocol: TLS, hostname: b.example.com, tls: { mode: Passthrough } }'))), 'CMA131')).toEqual([]);
    expect(only(analyze(docs(BASE, GATEWAY(HTTP, 'shop', 'a'), GATEWAY(HTTP, 'shop', 'b'))), 'CMA131')).toEqual([]);
  });

  test('CMA132: a parentRef whose sectionName names no listener, or whose listeners do not admit the route', () => {
    const sameNs = docs(BASE, GATEWAY(HTTP, 'shop'));
    const missing = only(analyze(docs(sameNs, route('{ name: edge, sectionName: https }', '{ name: reviews-v1, port: 9080 }'))), 'CMA132');
    expect(missing).toEqual([expect.objectContaining({ path: 'spec.parentRefs[0].sectionName', message: 'Gateway shop/edge has no listener "https" (listeners: http): the HTTPRoute is bound to nothing there.' })]);
    expect(only(analyze(docs(sameNs, route('{ name: edge, sectionName: http }', '{ name: reviews-v1, port: 9080 }'))), 'CMA132')).toEqual([]);
    // A route of another namespace on a listener that admits its own namespace only (allowedRoutes default: Same).
    const other = only(analyze(docs(BASE, EDGE, ingressRoute('{ name: edge, namespace: shop }', '{ name: x, port: 80 }'), GATEWAY(HTTP, 'shop'))), 'CMA132');
    expect(other).toEqual([expect.objectContaining({ path: 'spec.parentRefs[0]', message: expect.stringMatching(/No listener of Gateway shop\/edge admits the HTTPRoute: HTTPRoute edge\/front: listener "http" admits routes of its own namespace only/) })]);
  });
});
