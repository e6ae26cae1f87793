// Synthesizes the shop: `npx cdk8s synth` writes dist/storefront.k8s.yaml, dist/backend.k8s.yaml and
// dist/shop-gitops.k8s.yaml (the Argo CD Application that delivers the other two).
import { App } from 'cdk8s';
import { ShopApp } from './shop';
import { SyncWaves } from '../../src';

const app = new App();
new ShopApp(app);
// Argo CD applies namespaces and mesh policies first, workloads next, gateways last.
SyncWaves.apply(app);
app.synth();
