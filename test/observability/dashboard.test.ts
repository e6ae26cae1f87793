import { App, Chart, Duration, Testing } from 'cdk8s';
import { dashboardPanels as panels, dashboardQueries as queries, expectValidPromQL } from './promql';
import { Dataplane, Mesh, MeshDashboard, MeshService, Protocol } from '../../src';
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

  test('ambient mode: panels read the waypoint\'s metrics; without a waypoint there are none (finding 14.3j)', () => {
    // The waypoint reports istio_requests_total with reporter="waypoint" (istio/istio#50225) and
    // names its clusters inbound-vip|<port>|http[/<subset>]|<host>; ztunnel reports TCP only.
    const chart = new Chart(Testing.app(), 'chart');
    const mesh = new Mesh(chart, 'mesh', { namespaceName: 'shop', dataplane: Dataplane.ambient({ waypoint: true }) });
    new MeshService(chart, 'api', { mesh, image: 'api:1', port: 8080 });
    const dashboard = new MeshDashboard(chart, 'dashboards', { mesh }).dashboards()['mesh-shop.json'];
    const all = queries(dashboard);
    expect(all.filter((q) => q.includes('reporter="destination"') || q.includes('reporter="source"'))).toEqual([]);
    expect(all.filter((q) => q.includes('istio_requests_total')).every((q) => q.includes('reporter="waypoint"'))).toBe(true);
    const overflow = panels(dashboard).find((p) => p.title === 'api: circuit breaker overflow');
    expect(overflow.targets[1].expr).toContain('cluster_name=~"inbound-vip\\\\|8080\\\\|[^|]*\\\\|api\\\\.shop\\\\.svc\\\\.cluster\\\\.local"');
    expectValidPromQL(all);

    const l4 = new Chart(Testing.app(), 'l4');
    const ztunnelOnly = new Mesh(l4, 'mesh', { namespaceName: 'shop', dataplane: Dataplane.ambient() });
    expect(() => new MeshDashboard(l4, 'dashboards', { mesh: ztunnelOnly }))
      .toThrow(/\[l4\/dashboards\] CM419 No L7 telemetry source: namespace "shop" is in ambient mode without a waypoint: ztunnel reports TCP metrics only.*Fix: deploy the namespace waypoint/);
  });

  test('gRPC services: their error panels count gRPC server errors too (finding 14.3k)', () => {
    const { chart, mesh } = setup();
    new MeshService(chart, 'cart', { mesh, image: 'cart:1', port: 50051, protocol: Protocol.GRPC });
    const dashboard = new MeshDashboard(chart, 'dashboards', { mesh }).dashboards()['mesh-bookinfo.json'];
    const byTitle = (title: string) => panels(dashboard).find((p) => p.title === title);
    expect(byTitle('cart: error ratio (5xx or a gRPC server error) by version').targets[0].expr)
      .toContain('or rate(istio_requests_total{reporter="destination",destination_service="cart.bookinfo.svc.cluster.local",response_code!~"5..",grpc_response_status=~"2|4|12|13|14|15"}');
    expect(byTitle('reviews: error ratio (5xx) by version').targets[0].expr).not.toContain('grpc_response_status');
    expect(byTitle('Error ratio (5xx or gRPC server error) by service').targets[0].expr).toContain('grpc_response_status=~"2|4|12|13|14|15"');
    expectValidPromQL(queries(dashboard));
  });

  describe('split so every object can be applied (finding 14.3i)', () => {
    // Client-side apply (kubectl apply, Argo CD) copies the whole object into the
    // kubectl.kubernetes.io/last-applied-configuration annotation, and Kubernetes limits an
    // object's annotations to 256 KiB in total (apimachinery TotalAnnotationSizeLimitB).
    const LIMIT = 256 * 1024;
    const sizeOf = (object: any) => Buffer.byteLength(JSON.stringify(object));
    const meshOf = (n: number, declareAfter = 0) => {
      const chart = new Chart(Testing.app(), 'chart');
      const mesh = new Mesh(chart, 'mesh', { namespaceName: 'shop', analyzeOnSynth: false, scopeSidecars: false });
      const add = (from: number, to: number) => {
        for (let i = from; i < to; i++) new MeshService(chart, `service-${i}`, { mesh, image: 'example/service:1.0', port: 8080 });
      };
      add(0, n - declareAfter);
      return { chart, mesh, addLater: () => add(n - declareAfter, n) };
    };

    test('13 services with per-service dashboards: two ConfigMaps under 256 KiB, every dashboard once', () => {
      const { chart, mesh, addLater } = meshOf(13, 6);
      const dashboards = new MeshDashboard(chart, 'dashboards', { mesh, perService: true });
      addLater(); // services declared after the dashboard get their place too
      const configMaps = synth(chart).filter((m) => m.kind === 'ConfigMap');
      expect(configMaps.map((c) => c.metadata.name)).toEqual(['mesh-dashboards', 'mesh-dashboards-2']);
      for (const configMap of configMaps) {
        expect(sizeOf(configMap)).toBeLessThan(LIMIT);
        expect(configMap.metadata.labels).toEqual({ grafana_dashboard: '1' });
      }
      const [first, second] = configMaps.map((c) => Object.values(c.data).map((text) => JSON.parse(text as string)));
      expect(first.map((d) => d.title).sort()).toEqual(['Mesh shop (1/2)', ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => `Mesh shop / service-${i}`)].sort());
      expect(second.map((d) => d.title).sort()).toEqual(['Mesh shop (2/2)', ...[8, 9, 10, 11, 12].map((i) => `Mesh shop / service-${i}`)].sort());
      // Page 1 keeps the uid of the single-page dashboard and the overview; page 2 has rows only.
      const page = (list: any[], title: string) => list.find((d) => d.title === title);
      expect(page(first, 'Mesh shop (1/2)').uid).toBe('mesh-shop');
      expect(panels(page(first, 'Mesh shop (1/2)')).slice(0, 3).map((p) => p.title)).toEqual(['Request rate by service', 'Error ratio (5xx) by service', 'p99 latency by service']);
      expect(page(second, 'Mesh shop (2/2)').uid).toBe('mesh-shop-2');
      expect(panels(page(second, 'Mesh shop (2/2)')).filter((p) => p.type === 'row').map((p) => p.title)).toEqual([8, 9, 10, 11, 12].map((i) => `service-${i} (v1)`));
      expect(dashboards.configMaps).toHaveLength(2);
      expect(Object.keys(dashboards.dashboards())).toHaveLength(15);
    });

    test('3,000 services: every ConfigMap stays under 256 KiB', () => {
      const { chart, mesh } = meshOf(3000);
      const dashboards = new MeshDashboard(chart, 'dashboards', { mesh, perService: true });
      const configMaps = dashboards.configMaps.map((c) => c.toJson());
      expect(configMaps).toHaveLength(375);
      expect(Math.max(...configMaps.map(sizeOf))).toBeLessThan(LIMIT);
      const titles = configMaps.flatMap((c) => Object.values(c.data).map((text: any) => JSON.parse(text).title));
      expect(new Set(titles).size).toBe(3000 + 375);
      expect(titles.filter((t) => t.includes('/ service-'))).toHaveLength(3000);
      // The mesh dashboard alone, without per-service dashboards, pages by 16 services.
      expect(new MeshDashboard(chart, 'mesh-only', { mesh, name: 'mesh-only' }).configMaps.map((c) => c.toJson()).map(sizeOf).length).toBe(188);
    });

    test('CM418: a ConfigMap too large to apply', () => {
      const { chart, mesh } = meshOf(40);
      new MeshDashboard(chart, 'dashboards', { mesh, perService: true, servicesPerConfigMap: 40 });
      expect(() => synth(chart)).toThrow(new RegExp('\\[chart/dashboards\\] CM418 Dashboard ConfigMap too large to apply: ConfigMap "mesh-dashboards" is [0-9]+ bytes, '
        + 'and kubectl apply \\(or Argo CD\'s client-side apply\\) must copy it into an annotation, which Kubernetes limits to 256 KiB.*Fix: put fewer services in each ConfigMap: servicesPerConfigMap: [0-9]+'));
    });
  });

  describe('bad input', () => {
    test('CM417: servicesPerConfigMap that is not a whole number of at least 1', () => {
      const { chart, mesh } = setup();
      expect(() => new MeshDashboard(chart, 'a', { mesh, servicesPerConfigMap: 0 })).toThrow(/\[chart\/a\] CM417 .*servicesPerConfigMap is 0/);
    });

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
