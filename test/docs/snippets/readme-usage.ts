import { App, Chart } from 'cdk8s';
import { Mesh, MeshService } from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });

// The namespace, with sidecar injection and STRICT mutual TLS.
const mesh = new Mesh(chart, 'mesh');

// A ServiceAccount (the mesh identity), a Service, a Deployment per version,
// one DestinationRule (a subset per version) and one VirtualService.
const catalog = new MeshService(chart, 'catalog', { mesh, image: 'example/catalog:1.0', port: 8080 });
catalog.addVersion('v2', { image: 'example/catalog:2.0' });

app.synth(); // dist/shop.k8s.yaml
