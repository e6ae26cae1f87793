import { Chart, Duration, Testing } from 'cdk8s';
import { Dependency, ExternalPort, ExternalService, Mesh, MeshService, Mirror, Resolution, RetryOn, TelemetryProvider, Peer, HttpMethod } from '../../src';
import { Manifest, one } from '../support/manifests';

function setup() {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
  const mesh = new Mesh(chart, 'mesh');
  return { chart, mesh };
}

describe('ExternalService', () => {
  test('a ServiceEntry for an HTTPS API (the default port)', () => {
    const { chart, mesh } = setup();
    new ExternalService(chart, 'stripe', { mesh, hosts: ['api.stripe.com'] });
    const manifests = Testing.synth(chart) as Manifest[];
    expect(one(manifests, 'ServiceEntry', 'stripe').spec).toEqual({
      hosts: ['api.stripe.com'], ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }], location: 'MESH_EXTERNAL', resolution: 'DNS',
    });
    // No timeout, retry or TLS origination: no VirtualService or DestinationRule.
    expect(manifests.filter((m) => m.metadata.name === 'stripe').map((m) => m.kind)).toEqual(['ServiceEntry']);
  });

  test('TLS origination: the app calls port 80, the sidecar encrypts to 443 and verifies the server', () => {
    const { chart, mesh } = setup();
    new ExternalService(chart, 'googleapis', {
      mesh,
      hosts: ['www.googleapis.com'],
      ports: [ExternalPort.http(80), ExternalPort.https(443)],
      tlsOrigination: { port: 80 },
      timeout: Duration.seconds(5),
      retry: { attempts: 3, retryOn: [RetryOn.GATEWAY_ERROR] },
    });
    const manifests = Testing.synth(chart) as Manifest[];
    expect(one(manifests, 'VirtualService', 'googleapis').spec).toEqual({
      hosts: ['www.googleapis.com'],
      http: [{
        match: [{ port: 80 }],
        route: [{ destination: { host: 'www.googleapis.com', port: { number: 443 } } }],
        timeout: '5s',
        retries: { attempts: 3, retryOn: 'gateway-error' },
      }],
    });
    expect(one(manifests, 'DestinationRule', 'googleapis').spec).toEqual({
      host: 'www.googleapis.com',
      trafficPolicy: {
        portLevelSettings: [{
          port: { number: 443 },
          tls: { mode: 'SIMPLE', sni: 'www.googleapis.com', subjectAltNames: ['www.googleapis.com'], caCertificates: '/etc/ssl/certs/ca-certificates.crt' },
        }],
      },
    });
  });

  test('several hosts get a VirtualService each; static endpoints and addresses', () => {
    const { chart, mesh } = setup();
    new ExternalService(chart, 'apis', { mesh, hosts: ['a.example.com', 'b.example.com'], ports: [ExternalPort.http()], timeout: Duration.seconds(2) });
    new ExternalService(chart, 'db', {
      mesh,
      hosts: ['db.legacy.example.com'],
      ports: [ExternalPort.tcp(5432)],
      resolution: Resolution.STATIC,
      addresses: ['10.1.0.0/24'],
      endpoints: ['10.1.0.5'],
    });
    const manifests = Testing.synth(chart) as Manifest[];
    expect(one(manifests, 'VirtualService', 'apis-a-example-com').spec.hosts).toEqual(['a.example.com']);
    expect(one(manifests, 'VirtualService', 'apis-b-example-com').spec.hosts).toEqual(['b.example.com']);
    expect(one(manifests, 'ServiceEntry', 'db').spec).toMatchObject({ resolution: 'STATIC', addresses: ['10.1.0.0/24'], endpoints: [{ address: '10.1.0.5' }] });
  });

  describe('bad input', () => {
    test('CM510: host "*"', () => {
      const { chart, mesh } = setup();
      expect(() => new ExternalService(chart, 'all', { mesh, hosts: ['*'] }))
        .toThrow(/\[shop\/all\] CM510 .*host "\*" would capture every host.*Fix: list the host names/);
    });
    test('CM510: a wildcard with DNS resolution, a short name', () => {
      expect(() => new ExternalService(setup().chart, 'x', { mesh: setup().mesh, hosts: ['*.example.com'] })).toThrow(/CM510 .*wildcard, which DNS resolution cannot look up/);
      const { chart, mesh } = setup();
      expect(() => new ExternalService(chart, 'x', { mesh, hosts: ['localhost'] })).toThrow(/CM510 .*"localhost" is not a fully qualified domain name/);
    });
    test('CM511: duplicate ports, TCP shared by several hosts', () => {
      const { chart, mesh } = setup();
      expect(() => new ExternalService(chart, 'x', { mesh, hosts: ['a.example.com'], ports: [ExternalPort.http(80), ExternalPort.tcp(80)] }))
        .toThrow(/CM511 .*port 80 is listed twice/);
      const s = setup();
      expect(() => new ExternalService(s.chart, 'x', { mesh: s.mesh, hosts: ['a.example.com', 'b.example.com'], ports: [ExternalPort.tcp(5432)] }))
        .toThrow(/CM511 .*TCP port 5432 is shared by 2 hosts/);
    });
    test('CM512: a timeout without an HTTP port', () => {
      const { chart, mesh } = setup();
      expect(() => new ExternalService(chart, 'x', { mesh, hosts: ['a.example.com'], timeout: Duration.seconds(1) }))
        .toThrow(/CM512 .*needs an HTTP port.*Fix: add an HTTP port with tlsOrigination/);
    });
    test('CM513: TLS origination from a port that is not HTTP', () => {
      const { chart, mesh } = setup();
      expect(() => new ExternalService(chart, 'x', { mesh, hosts: ['a.example.com'], tlsOrigination: { port: 80 } }))
        .toThrow(/CM513 .*port 80, which is not an HTTP port.*Fix: add ExternalPort.http\(80\)/);
    });
    test('CM514: an address that is not an IP or CIDR; static without endpoints', () => {
      const { chart, mesh } = setup();
      expect(() => new ExternalService(chart, 'x', { mesh, hosts: ['a.example.com'], addresses: ['db.local'] })).toThrow(/CM514 .*"db.local" is not an IP address/);
      const s = setup();
      expect(() => new ExternalService(s.chart, 'x', { mesh: s.mesh, hosts: ['a.example.com'], resolution: Resolution.STATIC })).toThrow(/CM514 .*static resolution needs endpoints/);
    });

    // Finding 14.3h: output the API server rejects. The rules are the ServiceEntry CRD's CEL
    // rules (Istio 1.30.3 customresourcedefinitions.gen.yaml) and Istio's webhook
    // (pkg/config/validation: STATIC endpoints are IPs or unix:// sockets).
    test('CM515: CIDR addresses with the default DNS resolution', () => {
      const { chart, mesh } = setup();
      expect(() => new ExternalService(chart, 'db', { mesh, hosts: ['db.example.com'], ports: [ExternalPort.tcp(5432)], addresses: ['10.1.0.0/24'] }))
        .toThrow(new RegExp('\\[shop/db\\] CM515 CIDR address without STATIC or NONE resolution: address "10\\.1\\.0\\.0/24" is a CIDR range but resolution is DNS, '
          + 'and the API server accepts CIDR addresses only with NONE or STATIC resolution\\. Fix: use Resolution\\.NONE .*or give single IP addresses such as "10\\.1\\.0\\.0"'));
      const s = setup();
      expect(() => new ExternalService(s.chart, 'db', { mesh: s.mesh, hosts: ['db.example.com'], ports: [ExternalPort.tcp(5432)], addresses: ['10.1.0.0/24'], resolution: Resolution.DNS_ROUND_ROBIN }))
        .toThrow(/CM515 .*resolution is DNS_ROUND_ROBIN/);
      // NONE, STATIC, and single addresses with DNS are accepted.
      const t = setup();
      new ExternalService(t.chart, 'none', { mesh: t.mesh, hosts: ['db.example.com'], ports: [ExternalPort.tcp(5432)], addresses: ['10.1.0.0/24'], resolution: Resolution.NONE });
      new ExternalService(t.chart, 'dns', { mesh: t.mesh, hosts: ['cache.example.com'], ports: [ExternalPort.tcp(6379)], addresses: ['10.2.0.7'] });
      expect(one(Testing.synth(t.chart) as Manifest[], 'ServiceEntry', 'none').spec).toMatchObject({ addresses: ['10.1.0.0/24'], resolution: 'NONE' });
    });

    test('CM516: Unix socket endpoints that are relative or name a directory', () => {
      const socket = (endpoint: string) => () => {
        const { chart, mesh } = setup();
        new ExternalService(chart, 'uds', { mesh, hosts: ['uds.example.com'], ports: [ExternalPort.http()], resolution: Resolution.STATIC, endpoints: [endpoint] });
      };
      expect(socket('unix://var/run/app.sock')).toThrow(new RegExp('\\[shop/uds\\] CM516 Invalid ServiceEntry endpoint: endpoint "unix://var/run/app\\.sock" is a relative Unix socket path; '
        + 'the API server accepts only absolute paths or abstract sockets\\. Fix: write the absolute path, e\\.g\\. "unix:///var/run/app\\.sock"'));
      expect(socket('unix:///var/run/')).toThrow(/CM516 .*"unix:\/\/\/var\/run\/" ends in "\/", a directory.*Fix: name the socket file itself/);
      expect(socket('unix:///var/run/app.sock')).not.toThrow();
      expect(socket('unix://@envoy-admin')).not.toThrow();
    });

    test('CM516: a STATIC endpoint that is not an IP; several endpoints with DNS_ROUND_ROBIN', () => {
      const { chart, mesh } = setup();
      expect(() => new ExternalService(chart, 'x', { mesh, hosts: ['a.example.com'], resolution: Resolution.STATIC, endpoints: ['backend.example.com'] }))
        .toThrow(/CM516 .*endpoint "backend.example.com" is not an IP address, which static resolution needs.*Fix: .*Resolution.DNS/);
      const s = setup();
      expect(() => new ExternalService(s.chart, 'x', { mesh: s.mesh, hosts: ['a.example.com'], resolution: Resolution.DNS_ROUND_ROBIN, endpoints: ['a1.example.com', 'a2.example.com'] }))
        .toThrow(/\[shop\/x\] CM516 .*DNS_ROUND_ROBIN resolution has 2 endpoints \(a1.example.com, a2.example.com\), and the API server accepts at most one\. Fix: keep one endpoint, or use Resolution.DNS/);
      const t = setup();
      new ExternalService(t.chart, 'x', { mesh: t.mesh, hosts: ['a.example.com'], resolution: Resolution.DNS_ROUND_ROBIN, endpoints: ['a1.example.com'] });
      new ExternalService(t.chart, 'y', { mesh: t.mesh, hosts: ['b.example.com'], resolution: Resolution.STATIC, endpoints: ['10.0.0.5', '2001:db8::5'] });
      expect(one(Testing.synth(t.chart) as Manifest[], 'ServiceEntry', 'y').spec.endpoints).toEqual([{ address: '10.0.0.5' }, { address: '2001:db8::5' }]);
    });

    test('CM211: a timeout longer than Go\'s maximum duration', () => {
      const { chart, mesh } = setup();
      expect(() => new ExternalService(chart, 'x', { mesh, hosts: ['a.example.com'], ports: [ExternalPort.http()], timeout: Duration.hours(3_000_000) }))
        .toThrow(/\[shop\/x\] CM211 .*timeout 125000 days is longer than Istio's maximum/);
    });
  });
});

describe('declared dependencies scope each proxy (Sidecar)', () => {
  test("a Sidecar's egress hosts are the service's declared dependencies plus the control plane", () => {
    // GIVEN
    const { chart, mesh } = setup();
    const web = new MeshService(chart, 'web', { mesh, image: 'web:1', port: 80 });
    const cart = new MeshService(chart, 'cart', { mesh, image: 'cart:1', port: 80 });
    const catalog = new MeshService(chart, 'catalog', { mesh, image: 'catalog:1', port: 80 });
    const shadow = new MeshService(chart, 'catalog-shadow', { mesh, image: 'catalog:2', port: 80 });
    const stripe = new ExternalService(chart, 'stripe', { mesh, hosts: ['api.stripe.com'] });
    // catalog mirrors its traffic: whoever calls catalog also sends the copies.
    catalog.routeTraffic({ destinations: [{ version: catalog.defaultVersion }], mirror: Mirror.toVersion(shadow.defaultVersion) });
    // WHEN: allowFrom declares the call and admits it through the default-deny
    cart.allowFrom(web);
    catalog.allowFrom(web);
    web.callsTo(Dependency.host('kubernetes.default.svc.cluster.local', 'default'));
    cart.callsTo(stripe);
    // THEN
    const manifests = Testing.synth(chart) as Manifest[];
    expect(one(manifests, 'Sidecar', 'web').spec).toEqual({
      workloadSelector: { labels: { app: 'web' } },
      egress: [{
        hosts: [
          'default/kubernetes.default.svc.cluster.local',
          'shop/cart.shop.svc.cluster.local',
          'shop/catalog-shadow.shop.svc.cluster.local',
          'shop/catalog.shop.svc.cluster.local',
          'istio-system/*',
        ],
      }],
      outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' },
    });
    expect(one(manifests, 'Sidecar', 'cart').spec.egress).toEqual([{ hosts: ['shop/api.stripe.com', 'istio-system/*'] }]);
    expect(one(manifests, 'Sidecar', 'catalog').spec.egress).toEqual([{ hosts: ['istio-system/*'] }]);
    expect(web.dependencies).toEqual([cart, catalog, expect.anything()]);
  });

  test('CM240: a declared call that the callee\'s default-deny authorization refuses', () => {
    const { chart, mesh } = setup();
    const web = new MeshService(chart, 'web', { mesh, image: 'web:1', port: 80 });
    const cart = new MeshService(chart, 'cart', { mesh, image: 'cart:1', port: 80 });
    web.callsTo(cart);
    expect(() => Testing.synth(chart)).toThrow(
      /\[shop\/web\] CM240 .*service "web" declares a call to service "cart", but no ALLOW policy of "cart" admits "web".*FORBIDDEN \(403\) at step AUTHORIZATION: sidecar of Deployment shop\/cart-v1: ALLOW policies apply \(AuthorizationPolicy shop\/allow-nothing\).*Fix: add cart.allowFrom\(web\)/);
    // Any ALLOW rule whose sources could match the caller admits the call.
    cart.allowFrom(Peer.namespace('shop'), { methods: [HttpMethod.GET] });
    expect(() => Testing.synth(chart)).not.toThrow();
  });

  test('CM241: a service calling itself', () => {
    const { chart, mesh } = setup();
    const web = new MeshService(chart, 'web', { mesh, image: 'web:1', port: 80 });
    expect(() => web.callsTo(web)).toThrow(/CM241 .*service "web" declares a call to itself/);
  });
});

describe('telemetry collectors are in every scoped Sidecar', () => {
  test('a collector outside the control-plane namespace is added to the egress hosts', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const otel = TelemetryProvider.openTelemetryTracing({ name: 'otel', service: 'otel-collector.observability.svc.cluster.local', port: 4317 });
    const zipkin = TelemetryProvider.zipkin({ name: 'zipkin', service: 'zipkin.istio-system.svc.cluster.local', port: 9411 });
    const mesh = new Mesh(chart, 'mesh', { telemetryProviders: [otel, zipkin] });
    new MeshService(chart, 'web', { mesh, image: 'web:1', port: 80 });
    // zipkin lives in istio-system, which every Sidecar already sees.
    expect(one(Testing.synth(chart) as Manifest[], 'Sidecar', 'web').spec.egress).toEqual([{
      hosts: ['*/otel-collector.observability.svc.cluster.local', 'istio-system/*'],
    }]);
  });
});

describe('ExternalService routes on several ports', () => {
  test('each HTTP port gets its own rule naming the port (a multi-port destination needs one: IST0112)', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const mesh = new Mesh(chart, 'mesh');
    new ExternalService(chart, 'api', { mesh, hosts: ['api.example.com'], ports: [ExternalPort.http(80), ExternalPort.http(8080), ExternalPort.https(443)], timeout: Duration.seconds(2) });
    expect(one(Testing.synth(chart) as Manifest[], 'VirtualService', 'api').spec.http).toEqual([80, 8080].map((port) => ({
      match: [{ port }],
      route: [{ destination: { host: 'api.example.com', port: { number: port } } }],
      timeout: '2s',
      // The mesh cannot know the methods an application sends to an external host (finding 14.3d).
      retries: { attempts: 2, retryOn: 'connect-failure,refused-stream' },
    })));
  });

  test('allowNonIdempotentRetries: Istio\'s default retry policy for a host whose calls are all idempotent', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const mesh = new Mesh(chart, 'mesh');
    new ExternalService(chart, 'api', { mesh, hosts: ['api.example.com'], ports: [ExternalPort.http()], timeout: Duration.seconds(2), allowNonIdempotentRetries: true });
    expect(one(Testing.synth(chart) as Manifest[], 'VirtualService', 'api').spec.http[0].retries)
      .toEqual({ attempts: 2, retryOn: 'connect-failure,refused-stream,unavailable,cancelled,503' });
  });
});
