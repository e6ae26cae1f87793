// Progressive delivery with Argo Rollouts (issue 17, part 1): `service.deliverProgressively` / `new Canary`, against
// Argo Rollouts' docs: "Istio", subset-level traffic splitting (argoproj.github.io/argo-rollouts/features/traffic-management/
// istio/: a Rollout naming one VirtualService and its route, whose two destinations are the DestinationRule's stable and
// canary subsets, 100 / 0 in git), "Canary" (features/canary: setWeight, pause with or without duration, analysis steps),
// "Analysis" (features/analysis: args with valueFrom.podTemplateHashValue) and "Prometheus Metrics" (analysis/prometheus).
import { ApiObject, Chart, Duration, JsonPatch, Testing } from 'cdk8s';
import { BookinfoChart } from '../../examples/bookinfo/bookinfo';
import {
  AuthorizationMode, Canary, CanaryStep, Dataplane, HeaderMatch, IgnoreDifference, IngressGateway, Mesh, MeshAnalysis, MeshService,
  MeshSimulator, Protocol, RoutingApi,
} from '../../src';
import { validateObject } from '../../src/validation/validator';
import { ARGO_ROLLOUTS_ISTIO_SUBSET_EXAMPLE } from '../support/argo-rollouts-example';
import { Manifest, ofKind, one } from '../support/manifests';

function bookinfo(props: { dataplane?: Dataplane; routingApi?: RoutingApi } = {}) {
  const chart = new Chart(Testing.app(), 'bookinfo', { namespace: 'bookinfo' });
  const mesh = new Mesh(chart, 'mesh', { authorization: AuthorizationMode.NONE, ...props });
  const reviews = new MeshService(chart, 'reviews', { mesh, image: 'reviews:1', port: 9080 });
  const v2 = reviews.addVersion('v2', { image: 'reviews:2' });
  const v3 = reviews.addVersion('v3', { image: 'reviews:3' });
  return { chart, mesh, reviews, v2, v3 };
}

const STEPS = [CanaryStep.weight(10), CanaryStep.pause(Duration.minutes(5)), CanaryStep.analysis(), CanaryStep.weight(50), CanaryStep.pause()];

/** bookinfo's reviews with testers on v2 and everyone else on v3, which Argo Rollouts delivers. */
function deliveredV3() {
  const b = bookinfo();
  b.reviews.routeTraffic({ matches: [{ headers: [HeaderMatch.exact('end-user', 'jason')] }], destinations: [{ version: b.v2 }] });
  b.reviews.routeTraffic({ destinations: [{ version: b.v3 }] });
  b.reviews.addObjective({ availabilityPercent: 99.9, latency: Duration.millis(300), latencyPercentile: 95 });
  const canary = b.reviews.deliverProgressively(b.v3, { steps: STEPS });
  return { ...b, canary };
}

const synth = (chart: Chart) => Testing.synth(chart) as Manifest[];
const errorsOf = (chart: Chart) => () => synth(chart);

/**
 * What a Rollout with Istio subset-level splitting means, independent of names: its steps, the destinations of each
 * route it moves (by role: stable or canary subset, and weight), whether each subset selects the Rollout's pods, and
 * where the simulator sends a request in the state written to git.
 */
function rolloutSemantics(objects: any[], host: string) {
  const rollout = objects.find((o) => o.kind === 'Rollout');
  const canary = rollout.spec.strategy.canary;
  const { virtualService, destinationRule } = canary.trafficRouting.istio;
  const role = (subset: string) => (subset === destinationRule.stableSubsetName ? 'stable' : subset === destinationRule.canarySubsetName ? 'canary' : `other ${subset}`);
  const vs = objects.find((o) => o.kind === 'VirtualService' && o.metadata.name === virtualService.name);
  const dr = objects.find((o) => o.kind === 'DestinationRule' && o.metadata.name === destinationRule.name);
  const podLabels = rollout.spec.template.metadata.labels;
  const selects = (name: string) => {
    const labels = dr.spec.subsets.find((s: any) => s.name === name)?.labels ?? {};
    return Object.entries(labels).every(([k, v]) => podLabels[k] === v);
  };
  const seconds = (d: any) => (typeof d === 'number' ? d : Duration.parse(`PT${String(d).toUpperCase()}`).toSeconds());
  const trace = new MeshSimulator(objects).trace({ sourcePrincipal: 'cluster.local/ns/other/sa/default', host });
  return {
    steps: canary.steps.map((s: any) => (s.pause ? { pause: s.pause.duration === undefined ? 'until promoted' : seconds(s.pause.duration) } : s.setWeight !== undefined ? s : 'analysis')),
    routes: (vs.spec.http as any[]).filter((r) => (virtualService.routes ?? []).includes(r.name))
      .map((r) => r.route.map((d: any) => [role(d.destination.subset), d.weight])),
    subsetsSelectRolloutPods: [selects(destinationRule.stableSubsetName), selects(destinationRule.canarySubsetName)],
    traced: trace.destinations.map((d) => [role(d.destination.subset!), d.destination.weightPercent, d.outcome,
      d.workload?.kind === 'Rollout' && d.workload.name === rollout.metadata.name ? 'the Rollout' : `${d.workload?.kind}/${d.workload?.name}`]),
  };
}

describe('Argo Rollouts\' Istio subset-level example, reproduced by the constructs', () => {
  test('same steps, same route (stable 100 / canary 0), subsets selecting the Rollout\'s pods, the same trace', () => {
    const chart = new Chart(Testing.app(), 'argo', { namespace: 'default' });
    const mesh = new Mesh(chart, 'mesh', { namespaceName: 'default', authorization: AuthorizationMode.NONE });
    const service = new MeshService(chart, 'rollout-example', {
      mesh,
      image: 'argoproj/rollouts-demo:blue',
      port: 80,
      targetPort: 8080,
      replicas: 2,
      virtualServiceName: 'rollout-vsvc',
      destinationRuleName: 'rollout-destrule',
    });
    const canary = new Canary(chart, 'canary', { service, steps: [CanaryStep.weight(5), CanaryStep.pause(Duration.minutes(10))] });
    const ours = synth(chart);
    const theirs = MeshAnalysis.parseYaml(ARGO_ROLLOUTS_ISTIO_SUBSET_EXAMPLE);
    const host = 'rollout-example.default.svc.cluster.local:80';
    expect(rolloutSemantics(ours, host)).toEqual(rolloutSemantics(theirs, host));
    expect(rolloutSemantics(ours, host)).toEqual({
      steps: [{ setWeight: 5 }, { pause: 600 }],
      routes: [[['stable', 100], ['canary', 0]]],
      subsetsSelectRolloutPods: [true, true],
      traced: [['stable', 100, 'REACHED', 'the Rollout']],
    });
    expect(one(ours, 'Rollout', 'rollout-example-v1').spec.strategy.canary.trafficRouting.istio).toEqual({
      virtualService: { name: 'rollout-vsvc', routes: ['v1'] },
      destinationRule: { name: 'rollout-destrule', stableSubsetName: 'v1', canarySubsetName: 'v1-canary' },
    });
    expect(canary.routeNames).toEqual(['v1']);
    expect(ofKind(ours, 'Deployment')).toEqual([]);
  });
});

describe('service.deliverProgressively', () => {
  test('the version\'s Deployment becomes a Rollout with the same pod template, replicas and selector', () => {
    const plain = bookinfo();
    plain.reviews.routeTraffic({ destinations: [{ version: plain.v3 }] });
    const deployment = one(synth(plain.chart), 'Deployment', 'reviews-v3');
    const { chart } = deliveredV3();
    const manifests = synth(chart);
    expect(ofKind(manifests, 'Deployment').map((d) => d.metadata.name)).toEqual(['reviews-v1', 'reviews-v2']);
    const rollout = one(manifests, 'Rollout', 'reviews-v3');
    expect(rollout.apiVersion).toBe('argoproj.io/v1alpha1');
    expect(rollout.metadata).toEqual({ name: 'reviews-v3', namespace: 'bookinfo', labels: { app: 'reviews', version: 'v3' } });
    for (const field of ['replicas', 'selector', 'template', 'minReadySeconds', 'progressDeadlineSeconds']) {
      expect(rollout.spec[field]).toEqual(deployment.spec[field]);
    }
    expect(rollout.spec.template.spec.serviceAccountName).toBe('reviews');
  });

  test('routes to the version alone become stable 100 / canary 0 and are named; the DestinationRule gets the canary subset', () => {
    const { chart, canary } = deliveredV3();
    const manifests = synth(chart);
    const vs = one(manifests, 'VirtualService', 'reviews');
    expect(vs.spec.http.map((r: any) => [r.name, r.route.map((d: any) => `${d.destination.subset}:${d.weight ?? '-'}`)])).toEqual([
      [undefined, ['v2:-']],
      ['v3', ['v3:100', 'v3-canary:0']],
    ]);
    expect(one(manifests, 'DestinationRule', 'reviews').spec.subsets).toEqual([
      { name: 'v1', labels: { version: 'v1' } },
      { name: 'v2', labels: { version: 'v2' } },
      { name: 'v3', labels: { version: 'v3' } },
      { name: 'v3-canary', labels: { version: 'v3' } },
    ]);
    expect(canary.stableSubsetName).toBe('v3');
    expect(canary.canarySubsetName).toBe('v3-canary');
    expect(one(manifests, 'Rollout', 'reviews-v3').spec.strategy.canary).toEqual({
      trafficRouting: {
        istio: {
          virtualService: { name: 'reviews', routes: ['v3'] },
          destinationRule: { name: 'reviews', stableSubsetName: 'v3', canarySubsetName: 'v3-canary' },
        },
      },
      steps: [
        { setWeight: 10 },
        { pause: { duration: '5m' } },
        { analysis: { templates: [{ templateName: 'reviews-v3' }], args: [{ name: 'canary-hash', valueFrom: { podTemplateHashValue: 'Latest' } }] } },
        { setWeight: 50 },
        { pause: {} },
      ],
    });
  });

  test('the AnalysisTemplate measures the objectives on the canary\'s pods, with Istio\'s metrics', () => {
    const { chart } = deliveredV3();
    const template = one(synth(chart), 'AnalysisTemplate', 'reviews-v3');
    const canaryPods = 'pod=~"reviews-v3-{{args.canary-hash}}-.*"';
    const fqdn = 'destination_service="reviews.bookinfo.svc.cluster.local"';
    expect(template.spec.args).toEqual([{ name: 'canary-hash' }]);
    expect(template.spec.metrics.map((m: any) => [m.name, m.failureCondition, m.interval, m.count, m.provider.prometheus.address])).toEqual([
      ['slo-error-ratio', 'result[0] > 0.001', '1m', 5, 'http://prometheus.istio-system.svc.cluster.local:9090'],
      ['slo-latency', 'result[0] > 300', '1m', 5, 'http://prometheus.istio-system.svc.cluster.local:9090'],
    ]);
    const [errors, latency] = template.spec.metrics.map((m: any) => m.provider.prometheus.query);
    expect(errors).toBe(`(sum (rate(istio_requests_total{reporter="destination",${fqdn},response_code=~"5..",${canaryPods}}[1m]))`
      + ` / sum (rate(istio_requests_total{reporter="destination",${fqdn},${canaryPods}}[1m]))) or on() vector(0)`);
    expect(latency).toBe(`(histogram_quantile(0.95, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="destination",${fqdn},${canaryPods}}[1m]))))`
      + ' or on() vector(0)');
  });

  test('analysis settings: the Prometheus address, interval, count, limits and timeout', () => {
    const b = bookinfo();
    b.reviews.routeTraffic({ destinations: [{ version: b.v3 }] });
    b.reviews.addObjective({ availabilityPercent: 99 });
    b.reviews.deliverProgressively(b.v3, {
      steps: [CanaryStep.weight(20), CanaryStep.analysis()],
      analysis: {
        prometheusAddress: 'http://prometheus-operated.monitoring:9090',
        interval: Duration.seconds(30),
        count: 10,
        failureLimit: 2,
        initialDelay: Duration.minutes(2),
        queryTimeout: Duration.seconds(20),
      },
    });
    const [metric] = one(synth(b.chart), 'AnalysisTemplate', 'reviews-v3').spec.metrics;
    expect(metric).toMatchObject({
      name: 'slo-error-ratio',
      interval: '30s',
      initialDelay: '2m',
      count: 10,
      failureLimit: 2,
      failureCondition: 'result[0] > 0.01',
      provider: { prometheus: { address: 'http://prometheus-operated.monitoring:9090', timeout: 20 } },
    });
    expect(metric.provider.prometheus.query).toContain('[30s]');
  });

  test('the synth-time analysis does not flag the split Rollouts owns: the same findings as without the Canary', () => {
    const plain = bookinfo();
    plain.reviews.routeTraffic({ matches: [{ headers: [HeaderMatch.exact('end-user', 'jason')] }], destinations: [{ version: plain.v2 }] });
    plain.reviews.routeTraffic({ destinations: [{ version: plain.v3 }] });
    const codes = (manifests: Manifest[]) => MeshAnalysis.analyze(manifests as any).map((f) => `${f.code} ${f.kind}/${f.name}`);
    expect(codes(synth(deliveredV3().chart))).toEqual(codes(synth(plain.chart)));
  });

  test('the route promise (CM228) is proven on the Rollout\'s initial state, and broken when git says canary 100', () => {
    const { chart, reviews } = deliveredV3();
    expect(errorsOf(chart)).not.toThrow();
    ApiObject.of(reviews.virtualService!).addJsonPatch(JsonPatch.replace('/spec/http/1/route/0/weight', 0), JsonPatch.replace('/spec/http/1/route/1/weight', 100));
    expect(errorsOf(chart)).toThrow(/\[bookinfo\/reviews\/Route2\] CM228 Route not kept by the output: the catch-all route of service "reviews" promises that .* goes to v3, but traced, .* sends it to v3-canary:100 instead of v3:100/);
  });

  test('Canary.ignoreDifferences: the VirtualService\'s weights and the DestinationRule\'s pod-template-hash labels', () => {
    const { canary } = deliveredV3();
    expect(IgnoreDifference.render([canary.ignoreDifferences])).toEqual([
      { group: 'networking.istio.io', kind: 'DestinationRule', name: 'reviews', namespace: 'bookinfo', jqPathExpressions: ['.spec.subsets[].labels["rollouts-pod-template-hash"]'] },
      { group: 'networking.istio.io', kind: 'VirtualService', name: 'reviews', namespace: 'bookinfo', jqPathExpressions: ['.spec.http[].route[].weight'] },
    ]);
  });

  test('snapshot: the Rollout, its AnalysisTemplate, the VirtualService and the DestinationRule', () => {
    const manifests = synth(deliveredV3().chart);
    expect(manifests.filter((m) => ['Rollout', 'AnalysisTemplate', 'VirtualService', 'DestinationRule'].includes(m.kind))).toMatchSnapshot();
  });
});

describe('bookinfo\'s Argo CD variant (progressiveDelivery): reviews v3 delivered with Argo Rollouts', () => {
  test('a Rollout for reviews v3, its catch-all route handed over, everything else as before; it analyzes clean', () => {
    const manifests = Testing.synth(new BookinfoChart(Testing.app(), 'bookinfo', { progressiveDelivery: true })) as Manifest[];
    const plain = Testing.synth(new BookinfoChart(Testing.app(), 'bookinfo')) as Manifest[];
    expect(ofKind(manifests, 'Deployment').map((d) => d.metadata.name)).toEqual(ofKind(plain, 'Deployment').map((d) => d.metadata.name).filter((n) => n !== 'reviews-v3'));
    const rollout = one(manifests, 'Rollout', 'reviews-v3');
    expect(rollout.spec.template).toEqual(one(plain, 'Deployment', 'reviews-v3').spec.template);
    expect(rollout.spec.strategy.canary.steps.map((step: any) => Object.keys(step)[0])).toEqual(['setWeight', 'pause', 'analysis', 'setWeight', 'analysis']);
    expect(rollout.spec.strategy.canary.trafficRouting.istio.virtualService).toEqual({ name: 'reviews', routes: ['v3'] });
    expect(one(manifests, 'AnalysisTemplate', 'reviews-v3').spec.metrics.map((m: any) => m.name)).toEqual(['slo-error-ratio', 'slo-latency']);
    const findings = MeshAnalysis.analyze(manifests as any).filter((f) => f.severity !== 'Info');
    expect(MeshAnalysis.format(findings)).toEqual(MeshAnalysis.format([]));
  });
});

describe('what Argo Rollouts cannot take over is refused', () => {
  test('CM260: a second Canary for one version; a version of another service', () => {
    const { chart, reviews, v3, mesh } = deliveredV3();
    expect(() => reviews.deliverProgressively(v3, { steps: [CanaryStep.weight(10)] }))
      .toThrow(/\[bookinfo\/reviews\/Canary2\] CM260 Invalid progressive delivery target: version "v3" of service "reviews" is already delivered progressively \(bookinfo\/reviews\/Canary1\)/);
    const ratings = new MeshService(chart, 'ratings', { mesh, image: 'ratings:1', port: 9080 });
    expect(() => new Canary(chart, 'wrong', { service: ratings, version: v3, steps: [CanaryStep.weight(10)] }))
      .toThrow(/\[bookinfo\/wrong\] CM260 .*version "v3" belongs to service "reviews", not "ratings"/);
  });

  test('CM261: a Gateway API mesh (the library writes the Istio traffic router only)', () => {
    const { reviews, v3 } = bookinfo({ routingApi: RoutingApi.GATEWAY_API });
    expect(() => reviews.deliverProgressively(v3, { steps: [CanaryStep.weight(10)] }))
      .toThrow(/CM261 Progressive delivery in a Gateway API mesh: the mesh routes with the Gateway API .* Fix: route the mesh with VirtualServices/);
  });

  test('CM262: a route splitting the version with another; no route to the version alone', () => {
    const split = bookinfo();
    split.reviews.routeTraffic({ destinations: [{ version: split.reviews.defaultVersion, weight: 90 }, { version: split.v3, weight: 10 }] });
    split.reviews.deliverProgressively(split.v3, { steps: [CanaryStep.weight(10)] });
    expect(errorsOf(split.chart)).toThrow(/CM262 Route Argo Rollouts cannot take over: route bookinfo\/reviews\/Route1 splits requests v1 90% \/ v3 10%, and Argo Rollouts moves the weights of a route with exactly two destinations.* Fix: send that route's requests to version "v3" alone/);
    const none = bookinfo();
    none.reviews.deliverProgressively(none.v3, { steps: [CanaryStep.weight(10)] });
    expect(errorsOf(none.chart)).toThrow(/CM262 .*no route of service "reviews" sends requests to version "v3" alone/);
  });

  test('CM260, CM262 at synth: a version added later with the canary subset\'s name; two routes with the handed-over name', () => {
    const late = bookinfo();
    late.reviews.routeTraffic({ destinations: [{ version: late.v3 }] });
    late.reviews.deliverProgressively(late.v3, { steps: [CanaryStep.weight(10)] });
    late.reviews.addVersion('v3-canary', { image: 'reviews:3c' });
    expect(errorsOf(late.chart)).toThrow(/CM260 .*version "v3-canary" of service "reviews" \(bookinfo\/reviews\/v3-canary\) has the name of the canary subset of version "v3"/);
    const named = bookinfo();
    named.reviews.routeTraffic({ name: 'v3', matches: [{ headers: [HeaderMatch.exact('end-user', 'jason')] }], destinations: [{ version: named.v2 }] });
    named.reviews.routeTraffic({ destinations: [{ version: named.v3 }] });
    named.reviews.deliverProgressively(named.v3, { steps: [CanaryStep.weight(10)] });
    expect(errorsOf(named.chart)).toThrow(/CM262 .*the VirtualService of service "reviews" has several routes named "v3"/);
  });

  test('CM263: a TCP service', () => {
    const { chart, mesh } = bookinfo();
    const db = new MeshService(chart, 'db', { mesh, image: 'db:1', port: 5432, protocol: Protocol.TCP });
    expect(() => db.deliverProgressively(db.defaultVersion, { steps: [CanaryStep.weight(10)] }))
      .toThrow(/\[bookinfo\/db\/Canary1\] CM263 .*service "db" speaks tcp; the library hands only HTTP routes to Argo Rollouts/);
  });

  test('CM264, CM265, CM266: no steps, a weight above 100, weights going down, a pause of a fraction of a second', () => {
    const { reviews, v3 } = bookinfo();
    const steps = (...s: CanaryStep[]) => () => reviews.deliverProgressively(v3, { steps: s });
    expect(steps()).toThrow(/CM264 Invalid canary weight: the canary has no steps/);
    expect(steps(CanaryStep.weight(120))).toThrow(/CM264 Invalid canary weight: step 1 sets the canary's weight to 120. Fix: use a whole percentage from 0 to 100/);
    expect(steps(CanaryStep.weight(50), CanaryStep.pause(), CanaryStep.weight(20)))
      .toThrow(/CM265 Canary weights not increasing: step 3 sets the canary's weight to 20 after 50.* Fix: order the weights from low to high, e.g. 20, 50/);
    expect(steps(CanaryStep.weight(10), CanaryStep.pause(Duration.millis(1500)))).toThrow(/CM266 Invalid canary pause: step 2 pauses for 1 second 500 millis; Argo Rollouts pauses in whole seconds/);
  });

  test('CM267: an analysis step without objectives; an analysis in ambient mode', () => {
    const { chart, reviews, v3 } = bookinfo();
    reviews.routeTraffic({ destinations: [{ version: v3 }] });
    reviews.deliverProgressively(v3, { steps: [CanaryStep.weight(10), CanaryStep.analysis()] });
    expect(errorsOf(chart)).toThrow(/CM267 Canary analysis without objectives: the canary of service "reviews" has an analysis step, but the service has no objective.* Fix: add one, e.g. service.addObjective/);
    const ambient = bookinfo({ dataplane: Dataplane.ambient({ waypoint: true }), routingApi: RoutingApi.ISTIO });
    expect(() => ambient.reviews.deliverProgressively(ambient.v3, { steps: [CanaryStep.analysis()] }))
      .toThrow(/CM267 .*ambient namespace "bookinfo": its request metrics come from the waypoint, and cannot tell the canary's pods from the stable ones/);
  });

  test('CM268: analysis settings out of range', () => {
    const { reviews, v3 } = bookinfo();
    const analysis = (a: any) => () => reviews.deliverProgressively(v3, { steps: [CanaryStep.analysis()], analysis: a });
    expect(analysis({ interval: Duration.seconds(10) })).toThrow(/CM268 Invalid canary analysis setting: analysis interval is 10 seconds.* Fix: use whole seconds, at least Duration.seconds\(30\)/);
    expect(analysis({ count: 0 })).toThrow(/CM268 .*analysis count is 0/);
    expect(analysis({ queryTimeout: Duration.millis(500) })).toThrow(/CM268 .*analysis queryTimeout is 500 millis/);
    expect(analysis({ prometheusAddress: 'prometheus:9090' })).toThrow(/CM268 .*prometheusAddress "prometheus:9090" is not an http\(s\) URL/);
  });

  test('CM269: a gateway route to the version (its requests would never move to the canary)', () => {
    const { chart, mesh, reviews, v3 } = bookinfo();
    reviews.routeTraffic({ destinations: [{ version: v3 }] });
    reviews.deliverProgressively(v3, { steps: [CanaryStep.weight(10)] });
    reviews.exposeViaGateway(new IngressGateway(chart, 'edge', { mesh }));
    expect(errorsOf(chart)).toThrow(/CM269 Gateway route Argo Rollouts would not shift: VirtualService "edge" .* routes requests to version "v3" of service "reviews"/);
  });
});

describe('the hand-written AnalysisTemplate schema (the shared Argo Rollouts CRDs lack AnalysisTemplate)', () => {
  const template = (spec: any) => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'AnalysisTemplate', metadata: { name: 't', namespace: 'default' }, spec });
  const prometheus = { address: 'http://prometheus:9090', query: 'up' };

  test('the library\'s templates are known and valid', () => {
    const result = validateObject(template({ args: [{ name: 'a' }], metrics: [{ name: 'm', interval: '1m', count: 5, failureCondition: 'result[0] > 1', provider: { prometheus } }] }));
    expect(result.known).toBe(true);
    expect(result.violations.filter((v) => v.severity === 'error')).toEqual([]);
  });

  test('a malformed one is refused: no metrics, a metric without a name, a timeout as a string, a bad interval, an unknown field', () => {
    const messages = (spec: any) => validateObject(template(spec)).violations.filter((v) => v.severity === 'error').map((v) => `${v.path}: ${v.message}`);
    expect(messages({})).toEqual([expect.stringMatching(/spec\.metrics.*Required value/)]);
    expect(messages({ metrics: [{ provider: { prometheus } }] })).toEqual([expect.stringMatching(/spec\.metrics\[0\]\.name.*Required value/)]);
    expect(messages({ metrics: [{ name: 'm', provider: { prometheus: { ...prometheus, timeout: '40s' } } }] }))
      .toEqual([expect.stringMatching(/spec\.metrics\[0\]\.provider\.prometheus\.timeout.*must be of type integer/)]);
    expect(messages({ metrics: [{ name: 'm', interval: '1 minute', provider: { prometheus } }] })).toEqual([expect.stringMatching(/spec\.metrics\[0\]\.interval.*should match/)]);
    expect(messages({ metrics: [{ name: 'm', provider: { prometheus }, successConditions: 'x' }] })).toEqual([expect.stringMatching(/successConditions.*unknown field/)]);
  });
});
