import { App, Chart, Duration } from 'cdk8s';
import { HttpMethod, Mesh, MeshService, MtlsMode, MtlsPolicy, PathMatch, Protocol } from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });
const mesh = new Mesh(chart, 'mesh');
const web = new MeshService(chart, 'web', { mesh, image: 'example/web:1', port: 8080 });
const legacy = new MeshService(chart, 'legacy', { mesh, image: 'example/legacy:1', port: 8080 });

// One service, three ports, each with its protocol: the Service names them http, grpc and
// tcp-db (with appProtocol), and every version's container exposes 8081, 9090 and 5432.
const orders = new MeshService(chart, 'orders', {
  mesh,
  image: 'example/orders:1',
  ports: [
    { port: 8080, targetPort: 8081 },
    { port: 9090, protocol: Protocol.GRPC },
    { port: 5432, protocol: Protocol.TCP, nameSuffix: 'db' },
  ],
});
const v2 = orders.addVersion('v2', { image: 'example/orders:2' });

// A route without a port becomes one rule per HTTP port; a route with a port matches that port only.
orders.routeTraffic({ matches: [{ path: PathMatch.prefix('/beta') }], destinations: [{ version: v2 }] });
orders.routeTraffic({ port: 9090, destinations: [{ version: orders.defaultVersion }], timeout: Duration.seconds(2) });

// Who may call which port: web uses the HTTP API, legacy only the database port.
orders.allowFrom(web, { ports: [8080, 9090], methods: [HttpMethod.GET, HttpMethod.POST] });
orders.allowFrom(legacy, { ports: [5432] });

// mTLS per port: STRICT, except the database port, which also accepts plaintext while a backup job
// outside the mesh moves in (legacy's sidecar still uses mTLS there, so its identity is still known).
new MtlsPolicy(chart, 'orders-mtls', { mesh, target: orders, mode: MtlsMode.STRICT, portOverrides: [{ port: 5432, mode: MtlsMode.PERMISSIVE }] });

app.synth();
