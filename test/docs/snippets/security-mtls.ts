import { App, Chart } from 'cdk8s';
import { Mesh, MeshService, MtlsMode, MtlsPolicy } from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'legacy', { namespace: 'legacy' });

// The namespace mode is the Mesh's: PERMISSIVE while plaintext clients migrate.
const mesh = new Mesh(chart, 'mesh', { mtlsMode: MtlsMode.PERMISSIVE });

// The whole mesh: PeerAuthentication `default` in istio-system.
new MtlsPolicy(chart, 'mesh-strict', { mesh, meshWide: true, mode: MtlsMode.STRICT });

// One service: STRICT, except its port 8000 (container port 8080), scraped in plaintext.
const billing = new MeshService(chart, 'billing', { mesh, image: 'example/billing:3.1', port: 8000, targetPort: 8080 });
new MtlsPolicy(chart, 'billing-mtls', {
  mesh,
  target: billing,
  mode: MtlsMode.STRICT,
  portOverrides: [{ port: 8000, mode: MtlsMode.DISABLE }],
});

app.synth();
