// Synthesizes Istio's bookinfo application: `npx cdk8s synth` writes dist/bookinfo.k8s.yaml.
import { App } from 'cdk8s';
import { BookinfoChart } from './bookinfo';

const app = new App();
new BookinfoChart(app, 'bookinfo');
app.synth();
