import { App, Chart, Duration } from 'cdk8s';
import { Mesh, MeshDashboard, MeshService, Peer, PrometheusScraping } from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });
// kube-prometheus-stack's Prometheus loads monitors and alert rules labelled with its release.
const mesh = new Mesh(chart, 'mesh', { prometheusLabels: { release: 'kube-prometheus-stack' } });
const checkout = new MeshService(chart, 'checkout', { mesh, image: 'example/checkout:1.0', port: 8080 });
checkout.addVersion('v2', { image: 'example/checkout:2.0' });

// prometheus-operator: Istio's envoy-stats-monitor PodMonitor (every proxy's Envoy metrics)
// and a ServiceMonitor for checkout's own /metrics, which Prometheus may now GET.
new PrometheusScraping(chart, 'scraping', {
  mesh,
  workloads: [{ service: checkout }],
  prometheus: Peer.serviceAccount('monitoring', 'prometheus'),
});

// Alerts (PrometheusRule checkout-slo): error budget burn rates and p99 latency.
checkout.addObjective({ availabilityPercent: 99.9, latency: Duration.millis(300) });

// Grafana dashboards in a ConfigMap the Grafana sidecar loads (label grafana_dashboard: "1").
new MeshDashboard(chart, 'dashboards', { mesh, perService: true, folder: 'Service mesh' });

app.synth();
