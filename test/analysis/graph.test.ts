import { deployment, docs, namespace, service } from './fixtures';
import { MeshAnalysis, TopologyGraph } from '../../src/analysis';

const MESH = MeshAnalysis.parseYaml(`${docs(
  namespace('shop'),
  service('shop', 'reviews', '[{ name: http, port: 9080 }]'),
  service('shop', 'web'),
  deployment('shop', 'reviews-v1', { labels: 'app: reviews, version: v1', serviceAccount: 'reviews' }),
  deployment('shop', 'reviews-v2', { labels: 'app: reviews, version: v2', serviceAccount: 'reviews' }),
  deployment('shop', 'web', { serviceAccount: 'web' }),
)}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: shop }
spec: { host: reviews, subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }] }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: shop }
spec:
  hosts: [reviews]
  http:
  - route:
    - { destination: { host: reviews, subset: v1 }, weight: 80 }
    - { destination: { host: reviews, subset: v2 }, weight: 20 }
    mirror: { host: reviews, subset: v2 }
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: edge, namespace: shop }
spec: { selector: { istio: ingressgateway }, servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: [shop.example.com] }] }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: edge, namespace: shop }
spec: { hosts: [shop.example.com], gateways: [edge], http: [{ route: [{ destination: { host: web } }] }] }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: payments, namespace: shop }
spec: { hosts: [api.payments.example], ports: [{ number: 443, name: https, protocol: HTTPS }], resolution: DNS, location: MESH_EXTERNAL }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: reviews, namespace: shop }
spec:
  selector: { matchLabels: { app: reviews } }
  rules: [{ from: [{ source: { principals: ["cluster.local/ns/shop/sa/web"] } }] }]
`);

test('Mermaid: services, versions, weighted routes, gateways, external hosts and allowed calls', () => {
  const text = TopologyGraph.mermaid(MESH);
  expect(text.split('\n')).toEqual(expect.arrayContaining([
    'flowchart LR',
    '  ext_api_payments_example[/"api.payments.example"/]',
    '  subgraph ns_shop["namespace shop"]',
    '    gw_shop__edge{{"gateway edge"}}',
    '    svc_shop__reviews__v_v2(["reviews v2"])',
    '  svc_shop__reviews -->|"80%"| svc_shop__reviews__v_v1',
    '  svc_shop__reviews -->|"20%"| svc_shop__reviews__v_v2',
    '  svc_shop__reviews -.->|"mirror"| svc_shop__reviews__v_v2',
    '  gw_shop__edge --> svc_shop__web',
    '  svc_shop__web -.->|"allowed"| svc_shop__reviews',
  ]));
  // reviews is under default-deny and only web may call it; web has no policy, so no access edges point to it.
  expect(text).not.toContain('svc_shop__reviews -.->|"allowed"| svc_shop__reviews');
  expect(text).not.toMatch(/-\.->\|"allowed"\| svc_shop__web/);
  expect(text).toMatchSnapshot();
});

test('DOT: the same picture as a Graphviz digraph; access edges can be left out', () => {
  const text = TopologyGraph.dot(MESH, { includeAccess: false });
  expect(text).toContain('  subgraph "cluster_shop" {\n    label="namespace shop";');
  expect(text).toContain('  "svc_shop__reviews" -> "svc_shop__reviews__v_v1" [label="80%"];');
  expect(text).toContain('  "ext_api_payments_example" [label="api.payments.example", shape=parallelogram];');
  expect(text).not.toContain('allowed');
  expect(text).toMatchSnapshot();
});

test('the text is deterministic', () => {
  expect(TopologyGraph.mermaid([...MESH].reverse())).toBe(TopologyGraph.mermaid(MESH));
});

describe('TopologyGraph: egress and gateway workloads', () => {
  const manifests = MeshAnalysis.parseYaml(`${docs(
    namespace('shop'),
    service('shop', 'web'),
    deployment('shop', 'web', { serviceAccount: 'web' }),
    service('shop', 'edge', '[{ name: http, port: 80 }]', '{ istio: edge }'),
    deployment('shop', 'edge', { labels: 'app: edge, istio: edge', serviceAccount: 'edge' }),
  )}---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: edge, namespace: shop }
spec: { selector: { istio: edge }, servers: [{ port: { number: 8080, name: http, protocol: HTTP }, hosts: ['*'] }] }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: stripe, namespace: shop }
spec: { hosts: [api.stripe.com], ports: [{ number: 443, name: https, protocol: HTTPS }], resolution: DNS, location: MESH_EXTERNAL }
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: web, namespace: shop }
spec: { workloadSelector: { labels: { app: web } }, egress: [{ hosts: [shop/api.stripe.com, istio-system/*] }] }
`);

  test("a scoped Sidecar's external egress host is an egress edge", () => {
    expect(TopologyGraph.mermaid(manifests)).toContain('svc_shop__web -.->|"egress"| ext_api_stripe_com');
    expect(TopologyGraph.dot(manifests)).toContain('"svc_shop__web" -> "ext_api_stripe_com" [label="egress", style=dashed, color=gray40];');
  });

  test("the Service in front of a gateway's own pods is drawn as the gateway, not as a service", () => {
    const mermaid = TopologyGraph.mermaid(manifests);
    expect(mermaid).toContain('gw_shop__edge{{"gateway edge"}}');
    expect(mermaid).not.toContain('svc_shop__edge');
  });
});
