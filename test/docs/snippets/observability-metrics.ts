import { App, Chart } from 'cdk8s';
import { IstioMetric, Mesh, TagOverride, Telemetry, TelemetryMode, TelemetryProvider } from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });
const mesh = new Mesh(chart, 'mesh');

// Namespace-wide: drop the server-side copy of every metric, add the request method as a
// label of istio_requests_total, and switch access logs off for this namespace.
new Telemetry(chart, 'namespace-metrics', {
  mesh,
  metrics: {
    providers: [TelemetryProvider.PROMETHEUS],
    overrides: [
      { metric: IstioMetric.ALL_METRICS, mode: TelemetryMode.SERVER, disabled: true },
      { metric: IstioMetric.REQUEST_COUNT, tagOverrides: { request_method: TagOverride.upsert('request.method') } },
    ],
  },
  accessLogging: { disabled: true },
});

app.synth();
