import { App, Chart, Duration } from 'cdk8s';
import { GatewayListener, HttpMethod, IngressGateway, Mesh, MeshService, PathMatch, RetryOn } from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });

// The namespace: sidecar injection, STRICT mutual TLS, and nothing may call anything
// until it is allowed (the AuthorizationPolicy `allow-nothing`).
const mesh = new Mesh(chart, 'mesh');

// Two services. Each gets a ServiceAccount (its mesh identity), a Service, a Deployment
// per version, one DestinationRule and one VirtualService.
const web = new MeshService(chart, 'web', { mesh, image: 'example/web:1.0', port: 8080 });
const catalog = new MeshService(chart, 'catalog', { mesh, image: 'example/catalog:1.0', port: 9080 });

// A second version of catalog gets 10% of the requests; calls time out after 2s and are
// retried once when the connection fails.
const v2 = catalog.addVersion('v2', { image: 'example/catalog:2.0' });
catalog.routeTraffic({
  destinations: [{ version: catalog.defaultVersion, weight: 90 }, { version: v2, weight: 10 }],
  timeout: Duration.seconds(2),
  retry: { attempts: 1, perTryTimeout: Duration.seconds(1), retryOn: [RetryOn.CONNECT_FAILURE] },
});

// web may read from catalog, and nothing else may call it.
catalog.allowFrom(web, { methods: [HttpMethod.GET] });

// Requests from outside enter through an ingress gateway (its own Envoy Deployment) to web.
const gateway = new IngressGateway(chart, 'gateway', { mesh, hosts: ['shop.example.com'], listeners: [GatewayListener.http()] });
web.exposeViaGateway(gateway, { paths: [PathMatch.prefix('/')] });

app.synth(); // dist/shop.k8s.yaml
