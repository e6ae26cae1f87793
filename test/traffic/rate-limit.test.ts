// Local rate limiting (issue 17, part 2), against Istio's task "Enabling Rate Limits using Envoy", section "Local rate
// limit" (istio.io docs/tasks/policy-enforcement/rate-limit: productpage limited to 10 requests per minute, with an
// `x-local-rate-limit: true` header on refused requests), and Envoy's local rate limit filter (envoyproxy.io
// configuration/http/http_filters/local_rate_limit_filter; its token bucket refuses a fill interval under 50ms).
import { Chart, Duration, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import {
  Dataplane, GatewayListener, IngressGateway, LocalRateLimit, Mesh, MeshAnalysis, MeshService, Protocol,
} from '../../src';
import { Manifest, one } from '../support/manifests';

function bookinfo(dataplane?: Dataplane) {
  const chart = new Chart(Testing.app(), 'bookinfo', { namespace: 'bookinfo' });
  const mesh = new Mesh(chart, 'mesh', { dataplane });
  const productpage = new MeshService(chart, 'productpage', { mesh, image: 'productpage:1', port: 9080 });
  return { chart, mesh, productpage };
}

/** The task's first EnvoyFilter (all routes of productpage), as the page writes it. */
const TASK = YAML.parse(`
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: { name: filter-local-ratelimit-svc, namespace: istio-system }
spec:
  workloadSelector: { labels: { app: productpage } }
  configPatches:
    - applyTo: HTTP_FILTER
      listener: { filterChain: { filter: { name: "envoy.http_connection_manager" } } }
      patch:
        operation: INSERT_BEFORE
        value:
          name: envoy.filters.http.local_ratelimit
          typed_config:
            "@type": type.googleapis.com/udpa.type.v1.TypedStruct
            type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
            value:
              stat_prefix: http_local_rate_limiter
              token_bucket: { max_tokens: 10, tokens_per_fill: 10, fill_interval: 60s }
              filter_enabled: { runtime_key: local_rate_limit_enabled, default_value: { numerator: 100, denominator: HUNDRED } }
              filter_enforced: { runtime_key: local_rate_limit_enforced, default_value: { numerator: 100, denominator: HUNDRED } }
              response_headers_to_add: [{ append: false, header: { key: x-local-rate-limit, value: 'true' } }]
`);

describe('service.addRateLimit', () => {
  test('reproduces Istio\'s local rate limit task: productpage, 10 requests per minute, x-local-rate-limit on refusals', () => {
    const { chart, productpage } = bookinfo();
    productpage.addRateLimit({ requests: 10, per: Duration.minutes(1), responseHeaders: { 'x-local-rate-limit': 'true' } });
    const manifests = Testing.synth(chart) as Manifest[];
    const ef = one(manifests, 'EnvoyFilter', 'productpage-local-ratelimit');
    const [patch] = ef.spec.configPatches;
    const [taskPatch] = TASK.spec.configPatches;
    // Same pods, same filter, same place relative to the router, same token bucket and runtime switches.
    expect(ef.spec.workloadSelector).toEqual(TASK.spec.workloadSelector);
    expect(patch.applyTo).toBe(taskPatch.applyTo);
    expect(patch.patch.operation).toBe(taskPatch.patch.operation);
    const { response_headers_to_add: headers, ...value } = patch.patch.value.typed_config.value;
    const { response_headers_to_add: taskHeaders, ...taskValue } = taskPatch.patch.value.typed_config.value;
    expect(patch.patch.value.name).toBe(taskPatch.patch.value.name);
    expect({ ...patch.patch.value.typed_config, value }).toEqual({ ...taskPatch.patch.value.typed_config, value: taskValue });
    // `append: false` (deprecated in Envoy) is `append_action: OVERWRITE_IF_EXISTS_OR_ADD`.
    expect(headers).toEqual([{ append_action: 'OVERWRITE_IF_EXISTS_OR_ADD', header: taskHeaders[0].header }]);
    // Deliberate differences: bound to the inbound listeners of productpage's own namespace, before the router, with a
    // priority; the task's EnvoyFilter (in the root namespace, relative, without a priority) gets IST0151.
    expect(ef.metadata.namespace).toBe('bookinfo');
    expect(patch.match).toEqual({ context: 'SIDECAR_INBOUND', listener: { filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager', subFilter: { name: 'envoy.filters.http.router' } } } } });
    expect(ef.spec.priority).toBe(10);
    const codes = (objects: any[]) => MeshAnalysis.analyze(objects).map((f) => f.code);
    expect(codes(manifests)).not.toContain('IST0151');
    expect(codes([...manifests.filter((m) => m.kind !== 'EnvoyFilter'), TASK])).toContain('IST0151');
    expect(ef).toMatchSnapshot();
  });

  test('burst is the bucket size; the gateway variant binds to the gateway pods (context GATEWAY) in their namespace', () => {
    const { chart, mesh, productpage } = bookinfo();
    const limit = productpage.addRateLimit({ requests: 100, per: Duration.seconds(1), burst: 300 });
    expect(limit).toBeInstanceOf(LocalRateLimit);
    const gateway = new IngressGateway(chart, 'gateway', { mesh, hosts: ['bookinfo.example.com'], listeners: [GatewayListener.http()] });
    gateway.addRateLimit({ requests: 1000, per: Duration.millis(500) });
    const manifests = Testing.synth(chart) as Manifest[];
    expect(one(manifests, 'EnvoyFilter', 'productpage-local-ratelimit').spec.configPatches[0].patch.value.typed_config.value.token_bucket)
      .toEqual({ max_tokens: 300, tokens_per_fill: 100, fill_interval: '1s' });
    const gw = one(manifests, 'EnvoyFilter', 'gateway-local-ratelimit');
    expect(gw.spec.workloadSelector.labels).toEqual(gateway.selector);
    expect(gw.spec.configPatches[0].match.context).toBe('GATEWAY');
    expect(gw.spec.configPatches[0].patch.value.typed_config.value.token_bucket).toEqual({ max_tokens: 1000, tokens_per_fill: 1000, fill_interval: '0.5s' });
    expect(gw.spec.configPatches[0].patch.value.typed_config.value.response_headers_to_add).toBeUndefined();
  });
});

describe('bad rate limits', () => {
  test('CM242: a token bucket Envoy refuses or that cannot admit the rate', () => {
    const { productpage } = bookinfo();
    expect(() => productpage.addRateLimit({ requests: 0, per: Duration.seconds(1) })).toThrow(/\[bookinfo\/productpage\/RateLimit1\] CM242 Invalid rate limit: requests is 0\. Fix: use a whole number from 1 to 4294967295/);
    expect(() => productpage.addRateLimit({ requests: 10, per: Duration.seconds(1), burst: 5 })).toThrow(/CM242 Invalid rate limit: burst 5 is smaller than requests 10: the bucket holds at most 5 tokens, so only 5 requests per 1 second would be admitted\. Fix: set burst to at least 10/);
    expect(() => productpage.addRateLimit({ requests: 1, per: Duration.millis(10) })).toThrow(/CM242 Invalid rate limit: per is 10 millis, and Envoy refuses a token bucket fill interval under 50ms \(the listener is rejected\)\. Fix: use Duration\.millis\(50\) or longer, e\.g\. 5 requests per Duration\.millis\(50\)/);
    expect(() => productpage.addRateLimit({ requests: 1, per: Duration.millis(100.5) })).toThrow(/CM211/);
    expect(() => productpage.addRateLimit({ requests: 1, per: Duration.seconds(1), responseHeaders: { 'X-Limited': 'yes' } })).toThrow(/CM207 .*responseHeaders name "X-Limited"/);
    expect(() => new LocalRateLimit(productpage, 'nothing', { requests: 1, per: Duration.seconds(1) })).toThrow(/CM242 Invalid rate limit: neither service nor gateway is given/);
  });

  test('CM243: in ambient mode no proxy would apply it (no sidecars; waypoints do not support EnvoyFilter)', () => {
    const { productpage } = bookinfo(Dataplane.ambient());
    expect(() => productpage.addRateLimit({ requests: 10, per: Duration.minutes(1) })).toThrow(/\[bookinfo\/productpage\/RateLimit1\] CM243 Rate limit no proxy would apply: service "productpage" is in an ambient mesh: its pods have no sidecar, and waypoints do not support EnvoyFilter, so no proxy would apply the local rate limit\. Fix: rate-limit at the ingress gateway \(gateway\.addRateLimit\), or use Dataplane\.sidecar\(\) for this namespace/);
  });

  test('CM244: one rate limit per workload; CM216: a TCP service has no HTTP requests to limit', () => {
    const { chart, mesh, productpage } = bookinfo();
    productpage.addRateLimit({ requests: 10, per: Duration.minutes(1) });
    expect(() => productpage.addRateLimit({ requests: 20, per: Duration.minutes(1) })).toThrow(/\[bookinfo\/productpage\/RateLimit2\] CM244 Two rate limits for one workload: service "productpage" already has a local rate limit \(bookinfo\/productpage\/RateLimit1\).*Fix: keep one rate limit per service or gateway/);
    const db = new MeshService(chart, 'db', { mesh, image: 'db:1', port: 5432, protocol: Protocol.TCP });
    expect(() => db.addRateLimit({ requests: 10, per: Duration.seconds(1) })).toThrow(/CM216 HTTP feature on a non-HTTP service: service "db" speaks tcp, and Envoy's local rate limit filter limits HTTP requests/);
  });
});
