// Checks of Gateway API mesh objects on hand-written YAML. Sources: the HTTPRoute CRD of Gateway API v1.6.1
// (parentRefs; a backendRef that cannot be resolved: "requests ... MUST receive a 500 status code"), istio.io
// "Use Layer 7 features" (mixing VirtualService and HTTPRoute for one workload is undefined), istio.io "Configure
// waypoint proxies" (a waypoint is used once a Namespace or Service carries istio.io/use-waypoint).
import { deployment, docs, namespace, service } from './fixtures';
import { Finding, MeshAnalysis } from '../../src';

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
