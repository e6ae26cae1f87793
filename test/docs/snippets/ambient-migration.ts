import { App, Chart, Duration } from 'cdk8s';
import { Dataplane, HeaderMatch, HttpMethod, Mesh, MeshService, MeshSimulator } from 'cdk8s-mesh';

// One program, two dataplanes: the only line that changes is `dataplane`.
function shop(app: App, id: string, dataplane: Dataplane): Chart {
  const chart = new Chart(app, id, { namespace: id });
  const mesh = new Mesh(chart, 'mesh', { dataplane });
  const web = new MeshService(chart, 'web', { mesh, image: 'example/web:1.0', port: 8080 });
  const catalog = new MeshService(chart, 'catalog', { mesh, image: 'example/catalog:1.0', port: 9080 });
  const v2 = catalog.addVersion('v2', { image: 'example/catalog:2.0' });
  // Testers get v2; everyone else a 90/10 split. With sidecars: one VirtualService. In ambient mode:
  // an HTTPRoute attached to the Service catalog, and the Services catalog-v1 and catalog-v2.
  catalog.routeTraffic({
    matches: [{ headers: [HeaderMatch.exact('x-tester', 'yes')] }],
    destinations: [{ version: v2 }],
    timeout: Duration.seconds(2),
  });
  catalog.routeTraffic({ destinations: [{ version: catalog.defaultVersion, weight: 90 }, { version: v2, weight: 10 }] });
  catalog.allowFrom(web, { methods: [HttpMethod.GET] });
  return chart;
}

const app = new App();
const before = shop(app, 'shop-sidecar', Dataplane.sidecar());
const after = shop(app, 'shop-ambient', Dataplane.ambient({ waypoint: true }));

// The same request, traced on both outputs: the same versions, with the same weights.
for (const [chart, ns] of [[before, 'shop-sidecar'], [after, 'shop-ambient']] as const) {
  const sim = new MeshSimulator(chart.toJson());
  const trace = sim.trace({ source: `${ns}/web-v1`, host: `catalog.${ns}.svc.cluster.local:9080`, headers: { 'x-tester': 'yes' } });
  const reached = trace.destinations.map((d) => d.workload?.name).join();
  if (trace.outcome !== 'REACHED' || reached !== 'catalog-v2') throw new Error(`${ns}: ${trace.explanation}`);
}

app.synth(); // dist/shop-sidecar.k8s.yaml, dist/shop-ambient.k8s.yaml
