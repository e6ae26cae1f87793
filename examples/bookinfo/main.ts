// Synthesizes Istio's bookinfo application: `npx cdk8s synth` writes dist/bookinfo.k8s.yaml.
import { App } from 'cdk8s';
import { BookinfoChart } from './bookinfo';
import { SyncWaves } from '../../src';

const app = new App();
new BookinfoChart(app, 'bookinfo');
// Argo CD applies the namespace and mesh policies first, workloads next, gateways last.
SyncWaves.apply(app);
app.synth();
