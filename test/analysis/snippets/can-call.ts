import * as assert from 'assert';
import { App, Chart } from 'cdk8s';
import { HttpMethod, Mesh, MeshAnalysis, MeshService, MeshSimulator, Severity } from 'cdk8s-mesh';

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

// "Can web call reviews?", decided the way Istio's proxies would.
const simulator = new MeshSimulator(manifests);
assert.ok(simulator.canCall('shop/web', 'shop/reviews'));
assert.ok(!simulator.canCall('shop/web', 'shop/reviews', { method: 'DELETE' }));
const decision = simulator.call('shop/reviews', 'shop/web');
assert.strictEqual(decision.allowed, false);
assert.match(decision.explanation, /AuthorizationPolicy shop\/allow-nothing/);

app.synth();
