import { App, Chart, Duration } from 'cdk8s';
import { Mesh, MeshDashboard, MeshService, Peer, PrometheusScraping } from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });
const mesh = new Mesh(chart, 'mesh');
const checkout = new MeshService(chart, 'checkout', { mesh, image: 'example/checkout:1.0', port: 8080 });
checkout.addVersion('v2', { image: 'example/checkout:2.0' });

// prometheus-operator: Istio's envoy-stats-monitor PodMonitor (every proxy's Envoy metrics)
// and a ServiceMonitor for checkout's own /metrics, which Prometheus may now GET.
new PrometheusScraping(chart, 'scraping', {
  mesh,
  workloads: [{ service: checkout }],
  prometheus: Peer.serviceAccount('monitoring', 'prometheus'),
  monitorLabels: { release: 'kube-prometheus-stack' },
});

// Alerts (PrometheusRule checkout-slo): error budget burn rates and p99 latency.
checkout.addObjective({ availabilityPercent: 99.9, latency: Duration.millis(300), ruleLabels: { release: 'kube-prometheus-stack' } });

// Grafana dashboards in a ConfigMap the Grafana sidecar loads (label grafana_dashboard: "1").
new MeshDashboard(chart, 'dashboards', { mesh, perService: true, folder: 'Service mesh' });

app.synth();
