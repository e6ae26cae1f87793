// Multi-port services (issue 17, part 4): one MeshService with several named ports, each with its protocol. Istio facts
// used: protocol selection by port name prefix and appProtocol (istio.io docs/ops/configuration/traffic-management/
// protocol-selection); a VirtualService's `http` rules apply to HTTP ports, `tcp` rules to TCP ports, and a match's
// `port` restricts a rule to one Service port (VirtualService reference: HTTPMatchRequest.port, L4MatchAttributes.port);
// PeerAuthentication `portLevelMtls` and AuthorizationPolicy `to.operation.ports` name the container port for a sidecar
// (PeerAuthentication and AuthorizationPolicy references); DestinationRule `portLevelSettings` do not inherit the
// destination-level policy (DestinationRule reference, TrafficPolicy.portLevelSettings).
import { ApiObject, Chart, Duration, JsonPatch, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  AuthorizationMode, CanaryStep, Dataplane, HttpMethod, IngressGateway, Mesh, MeshAnalysis, MeshService, MeshSimulator, MtlsMode, MtlsPolicy,
  PathMatch,
  Peer, PrometheusScraping, Protocol, RoutingApi, TraceOutcome,
} from '../../src';
import { Manifest, one } from '../support/manifests';
import { expectSchemaValid } from '../support/schema';

/** An orders service: HTTP on 8080 (container 8081), gRPC on 9090, Postgres-style TCP on 5432. */
function orders(meshProps: { authorization?: AuthorizationMode; routingApi?: RoutingApi; dataplane?: Dataplane } = {}) {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
  const mesh = new Mesh(chart, 'mesh', meshProps);
  const service = new MeshService(chart, 'orders', {
    mesh,
    image: 'orders:1',
    ports: [
      { port: 8080, targetPort: 8081 },
      { port: 9090, protocol: Protocol.GRPC },
      { port: 5432, protocol: Protocol.TCP, nameSuffix: 'db' },
    ],
  });
  const web = new MeshService(chart, 'web', { mesh, image: 'web:1', port: 80 });
  return { chart, mesh, service, web };
}

describe('MeshService with ports', () => {
  test('writes every port in the Service (name, appProtocol) and the container, the first port as the primary one', () => {
    const { chart, service } = orders();
    const manifests = Testing.synth(chart) as Manifest[];
    expect(one(manifests, 'Service', 'orders').spec.ports).toEqual([
      { name: 'http', port: 8080, targetPort: 8081, appProtocol: 'http' },
      { name: 'grpc', port: 9090, targetPort: 9090, appProtocol: 'grpc' },
      { name: 'tcp-db', port: 5432, targetPort: 5432, appProtocol: 'tcp' },
    ]);
    const container = one(manifests, 'Deployment', 'orders-v1').spec.template.spec.containers[0];
    expect(container.ports.map((p: any) => p.containerPort)).toEqual([8081, 9090, 5432]);
    expect([service.port, service.targetPort, service.protocol, service.portName]).toEqual([8080, 8081, Protocol.HTTP, 'http']);
    expect(service.findPort(9090)).toEqual({ name: 'grpc', port: 9090, targetPort: 9090, protocol: Protocol.GRPC });
    expect(service.findPort(8081)?.port).toBe(8080);
    expectSchemaValid(manifests, 'a multi-port service');
    expect(manifests.filter((m) => m.metadata.name === 'orders' || m.metadata.name === 'orders-v1')).toMatchSnapshot();
  });

  test('the VirtualService has http rules for the HTTP and gRPC ports and a tcp rule for the TCP port; each port is traced', () => {
    const { chart, service } = orders();
    const v2 = service.addVersion('v2', { image: 'orders:2' });
    service.routeTraffic({ destinations: [{ version: service.defaultVersion, weight: 90 }, { version: v2, weight: 10 }] });
    const manifests = Testing.synth(chart) as Manifest[];
    const vs = one(manifests, 'VirtualService', 'orders').spec;
    // A route to a host with several ports names the port (IST0112): one rule per port.
    const split = (port: number) => [
      { destination: { host: 'orders.shop.svc.cluster.local', subset: 'v1', port: { number: port } }, weight: 90 },
      { destination: { host: 'orders.shop.svc.cluster.local', subset: 'v2', port: { number: port } }, weight: 10 },
    ];
    expect(vs.http.map((r: any) => [r.match, r.route])).toEqual([[[{ port: 8080 }], split(8080)], [[{ port: 9090 }], split(9090)]]);
    expect(vs.tcp).toEqual([{ match: [{ port: 5432 }], route: split(5432) }]);
    const sim = new MeshSimulator(manifests);
    const from = { sourcePrincipal: 'cluster.local/ns/shop/sa/web' };
    const http = sim.trace({ ...from, host: 'orders.shop.svc.cluster.local:8080', path: '/orders' });
    expect(http.route?.field).toBe('spec.http[0].match[0]');
    expect(sim.trace({ ...from, host: 'orders.shop.svc.cluster.local:9090', method: 'POST', path: '/x' }).route?.field).toBe('spec.http[1].match[0]');
    expect(http.destinations.map((d) => [d.destination.subset, d.destination.port])).toEqual([['v1', 8080], ['v2', 8080]]);
    const grpc = sim.trace({ ...from, host: 'orders.shop.svc.cluster.local:9090', method: 'POST', path: '/orders.Orders/Get' });
    expect(grpc.destinations.map((d) => d.destination.port)).toEqual([9090, 9090]);
    const tcp = sim.trace({ ...from, host: 'orders.shop.svc.cluster.local:5432', tcp: true });
    expect(tcp.route?.field).toBe('spec.tcp[0].match[0]');
    expect(tcp.destinations.map((d) => [d.destination.subset, d.destination.port])).toEqual([['v1', 5432], ['v2', 5432]]);
    expect(MeshAnalysis.analyze(manifests).filter((f) => f.severity === 'Error')).toEqual([]);
  });

  test('a route on one port matches that port only: gRPC retries on 9090, a TCP split on 5432, HTTP defaults elsewhere', () => {
    const { chart, service } = orders();
    const v2 = service.addVersion('v2', { image: 'orders:2' });
    service.routeTraffic({ port: 9090, destinations: [{ version: v2 }], timeout: Duration.seconds(2) });
    service.routeTraffic({ port: 5432, destinations: [{ version: v2 }] });
    service.routeTraffic({ port: 8080, matches: [{ path: PathMatch.prefix('/beta') }], destinations: [{ version: v2 }] });
    const manifests = Testing.synth(chart) as Manifest[];
    const vs = one(manifests, 'VirtualService', 'orders').spec;
    // The gRPC port's own route replaces the catch-all there; the HTTP port keeps the default route after /beta.
    expect(vs.http.map((r: any) => r.match)).toEqual([[{ port: 9090 }], [{ uri: { prefix: '/beta' }, port: 8080 }], [{ port: 8080 }]]);
    expect(vs.http.map((r: any) => r.route[0].destination)).toEqual([
      { host: 'orders.shop.svc.cluster.local', subset: 'v2', port: { number: 9090 } },
      { host: 'orders.shop.svc.cluster.local', subset: 'v2', port: { number: 8080 } },
      { host: 'orders.shop.svc.cluster.local', subset: 'v1', port: { number: 8080 } },
    ]);
    expect(vs.tcp).toEqual([
      { match: [{ port: 5432 }], route: [{ destination: { host: 'orders.shop.svc.cluster.local', subset: 'v2', port: { number: 5432 } } }] },
    ]);
    expectSchemaValid(manifests, 'per-port routes');
    const sim = new MeshSimulator(manifests);
    const subsetOf = (t: ReturnType<MeshSimulator['trace']>) => t.destinations.map((d) => d.destination.subset);
    expect(subsetOf(sim.trace({ sourcePrincipal: 'cluster.local/ns/shop/sa/web', host: 'orders.shop.svc.cluster.local:9090', method: 'POST', path: '/x' }))).toEqual(['v2']);
    expect(sim.trace({ sourcePrincipal: 'cluster.local/ns/shop/sa/web', host: 'orders.shop.svc.cluster.local:9090', method: 'POST', path: '/x' }).route?.timeout).toBe('2s');
    expect(subsetOf(sim.trace({ sourcePrincipal: 'cluster.local/ns/shop/sa/web', host: 'orders.shop.svc.cluster.local:8080', path: '/beta/x' }))).toEqual(['v2']);
    expect(subsetOf(sim.trace({ sourcePrincipal: 'cluster.local/ns/shop/sa/web', host: 'orders.shop.svc.cluster.local:8080', path: '/x' }))).toEqual(['v1']);
    // /beta on the gRPC port is not the HTTP port's route: the gRPC port's own catch-all takes it.
    expect(sim.trace({ sourcePrincipal: 'cluster.local/ns/shop/sa/web', host: 'orders.shop.svc.cluster.local:9090', method: 'POST', path: '/beta' }).route?.field).toBe('spec.http[0].match[0]');
    expect(subsetOf(sim.trace({ sourcePrincipal: 'cluster.local/ns/shop/sa/web', host: 'orders.shop.svc.cluster.local:5432', tcp: true }))).toEqual(['v2']);
  });

  test('a named route written once per port says its port in each copy\'s name (Envoy stats and access logs)', () => {
    const { chart, service } = orders();
    service.routeTraffic({ name: 'beta', matches: [{ path: PathMatch.prefix('/beta') }], destinations: [{ version: service.defaultVersion }] });
    const http = one(Testing.synth(chart) as Manifest[], 'VirtualService', 'orders').spec.http;
    expect(http.map((r: any) => [r.name, r.match])).toEqual([
      ['beta-8080', [{ uri: { prefix: '/beta' }, port: 8080 }]],
      ['beta-9090', [{ uri: { prefix: '/beta' }, port: 9090 }]],
      [undefined, [{ port: 8080 }]],
      [undefined, [{ port: 9090 }]],
    ]);
  });

  test('the route promise (CM228) is traced on the route\'s port: a patch that sends the port elsewhere breaks it', () => {
    const { chart, service } = orders();
    const v2 = service.addVersion('v2', { image: 'orders:2' });
    service.routeTraffic({ port: 5432, destinations: [{ version: v2 }] });
    expect(() => Testing.synth(chart)).not.toThrow();
    ApiObject.of(service.virtualService!).addJsonPatch(JsonPatch.replace('/spec/tcp/0/route/0/destination/subset', 'v1'));
    expect(() => Testing.synth(chart)).toThrow(/\[shop\/orders\/Route1\] CM228 .*to orders\.shop\.svc\.cluster\.local:5432.*sends it to v1:100 instead of v2:100/);
  });

  test('a route without a port is promised on every port it is written for: a patch of the gRPC port\'s copy breaks it', () => {
    const { chart, service } = orders();
    const v2 = service.addVersion('v2', { image: 'orders:2' });
    service.routeTraffic({ destinations: [{ version: v2 }], timeout: Duration.seconds(3) });
    expect(() => Testing.synth(chart)).not.toThrow();
    ApiObject.of(service.virtualService!).addJsonPatch(JsonPatch.remove('/spec/http/1/timeout'));
    expect(() => Testing.synth(chart)).toThrow(/CM228 .*the catch-all route of service "orders" promises that POST \/ .*to orders\.shop\.svc\.cluster\.local:9090.*the route in effect has timeout none/);
  });

  test('mTLS per port: a DISABLE port gets port-level client TLS that repeats the host\'s circuit breaker, and the promise holds', () => {
    const { chart, mesh, service } = orders({ authorization: AuthorizationMode.NONE });
    service.addCircuitBreaker({ connectionPool: { maxConnections: 100 } });
    new MtlsPolicy(chart, 'mtls', { mesh, target: service, mode: MtlsMode.STRICT, portOverrides: [{ port: 5432, mode: MtlsMode.DISABLE }] });
    const manifests = Testing.synth(chart) as Manifest[];
    expect(one(manifests, 'PeerAuthentication', 'orders').spec.portLevelMtls).toEqual({ 5432: { mode: 'DISABLE' } });
    expect(one(manifests, 'DestinationRule', 'orders').spec.trafficPolicy).toEqual({
      connectionPool: { tcp: { maxConnections: 100 } },
      portLevelSettings: [{ port: { number: 5432 }, connectionPool: { tcp: { maxConnections: 100 } }, tls: { mode: 'DISABLE' } }],
    });
    expectSchemaValid(manifests, 'per-port mTLS');
    const sim = new MeshSimulator(manifests);
    expect(sim.trace({ destination: 'shop/orders-v1', port: 5432, tcp: true }).outcome).toBe(TraceOutcome.REACHED);
    expect(sim.trace({ destination: 'shop/orders-v1', port: 8081 }).outcome).toBe(TraceOutcome.CONNECTION_RESET);
  });

  test('mTLS per port names the container port for the Service port given (portLevelMtls on 8081 for Service port 8080)', () => {
    const { chart, mesh, service } = orders();
    new MtlsPolicy(chart, 'mtls', { mesh, target: service, mode: MtlsMode.STRICT, portOverrides: [{ port: 8080, mode: MtlsMode.PERMISSIVE }] });
    const manifests = Testing.synth(chart) as Manifest[];
    expect(one(manifests, 'PeerAuthentication', 'orders').spec.portLevelMtls).toEqual({ 8081: { mode: 'PERMISSIVE' } });
    // PERMISSIVE accepts mTLS: auto-mTLS needs no client TLS written.
    expect(one(manifests, 'DestinationRule', 'orders').spec.trafficPolicy).toBeUndefined();
  });

  test('authorization per port: allowFrom on the gRPC port admits it there only, and the promise traces the other ports refused', () => {
    const { chart, service, web } = orders({ authorization: AuthorizationMode.DEFAULT_DENY });
    service.allowFrom(web, { ports: [9090] });
    const manifests = Testing.synth(chart) as Manifest[];
    expect(one(manifests, 'AuthorizationPolicy', 'orders-allow').spec.rules).toEqual([
      { from: [{ source: { principals: ['cluster.local/ns/shop/sa/web'] } }], to: [{ operation: { ports: ['9090'] } }] },
    ]);
    const sim = new MeshSimulator(manifests);
    expect(sim.trace({ source: 'shop/web', host: 'orders.shop.svc.cluster.local:9090', method: 'POST', path: '/x' }).allowed).toBe(true);
    expect(sim.trace({ source: 'shop/web', host: 'orders.shop.svc.cluster.local:8080', path: '/x' }).outcome).toBe(TraceOutcome.FORBIDDEN);
    expect(sim.trace({ source: 'shop/web', host: 'orders.shop.svc.cluster.local:5432', tcp: true }).outcome).toBe(TraceOutcome.FORBIDDEN);
  });

  test('an allowFrom widened by a patch to every port fails its promise (CM332) on the undeclared port', () => {
    const { chart, service, web } = orders({ authorization: AuthorizationMode.DEFAULT_DENY });
    const policy = service.allowFrom(web, { ports: [8080], methods: [HttpMethod.GET] });
    ApiObject.of(policy).addJsonPatch(JsonPatch.remove('/spec/rules/0/to/0/operation/ports'));
    expect(() => Testing.synth(chart)).toThrow(/CM332 .*orders\.allowFrom\(web.*port 9090 is not declared/);
  });

  test('an allowFrom on a port whose mTLS is DISABLE cannot be kept: plaintext carries no identity (CM332 says so)', () => {
    const { chart, mesh, service, web } = orders({ authorization: AuthorizationMode.DEFAULT_DENY });
    service.allowFrom(web, { ports: [5432] });
    new MtlsPolicy(chart, 'mtls', { mesh, target: service, mode: MtlsMode.STRICT, portOverrides: [{ port: 5432, mode: MtlsMode.DISABLE }] });
    expect(() => Testing.synth(chart)).toThrow(/CM332 .*orders\.allowFrom\(web, \{ ports: 5432 \}\).*FORBIDDEN.*the connection is plaintext, so rules on principals or namespaces cannot match it/);
  });

  test('a ServiceMonitor scrapes a metrics port of its own, and Prometheus is admitted on it only', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const mesh = new Mesh(chart, 'mesh', { authorization: AuthorizationMode.DEFAULT_DENY });
    const service = new MeshService(chart, 'orders', {
      mesh, image: 'orders:1', ports: [{ port: 8080 }, { port: 9100, protocol: Protocol.HTTP, nameSuffix: 'metrics' }],
    });
    const scraping = new PrometheusScraping(chart, 'scraping', { mesh, prometheus: Peer.namespace('monitoring') });
    scraping.addWorkload({ service, port: 9100 });
    const manifests = Testing.synth(chart) as Manifest[];
    expect(one(manifests, 'ServiceMonitor', 'orders-metrics').spec.endpoints[0].port).toBe('http-metrics');
    expect(one(manifests, 'AuthorizationPolicy', 'orders-allow').spec.rules[0].to[0].operation.ports).toEqual(['9100']);
  });

  test('a rate limit on one port matches its container port\'s inbound listener', () => {
    const { chart, service } = orders();
    service.addRateLimit({ requests: 100, per: Duration.seconds(1), port: 8080 });
    const ef = one(Testing.synth(chart) as Manifest[], 'EnvoyFilter', 'orders-local-ratelimit');
    expect(ef.spec.configPatches[0].match.listener.portNumber).toBe(8081);
  });

  test('a canary on an HTTP and gRPC service hands Argo Rollouts the rule of each port', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const mesh = new Mesh(chart, 'mesh');
    const service = new MeshService(chart, 'orders', { mesh, image: 'orders:1', ports: [{ port: 8080 }, { port: 9090, protocol: Protocol.GRPC }] });
    const v2 = service.addVersion('v2', { image: 'orders:2' });
    service.routeTraffic({ destinations: [{ version: v2 }] });
    service.deliverProgressively(v2, { steps: [CanaryStep.weight(20)] });
    const manifests = Testing.synth(chart) as Manifest[];
    const http = one(manifests, 'VirtualService', 'orders').spec.http;
    expect(http.map((r: any) => [r.name, r.match, r.route.map((d: any) => [d.destination.subset, d.destination.port.number, d.weight])])).toEqual([
      ['v2', [{ port: 8080 }], [['v2', 8080, 100], ['v2-canary', 8080, 0]]],
      ['v2-2', [{ port: 9090 }], [['v2', 9090, 100], ['v2-canary', 9090, 0]]],
    ]);
    const rollout = manifests.find((m) => m.kind === 'Rollout')!;
    expect(rollout.spec.strategy.canary.trafficRouting.istio.virtualService.routes).toEqual(['v2', 'v2-2']);
    expectSchemaValid(manifests, 'a multi-port canary');
  });

  test('an ingress gateway sends to the port given (the gRPC port), admitted there only, and the exposure promise holds', () => {
    const { chart, mesh, service } = orders({ authorization: AuthorizationMode.DEFAULT_DENY });
    const gateway = new IngressGateway(chart, 'edge', { mesh, hosts: ['orders.example.com'] });
    service.exposeViaGateway(gateway, { port: 9090 });
    const manifests = Testing.synth(chart) as Manifest[];
    const rule = one(manifests, 'VirtualService', 'edge').spec.http[0];
    expect(rule.route).toEqual([{ destination: { host: 'orders.shop.svc.cluster.local', subset: 'v1', port: { number: 9090 } } }]);
    const allow = one(manifests, 'AuthorizationPolicy', 'orders-allow').spec.rules[0];
    expect(allow.to).toEqual([{ operation: { hosts: ['orders.example.com'], ports: ['9090'] } }]);
    const sim = new MeshSimulator(manifests);
    const t = sim.trace({ gateway: 'shop/edge', host: 'orders.example.com', method: 'POST', path: '/orders.Orders/Get' });
    expect([t.outcome, t.destinations.map((d) => d.destination.port)]).toEqual([TraceOutcome.REACHED, [9090]]);
    expectSchemaValid(manifests, 'a gateway to a gRPC port');
  });

  test('probes may target any container port of the service', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const mesh = new Mesh(chart, 'mesh');
    new MeshService(chart, 'orders', {
      mesh,
      image: 'orders:1',
      ports: [{ port: 8080 }, { port: 9090, protocol: Protocol.GRPC }],
      readiness: kplus.Probe.fromTcpSocket({ port: 9090 }),
    });
    const container = one(Testing.synth(chart) as Manifest[], 'Deployment', 'orders-v1').spec.template.spec.containers[0];
    expect(container.readinessProbe.tcpSocket.port).toBe(9090);
  });
});

describe('bad ports', () => {
  const newMesh = () => new Mesh(new Chart(Testing.app(), 'shop', { namespace: 'shop' }), 'mesh');
  const make = (props: any) => {
    const m = newMesh();
    return () => new MeshService(Chart.of(m), 'orders', { mesh: m, image: 'orders:1', ...props });
  };

  test('CM117: neither port nor ports', () => {
    expect(make({})).toThrow(/\[shop\/orders\] CM117 .*the service gives no port.*Fix: give port \(e\.g\. port: 8080\)/);
  });

  test('CM117: an empty ports list', () => {
    expect(make({ ports: [] })).toThrow(/CM117 .*ports is empty/);
  });

  test('CM117: ports next to the single-port settings', () => {
    expect(make({ port: 80, protocol: Protocol.GRPC, ports: [{ port: 8080 }] })).toThrow(/CM117 .*gives both ports and port, protocol.*Fix: give either port/);
  });

  test('CM117: a Service port twice', () => {
    expect(make({ ports: [{ port: 8080 }, { port: 8080, protocol: Protocol.GRPC }] })).toThrow(/CM117 .*lists Service port 8080 twice/);
  });

  test('CM117: two ports with one name', () => {
    expect(make({ ports: [{ port: 8080 }, { port: 8081 }] }))
      .toThrow(/CM117 .*ports 8080 and 8081 are both named "http".*Fix: give one of them a nameSuffix, e\.g\. \{ port: 8081, protocol: Protocol\.HTTP, nameSuffix: 'admin' \}/);
  });

  test('CM117: two protocols on one container port', () => {
    expect(make({ ports: [{ port: 8080, targetPort: 9000 }, { port: 5432, targetPort: 9000, protocol: Protocol.TCP }] }))
      .toThrow(/CM117 .*Service ports 8080 \(http\) and 5432 \(tcp\) both send to container port 9000/);
  });

  test('CM106: a port out of range in ports', () => {
    expect(make({ ports: [{ port: 8080 }, { port: 70000, protocol: Protocol.TCP }] })).toThrow(/CM106 .*port 70000 is not a TCP port number/);
  });

  test('CM239: a route on a port the service does not have (the container port suggests its Service port)', () => {
    const { service } = orders();
    expect(() => service.routeTraffic({ port: 8081, destinations: [{ version: service.defaultVersion }] }))
      .toThrow(/\[shop\/orders\/Route1\] CM239 .*port 8081 is not a Service port of service "orders" \(its ports: 8080 http, 9090 grpc, 5432 tcp\).*Fix: routes name the Service port clients call: use port 8080 \(container port 8081\)/);
    expect(() => service.routeTraffic({ port: 1234, destinations: [{ version: service.defaultVersion }] })).toThrow(/CM239 .*Fix: use one of the listed ports/);
  });

  test('CM216: HTTP options on a route of a TCP port name the HTTP ports', () => {
    const { service } = orders();
    expect(() => service.routeTraffic({ port: 5432, destinations: [{ version: service.defaultVersion }], timeout: Duration.seconds(1) }))
      .toThrow(/CM216 .*port 5432 of service "orders" speaks tcp, which Istio routes per connection, so timeout cannot apply.*Fix: give the route one of the service's HTTP ports \(port: 8080\)/);
  });

  test('CM206: two routes for one TCP port', () => {
    const { service } = orders();
    service.routeTraffic({ port: 5432, destinations: [{ version: service.defaultVersion }] });
    expect(() => service.routeTraffic({ port: 5432, destinations: [{ version: service.defaultVersion }] }))
      .toThrow(/CM206 .*port 5432 of service "orders" already has a route \(shop\/orders\/Route1\)/);
  });

  test('CM304: an allowFrom port that is not a port of the service lists its ports', () => {
    const { service, web } = orders();
    expect(() => service.allowFrom(web, { ports: [7777] }))
      .toThrow(/CM304 .*port 7777 is not a port of service "orders" \(Service port 8080 \(container port 8081\), Service port 9090, Service port 5432\).*Fix: use 8080 or 9090 or 5432/);
  });

  test('CM242: a rate limit on a port the service does not have, or on a TCP port', () => {
    const { service } = orders();
    expect(() => service.addRateLimit({ requests: 1, per: Duration.seconds(1), port: 1 })).toThrow(/CM242 .*port 1 is not a Service port of service "orders"/);
    expect(() => service.addRateLimit({ requests: 1, per: Duration.seconds(1), port: 5432 })).toThrow(/CM216 .*port 5432 of service "orders" speaks tcp/);
  });

  test('CM263: a canary of a service with a TCP port, whose connections Rollouts would not move', () => {
    const { service } = orders();
    const v2 = service.addVersion('v2', { image: 'orders:2' });
    expect(() => service.deliverProgressively(v2, { steps: [CanaryStep.weight(20)] }))
      .toThrow(/CM263 .*port 5432 of service "orders" speaks tcp; the library hands only HTTP routes to Argo Rollouts.*Fix: give the TCP and TLS ports a service of their own/);
  });

  test('CM239: a gateway route to a port the service does not have', () => {
    const { chart, mesh, service } = orders();
    const gateway = new IngressGateway(chart, 'edge', { mesh, hosts: ['orders.example.com'] });
    expect(() => service.exposeViaGateway(gateway, { port: 8081 }))
      .toThrow(/\[shop\/edge\] CM239 .*the route to service "orders" sends to port 8081, which is not one of its Service ports \(Service port 8080 \(container port 8081\).*Fix: use 8080 or 9090 or 5432/);
  });

  test('CM246: a multi-port service routed with the Gateway API', () => {
    const { service } = orders({ routingApi: RoutingApi.GATEWAY_API });
    expect(() => service.addVersion('v2', { image: 'orders:2' }))
      .toThrow(/\[shop\/orders\/v2\] CM246 .*service "orders" has 3 ports: the library writes one mesh route per host, bound to one port.*Fix: give the ports their own services/);
  });
});
