// Synthesizes Istio's bookinfo application: `npx cdk8s synth` writes dist/bookinfo.k8s.yaml.
import { App } from 'cdk8s';
import { BookinfoChart } from './bookinfo';
import { SyncWaves } from '../../src';

const app = new App();
// Argo CD delivers this app (examples/argocd), so reviews v3 is delivered with Argo Rollouts.
new BookinfoChart(app, 'bookinfo', { progressiveDelivery: true });
// Argo CD applies the namespace and mesh policies first, workloads next, gateways last.
SyncWaves.apply(app);
app.synth();
