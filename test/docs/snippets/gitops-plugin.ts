import { App, Chart, Duration } from 'cdk8s';
import { ApplicationSource, ArgoCdApplication, Cdk8sPlugin } from 'cdk8s-mesh';

const app = new App();
const argocd = new Chart(app, 'argocd');

// The plugin configuration (a ConfigMap holding plugin.yaml). The sidecar image has
// Node.js, npm and the cdk8s CLI; see examples/argocd/plugin.Dockerfile.
const plugin = new Cdk8sPlugin(argocd, 'cdk8s', {
  image: 'registry.example.com/cdk8s-cmp:2',
  execTimeout: Duration.minutes(3),
});

// Argo CD renders the cdk8s app in apps/shop (the folder holding cdk8s.yaml) itself.
new ArgoCdApplication(argocd, 'shop', {
  source: ApplicationSource.plugin({
    repoUrl: 'https://github.com/example/shop.git',
    path: 'apps/shop',
    targetRevision: 'main',
    pluginName: plugin.pluginName,
  }),
  destination: { namespaceName: 'shop' },
});

// plugin.repoServerPatch() is the patch that adds the sidecar to argocd-repo-server.
app.synth();
