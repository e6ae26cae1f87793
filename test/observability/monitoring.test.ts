import { ApiObject, Chart, Duration, Testing } from 'cdk8s';
import { Mesh, MeshProps, MeshService, MtlsMode, Peer, PrometheusScraping, ScrapeMethod } from '../../src';
import { Manifest, ofKind, one } from '../support/manifests';
import { schemaErrors } from '../support/schema';

function setup(props: Partial<MeshProps> = {}) {
  const chart = new Chart(Testing.app(), 'chart');
  const mesh = new Mesh(chart, 'mesh', { namespaceName: 'shop', ...props });
  const reviews = new MeshService(chart, 'reviews', { mesh, image: 'reviews:1', port: 9080 });
  return { chart, mesh, reviews };
}
const synth = (chart: Chart) => Testing.synth(chart) as Manifest[];
const monitors = (manifests: Manifest[]) => manifests.filter((m) => m.apiVersion === 'monitoring.coreos.com/v1');

describe('PrometheusScraping', () => {
  test("prometheus-operator: Istio's envoy-stats-monitor PodMonitor scrapes every proxy's port 15090", () => {
    // GIVEN
    const { chart, mesh } = setup();
    // WHEN
    const scraping = new PrometheusScraping(chart, 'scraping', { mesh });
    // THEN
    const manifests = synth(chart);
    expect(one(manifests, 'PodMonitor', 'envoy-stats-monitor', 'shop')).toEqual({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PodMonitor',
      metadata: { name: 'envoy-stats-monitor', namespace: 'shop', labels: { monitoring: 'istio-proxies', release: 'istio' } },
      spec: {
        selector: { matchExpressions: [{ key: 'istio-prometheus-ignore', operator: 'DoesNotExist' }] },
        namespaceSelector: { matchNames: ['shop'] },
        jobLabel: 'envoy-stats',
        podMetricsEndpoints: [{
          port: 'http-envoy-prom',
          path: '/stats/prometheus',
          interval: '15s',
          relabelings: [
            { action: 'keep', sourceLabels: ['__meta_kubernetes_pod_container_name'], regex: 'istio-proxy' },
            { action: 'labeldrop', regex: '__meta_kubernetes_pod_label_(.+)' },
            { sourceLabels: ['__meta_kubernetes_namespace'], action: 'replace', targetLabel: 'namespace' },
            { sourceLabels: ['__meta_kubernetes_pod_name'], action: 'replace', targetLabel: 'pod_name' },
          ],
        }],
      },
    });
    expect(scraping.envoyMonitor).toBe(ApiObject.of(scraping.node.findChild('EnvoyStatsMonitor')));
    expect(monitors(manifests)).toMatchSnapshot();
  });

  test('meshWide: one PodMonitor in the root namespace for the proxies of every namespace (gateways included)', () => {
    const { chart, mesh } = setup();
    new PrometheusScraping(chart, 'scraping', { mesh, meshWide: true, interval: Duration.seconds(30), monitorLabels: { release: 'kube-prometheus-stack' } });
    const monitor = one(synth(chart), 'PodMonitor', 'envoy-stats-monitor', 'istio-system');
    expect(monitor.metadata.labels).toEqual({ monitoring: 'istio-proxies', release: 'kube-prometheus-stack' });
    expect(monitor.spec.namespaceSelector).toEqual({ any: true });
    expect(monitor.spec.podMetricsEndpoints[0].interval).toBe('30s');
  });

  test('prometheus-operator: a ServiceMonitor per workload, presenting Istio certificates under mutual TLS', () => {
    const { chart, mesh, reviews } = setup();
    const ratings = new MeshService(chart, 'ratings', { mesh, image: 'ratings:1', port: 9080 });
    const scraping = new PrometheusScraping(chart, 'scraping', { mesh, envoyMetrics: false, workloads: [{ service: reviews }] });
    scraping.addWorkload({ service: ratings, path: '/q/metrics' });
    const manifests = synth(chart);
    expect(ofKind(manifests, 'PodMonitor')).toEqual([]);
    expect(one(manifests, 'ServiceMonitor', 'reviews-metrics', 'shop').spec).toEqual({
      selector: { matchLabels: { app: 'reviews' } },
      namespaceSelector: { matchNames: ['shop'] },
      podTargetLabels: ['app', 'version'],
      endpoints: [{
        port: 'http',
        path: '/metrics',
        interval: '15s',
        scheme: 'https',
        tlsConfig: {
          caFile: '/etc/prom-certs/root-cert.pem',
          certFile: '/etc/prom-certs/cert-chain.pem',
          keyFile: '/etc/prom-certs/key.pem',
          insecureSkipVerify: true,
        },
      }],
    });
    expect(one(manifests, 'ServiceMonitor', 'ratings-metrics', 'shop').spec.endpoints[0].path).toBe('/q/metrics');
    expect(scraping.serviceMonitors.map((m) => m.name)).toEqual(['reviews-metrics', 'ratings-metrics']);
    expect(monitors(manifests)).toMatchSnapshot();
  });

  test("prometheus: the scraped workloads allow Prometheus's identity to GET their metrics path", () => {
    const { chart, mesh, reviews } = setup();
    new PrometheusScraping(chart, 'scraping', {
      mesh, envoyMetrics: false, prometheus: Peer.serviceAccount('monitoring', 'prometheus'), workloads: [{ service: reviews, path: '/q/metrics' }],
    });
    const policy = one(synth(chart), 'AuthorizationPolicy', 'reviews-allow', 'shop');
    expect(policy.spec).toEqual({
      selector: { matchLabels: { app: 'reviews' } },
      action: 'ALLOW',
      rules: [{
        from: [{ source: { serviceAccounts: ['monitoring/prometheus'] } }],
        to: [{ operation: { methods: ['GET'], paths: ['/q/metrics'] } }],
      }],
    });
  });

  test('prometheus-operator: plain HTTP when the namespace disables mutual TLS', () => {
    const { chart, mesh, reviews } = setup({ mtlsMode: MtlsMode.DISABLE });
    new PrometheusScraping(chart, 'scraping', { mesh, workloads: [{ service: reviews }] });
    const endpoint = one(synth(chart), 'ServiceMonitor', 'reviews-metrics').spec.endpoints[0];
    expect(endpoint.scheme).toBe('http');
    expect(endpoint.tlsConfig).toBeUndefined();
  });

  test("annotations: Istio's metrics merging annotations on every version, also those added later; no custom resources", () => {
    const { chart, mesh, reviews } = setup();
    new PrometheusScraping(chart, 'scraping', { mesh, method: ScrapeMethod.ANNOTATIONS, workloads: [{ service: reviews, port: 9090, path: '/stats' }] });
    reviews.addVersion('v2');
    const manifests = synth(chart);
    expect(monitors(manifests)).toEqual([]);
    for (const name of ['reviews-v1', 'reviews-v2']) {
      expect(one(manifests, 'Deployment', name).spec.template.metadata.annotations).toEqual({
        'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090', 'prometheus.io/path': '/stats',
      });
    }
    expect(ofKind(manifests, 'Deployment').map((d) => d.spec.template.metadata.annotations)).toMatchSnapshot();
  });

  test('the prometheus-operator CRD schemas check these objects: an unknown field or a bad duration fails', () => {
    const { chart, mesh, reviews } = setup();
    new PrometheusScraping(chart, 'scraping', { mesh, workloads: [{ service: reviews }] });
    const [podMonitor, serviceMonitor] = monitors(synth(chart));
    expect(schemaErrors([podMonitor, serviceMonitor])).toEqual([]);
    const broken = JSON.parse(JSON.stringify(podMonitor));
    broken.spec.podMetricsEndpoints[0].portName = 'http-envoy-prom';
    broken.spec.podMetricsEndpoints[0].interval = '15 seconds';
    expect(schemaErrors([broken]).join('\n')).toMatch(/portName[\s\S]*interval|interval[\s\S]*portName/);
  });

  describe('bad input', () => {
    test('CM414: a pod annotation the scraping would overwrite', () => {
      const chart = new Chart(Testing.app(), 'chart');
      const mesh = new Mesh(chart, 'mesh', { namespaceName: 'shop' });
      const api = new MeshService(chart, 'api', { mesh, image: 'api:1', port: 8080, podAnnotations: { 'prometheus.io/port': '9000' } });
      expect(() => new PrometheusScraping(chart, 'scraping', { mesh, method: ScrapeMethod.ANNOTATIONS, workloads: [{ service: api }] }))
        .toThrow(/\[chart\/api\/v1\] CM414 .*pod annotation "prometheus.io\/port" is "9000", but Prometheus scraping sets it to "8080". Fix: remove "prometheus.io\/port" from podAnnotations/);
    });

    test('CM415: a metrics port a ServiceMonitor cannot reach', () => {
      const { chart, mesh, reviews } = setup();
      expect(() => new PrometheusScraping(chart, 'scraping', { mesh, workloads: [{ service: reviews, port: 9090 }] }))
        .toThrow(/\[chart\/scraping\] CM415 .*service "reviews" serves metrics on port 9090, which its Service does not expose \(it exposes container port 9080\). Fix: .*ScrapeMethod.ANNOTATIONS/);
    });

    test('CM417: invalid interval, path, port and foreign service', () => {
      const { chart, mesh, reviews } = setup();
      expect(() => new PrometheusScraping(chart, 'a', { mesh, interval: Duration.millis(500) }))
        .toThrow(/\[chart\/a\] CM417 .*scrape interval 500 millis is shorter than a second.*Fix: use an interval such as Duration.seconds\(15\)/);
      expect(() => new PrometheusScraping(chart, 'b', { mesh, workloads: [{ service: reviews, path: 'metrics' }] }))
        .toThrow(/CM417 .*metrics path "metrics" does not start with "\/"/);
      expect(() => new PrometheusScraping(chart, 'c', { mesh, method: ScrapeMethod.ANNOTATIONS, workloads: [{ service: reviews, port: 0 }] }))
        .toThrow(/CM417 .*metrics port 0 is not a TCP port number/);
      const other = new Mesh(chart, 'other', { namespaceName: 'billing' });
      expect(() => new PrometheusScraping(chart, 'd', { mesh: other, workloads: [{ service: reviews }] }))
        .toThrow(/CM417 .*service "reviews" belongs to mesh "shop", not "billing"/);
    });
  });
});
