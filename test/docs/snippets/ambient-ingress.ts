import { App, Chart } from 'cdk8s';
import { Dataplane, GatewayListener, GatewayTls, IngressGateway, Mesh, MeshService, MeshSimulator, PathMatch } from 'cdk8s-mesh';

// In ambient mode the mesh routes with the Gateway API, and so does its ingress gateway: a Gateway of
// class `istio` (Istio deploys its Envoy as `edge-istio`) and an HTTPRoute bound to its listeners.
const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });
const mesh = new Mesh(chart, 'mesh', { dataplane: Dataplane.ambient({ waypoint: true }) });
const web = new MeshService(chart, 'web', { mesh, image: 'example/web:1.0', port: 8080 });
const api = new MeshService(chart, 'api', { mesh, image: 'example/api:1.0', port: 9080 });
const edge = new IngressGateway(chart, 'edge', {
  mesh,
  hosts: ['shop.example.com'],
  listeners: [GatewayListener.https({ tls: GatewayTls.simple('shop-cert') }), GatewayListener.http({ httpsRedirect: true })],
});
web.exposeViaGateway(edge);
// PathMatch.pathPrefix matches whole path elements (a Gateway API PathPrefix): /api and /api/..., not /apis.
api.exposeViaGateway(edge, { paths: [PathMatch.pathPrefix('/api')] });

// Traced through the Gateway: HTTP is redirected, HTTPS reaches api as the gateway's identity.
const sim = new MeshSimulator(chart.toJson());
const redirected = sim.trace({ gateway: 'shop/edge', host: 'shop.example.com', path: '/api/orders', port: 80 });
const reached = sim.trace({ gateway: 'shop/edge', host: 'shop.example.com', path: '/api/orders', port: 443 });
if (redirected.status !== 301 || reached.destinations[0]?.workload?.name !== 'api-v1') throw new Error(reached.explanation);
if (edge.principal !== 'cluster.local/ns/shop/sa/edge-istio') throw new Error(edge.principal);

app.synth();
