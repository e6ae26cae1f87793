// argocd.ts: the Argo CD side, a program of its own. CI renders the mesh program (main.ts)
// into manifests/shop; this one is synthesized elsewhere and applied once.
import { App, Chart } from 'cdk8s';
import {
  ApplicationSource, ArgoCdApplication, ArgoCdProject, GatewayListener, IgnoreDifference, IngressGateway, Mesh, MeshService, PathMatch,
} from 'cdk8s-mesh';

// The mesh the Application delivers, as main.ts declares it (in your repository, import the
// chart both programs share). It is read here, never synthesized: the Application must know
// which fields its controllers own.
const shop = new Chart(new App(), 'shop', { namespace: 'shop' });
const mesh = new Mesh(shop, 'mesh');
const web = new MeshService(shop, 'web', { mesh, image: 'example/web:1.0', port: 8080 });
web.addVersion('v2', { image: 'example/web:2.0' });
const gateway = new IngressGateway(shop, 'gateway', {
  mesh, hosts: ['shop.example.com'], listeners: [GatewayListener.http()], autoscaling: { minReplicas: 2, maxReplicas: 10 },
});
web.exposeViaGateway(gateway, { paths: [PathMatch.prefix('/')] });

// The Argo CD objects, in Argo CD's namespace.
const app = new App();
const argocd = new Chart(app, 'argocd');
const project = new ArgoCdProject(argocd, 'mesh', {
  sourceRepos: ['https://github.com/example/shop-deploy.git'],
  destinations: [{ namespaceName: 'shop' }],
});
new ArgoCdApplication(argocd, 'shop', {
  project, // checked at synth: the project must permit this repository and namespace
  source: ApplicationSource.directory({
    repoUrl: 'https://github.com/example/shop-deploy.git',
    path: 'manifests/shop',
    targetRevision: 'main',
  }),
  destination: { namespaceName: 'shop' },
  ignoreDifferences: [
    // The gateway Deployment's replica count, which its autoscaler owns.
    IgnoreDifference.autoscaledReplicas(shop),
    // web's route weights, once an Argo Rollouts Rollout drives its canary.
    IgnoreDifference.rolloutTrafficRouting(web),
  ],
});

app.synth(); // dist/argocd.k8s.yaml: the AppProject and the Application, nothing of the mesh
