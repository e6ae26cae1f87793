// Synthesizes the Argo CD objects for the bookinfo mesh: `npx cdk8s synth` writes
//   dist/mesh-project.k8s.yaml      AppProject `mesh`
//   dist/render-in-ci.k8s.yaml      Application `bookinfo`: the YAML CI renders into manifests/bookinfo
//   dist/render-in-argocd.k8s.yaml  the cdk8s plugin's ConfigMap and Application `bookinfo-cdk8s`: Argo CD renders examples/bookinfo
//   dist/argocd-repo-server.patch.yaml  the sidecar for the plugin (kubectl patch, not kubectl apply)
// Choose one of the two Applications: both deploy the same namespace.
import * as fs from 'fs';
import * as path from 'path';
import { App, Yaml } from 'cdk8s';
import { ArgoCdExample } from './argocd';

const app = new App();
const example = new ArgoCdExample(app);
app.synth();
fs.writeFileSync(path.join(app.outdir, 'argocd-repo-server.patch.yaml'), Yaml.stringify(example.plugin.repoServerPatch()));
