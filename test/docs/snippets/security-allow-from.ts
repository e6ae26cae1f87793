import { App, Chart } from 'cdk8s';
import { HttpMethod, Mesh, MeshService, Peer } from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });

// STRICT mutual TLS and a default-deny namespace (the AuthorizationPolicy `allow-nothing`).
const mesh = new Mesh(chart, 'mesh');

const web = new MeshService(chart, 'web', { mesh, image: 'example/web:1.0', port: 8080 });
const catalog = new MeshService(chart, 'catalog', { mesh, image: 'example/catalog:1.0', port: 8080 });
const reviews = new MeshService(chart, 'reviews', { mesh, image: 'example/reviews:1.0', port: 9080 });

// The ingress gateway may call web (any method).
web.allowFrom(Peer.principal('cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account'));
// web may read the catalog and one review at a time; Prometheus may scrape reviews.
catalog.allowFrom(web, { methods: [HttpMethod.GET, HttpMethod.HEAD] });
reviews.allowFrom(web, { methods: [HttpMethod.GET], paths: ['/reviews/{*}'] });
reviews.allowFrom(Peer.namespace('monitoring'), { methods: [HttpMethod.GET], paths: ['/metrics'] });

app.synth();
