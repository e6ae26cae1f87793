import { App, Chart } from 'cdk8s';
import { Condition, JwtAuth, Mesh, MeshService, Peer } from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });
const mesh = new Mesh(chart, 'mesh');
const api = new MeshService(chart, 'api', { mesh, image: 'example/api:2.0', port: 8080 });

// Who may call api at all: the ingress gateway.
api.allowFrom(Peer.principal('cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account'));

// Tokens of this issuer are validated on api...
const jwt = new JwtAuth(chart, 'jwt', {
  mesh,
  target: api,
  issuers: [{
    issuer: 'https://id.example.com',
    jwksUri: 'https://id.example.com/.well-known/jwks.json',
    audiences: ['shop-api'],
    outputClaimToHeaders: [{ claim: 'sub', header: 'x-user' }],
  }],
});

// ...and required everywhere but the health check, with the `orders` scope.
jwt.protect(api, {
  exceptPaths: ['/healthz'],
  requiredClaims: [Condition.jwtClaim('scope').oneOf('orders')],
});

app.synth();
