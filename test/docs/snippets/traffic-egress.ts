import { App, Chart, Duration } from 'cdk8s';
import { ExternalPort, ExternalService, Mesh, MeshService, OutboundTrafficPolicy } from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });
// REGISTRY_ONLY and scoped Sidecars are the defaults, spelled out here.
const mesh = new Mesh(chart, 'mesh', { outboundTrafficPolicy: OutboundTrafficPolicy.REGISTRY_ONLY, scopeSidecars: true });

const checkout = new MeshService(chart, 'checkout', { mesh, image: 'example/checkout:1', port: 8080 });
const payments = new MeshService(chart, 'payments', { mesh, image: 'example/payments:1', port: 8080 });

// The app calls http://api.payments.example:80; the sidecar originates TLS to 443,
// so the mesh can time out and retry the calls.
const provider = new ExternalService(chart, 'payment-provider', {
  mesh,
  hosts: ['api.payments.example'],
  ports: [ExternalPort.http(80), ExternalPort.https(443)],
  tlsOrigination: { port: 80 },
  timeout: Duration.seconds(10),
});

// Each proxy is configured for exactly what its service calls (plus the control plane).
// allowFrom declares the call too, and lets checkout through payments' default-deny.
payments.allowFrom(checkout);
payments.callsTo(provider);

app.synth();
