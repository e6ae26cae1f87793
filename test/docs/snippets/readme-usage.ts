import { App, Chart } from 'cdk8s';
import { HttpMethod, IngressGateway, Mesh, MeshService } from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });

// The namespace: sidecar injection, STRICT mutual TLS, default-deny authorization.
const mesh = new Mesh(chart, 'mesh');

// Each service: a ServiceAccount (its mesh identity), a Service, a Deployment per version,
// one DestinationRule (a subset per version) and one VirtualService.
const web = new MeshService(chart, 'web', { mesh, image: 'example/web:1.0', port: 8080 });
const catalog = new MeshService(chart, 'catalog', { mesh, image: 'example/catalog:1.0', port: 8080 });
const v2 = catalog.addVersion('v2', { image: 'example/catalog:2.0' });

// A canary: 10% of catalog's requests go to v2.
catalog.routeTraffic({ destinations: [{ version: catalog.defaultVersion, weight: 90 }, { version: v2, weight: 10 }] });

// Who may call whom: web may GET catalog; the internet reaches web through a gateway.
catalog.allowFrom(web, { methods: [HttpMethod.GET] });
web.exposeViaGateway(new IngressGateway(chart, 'gateway', { mesh, hosts: ['shop.example.com'] }));

app.synth(); // dist/shop.k8s.yaml, and the picture of the mesh in dist/mesh-topology.mmd
