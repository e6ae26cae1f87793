import { Chart, Duration, Testing } from 'cdk8s';
import { CircuitBreaker, LoadBalancer, LoadBalancerAlgorithm, Mesh, MeshService, MtlsMode, MtlsPolicy } from '../../src';
import { Manifest, one } from '../support/manifests';

function setup() {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
  const mesh = new Mesh(chart, 'mesh');
  const api = new MeshService(chart, 'api', { mesh, image: 'api:1', port: 8080 });
  const v2 = api.addVersion('v2', { image: 'api:2' });
  return { chart, mesh, api, v2 };
}
const destinationRule = (chart: Chart) => one(Testing.synth(chart) as Manifest[], 'DestinationRule', 'api').spec;

describe('CircuitBreaker', () => {
  test('every connection pool and outlier setting, service-wide', () => {
    const { chart, api } = setup();
    api.addCircuitBreaker({
      connectionPool: {
        maxConnections: 100,
        connectTimeout: Duration.millis(250),
        maxPendingRequests: 10,
        maxRequests: 200,
        maxRequestsPerConnection: 0,
        maxRetries: 3,
        idleTimeout: Duration.minutes(5),
      },
      outlierDetection: {
        consecutive5xxErrors: 5,
        consecutiveGatewayErrors: 3,
        interval: Duration.seconds(10),
        baseEjectionTime: Duration.seconds(30),
        maxEjectionPercent: 50,
        minHealthPercent: 25,
      },
    });
    expect(destinationRule(chart).trafficPolicy).toEqual({
      connectionPool: {
        tcp: { maxConnections: 100, connectTimeout: '0.25s' },
        http: { http1MaxPendingRequests: 10, http2MaxRequests: 200, maxRequestsPerConnection: 0, maxRetries: 3, idleTimeout: '5m' },
      },
      outlierDetection: {
        consecutive5xxErrors: 5, consecutiveGatewayErrors: 3, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50, minHealthPercent: 25,
      },
    });
  });

  test('a version-level circuit breaker is a subset traffic policy', () => {
    const { chart, api, v2 } = setup();
    new CircuitBreaker(chart, 'v2-breaker', { service: api, version: v2, connectionPool: { maxPendingRequests: 1 } });
    const dr = destinationRule(chart);
    expect(dr.trafficPolicy).toBeUndefined();
    expect(dr.subsets).toEqual([
      { name: 'v1', labels: { version: 'v1' } },
      { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { connectionPool: { http: { http1MaxPendingRequests: 1 } } } },
    ]);
    expect(dr).toMatchSnapshot();
  });

  describe('bad input', () => {
    test('CM230: a limit of 0 or not a whole number', () => {
      const { api } = setup();
      expect(() => api.addCircuitBreaker({ connectionPool: { maxConnections: 0 } }))
        .toThrow(/\[shop\/api\/CircuitBreaker1\] CM230 .*connectionPool.maxConnections is 0, which would refuse every request/);
      expect(() => setup().api.addCircuitBreaker({ connectionPool: { maxRequests: 2.5 } })).toThrow(/CM230 .*maxRequests is 2.5/);
    });
    test('CM231: outlier percentages outside 0–100', () => {
      expect(() => setup().api.addCircuitBreaker({ outlierDetection: { maxEjectionPercent: 120 } }))
        .toThrow(/CM231 .*maxEjectionPercent is 120.*Fix: use a percentage from 0 to 100/);
    });
    test('CM232: two circuit breakers for one scope', () => {
      const { api } = setup();
      api.addCircuitBreaker({ outlierDetection: { consecutive5xxErrors: 5 } });
      expect(() => api.addCircuitBreaker({ connectionPool: { maxConnections: 5 } }))
        .toThrow(/\[shop\/api\/CircuitBreaker2\] CM232 .*service "api" already has a circuit breaker \(shop\/api\/CircuitBreaker1\)/);
    });
    test('CM233: an empty circuit breaker', () => {
      expect(() => setup().api.addCircuitBreaker({ connectionPool: {} })).toThrow(/CM233 .*sets no connection pool limit and no outlier detection/);
    });
    test('CM211: a duration under 1ms', () => {
      expect(() => setup().api.addCircuitBreaker({ outlierDetection: { interval: Duration.millis(0.1) } })).toThrow(/CM211 .*outlierDetection.interval/);
    });
    test('CM204: a version of another service', () => {
      const { chart, mesh, api } = setup();
      const other = new MeshService(chart, 'other', { mesh, image: 'o', port: 80 });
      expect(() => api.addCircuitBreaker({ version: other.defaultVersion, outlierDetection: {} as any, connectionPool: { maxConnections: 1 } }))
        .toThrow(/CM204 .*version "v1" belongs to service "other"/);
    });
  });
});

describe('client TLS is derived from the mTLS policies, never declared', () => {
  test('STRICT or PERMISSIVE servers: no DestinationRule TLS (auto-mTLS); a DISABLE server: tls DISABLE', () => {
    const { chart, mesh, api } = setup();
    const legacy = new MeshService(chart, 'legacy', { mesh, image: 'legacy:1', port: 80 });
    new MtlsPolicy(chart, 'legacy-plaintext', { mesh, target: legacy, mode: MtlsMode.DISABLE });
    const manifests = Testing.synth(chart) as Manifest[];
    expect(one(manifests, 'DestinationRule', 'api').spec.trafficPolicy).toBeUndefined();
    expect(one(manifests, 'DestinationRule', 'legacy').spec.trafficPolicy).toEqual({ tls: { mode: 'DISABLE' } });
    expect(api.host).toBeDefined();
  });

  test('versions that disagree get the TLS on their subset', () => {
    const { chart, mesh, api, v2 } = setup();
    new MtlsPolicy(chart, 'v2-plaintext', { mesh, target: v2, mode: MtlsMode.DISABLE });
    const dr = one(Testing.synth(chart) as Manifest[], 'DestinationRule', 'api').spec;
    expect(dr.trafficPolicy).toBeUndefined();
    expect(dr.subsets).toEqual([
      { name: 'v1', labels: { version: 'v1' } },
      { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { tls: { mode: 'DISABLE' } } },
    ]);
    expect(api.versions).toHaveLength(2);
  });
});

describe('LoadBalancing', () => {
  test.each([
    [LoadBalancer.of(LoadBalancerAlgorithm.ROUND_ROBIN), { simple: 'ROUND_ROBIN' }],
    [LoadBalancer.of(LoadBalancerAlgorithm.LEAST_REQUEST), { simple: 'LEAST_REQUEST' }],
    [LoadBalancer.consistentHashByHeader('x-user'), { consistentHash: { httpHeaderName: 'x-user' } }],
    [LoadBalancer.consistentHashByCookie('session', { ttl: Duration.hours(1), path: '/' }), { consistentHash: { httpCookie: { name: 'session', ttl: '1h', path: '/' } } }],
    [LoadBalancer.consistentHashBySourceIp(), { consistentHash: { useSourceIp: true } }],
    [LoadBalancer.consistentHashByQueryParameter('user'), { consistentHash: { httpQueryParameterName: 'user' } }],
  ])('%#: algorithms', (loadBalancer, expected) => {
    const { chart, api } = setup();
    api.addLoadBalancing({ loadBalancer });
    expect(destinationRule(chart).trafficPolicy).toEqual({ loadBalancer: expected });
  });

  test('locality failover (with outlier detection, which Istio needs to fail over) and warm-up', () => {
    const { chart, api } = setup();
    api.addLoadBalancing({
      loadBalancer: LoadBalancer.of(LoadBalancerAlgorithm.LEAST_REQUEST),
      localityFailover: [{ sourceRegion: 'us-east', targetRegion: 'us-west' }],
      warmup: Duration.seconds(60),
    });
    api.addCircuitBreaker({ outlierDetection: { consecutive5xxErrors: 5 } });
    expect(destinationRule(chart).trafficPolicy).toEqual({
      outlierDetection: { consecutive5xxErrors: 5 },
      loadBalancer: {
        simple: 'LEAST_REQUEST',
        localityLbSetting: { enabled: true, failover: [{ from: 'us-east', to: 'us-west' }] },
        warmup: { duration: '1m' },
      },
    });
  });

  test('locality distribution for one version', () => {
    const { chart, api, v2 } = setup();
    api.addLoadBalancing({ version: v2, localityDistribution: [{ sourceLocality: 'us-west/zone1/*', weights: { 'us-west/zone1/*': 80, 'us-west/zone2/*': 20 } }] });
    expect(destinationRule(chart).subsets[1].trafficPolicy).toEqual({
      loadBalancer: { localityLbSetting: { enabled: true, distribute: [{ from: 'us-west/zone1/*', to: { 'us-west/zone1/*': 80, 'us-west/zone2/*': 20 } }] } },
    });
  });

  describe('bad input', () => {
    test('CM235: locality failover without outlier detection (checked at synth)', () => {
      const { chart, api } = setup();
      api.addLoadBalancing({ localityFailover: [{ sourceRegion: 'us-east', targetRegion: 'us-west' }] });
      expect(() => Testing.synth(chart)).toThrow(/\[shop\/api\/LoadBalancing1\] CM235 .*locality failover for service "api" has no effect: Istio needs outlier detection.*Fix: add service.addCircuitBreaker/);
    });
    test('CM236: distribution weights not summing to 100', () => {
      expect(() => setup().api.addLoadBalancing({ localityDistribution: [{ sourceLocality: 'a/*', weights: { 'a/*': 50, 'b/*': 40 } }] }))
        .toThrow(/CM236 .*total 90.*Fix: .*summing to 100/);
    });
    test('CM237: failover to the same region, or failover with distribution', () => {
      expect(() => setup().api.addLoadBalancing({ localityFailover: [{ sourceRegion: 'eu', targetRegion: 'eu' }] })).toThrow(/CM237 .*from "eu" to "eu"/);
      expect(() => setup().api.addLoadBalancing({
        localityFailover: [{ sourceRegion: 'eu', targetRegion: 'us' }],
        localityDistribution: [{ sourceLocality: 'eu/*', weights: { 'eu/*': 100 } }],
      })).toThrow(/CM237 .*both set/);
    });
    test('CM234: two load-balancing policies for one scope', () => {
      const { api } = setup();
      api.addLoadBalancing({ loadBalancer: LoadBalancer.consistentHashBySourceIp() });
      expect(() => api.addLoadBalancing({ warmup: Duration.seconds(10) })).toThrow(/CM234 .*already has a load-balancing policy/);
    });
    test('CM207 / CM238: consistent hash keys', () => {
      expect(() => setup().api.addLoadBalancing({ loadBalancer: LoadBalancer.consistentHashByHeader('X-User') })).toThrow(/CM207 /);
      expect(() => setup().api.addLoadBalancing({ loadBalancer: LoadBalancer.consistentHashByCookie('') })).toThrow(/CM238 .*cookie has no name/);
    });
  });
});
