import { App, Chart, Duration } from 'cdk8s';
import {
  Fault, GatewayListener, HeaderMatch, IngressGateway, LoadBalancer, LoadBalancerAlgorithm, Mesh, MeshService, PathMatch,
} from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'bookinfo', { namespace: 'default' });

// The namespace exists already and carries istio-injection=enabled: adopt it.
const mesh = new Mesh(chart, 'mesh', { namespaceName: 'default', createNamespace: false });

// Istio's Services, ServiceAccounts (bookinfo-<service>) and Deployments (<service>-<version>).
const service = (name: string) => new MeshService(chart, name, {
  mesh, name, port: 9080, image: `docker.io/istio/examples-bookinfo-${name}-v1:1.20.3`, serviceAccountName: `bookinfo-${name}`,
});
const details = service('details');
const ratings = service('ratings');
const productpage = service('productpage');
const reviews = new MeshService(chart, 'reviews', {
  mesh,
  port: 9080,
  image: 'docker.io/istio/examples-bookinfo-reviews-v1:1.20.3',
  serviceAccountName: 'bookinfo-reviews',
  // The names the objects have in the cluster now (here the defaults; write yours when they
  // differ, e.g. 'reviews-route'), so Argo CD updates them instead of deleting and recreating.
  virtualServiceName: 'reviews',
  destinationRuleName: 'reviews',
});
const v2 = reviews.addVersion('v2', { image: 'docker.io/istio/examples-bookinfo-reviews-v2:1.20.3' });
const v3 = reviews.addVersion('v3', { image: 'docker.io/istio/examples-bookinfo-reviews-v3:1.20.3' });

// destination-rule-reviews.yaml: random load balancing (the subsets come from the versions).
reviews.addLoadBalancing({ loadBalancer: LoadBalancer.of(LoadBalancerAlgorithm.RANDOM) });
// virtual-service-reviews-jason-v2-v3.yaml
reviews.routeTraffic({ matches: [{ headers: [HeaderMatch.exact('end-user', 'jason')] }], destinations: [{ version: v2 }] });
reviews.routeTraffic({ destinations: [{ version: v3 }] });
// virtual-service-ratings-test-delay.yaml: its subset v1 now exists (the IST0101 error is gone).
ratings.routeTraffic({
  matches: [{ headers: [HeaderMatch.exact('end-user', 'jason')] }],
  destinations: [{ version: ratings.defaultVersion }],
  fault: Fault.delay(Duration.seconds(7), 100),
});

// bookinfo-gateway.yaml: the Gateway `bookinfo-gateway` on Istio's shared ingress gateway,
// and its VirtualService `bookinfo`.
const gateway = new IngressGateway(chart, 'gateway', {
  mesh,
  name: 'bookinfo-gateway',
  virtualServiceName: 'bookinfo',
  existingGateway: { selector: { istio: 'ingressgateway' }, namespaceName: 'istio-system' },
  listeners: [GatewayListener.http({ port: 8080 })],
});
productpage.exposeViaGateway(gateway, {
  paths: [PathMatch.exact('/productpage'), PathMatch.prefix('/static'), PathMatch.exact('/login'),
    PathMatch.exact('/logout'), PathMatch.prefix('/api/v1/products')],
});

// What the YAML left open, now declared: who calls whom (the namespace is default-deny).
details.allowFrom(productpage);
reviews.allowFrom(productpage);
ratings.allowFrom(reviews);

app.synth();
