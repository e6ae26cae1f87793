// Progressive delivery: Argo Rollouts moves v2's requests from its stable to its canary pods, step by step.
import { App, Chart, Duration } from 'cdk8s';
import { CanaryStep, HeaderMatch, Mesh, MeshService } from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });
const mesh = new Mesh(chart, 'mesh');
const web = new MeshService(chart, 'web', { mesh, image: 'example/web:1.0', port: 8080 });
const v2 = web.addVersion('v2', { image: 'example/web:2.0' });

// Testers stay on v1; every other request goes to v2, the version Argo Rollouts delivers.
web.routeTraffic({ matches: [{ headers: [HeaderMatch.exact('x-tester', 'yes')] }], destinations: [{ version: web.defaultVersion }] });
web.routeTraffic({ destinations: [{ version: v2 }], timeout: Duration.seconds(5) });
// The objective the canary's analysis measures, on the canary's pods only.
web.addObjective({ availabilityPercent: 99.9, latency: Duration.millis(250) });

// web-v2 becomes a Rollout; a new image in git then rolls out 10%, analysis, 50%, a pause until promoted, 100%.
web.deliverProgressively(v2, {
  steps: [
    CanaryStep.weight(10),
    CanaryStep.pause(Duration.minutes(5)),
    CanaryStep.analysis(),
    CanaryStep.weight(50),
    CanaryStep.pause(),
  ],
  analysis: { prometheusAddress: 'http://prometheus.istio-system.svc.cluster.local:9090', interval: Duration.minutes(1), count: 5 },
});

app.synth();
