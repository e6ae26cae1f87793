// Bookinfo in ambient mode: the chart of examples/bookinfo with the dataplane changed. ztunnel does mTLS and L4
// policy, the namespace's waypoint routes (HTTPRoutes, the default in ambient) and enforces the L7 policies; the
// ingress gateway goes through the waypoint too. `npx cdk8s synth` writes dist/bookinfo.k8s.yaml. What the migration
// keeps, and the two routes the Gateway API cannot express: docs/ambient.md. (examples/bookinfo delivers reviews v3
// with Argo Rollouts, whose Istio traffic routing needs VirtualServices (CM261): the twin keeps the 90/10 split.)
import { App } from 'cdk8s';
import { Dataplane, SyncWaves } from '../../src';
import { BookinfoChart } from '../bookinfo/bookinfo';

const app = new App();
new BookinfoChart(app, 'bookinfo', { dataplane: Dataplane.ambient({ waypoint: true }) });
SyncWaves.apply(app);
app.synth();
