import { App, Chart } from 'cdk8s';
import { Mesh, MeshService, Telemetry, TelemetryProvider } from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });

// Providers are typed objects declared on the mesh: Istio ignores a Telemetry whose
// provider its MeshConfig lacks, so the mesh knows (and prints) the MeshConfig it needs.
const jaeger = TelemetryProvider.zipkin({ name: 'jaeger', service: 'zipkin.istio-system.svc.cluster.local', port: 9411 });
const mesh = new Mesh(chart, 'mesh', { telemetryProviders: [jaeger] });
const checkout = new MeshService(chart, 'checkout', { mesh, image: 'example/checkout:1.0', port: 8080 });

// Mesh-wide (istio-system): trace 10% of requests, log every failed request.
new Telemetry(chart, 'mesh-default', {
  mesh,
  meshWide: true,
  tracing: { providers: [jaeger], randomSamplingPercent: 10 },
  accessLogging: { providers: [TelemetryProvider.ENVOY], filter: 'response.code >= 400' },
});

// One workload: trace every checkout request.
new Telemetry(chart, 'checkout-tracing', {
  mesh,
  target: checkout,
  tracing: { providers: [jaeger], randomSamplingPercent: 100 },
});

// Helm values for istiod (meshConfig.extensionProviders): write them where your Istio
// installation reads them, e.g. fs.writeFileSync('istiod-values.yaml', istiodValues).
export const istiodValues = mesh.meshConfigValues();

app.synth();
