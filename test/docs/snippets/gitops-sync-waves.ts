import { App, Chart } from 'cdk8s';
import { GatewayListener, IngressGateway, Mesh, MeshService, PathMatch, SyncWaves } from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });
const mesh = new Mesh(chart, 'mesh');
const web = new MeshService(chart, 'web', { mesh, image: 'example/web:1.0', port: 8080 });
const gateway = new IngressGateway(chart, 'edge', { mesh, hosts: ['shop.example.com'], listeners: [GatewayListener.http()] });
web.exposeViaGateway(gateway, { paths: [PathMatch.prefix('/')] });

// Every object of the app gets its argocd.argoproj.io/sync-wave annotation at synth:
// Namespace -2, policy -1, workloads 0, routes 1, the ingress gateway 2.
SyncWaves.apply(app);

app.synth();
