import { Testing } from 'cdk8s';
import { dashboardQueries, expectValidPromQL } from './promql';
import { BookinfoChart } from '../../examples/bookinfo/bookinfo';
import { Manifest, ofKind, one } from '../support/manifests';

/** The observability section of examples/bookinfo: what it writes, and that Istio, Prometheus and Grafana can use it. */
describe('examples/bookinfo observability', () => {
  const chart = new BookinfoChart(Testing.app(), 'bookinfo');
  const manifests = Testing.synth(chart) as Manifest[];

  test('one namespace Telemetry: 10% of requests traced to Jaeger, access logs for failed requests', () => {
    expect(ofKind(manifests, 'Telemetry')).toEqual([{
      apiVersion: 'telemetry.istio.io/v1',
      kind: 'Telemetry',
      metadata: { name: 'telemetry', namespace: 'bookinfo' },
      spec: {
        tracing: [{ providers: [{ name: 'jaeger' }], randomSamplingPercentage: 10 }],
        accessLogging: [{ providers: [{ name: 'envoy' }], filter: { expression: 'response.code >= 400' } }],
      },
    }]);
  });

  test('the MeshConfig to install Istio with declares the jaeger provider the Telemetry names', () => {
    expect(chart.mesh.meshConfig()).toEqual({
      defaultProviders: { metrics: ['prometheus'] },
      extensionProviders: [{ name: 'jaeger', zipkin: { service: 'zipkin.istio-system.svc.cluster.local', port: 9411 } }],
    });
  });

  test("Envoy metrics scraped with Istio's envoy-stats-monitor", () => {
    expect(one(manifests, 'PodMonitor', 'envoy-stats-monitor', 'bookinfo').spec.podMetricsEndpoints[0])
      .toMatchObject({ port: 'http-envoy-prom', path: '/stats/prometheus' });
  });

  test('alerts for productpage and reviews, every expression valid PromQL', () => {
    const rules = ofKind(manifests, 'PrometheusRule');
    expect(rules.map((r) => r.metadata.name)).toEqual(['reviews-slo', 'productpage-slo']);
    const alerts = rules.flatMap((r) => r.spec.groups.flatMap((g: any) => g.rules));
    expect(alerts.map((a: any) => `${a.labels.service}/${a.alert}`)).toEqual([
      'reviews/ServiceErrorBudgetFastBurn', 'reviews/ServiceErrorBudgetSlowBurn', 'reviews/ServiceLatencyHigh',
      'productpage/ServiceErrorBudgetFastBurn', 'productpage/ServiceErrorBudgetSlowBurn', 'productpage/ServiceLatencyHigh',
    ]);
    expect(alerts[2].expr).toContain('histogram_quantile(0.95, ');
    expect(alerts[2].expr).toContain('destination_service="reviews.bookinfo.svc.cluster.local"');
    expect(alerts[3].expr).toContain('(14.4 * 0.005)');
    expectValidPromQL(alerts.map((a: any) => a.expr));
  });

  test('dashboards for the mesh and each service, every query valid PromQL', () => {
    const configMap = one(manifests, 'ConfigMap', 'mesh-dashboards', 'bookinfo');
    expect(Object.keys(configMap.data).sort()).toEqual([
      'mesh-bookinfo-details.json', 'mesh-bookinfo-productpage.json', 'mesh-bookinfo-ratings.json',
      'mesh-bookinfo-reviews.json', 'mesh-bookinfo.json',
    ]);
    const expressions = Object.values(configMap.data).flatMap((text) => dashboardQueries(JSON.parse(text as string)));
    expect(expressions.length).toBeGreaterThan(40);
    expectValidPromQL(expressions);
  });
});
