import * as assert from 'assert';
import { App, Chart } from 'cdk8s';
import { HttpMethod, Mesh, MeshAnalysis, MeshService, MeshSimulator, Severity, TraceOutcome, TraceStepKind } from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });
const mesh = new Mesh(chart, 'mesh');
const web = new MeshService(chart, 'web', { mesh, image: 'example/web:1.0', port: 8080 });
const reviews = new MeshService(chart, 'reviews', { mesh, image: 'example/reviews:1.0', port: 9080 });
reviews.allowFrom(web, { methods: [HttpMethod.GET] });

// The manifests cdk8s synthesizes, checked before they reach a cluster.
const manifests = chart.toJson();
const errors = MeshAnalysis.analyze(manifests).filter((f) => f.severity === Severity.ERROR);
assert.deepStrictEqual(errors, [], MeshAnalysis.format(errors));

// "Can web call reviews?", played through the manifests the way Istio's proxies would.
const simulator = new MeshSimulator(manifests);
assert.ok(simulator.canCall('shop/web', 'shop/reviews'));
const del = simulator.trace({ source: 'shop/web', host: 'reviews', method: 'DELETE' });
assert.strictEqual(del.outcome, TraceOutcome.FORBIDDEN);
assert.strictEqual(del.status, 403);
const denied = del.destinations[0].steps.find((s) => s.kind === TraceStepKind.AUTHORIZATION)!;
assert.deepStrictEqual(denied.object, { kind: 'AuthorizationPolicy', namespaceName: 'shop', name: 'reviews-allow' });

// reviews never declared a call to web: its proxy does not even let the request out.
const back = simulator.trace({ source: 'shop/reviews', host: 'web.shop' });
assert.strictEqual(back.outcome, TraceOutcome.BAD_GATEWAY);
assert.match(back.explanation, /Sidecar shop\/reviews does not import shop\/web.shop.svc.cluster.local/);

app.synth();
