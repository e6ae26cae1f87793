import { App, Chart, Duration } from 'cdk8s';
import { CorsOrigin, HttpMethod, IngressGateway, Mesh, MeshService, PathMatch } from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });
const mesh = new Mesh(chart, 'mesh');
const api = new MeshService(chart, 'api', { mesh, image: 'example/api:1', port: 8080 });
const gateway = new IngressGateway(chart, 'edge', { mesh, hosts: ['api.shop.example.com'] });

// Browsers on app.shop.example.com may call the API with cookies; the gateway answers their
// preflights itself (Envoy's CORS filter), so the API never sees an OPTIONS request.
api.exposeViaGateway(gateway, {
  paths: [PathMatch.prefix('/')],
  corsPolicy: {
    allowOrigins: [CorsOrigin.exact('https://app.shop.example.com')],
    allowMethods: [HttpMethod.GET, HttpMethod.POST],
    allowHeaders: ['content-type'],
    maxAge: Duration.hours(1),
    allowCredentials: true,
  },
});

// Each gateway pod admits 1000 requests per second (bursts of 2000), each api pod 100;
// the rest are answered 429 by the proxy.
gateway.addRateLimit({ requests: 1000, per: Duration.seconds(1), burst: 2000 });
api.addRateLimit({ requests: 100, per: Duration.seconds(1), responseHeaders: { 'x-local-rate-limit': 'true' } });

app.synth();
