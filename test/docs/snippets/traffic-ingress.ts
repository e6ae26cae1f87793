import { App, Chart, Duration } from 'cdk8s';
import { GatewayListener, GatewayTls, HttpMethod, IngressGateway, Mesh, MeshService, PathMatch } from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });
const mesh = new Mesh(chart, 'mesh');
const web = new MeshService(chart, 'web', { mesh, image: 'example/web:1', port: 8080 });

// The Gateway, plus its own Envoy: an injected Deployment, a LoadBalancer Service,
// a ServiceAccount and the Role that lets it read the TLS Secret.
const gateway = new IngressGateway(chart, 'edge', {
  mesh,
  hosts: ['shop.example.com'],
  listeners: [
    GatewayListener.https({ tls: GatewayTls.simple('shop-example-com-tls') }),
    GatewayListener.http({ httpsRedirect: true }),
  ],
  autoscaling: { minReplicas: 2, maxReplicas: 10 },
  minAvailable: 1,
});

// Requests to shop.example.com/ go to web on its port, with web's own version split. The
// namespace is default-deny: exposing web lets the gateway's identity call it for this host.
web.exposeViaGateway(gateway, { paths: [PathMatch.prefix('/')], timeout: Duration.seconds(30) });
// The gateway may only read: this rule replaces the one exposing would add.
web.allowFrom(gateway, { methods: [HttpMethod.GET, HttpMethod.HEAD] });

app.synth();
