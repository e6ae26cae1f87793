import { ApiObject, App, Chart, Duration, Testing } from 'cdk8s';
import {
  CustomTag, IstioMetric, Mesh, MeshProps, MeshService, TagOverride, Telemetry, TelemetryMode, TelemetryProvider,
} from '../../src';
import { Manifest, ofKind, one } from '../support/manifests';
import { schemaErrors } from '../support/schema';
import { captureWarnings } from '../support/warnings';

const ZIPKIN = TelemetryProvider.zipkin({ name: 'zipkin', service: 'zipkin.istio-system.svc.cluster.local', port: 9411 });

/** An app with one chart (no namespace) and a mesh per namespace name given. */
function setup(props: Partial<MeshProps> = {}, ...namespaces: string[]) {
  const app = Testing.app();
  const chart = new Chart(app, 'chart');
  const meshes = Object.fromEntries((namespaces.length ? namespaces : ['shop'])
    .map((ns) => [ns, new Mesh(chart, `mesh-${ns}`, { namespaceName: ns, ...props })]));
  return { app, chart, meshes, mesh: Object.values(meshes)[0] };
}
const telemetries = (chart: Chart) => ofKind(Testing.synth(chart) as Manifest[], 'Telemetry');

describe('Telemetry', () => {
  describe("reproduces Istio's Telemetry examples", () => {
    test('mesh-default in istio-system: 10% random sampling', () => {
      // GIVEN a mesh whose default tracing provider is zipkin (Istio ignores tracing without a provider)
      const { chart, mesh } = setup({ telemetryProviders: [ZIPKIN], defaultTelemetryProviders: { tracing: [ZIPKIN] } });
      // WHEN
      new Telemetry(chart, 'mesh-default', { mesh, meshWide: true, tracing: { randomSamplingPercent: 10 } });
      // THEN
      const [telemetry] = telemetries(chart);
      expect(telemetry).toEqual({
        apiVersion: 'telemetry.istio.io/v1',
        kind: 'Telemetry',
        metadata: { name: 'mesh-default', namespace: 'istio-system' },
        spec: { tracing: [{ randomSamplingPercentage: 10 }] },
      });
      expect(telemetries(chart)).toMatchSnapshot();
    });

    test('zipkin at 100% with a literal custom tag', () => {
      const { chart, mesh } = setup({ telemetryProviders: [ZIPKIN] });
      new Telemetry(chart, 'telemetry', {
        mesh,
        name: 'mesh-default',
        meshWide: true,
        tracing: { providers: [ZIPKIN], randomSamplingPercent: 100, customTags: { provider: CustomTag.literal('zipkin') } },
      });
      expect(one(telemetries(chart), 'Telemetry', 'mesh-default', 'istio-system').spec).toEqual({
        tracing: [{
          providers: [{ name: 'zipkin' }],
          randomSamplingPercentage: 100,
          customTags: { provider: { literal: { value: 'zipkin' } } },
        }],
      });
      expect(telemetries(chart)).toMatchSnapshot();
    });

    test('tracing disabled for one workload, selected by its canonical name', () => {
      const { chart, mesh } = setup({}, 'bar');
      const foo = new MeshService(chart, 'foo', { mesh, image: 'foo:1', port: 8080 });
      new Telemetry(chart, 'foo-tracing', { mesh, target: foo, tracing: { disableSpanReporting: true } });
      expect(one(telemetries(chart), 'Telemetry', 'foo-tracing', 'bar').spec).toEqual({
        selector: { matchLabels: { 'service.istio.io/canonical-name': 'foo' } },
        tracing: [{ disableSpanReporting: true }],
      });
      expect(telemetries(chart)).toMatchSnapshot();
    });

    test('access logs through the envoy provider mesh-wide, disabled for one namespace', () => {
      const { chart, meshes } = setup({}, 'foo');
      new Telemetry(chart, 'mesh-default', { mesh: meshes.foo, meshWide: true, accessLogging: { providers: [TelemetryProvider.ENVOY] } });
      new Telemetry(chart, 'namespace-no-log', { mesh: meshes.foo, accessLogging: { disabled: true } });
      const manifests = telemetries(chart);
      expect(one(manifests, 'Telemetry', 'mesh-default', 'istio-system').spec).toEqual({ accessLogging: [{ providers: [{ name: 'envoy' }] }] });
      expect(one(manifests, 'Telemetry', 'namespace-no-log', 'foo').spec).toEqual({ accessLogging: [{ disabled: true }] });
      expect(manifests).toMatchSnapshot();
    });

    test('metrics: every metric disabled on the server side', () => {
      const { chart, mesh } = setup();
      new Telemetry(chart, 'mesh-default', {
        mesh,
        meshWide: true,
        metrics: {
          providers: [TelemetryProvider.PROMETHEUS],
          overrides: [{ metric: IstioMetric.ALL_METRICS, mode: TelemetryMode.SERVER, disabled: true }],
        },
      });
      expect(one(telemetries(chart), 'Telemetry', 'mesh-default', 'istio-system').spec).toEqual({
        metrics: [{ providers: [{ name: 'prometheus' }], overrides: [{ match: { metric: 'ALL_METRICS', mode: 'SERVER' }, disabled: true }] }],
      });
      expect(telemetries(chart)).toMatchSnapshot();
    });

    test('metrics: tag overrides for request_method and request_host', () => {
      const { chart, meshes } = setup({}, 'foo');
      new Telemetry(chart, 'namespace-metrics', {
        mesh: meshes.foo,
        metrics: {
          providers: [TelemetryProvider.PROMETHEUS],
          overrides: [{ tagOverrides: { request_method: TagOverride.upsert('request.method'), request_host: TagOverride.upsert('request.host') } }],
        },
      });
      expect(one(telemetries(chart), 'Telemetry', 'namespace-metrics', 'foo').spec).toEqual({
        metrics: [{
          providers: [{ name: 'prometheus' }],
          overrides: [{ tagOverrides: { request_host: { value: 'request.host' }, request_method: { value: 'request.method' } } }],
        }],
      });
      expect(telemetries(chart)).toMatchSnapshot();
    });
  });

  test('a version target selects its canonical name and revision; every field of every section is written', () => {
    // GIVEN
    const otel = TelemetryProvider.openTelemetryTracing({
      name: 'otel-tracing', service: 'opentelemetry-collector.observability.svc.cluster.local', port: 4317,
    });
    const otelLogs = TelemetryProvider.openTelemetryAccessLog({ name: 'otel-logs', service: 'otel.observability.svc.cluster.local', port: 4317 });
    const { chart, mesh } = setup({ telemetryProviders: [otel, otelLogs] });
    const reviews = new MeshService(chart, 'reviews', { mesh, image: 'reviews:1', port: 9080 });
    const v2 = reviews.addVersion('v2');
    // WHEN
    const telemetry = new Telemetry(chart, 'reviews-v2', {
      mesh,
      target: v2,
      tracing: {
        providers: [otel],
        randomSamplingPercent: 0.5,
        mode: TelemetryMode.CLIENT,
        customTags: { user: CustomTag.header('x-user', 'anonymous'), cluster_id: CustomTag.environment('ISTIO_META_CLUSTER_ID', 'Kubernetes') },
      },
      accessLogging: { providers: [TelemetryProvider.ENVOY], filter: 'response.code >= 400', mode: TelemetryMode.SERVER },
      metrics: {
        reportingInterval: Duration.seconds(15),
        overrides: [{ metric: IstioMetric.REQUEST_COUNT, tagOverrides: { request_protocol: TagOverride.remove() } }],
      },
    });
    telemetry.addAccessLogging({ providers: [otelLogs] });
    // THEN
    expect(one(telemetries(chart), 'Telemetry', 'reviews-v2', 'shop').spec).toEqual({
      selector: { matchLabels: { 'service.istio.io/canonical-name': 'reviews', 'service.istio.io/canonical-revision': 'v2' } },
      tracing: [{
        providers: [{ name: 'otel-tracing' }],
        randomSamplingPercentage: 0.5,
        match: { mode: 'CLIENT' },
        customTags: {
          cluster_id: { environment: { name: 'ISTIO_META_CLUSTER_ID', defaultValue: 'Kubernetes' } },
          user: { header: { name: 'x-user', defaultValue: 'anonymous' } },
        },
      }],
      accessLogging: [
        { providers: [{ name: 'envoy' }], filter: { expression: 'response.code >= 400' }, match: { mode: 'SERVER' } },
        { providers: [{ name: 'otel-logs' }] },
      ],
      metrics: [{ reportingInterval: '15s', overrides: [{ match: { metric: 'REQUEST_COUNT' }, tagOverrides: { request_protocol: { operation: 'REMOVE' } } }] }],
    });
    expect(telemetry.matchLabels).toEqual({ 'service.istio.io/canonical-name': 'reviews', 'service.istio.io/canonical-revision': 'v2' });
    expect(ApiObject.of(telemetry)).toBe(telemetry.apiObject);
    expect(telemetries(chart)).toMatchSnapshot();
  });

  test('the name defaults to the construct id and the scope to the mesh namespace', () => {
    const { chart, mesh } = setup();
    const telemetry = new Telemetry(chart, 'access-logs', { mesh, accessLogging: { providers: [TelemetryProvider.ENVOY] } });
    expect(telemetry.name).toBe('access-logs');
    expect(telemetry.namespaceName).toBe('shop');
    expect(one(telemetries(chart), 'Telemetry', 'access-logs', 'shop').spec).toEqual({ accessLogging: [{ providers: [{ name: 'envoy' }] }] });
  });

  test('a namespace-wide and a workload Telemetry can share a namespace; so can distinct versions', () => {
    const { chart, mesh } = setup();
    const reviews = new MeshService(chart, 'reviews', { mesh, image: 'reviews:1', port: 9080 });
    const v2 = reviews.addVersion('v2');
    new Telemetry(chart, 'namespace', { mesh, accessLogging: { providers: [TelemetryProvider.ENVOY] } });
    new Telemetry(chart, 'v1', { mesh, target: reviews.defaultVersion, accessLogging: { disabled: true } });
    new Telemetry(chart, 'v2', { mesh, target: v2, accessLogging: { disabled: true } });
    expect(telemetries(chart).map((t) => t.metadata.name)).toEqual(['namespace', 'v1', 'v2']);
  });

  test("Istio's Telemetry schema checks these objects: a misspelt field fails", () => {
    const { chart, mesh } = setup({ telemetryProviders: [ZIPKIN] });
    new Telemetry(chart, 't', { mesh, tracing: { providers: [ZIPKIN], randomSamplingPercent: 10 } });
    const [telemetry] = telemetries(chart);
    expect(schemaErrors([telemetry])).toEqual([]);
    const broken = JSON.parse(JSON.stringify(telemetry));
    broken.spec.tracing[0].randomSamplingPercent = 10;
    expect(schemaErrors([broken]).join('\n')).toMatch(/randomSamplingPercent/);
  });

  test('output is byte-identical across two runs', () => {
    const build = () => {
      const app = new App();
      const chart = new Chart(app, 'c');
      const mesh = new Mesh(chart, 'mesh', { namespaceName: 'shop', telemetryProviders: [ZIPKIN] });
      new Telemetry(chart, 't', {
        mesh, tracing: { providers: [ZIPKIN], customTags: { b: CustomTag.literal('2'), a: CustomTag.literal('1') } },
      });
      return app.synthYaml();
    };
    expect(build()).toEqual(build());
  });

  describe('bad input', () => {
    test.each([-1, 100.5, NaN])('CM401: sampling percentage %p outside 0–100', (percent) => {
      const { chart, mesh } = setup();
      expect(() => new Telemetry(chart, 'tracing', { mesh, tracing: { randomSamplingPercent: percent } }))
        .toThrow(new RegExp(`\\[chart/tracing\\] CM401 .*randomSamplingPercent is ${percent}. Fix: use a percentage from 0 to 100`));
    });

    test('CM402: a provider the mesh does not declare', () => {
      const { chart, mesh } = setup();
      new Telemetry(chart, 'tracing', { mesh, tracing: { providers: [ZIPKIN] } });
      expect(() => Testing.synth(chart))
        .toThrow(/\[chart\/tracing\] CM402 .*provider "zipkin" is not declared on mesh "chart\/mesh-shop".*IST0157.*Fix: add it to the Mesh's telemetryProviders/);
    });

    test('CM402: a provider declared with other settings', () => {
      const { chart, mesh } = setup({ telemetryProviders: [ZIPKIN] });
      const other = TelemetryProvider.zipkin({ name: 'zipkin', service: 'zipkin.tracing.svc.cluster.local', port: 9411 });
      new Telemetry(chart, 'tracing', { mesh, tracing: { providers: [other] } });
      expect(() => Testing.synth(chart)).toThrow(/CM402 .*provider "zipkin" is declared on mesh .* with other settings.*Fix: use the provider object the mesh declares/);
    });

    test('CM403: two Telemetries without a target in one namespace', () => {
      const { chart, mesh } = setup();
      new Telemetry(chart, 'logs', { mesh, accessLogging: { providers: [TelemetryProvider.ENVOY] } });
      new Telemetry(chart, 'metrics', { mesh, metrics: { providers: [TelemetryProvider.PROMETHEUS] } });
      expect(() => Testing.synth(chart))
        .toThrow(/\[chart\/logs\] CM403 .*namespace "shop" has other Telemetries without a target \(chart\/metrics\).*IST0160.*Fix: merge their settings into one Telemetry/);
    });

    test('CM403: two mesh-wide Telemetries, even from meshes of different namespaces', () => {
      const { chart, meshes } = setup({}, 'a', 'b');
      new Telemetry(chart, 'logs', { mesh: meshes.a, meshWide: true, accessLogging: { providers: [TelemetryProvider.ENVOY] } });
      new Telemetry(chart, 'metrics', { mesh: meshes.b, meshWide: true, metrics: { providers: [TelemetryProvider.PROMETHEUS] } });
      expect(() => Testing.synth(chart)).toThrow(/CM403 .*namespace "istio-system" has other Telemetries without a target/);
    });

    test.each(['', '   '])('CM405: empty access log filter %p', (filter) => {
      const { chart, mesh } = setup();
      expect(() => new Telemetry(chart, 'logs', { mesh, accessLogging: { providers: [TelemetryProvider.ENVOY], filter } }))
        .toThrow(/\[chart\/logs\] CM405 .*the access log filter is an empty CEL expression. Fix: give an expression such as 'response.code >= 400'/);
    });

    test('CM406: a provider used for the wrong signal', () => {
      const { chart, mesh } = setup();
      new Telemetry(chart, 'tracing', { mesh, tracing: { providers: [TelemetryProvider.PROMETHEUS] } });
      expect(() => Testing.synth(chart))
        .toThrow(/\[chart\/tracing\] CM406 .*provider "prometheus" receives metrics but is used for tracing. Fix: use a tracing provider here \(TelemetryProvider.zipkin\(\)/);
    });

    test('CM406: a default provider of the wrong signal', () => {
      expect(() => setup({ defaultTelemetryProviders: { tracing: [TelemetryProvider.ENVOY] } }))
        .toThrow(/\[chart\/mesh-shop\] CM406 .*default tracing provider "envoy" receives accessLogging, not tracing/);
    });

    test('CM407: tracing without a provider when the mesh has no default (IST0157)', () => {
      const { chart, mesh } = setup();
      new Telemetry(chart, 'tracing', { mesh, tracing: { randomSamplingPercent: 10 } });
      expect(() => Testing.synth(chart))
        .toThrow(/\[chart\/tracing\] CM407 .*the tracing settings name no provider and mesh "chart\/mesh-shop" has no default tracing provider.*Fix: name a provider/);
    });

    test('CM407: access logging without a provider (IST0157)', () => {
      const { chart, mesh } = setup();
      new Telemetry(chart, 'logs', { mesh, accessLogging: { filter: 'response.code >= 400' } });
      // istioctl's IST0157 says the same of the output, as a warning printed before the error.
      expect(captureWarnings(() => expect(() => Testing.synth(chart)).toThrow(/CM407 .*accessLogging settings name no provider.*defaultTelemetryProviders.accessLogging/)))
        .toEqual([expect.stringMatching(/^IST0157 Telemetry shop\/logs \(chart\/logs\/Resource\) spec\.accessLogging\[0\]: This access-logging entry names no provider/)]);
    });

    test('CM409: meshWide and a target at once', () => {
      const { chart, mesh } = setup();
      const svc = new MeshService(chart, 'svc', { mesh, image: 'x', port: 80 });
      expect(() => new Telemetry(chart, 't', { mesh, meshWide: true, target: svc, accessLogging: { disabled: true } }))
        .toThrow(/\[chart\/t\] CM409 .*both meshWide and has a target. Fix: use meshWide for the whole mesh, or a target/);
    });

    test('CM409: a target of another namespace', () => {
      const { chart, meshes } = setup({}, 'a', 'b');
      const svc = new MeshService(chart, 'svc', { mesh: meshes.a, image: 'x', port: 80 });
      expect(() => new Telemetry(chart, 't', { mesh: meshes.b, target: svc, accessLogging: { disabled: true } }))
        .toThrow(/CM409 .*pods are in namespace "a" but the Telemetry is for namespace "b". Fix: pass the Mesh of namespace "a"/);
    });

    test('CM410: a service-wide and a version Telemetry select the same pods (IST0159)', () => {
      const { chart, mesh } = setup();
      const reviews = new MeshService(chart, 'reviews', { mesh, image: 'x', port: 80 });
      new Telemetry(chart, 'all', { mesh, target: reviews, accessLogging: { disabled: true } });
      new Telemetry(chart, 'v1', { mesh, target: reviews.defaultVersion, accessLogging: { disabled: true } });
      expect(() => Testing.synth(chart))
        .toThrow(/\[chart\/all\] CM410 .*the Telemetries chart\/v1 also select the pods of reviews-v1.*IST0159.*Fix: give each workload one Telemetry/);
    });

    test('CM412: two tracing providers', () => {
      const other = TelemetryProvider.zipkin({ name: 'jaeger', service: 'jaeger-collector.istio-system.svc.cluster.local', port: 9411 });
      const { chart, mesh } = setup({ telemetryProviders: [ZIPKIN, other] });
      expect(() => new Telemetry(chart, 't', { mesh, tracing: { providers: [ZIPKIN, other] } }))
        .toThrow(/\[chart\/t\] CM412 .*tracing names 2 providers \(zipkin, jaeger\). Fix: Istio supports one tracing provider/);
    });

    test('CM413: empty custom tag and tag override', () => {
      const { chart, mesh } = setup({ telemetryProviders: [ZIPKIN] });
      expect(() => new Telemetry(chart, 'a', { mesh, tracing: { providers: [ZIPKIN], customTags: { env: CustomTag.header(' ') } } }))
        .toThrow(/\[chart\/a\] CM413 .*custom tag "env": its header name is empty/);
      expect(() => new Telemetry(chart, 'b', { mesh, metrics: { overrides: [{ tagOverrides: { request_method: TagOverride.upsert('') } }] } }))
        .toThrow(/\[chart\/b\] CM413 .*tag override "request_method" upserts an empty expression. Fix: give a CEL expression/);
    });

    test('CM101: a Telemetry name that is not a DNS subdomain', () => {
      const { chart, mesh } = setup();
      expect(() => new Telemetry(chart, 'Mesh Default', { mesh, accessLogging: { disabled: true } }))
        .toThrow(/CM101 .*Telemetry name "Mesh Default" is not a valid DNS subdomain/);
    });
  });
});
