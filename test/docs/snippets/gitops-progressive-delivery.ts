// The Argo CD side of a canary: the Application ignores what the Rollouts controller changes.
import { App, Chart, Duration } from 'cdk8s';
import { ApplicationSource, ArgoCdApplication, ArgoCdProject, CanaryStep, Mesh, MeshService } from 'cdk8s-mesh';

// The mesh the Application delivers (read here, never synthesized).
const shop = new Chart(new App(), 'shop', { namespace: 'shop' });
const mesh = new Mesh(shop, 'mesh');
const web = new MeshService(shop, 'web', { mesh, image: 'example/web:1.0', port: 8080 });
web.addObjective({ availabilityPercent: 99.9 });
const canary = web.deliverProgressively(web.defaultVersion, {
  steps: [CanaryStep.weight(20), CanaryStep.analysis(), CanaryStep.weight(60), CanaryStep.pause(Duration.minutes(10))],
});

const app = new App();
const argocd = new Chart(app, 'argocd');
const project = new ArgoCdProject(argocd, 'mesh', {
  sourceRepos: ['https://github.com/example/shop-deploy.git'],
  destinations: [{ namespaceName: 'shop' }],
});
new ArgoCdApplication(argocd, 'shop', {
  project,
  source: ApplicationSource.directory({ repoUrl: 'https://github.com/example/shop-deploy.git', path: 'manifests/shop', targetRevision: 'main' }),
  destination: { namespaceName: 'shop' },
  // web's route weights and the rollouts-pod-template-hash labels of its subsets belong to the controller.
  ignoreDifferences: [canary.ignoreDifferences],
});

app.synth();
