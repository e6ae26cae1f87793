import { App, Chart, Duration, Testing } from 'cdk8s';
import { dashboardPanels as panels, dashboardQueries as queries, expectValidPromQL } from './promql';
import { Mesh, MeshDashboard, MeshService, Protocol } from '../../src';
import { Manifest, one } from '../support/manifests';

function setup() {
  const chart = new Chart(Testing.app(), 'chart');
  const mesh = new Mesh(chart, 'mesh', { namespaceName: 'bookinfo' });
  const reviews = new MeshService(chart, 'reviews', { mesh, image: 'reviews:1', port: 9080 });
  reviews.addVersion('v2');
  return { chart, mesh, reviews };
}
const synth = (chart: Chart) => Testing.synth(chart) as Manifest[];

describe('MeshDashboard', () => {
  test('a ConfigMap the Grafana sidecar loads, with a dashboard generated from the model', () => {
    // GIVEN
    const { chart, mesh, reviews } = setup();
    // WHEN
    new MeshDashboard(chart, 'dashboards', { mesh });
    new MeshService(chart, 'ratings', { mesh, image: 'ratings:1', port: 9080 }); // declared later: still included
    new MeshService(chart, 'db', { mesh, image: 'mysql:8', port: 3306, protocol: Protocol.MYSQL }); // no request metrics
    reviews.addVersion('v3');
    // THEN
    const configMap = one(synth(chart), 'ConfigMap', 'mesh-dashboards', 'bookinfo');
    expect(configMap.metadata.labels).toEqual({ grafana_dashboard: '1' });
    expect(Object.keys(configMap.data)).toEqual(['mesh-bookinfo.json']);
    const dashboard = JSON.parse(configMap.data['mesh-bookinfo.json']);
    expect(dashboard).toMatchObject({ uid: 'mesh-bookinfo', title: 'Mesh bookinfo', tags: ['istio', 'cdk8s-mesh', 'bookinfo'] });
    expect(dashboard.templating.list).toEqual([expect.objectContaining({ type: 'datasource', name: 'datasource', query: 'prometheus' })]);
    expect(panels(dashboard).map((p) => p.title)).toEqual([
      'Request rate by service', 'Error ratio (5xx) by service', 'p99 latency by service',
      'reviews (v1, v2, v3)',
      'reviews: request rate by version', 'reviews: error ratio (5xx) by version', 'reviews: latency p50 / p90 / p99 by version',
      'reviews: traffic split observed by version', 'reviews: circuit breaker overflow',
      'ratings (v1)',
      'ratings: request rate by version', 'ratings: error ratio (5xx) by version', 'ratings: latency p50 / p90 / p99 by version',
      'ratings: traffic split observed by version', 'ratings: circuit breaker overflow',
    ]);
    const ids = panels(dashboard).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expectValidPromQL(queries(dashboard));
    expect(configMap).toMatchSnapshot();
  });

  test("service panels query the service's FQDN by version: rate, errors, p50/p90/p99, observed split, overflow", () => {
    const { chart, mesh } = setup();
    const dashboards = new MeshDashboard(chart, 'dashboards', { mesh });
    const dashboard = dashboards.dashboards()['mesh-bookinfo.json'];
    const byTitle = (title: string) => panels(dashboard).find((p) => p.title === title);
    const server = '{reporter="destination",destination_service="reviews.bookinfo.svc.cluster.local"}';
    expect(byTitle('reviews: request rate by version').targets[0]).toMatchObject({
      expr: `sum by (destination_version) (rate(istio_requests_total${server}[$__rate_interval]))`,
      legendFormat: '{{destination_version}}',
      datasource: { type: 'prometheus', uid: '${datasource}' },
    });
    expect(byTitle('reviews: latency p50 / p90 / p99 by version').targets.map((t: any) => t.expr.slice(0, 24)))
      .toEqual(['histogram_quantile(0.5, ', 'histogram_quantile(0.9, ', 'histogram_quantile(0.99,']);
    expect(byTitle('reviews: traffic split observed by version').targets[0].expr)
      .toBe(`sum by (destination_version) (rate(istio_requests_total${server}[$__rate_interval])) / scalar(sum (rate(istio_requests_total${server}[$__rate_interval])))`);
    expect(byTitle('reviews: circuit breaker overflow').targets.map((t: any) => t.expr)).toEqual([
      'sum by (source_workload) (rate(istio_requests_total{reporter="source",destination_service="reviews.bookinfo.svc.cluster.local",response_flags="UO"}[$__rate_interval]))',
      'sum by (cluster_name) (rate(envoy_cluster_upstream_rq_pending_overflow{cluster_name=~"outbound\\\\|9080\\\\|[^|]*\\\\|reviews\\\\.bookinfo\\\\.svc\\\\.cluster\\\\.local"}[$__rate_interval]))',
    ]);
  });

  test('objectives are drawn as thresholds', () => {
    const { chart, mesh, reviews } = setup();
    reviews.addObjective({ availabilityPercent: 99.9, latency: Duration.millis(300) });
    const dashboard = new MeshDashboard(chart, 'dashboards', { mesh }).dashboards()['mesh-bookinfo.json'];
    const byTitle = (title: string) => panels(dashboard).find((p) => p.title === title);
    expect(byTitle('reviews: error ratio (5xx) by version').fieldConfig.defaults.thresholds.steps).toEqual([
      { value: null, color: 'green' }, { value: 0.001, color: 'red' },
    ]);
    expect(byTitle('reviews: latency p50 / p90 / p99 by version').fieldConfig.defaults.thresholds.steps[1]).toEqual({ value: 300, color: 'red' });
    expect(byTitle('reviews: request rate by version').fieldConfig.defaults.thresholds).toBeUndefined();
  });

  test('per-service dashboards, a custom sidecar label, folder and namespace', () => {
    const { chart, mesh } = setup();
    new MeshDashboard(chart, 'dashboards', {
      mesh,
      perService: true,
      name: 'bookinfo-dashboards',
      title: 'Bookinfo',
      sidecarLabel: 'grafana.com/dashboard',
      sidecarLabelValue: 'mesh',
      folder: 'Service mesh',
      namespaceName: 'monitoring',
    });
    const configMap = one(synth(chart), 'ConfigMap', 'bookinfo-dashboards', 'monitoring');
    expect(configMap.metadata).toMatchObject({ labels: { 'grafana.com/dashboard': 'mesh' }, annotations: { grafana_folder: 'Service mesh' } });
    expect(Object.keys(configMap.data)).toEqual(['mesh-bookinfo-reviews.json', 'mesh-bookinfo.json']);
    const service = JSON.parse(configMap.data['mesh-bookinfo-reviews.json']);
    expect(service).toMatchObject({ uid: 'mesh-bookinfo-reviews', title: 'Bookinfo / reviews' });
    expect(panels(service)).toHaveLength(5);
    expectValidPromQL(queries(service));
  });

  test('stable uids from names; a long name gets a hashed suffix within 40 characters', () => {
    const chart = new Chart(Testing.app(), 'chart');
    const mesh = new Mesh(chart, 'mesh', { namespaceName: 'a-rather-long-namespace-name-for-the-shop' });
    new MeshService(chart, 'recommendations', { mesh, image: 'r:1', port: 80 });
    const keys = Object.keys(new MeshDashboard(chart, 'dashboards', { mesh, perService: true }).dashboards());
    expect(keys).toEqual([
      'mesh-a-rather-long-namespace-na-29ea62d8.json',
      'mesh-a-rather-long-namespace-na-f73502c1.json',
    ]);
    for (const key of keys) expect(key.replace(/\.json$/, '').length).toBeLessThanOrEqual(40);
  });

  test('the dashboard JSON is byte-identical across runs, with sorted keys', () => {
    const build = () => {
      const app = new App();
      const chart = new Chart(app, 'c');
      const mesh = new Mesh(chart, 'mesh', { namespaceName: 'shop' });
      new MeshService(chart, 'api', { mesh, image: 'api:1', port: 80 }).addVersion('v2');
      new MeshDashboard(chart, 'dashboards', { mesh, perService: true });
      return app.synthYaml();
    };
    const first = build();
    expect(first).toEqual(build());
    const { chart, mesh } = setup();
    new MeshDashboard(chart, 'dashboards', { mesh });
    const text: string = one(synth(chart), 'ConfigMap', 'mesh-dashboards').data['mesh-bookinfo.json'];
    const unsorted: string[] = [];
    JSON.parse(text, (_key, value) => {
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        const keys = Object.keys(value);
        if (keys.join() !== [...keys].sort().join()) unsorted.push(keys.join());
      }
      return value;
    });
    expect(unsorted).toEqual([]);
  });

  describe('bad input', () => {
    test('CM417: a sidecar label that is not a label key, an empty title', () => {
      const { chart, mesh } = setup();
      expect(() => new MeshDashboard(chart, 'a', { mesh, sidecarLabel: 'grafana dashboard' }))
        .toThrow(/\[chart\/a\] CM417 .*sidecar label "grafana dashboard" is not a valid Kubernetes label key/);
      expect(() => new MeshDashboard(chart, 'b', { mesh, title: ' ' })).toThrow(/\[chart\/b\] CM417 .*the dashboard title is empty/);
    });

    test('CM101: a ConfigMap name that is not a DNS subdomain', () => {
      const { chart, mesh } = setup();
      expect(() => new MeshDashboard(chart, 'a', { mesh, name: 'Mesh Dashboards' })).toThrow(/CM101 .*dashboard ConfigMap name "Mesh Dashboards"/);
    });
  });
});
