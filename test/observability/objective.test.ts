import { ApiObject, Chart, Duration, Testing } from 'cdk8s';
import { expectValidPromQL } from './promql';
import { Dataplane, Mesh, MeshService, PrometheusScraping, Protocol, ServiceObjective } from '../../src';
import { Manifest, ofKind, one } from '../support/manifests';
import { schemaErrors } from '../support/schema';

function setup() {
  const chart = new Chart(Testing.app(), 'chart');
  const mesh = new Mesh(chart, 'mesh', { namespaceName: 'bookinfo' });
  const reviews = new MeshService(chart, 'reviews', { mesh, image: 'reviews:1', port: 9080 });
  return { chart, mesh, reviews };
}
const synth = (chart: Chart) => Testing.synth(chart) as Manifest[];
const SELECTOR = '{reporter="destination",destination_service="reviews.bookinfo.svc.cluster.local"}';
const ERRORS = '{reporter="destination",destination_service="reviews.bookinfo.svc.cluster.local",response_code=~"5.."}';
const ratio = (window: string) =>
  `sum (rate(istio_requests_total${ERRORS}[${window}])) / sum (rate(istio_requests_total${SELECTOR}[${window}]))`;

describe('ServiceObjective', () => {
  test('availability: multi-window, multi-burn-rate alerts on the service FQDN, measured by its own proxies', () => {
    // GIVEN
    const { chart, reviews } = setup();
    // WHEN
    const objective = reviews.addObjective({ availabilityPercent: 99.9, alertLabels: { team: 'books' }, ruleLabels: { release: 'kube-prometheus-stack' } });
    // THEN
    const rule = one(synth(chart), 'PrometheusRule', 'reviews-slo', 'bookinfo');
    expect(rule.metadata.labels).toEqual({ release: 'kube-prometheus-stack' });
    expect(rule.spec.groups).toHaveLength(1);
    expect(rule.spec.groups[0].name).toBe('bookinfo.reviews.slo');
    const [fast, slow] = rule.spec.groups[0].rules;
    expect(fast).toEqual({
      alert: 'ServiceErrorBudgetFastBurn',
      expr: `(${ratio('1h')}) > (14.4 * 0.001)\nand\n(${ratio('5m')}) > (14.4 * 0.001)`,
      for: '2m',
      labels: { namespace: 'bookinfo', objective: 'slo', service: 'reviews', severity: 'critical', team: 'books' },
      annotations: {
        summary: 'reviews.bookinfo is burning its 99.9% availability error budget 14.4 times too fast',
        description: expect.stringContaining('{{ $value | humanizePercentage }} of the requests to reviews.bookinfo.svc.cluster.local failed'),
        runbook_url: 'https://runbooks.example.com/bookinfo/reviews#serviceerrorbudgetfastburn',
      },
    });
    expect(slow).toMatchObject({
      alert: 'ServiceErrorBudgetSlowBurn',
      expr: `(${ratio('6h')}) > (6 * 0.001)\nand\n(${ratio('30m')}) > (6 * 0.001)`,
      for: '15m',
      labels: { severity: 'warning' },
    });
    expect(objective.availabilityPercent).toBe(99.9);
    expect(ApiObject.of(objective)).toBe(objective.prometheusRule);
    expectValidPromQL(objective.expressions);
    expect(rule).toMatchSnapshot();
  });

  test('the PrometheusRule is labelled like the PodMonitor, so one Prometheus loads both (finding 14.3e)', () => {
    // prometheus-operator loads a PrometheusRule only when it matches the Prometheus's
    // ruleSelector, and a PodMonitor only when it matches podMonitorSelector; kube-prometheus-stack
    // sets both to `release: <its release>` (prometheus-operator API: PrometheusSpec).
    const { chart, mesh, reviews } = setup();
    new PrometheusScraping(chart, 'scraping', { mesh });
    reviews.addObjective({ availabilityPercent: 99.9 });
    const manifests = synth(chart);
    const monitor = one(manifests, 'PodMonitor', 'envoy-stats-monitor');
    const rule = one(manifests, 'PrometheusRule', 'reviews-slo');
    expect(rule.metadata.labels).toEqual({ release: 'istio' });
    expect(monitor.metadata.labels).toEqual({ monitoring: 'istio-proxies', release: 'istio' });

    // One mesh option labels both for another Prometheus.
    const other = new Chart(Testing.app(), 'other');
    const kps = new Mesh(other, 'mesh', { namespaceName: 'shop', prometheusLabels: { release: 'kube-prometheus-stack' } });
    const web = new MeshService(other, 'web', { mesh: kps, image: 'web:1', port: 8080 });
    new PrometheusScraping(other, 'scraping', { mesh: kps, workloads: [{ service: web }] });
    web.addObjective({ latency: Duration.millis(300) });
    const written = synth(other);
    expect(one(written, 'PrometheusRule', 'web-slo').metadata.labels).toEqual({ release: 'kube-prometheus-stack' });
    expect(one(written, 'ServiceMonitor', 'web-metrics').metadata.labels).toEqual({ release: 'kube-prometheus-stack' });
    expect(one(written, 'PodMonitor', 'envoy-stats-monitor').metadata.labels).toEqual({ monitoring: 'istio-proxies', release: 'kube-prometheus-stack' });
    expect(kps.prometheusLabels).toEqual({ release: 'kube-prometheus-stack' });
  });

  test('latency: the chosen percentile of istio_request_duration_milliseconds above the threshold', () => {
    const { chart, reviews } = setup();
    const objective = new ServiceObjective(chart, 'latency', {
      service: reviews, name: 'latency', latency: Duration.millis(250), latencyPercentile: 99.9, runbookUrl: 'https://wiki.example.com/reviews',
    });
    const rule = one(synth(chart), 'PrometheusRule', 'reviews-latency');
    expect(rule.spec.groups[0].rules).toEqual([{
      alert: 'ServiceLatencyHigh',
      expr: `histogram_quantile(0.999, sum by (le) (rate(istio_request_duration_milliseconds_bucket${SELECTOR}[5m]))) > 250`,
      for: '10m',
      labels: { namespace: 'bookinfo', objective: 'latency', service: 'reviews', severity: 'warning' },
      annotations: {
        summary: 'reviews.bookinfo p99.9 latency is above 250ms',
        description: expect.stringContaining('{{ $value | humanize }}ms for 10 minutes (objective: under 250ms)'),
        runbook_url: 'https://wiki.example.com/reviews',
      },
    }]);
    expect(objective.latencyPercentile).toBe(99.9);
    expectValidPromQL(objective.expressions);
    expect(rule).toMatchSnapshot();
  });

  test('availability and latency in one objective; several objectives per service; every expression parses', () => {
    const { chart, mesh, reviews } = setup();
    const productpage = new MeshService(chart, 'productpage', { mesh, image: 'pp:1', port: 9080, protocol: Protocol.GRPC });
    reviews.addObjective({ availabilityPercent: 99.95, latency: Duration.seconds(1) });
    reviews.addObjective({ name: 'strict', availabilityPercent: 99.999 });
    productpage.addObjective({ availabilityPercent: 95, latency: Duration.millis(300), latencyPercentile: 90 });
    const rules = ofKind(synth(chart), 'PrometheusRule');
    expect(rules.map((r) => r.metadata.name)).toEqual(['reviews-slo', 'reviews-strict', 'productpage-slo']);
    const expressions = rules.flatMap((r) => r.spec.groups.flatMap((g: any) => g.rules.map((x: any) => x.expr)));
    expect(expressions).toHaveLength(8);
    expect(expressions.join('\n')).toContain('(14.4 * 0.00001)');
    expect(expressions.join('\n')).toContain('(6 * 0.05)');
    expect(expressions.join('\n')).toContain('histogram_quantile(0.9, ');
    expectValidPromQL(expressions);
  });

  test('gRPC: server errors that arrive as HTTP 200 count against availability (finding 14.3k)', () => {
    // Istio reports a gRPC call's status in the grpc_response_status label of
    // istio_requests_total, and a gRPC error mostly has response_code 200. OpenTelemetry's gRPC
    // conventions count UNKNOWN(2), DEADLINE_EXCEEDED(4), UNIMPLEMENTED(12), INTERNAL(13),
    // UNAVAILABLE(14) and DATA_LOSS(15) as errors of a server.
    const { chart, mesh } = setup();
    const cart = new MeshService(chart, 'cart', { mesh, image: 'cart:1', port: 50051, protocol: Protocol.GRPC });
    const objective = cart.addObjective({ availabilityPercent: 99.9 });
    const server = (extra: string) => `{reporter="destination",destination_service="cart.bookinfo.svc.cluster.local"${extra}}`;
    const failed = (window: string) => `sum (rate(istio_requests_total${server(',response_code=~"5.."')}[${window}]) `
      + `or rate(istio_requests_total${server(',response_code!~"5..",grpc_response_status=~"2|4|12|13|14|15"')}[${window}]))`;
    const ratioOf = (window: string) => `${failed(window)} / sum (rate(istio_requests_total${server('')}[${window}]))`;
    const [fast] = one(synth(chart), 'PrometheusRule', 'cart-slo').spec.groups[0].rules;
    expect(fast.expr).toBe(`(${ratioOf('1h')}) > (14.4 * 0.001)\nand\n(${ratioOf('5m')}) > (14.4 * 0.001)`);
    expect(fast.annotations.description).toContain('failed with 5xx or a gRPC server error over the last hour');
    expectValidPromQL(objective.expressions);
    // An HTTP service's objective is unchanged: 5xx only.
    const reviews = mesh.services.find((s) => s.name === 'reviews')!;
    expect(reviews.addObjective({ availabilityPercent: 99.9 }).expressions.join('\n')).not.toContain('grpc_response_status');
  });

  test('ambient mode: the waypoint reports the requests (reporter="waypoint"), and without one there is nothing to alert on (finding 14.3j)', () => {
    // In ambient mode ztunnel reports TCP metrics only; the namespace waypoint reports
    // istio_requests_total with reporter="waypoint" (istio/istio#50225, "waypoint single").
    const chart = new Chart(Testing.app(), 'chart');
    const mesh = new Mesh(chart, 'mesh', { namespaceName: 'shop', dataplane: Dataplane.ambient({ waypoint: true }) });
    const api = new MeshService(chart, 'api', { mesh, image: 'api:1', port: 8080 });
    const objective = api.addObjective({ availabilityPercent: 99.9, latency: Duration.millis(300) });
    for (const expr of objective.expressions) {
      expect(expr).toContain('{reporter="waypoint",destination_service="api.shop.svc.cluster.local"');
      expect(expr).not.toContain('reporter="destination"');
    }
    expectValidPromQL(objective.expressions);
    expect(synth(chart).filter((m) => m.kind === 'PrometheusRule')).toHaveLength(1);

    const l4 = new Chart(Testing.app(), 'l4');
    const ztunnelOnly = new Mesh(l4, 'mesh', { namespaceName: 'shop', dataplane: Dataplane.ambient() });
    const web = new MeshService(l4, 'web', { mesh: ztunnelOnly, image: 'web:1', port: 8080 });
    expect(() => web.addObjective({ availabilityPercent: 99.9 })).toThrow(new RegExp('\\[l4/web/Objective1\\] CM419 No L7 telemetry source: service "web" is in ambient namespace "shop" without a waypoint: '
      + 'ztunnel reports TCP metrics only, so no proxy reports its requests \\(istio_requests_total\\) and the alerts could never fire\\. Fix: deploy the namespace waypoint with Dataplane\\.ambient\\(\\{ waypoint: true \\}\\)'));
  });

  test("prometheus-operator's PrometheusRule schema checks these objects: a bad `for` or an unknown field fails", () => {
    const { chart, reviews } = setup();
    reviews.addObjective({ availabilityPercent: 99 });
    const rule = one(synth(chart), 'PrometheusRule', 'reviews-slo');
    expect(schemaErrors([rule])).toEqual([]);
    const broken = JSON.parse(JSON.stringify(rule));
    broken.spec.groups[0].rules[0].for = '2 minutes';
    broken.spec.groups[0].rules[1].severity = 'page';
    expect(schemaErrors([broken]).join('\n')).toMatch(/for[\s\S]*severity|severity[\s\S]*for/);
  });

  describe('bad input', () => {
    test.each([0, 100, -5, 120, NaN])('CM404: availabilityPercent %p outside (0, 100)', (percent) => {
      const { reviews } = setup();
      expect(() => reviews.addObjective({ availabilityPercent: percent }))
        .toThrow(new RegExp(`\\[chart/reviews/Objective1\\] CM404 .*availabilityPercent is ${percent}. Fix: use a percentage above 0 and below 100, e.g. 99.9`));
    });

    test.each([0, 100])('CM404: latencyPercentile %p outside (0, 100)', (percentile) => {
      const { reviews } = setup();
      expect(() => reviews.addObjective({ latency: Duration.millis(100), latencyPercentile: percentile }))
        .toThrow(/CM404 .*latencyPercentile is \d+. Fix: use a percentage above 0 and below 100, e.g. 99/);
    });

    test('CM404: an availability so low the 14.4× page could never fire', () => {
      const { reviews } = setup();
      expect(() => reviews.addObjective({ availabilityPercent: 90 }))
        .toThrow(/CM404 .*availabilityPercent 90 leaves an error budget so large that the 14.4× burn-rate page could never fire/);
    });

    test('CM404: a latency under 1ms', () => {
      const { reviews } = setup();
      expect(() => reviews.addObjective({ latency: Duration.millis(0) })).toThrow(/CM404 .*latency is .*Fix: use a threshold of at least 1ms/);
    });

    test('CM411: an objective with nothing to measure', () => {
      const { reviews } = setup();
      expect(() => reviews.addObjective({}))
        .toThrow(/\[chart\/reviews\/Objective1\] CM411 .*sets neither availabilityPercent nor latency. Fix: set availabilityPercent/);
    });

    test('CM411: an objective on a TCP service', () => {
      const { chart, mesh } = setup();
      const db = new MeshService(chart, 'db', { mesh, image: 'mysql:8', port: 3306, protocol: Protocol.MYSQL });
      expect(() => db.addObjective({ availabilityPercent: 99 }))
        .toThrow(/CM411 .*service "db" speaks mysql, for which Istio reports no request metrics/);
    });

    test('CM416: two objectives with one name', () => {
      const { reviews } = setup();
      reviews.addObjective({ availabilityPercent: 99 });
      expect(() => reviews.addObjective({ latency: Duration.millis(100) }))
        .toThrow(/\[chart\/reviews\/Objective2\] CM416 .*service "reviews" already has an objective named "slo" \(chart\/reviews\/Objective1\)/);
    });
  });
});
