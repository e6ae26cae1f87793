import * as fs from 'fs';
import * as path from 'path';
import { Duration, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { Mesh, TelemetryProvider, TelemetrySignal } from '../../src';

const ZIPKIN = TelemetryProvider.zipkin({ name: 'zipkin', service: 'zipkin.istio-system.svc.cluster.local', port: 9411, maxTagLength: 56 });

describe('Mesh telemetry providers and MeshConfig', () => {
  test('meshConfig() lists the declared providers and defaults, as Helm values for istiod', () => {
    // GIVEN
    const otel = TelemetryProvider.openTelemetryTracing({
      name: 'otel-tracing',
      service: 'opentelemetry-collector.observability.svc.cluster.local',
      port: 4318,
      http: { path: '/v1/traces', timeout: Duration.seconds(10), headers: { 'x-tenant': 'shop', 'authorization': 'Bearer t' } },
    });
    const json = TelemetryProvider.envoyFileAccessLog({ name: 'envoy-json', jsonFormat: { status: '%RESPONSE_CODE%', path: '%REQ(:PATH)%' } });
    const logs = TelemetryProvider.openTelemetryAccessLog({
      name: 'otel-logs',
      service: 'otel.observability.svc.cluster.local',
      port: 4317,
      logName: 'shop',
      textFormat: '%RESPONSE_CODE%',
      attributes: { pod: '%ENVIRONMENT(POD_NAME)%' },
    });
    // WHEN
    const mesh = new Mesh(Testing.chart(), 'mesh', {
      namespaceName: 'shop',
      telemetryProviders: [otel, json],
      defaultTelemetryProviders: { tracing: [ZIPKIN], metrics: [TelemetryProvider.PROMETHEUS], accessLogging: [TelemetryProvider.ENVOY] },
    });
    mesh.addTelemetryProvider(logs);
    // THEN
    const config = mesh.meshConfig();
    expect(config).toEqual({
      defaultProviders: { accessLogging: ['envoy'], metrics: ['prometheus'], tracing: ['zipkin'] },
      extensionProviders: [
        {
          name: 'otel-tracing',
          opentelemetry: {
            service: 'opentelemetry-collector.observability.svc.cluster.local',
            port: 4318,
            http: { path: '/v1/traces', timeout: '10s', headers: [{ name: 'authorization', value: 'Bearer t' }, { name: 'x-tenant', value: 'shop' }] },
          },
        },
        { name: 'envoy-json', envoyFileAccessLog: { path: '/dev/stdout', logFormat: { labels: { path: '%REQ(:PATH)%', status: '%RESPONSE_CODE%' } } } },
        { name: 'zipkin', zipkin: { service: 'zipkin.istio-system.svc.cluster.local', port: 9411, maxTagLength: 56 } },
        {
          name: 'otel-logs',
          envoyOtelAls: {
            service: 'otel.observability.svc.cluster.local',
            port: 4317,
            logName: 'shop',
            logFormat: { text: '%RESPONSE_CODE%', labels: { pod: '%ENVIRONMENT(POD_NAME)%' } },
          },
        },
      ],
    });
    expect(mesh.telemetryProviders.map((p) => p.name)).toEqual(['otel-tracing', 'envoy-json', 'zipkin', 'otel-logs']);
    const values = mesh.meshConfigValues();
    expect(values).toMatch(/^# MeshConfig required by the telemetry of namespace "shop"/);
    expect(values).toMatch(/helm upgrade istiod istio\/istiod -n istio-system --reuse-values -f/);
    expect(YAML.parse(values)).toEqual({ meshConfig: config });
    expect(values).toMatchSnapshot();
  });

  test('docs/observability.md shows exactly what meshConfigValues() writes for its example', () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'observability.md'), 'utf8');
    const shown = /```yaml\n([\s\S]*?)```/.exec(doc)![1];
    const jaeger = TelemetryProvider.zipkin({ name: 'jaeger', service: 'zipkin.istio-system.svc.cluster.local', port: 9411 });
    const mesh = new Mesh(Testing.chart(), 'mesh', { namespaceName: 'shop', telemetryProviders: [jaeger] });
    expect(mesh.meshConfigValues()).toBe(shown);
  });

  test('by default only metrics have a default provider, and no extension provider is needed', () => {
    const mesh = new Mesh(Testing.chart(), 'mesh', { namespaceName: 'shop' });
    expect(mesh.meshConfig()).toEqual({ defaultProviders: { metrics: ['prometheus'] } });
    expect(mesh.telemetryProviders).toEqual([]);
  });

  test('built-in providers are never listed: Istio defines them itself', () => {
    const mesh = new Mesh(Testing.chart(), 'mesh', {
      namespaceName: 'shop', telemetryProviders: [TelemetryProvider.ENVOY, TelemetryProvider.PROMETHEUS], defaultTelemetryProviders: {},
    });
    expect(mesh.meshConfig()).toEqual({});
    expect(TelemetryProvider.ENVOY).toMatchObject({ name: 'envoy', signal: TelemetrySignal.ACCESS_LOGGING, isBuiltIn: true });
    expect(TelemetryProvider.PROMETHEUS).toMatchObject({ name: 'prometheus', signal: TelemetrySignal.METRICS, isBuiltIn: true });
  });

  test('declaring the same provider twice is harmless', () => {
    const mesh = new Mesh(Testing.chart(), 'mesh', { namespaceName: 'shop', telemetryProviders: [ZIPKIN] });
    mesh.addTelemetryProvider(TelemetryProvider.zipkin({ name: 'zipkin', service: 'zipkin.istio-system.svc.cluster.local', port: 9411, maxTagLength: 56 }));
    expect(mesh.meshConfig().extensionProviders).toHaveLength(1);
  });

  describe('bad input', () => {
    const mesh = (...providers: TelemetryProvider[]) => new Mesh(Testing.chart(), 'mesh', { namespaceName: 'shop', telemetryProviders: providers });

    test('CM408: two different providers with one name', () => {
      const other = TelemetryProvider.zipkin({ name: 'zipkin', service: 'jaeger-collector.istio-system.svc.cluster.local', port: 9411 });
      expect(() => mesh(ZIPKIN, other))
        .toThrow(/\[test\/mesh\] CM408 .*two different telemetry providers are named "zipkin". Fix: give each provider its own name/);
    });

    test("CM408: a custom provider named like one of Istio's built-ins", () => {
      expect(() => mesh(TelemetryProvider.envoyFileAccessLog({ name: 'envoy', textFormat: '%RESPONSE_CODE%' })))
        .toThrow(/CM408 .*telemetry provider name "envoy" is one of Istio's built-in providers. Fix: use TelemetryProvider.ENVOY .*e\.g\. "envoy-custom"/);
    });

    test.each([
      [TelemetryProvider.zipkin({ name: '', service: 'z', port: 9411 }), /the name is empty/],
      [TelemetryProvider.zipkin({ name: 'z', service: ' ', port: 9411 }), /the collector service is empty/],
      [TelemetryProvider.zipkin({ name: 'z', service: 'z', port: 70000 }), /port 70000 is not a TCP port number/],
      [TelemetryProvider.zipkin({ name: 'z', service: 'z', port: 9411, maxTagLength: -1 }), /maxTagLength -1 is not a positive whole number/],
      [TelemetryProvider.openTelemetryTracing({ name: 'o', service: 'o', port: 4318, http: { path: 'v1/traces' } }), /OTLP HTTP path "v1\/traces" does not start with "\/"/],
      [TelemetryProvider.openTelemetryTracing({ name: 'o', service: 'o', port: 4318, http: { path: '/v1', timeout: Duration.millis(0.5) } }), /OTLP HTTP timeout/],
      [TelemetryProvider.envoyFileAccessLog({ name: 'f', textFormat: 'x', jsonFormat: {} }), /sets both textFormat and jsonFormat/],
    ])('CM408: invalid provider settings (%#)', (provider, message) => {
      expect(() => mesh(provider)).toThrow(/\[test\/mesh\] CM408 Invalid telemetry provider: telemetry provider/);
      expect(() => mesh(provider)).toThrow(message);
    });
  });
});
