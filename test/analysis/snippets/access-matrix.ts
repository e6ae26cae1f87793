import * as assert from 'assert';
import { App, Chart } from 'cdk8s';
import { Mesh, MeshService, MeshSimulator, TopologyGraph } from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });
const mesh = new Mesh(chart, 'mesh');
const web = new MeshService(chart, 'web', { mesh, image: 'example/web:1.0', port: 8080 });
const reviews = new MeshService(chart, 'reviews', { mesh, image: 'example/reviews:1.0', port: 9080 });
reviews.allowFrom(web);

// Who may call whom, service by service (GET / on each service's first port): a reviewable table.
const simulator = new MeshSimulator(chart.toJson());
assert.strictEqual(simulator.accessMatrixTable(), [
  'from \\ to     shop/reviews  shop/web',
  'shop/reviews  deny          deny',
  'shop/web      allow         deny',
  '',
].join('\n'));

// The same mesh as a Mermaid picture (TopologyGraph.dot gives Graphviz).
assert.match(TopologyGraph.mermaid(chart.toJson()), /svc_shop__web -\.->\|"allowed"\| svc_shop__reviews/);

app.synth();
