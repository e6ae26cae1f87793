// IngressGateway as a Kubernetes Gateway API `Gateway` (the mesh's RoutingApi.GATEWAY_API). Sources: Gateway API
// v1.6.1 standard channel CRDs (../shared/crds/gateway-api: listener tls/hostname CEL rules, TLSRoute hostnames
// required, ReferenceGrant from/to, a backend refused by a missing ReferenceGrant gets 500), Istio's automated
// deployment (istio/istio PR 43103: Deployment, Service and ServiceAccount `<name>-<class>`; pods labelled
// `gateway.networking.k8s.io/gateway-name`, as the pod of Istio's analyzer test data k8sgateway-selector.yaml; the
// `networking.istio.io/service-type` annotation, istio.io "Kubernetes Gateway API" task), IST0166 (policies on
// Gateway API gateway pods attach with targetRefs).
import { ApiObject, Chart, Duration, JsonPatch, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  AuthorizationMode, CorsOrigin, GatewayListener, GatewayTls, HttpMethod, IngressGateway, JwtAuth, Mesh, MeshService, MeshSimulator, PathMatch,
  Protocol, RoutingApi, TopologyGraph, TraceOutcome,
} from '../../src';
import { Manifest, loadSample, ofKind, one, sampleTest } from '../support/manifests';

function setup(props: { authorization?: AuthorizationMode } = {}) {
  // A chart without a namespace: each mesh writes its own.
  const chart = new Chart(Testing.app(), 'shop');
  const mesh = new Mesh(chart, 'mesh', { namespaceName: 'shop', routingApi: RoutingApi.GATEWAY_API, authorization: props.authorization });
  const web = new MeshService(chart, 'web', { mesh, image: 'web:1', port: 8080 });
  const api = new MeshService(chart, 'api', { mesh, image: 'api:1', port: 9090 });
  return { chart, mesh, web, api };
}

const synth = (chart: Chart) => Testing.synth(chart) as Manifest[];

describe('IngressGateway with the Gateway API', () => {
  test('a Gateway of class istio with HTTP and HTTPS listeners, an HTTPRoute bound to them, no Envoy of its own', () => {
    const { chart, mesh, web, api } = setup();
    const gateway = new IngressGateway(chart, 'edge', {
      mesh,
      hosts: ['shop.example.com'],
      listeners: [GatewayListener.https({ tls: GatewayTls.simple('shop-cert') }), GatewayListener.http()],
      serviceType: kplus.ServiceType.CLUSTER_IP,
      serviceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' },
    });
    web.exposeViaGateway(gateway);
    api.exposeViaGateway(gateway, { paths: [PathMatch.pathPrefix('/api')], rewrite: { authority: 'api.internal' }, timeout: Duration.seconds(5) });
    const out = synth(chart);
    expect(gateway.usesGatewayApi).toBe(true);
    expect(gateway.deployment).toBeUndefined();
    expect(ofKind(out, 'Deployment').map((d) => d.metadata.name)).toEqual(['web-v1', 'api-v1']);
    expect(gateway.principal).toBe('cluster.local/ns/shop/sa/edge-istio');
    expect(gateway.toWorkloadSelector()).toEqual({ namespaceName: 'shop', matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'edge' } });
    const gw = one(out, 'Gateway', 'edge');
    expect(gw.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(gw.metadata.annotations).toEqual({ 'networking.istio.io/service-type': 'ClusterIP' });
    expect(gw.spec).toEqual({
      gatewayClassName: 'istio',
      infrastructure: { annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' } },
      listeners: [
        { name: 'https-8443', hostname: 'shop.example.com', port: 443, protocol: 'HTTPS', tls: { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: 'shop-cert' }] }, allowedRoutes: { namespaces: { from: 'Same' } } },
        { name: 'http-8080', hostname: 'shop.example.com', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' } } },
      ],
    });
    expect(one(out, 'HTTPRoute', 'edge').spec).toEqual({
      parentRefs: [{ name: 'edge', sectionName: 'https-8443' }, { name: 'edge', sectionName: 'http-8080' }],
      hostnames: ['shop.example.com'],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/api' } }],
          filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'api.internal' } }],
          backendRefs: [{ name: 'api', port: 9090 }],
          timeouts: { request: '5s' },
        },
        { backendRefs: [{ name: 'web', port: 8080 }] },
      ],
    });
    expect(ofKind(out, 'VirtualService')).toEqual([]);
    expect(out.filter((o) => /Gateway|Route|ReferenceGrant/.test(o.kind))).toMatchSnapshot();

    // Traced through the Gateway: the listener, the HTTPRoute's precedence, the hop with the -istio identity.
    const sim = new MeshSimulator(out);
    const toApi = sim.trace({ gateway: 'shop/edge', host: 'shop.example.com', path: '/api/orders', port: 443 });
    expect(toApi).toMatchObject({ outcome: TraceOutcome.REACHED, route: { object: { kind: 'HTTPRoute', name: 'edge' }, field: 'spec.rules[0].matches[0]', timeout: '5s' } });
    expect(toApi.destinations.map((d) => d.destination.host)).toEqual(['api.shop.svc.cluster.local']);
    expect(toApi.steps[0].summary).toBe('HTTPS on port 443, listener "https-8443" of Gateway shop/edge (hostname shop.example.com) (TLS Terminate)');
    expect(toApi.destinations[0].steps.find((s) => s.kind === 'MTLS')?.summary).toMatch(/auto mTLS as cluster\.local\/ns\/shop\/sa\/edge-istio/);
    expect(toApi.undecided).toEqual(expect.arrayContaining([expect.stringMatching(/the pods of Gateway shop\/edge are deployed by Istio \(Deployment shop\/edge-istio\)/)]));
    // `/apis` is not under the path element `/api`: it goes to web.
    expect(sim.trace({ gateway: 'shop/edge', host: 'shop.example.com', path: '/apis', port: 80 }).destinations[0].destination.host).toBe('web.shop.svc.cluster.local');
    // A host no listener serves: 404 on HTTP; a plaintext client on the HTTPS port: reset.
    expect(sim.trace({ gateway: 'shop/edge', host: 'other.example.com', path: '/', port: 80 })).toMatchObject({ outcome: TraceOutcome.NOT_FOUND, status: 404 });
    expect(sim.trace({ gateway: 'shop/edge', host: 'shop.example.com', port: 443, tls: false }).outcome).toBe(TraceOutcome.CONNECTION_RESET);
    expect(sim.trace({ gateway: 'shop/edge', host: 'shop.example.com', port: 8443 }).outcome).toBe(TraceOutcome.CONNECTION_REFUSED);
  });

  test('two HTTPS listeners on port 443 for distinct hosts (one certificate each), chosen by SNI; the same port for overlapping hosts is CM503', () => {
    const { chart, mesh, web, api } = setup();
    const gateway = new IngressGateway(chart, 'edge', {
      mesh,
      listeners: [
        GatewayListener.https({ tls: GatewayTls.simple('shop-cert'), hosts: ['shop.example.com'] }),
        GatewayListener.https({ port: 8444, tls: GatewayTls.simple('api-cert'), hosts: ['api.example.com'] }),
      ],
    });
    web.exposeViaGateway(gateway, { hosts: ['shop.example.com'] });
    api.exposeViaGateway(gateway, { hosts: ['api.example.com'] });
    const out = synth(chart);
    expect(one(out, 'Gateway', 'edge').spec.listeners.map((l: any) => [l.name, l.port, l.hostname, l.tls.certificateRefs[0].name]))
      .toEqual([['https-8443', 443, 'shop.example.com', 'shop-cert'], ['https-8444', 443, 'api.example.com', 'api-cert']]);
    expect(one(out, 'HTTPRoute', 'edge-2').spec.parentRefs).toEqual([{ name: 'edge', sectionName: 'https-8444' }]);
    const sim = new MeshSimulator(out);
    expect(sim.trace({ gateway: 'shop/edge', host: 'api.example.com', port: 443 }).destinations[0].destination.host).toBe('api.shop.svc.cluster.local');
    expect(sim.trace({ gateway: 'shop/edge', host: 'shop.example.com', port: 443 }).destinations[0].destination.host).toBe('web.shop.svc.cluster.local');

    const again = setup();
    expect(() => new IngressGateway(again.chart, 'edge', {
      mesh: again.mesh,
      listeners: [GatewayListener.https({ tls: GatewayTls.simple('a'), hosts: ['*.example.com'] }), GatewayListener.https({ port: 8444, tls: GatewayTls.simple('b'), hosts: ['api.example.com'] })],
    })).toThrow(/CM503 .*listeners "https-8443" and "https-8444" both take servicePort 443/);
  });

  test('httpsRedirect is a RequestRedirect HTTPRoute on that listener only; the other routes bind to the other listeners', () => {
    const { chart, mesh, web } = setup();
    const gateway = new IngressGateway(chart, 'edge', {
      mesh, hosts: ['shop.example.com'], listeners: [GatewayListener.https({ tls: GatewayTls.simple('shop-cert') }), GatewayListener.http({ httpsRedirect: true })],
    });
    web.exposeViaGateway(gateway);
    const out = synth(chart);
    expect(one(out, 'HTTPRoute', 'edge-https-redirect').spec).toEqual({
      parentRefs: [{ name: 'edge', sectionName: 'http-8080' }],
      rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }],
    });
    expect(one(out, 'HTTPRoute', 'edge').spec.parentRefs).toEqual([{ name: 'edge', sectionName: 'https-8443' }]);
    const sim = new MeshSimulator(out);
    expect(sim.trace({ gateway: 'shop/edge', host: 'shop.example.com', path: '/cart', port: 80 })).toMatchObject({ outcome: TraceOutcome.REDIRECTED, status: 301 });
    expect(sim.trace({ gateway: 'shop/edge', host: 'shop.example.com', path: '/cart', port: 443 }).outcome).toBe(TraceOutcome.REACHED);
  });

  test('TCP and TLS passthrough listeners: a TCPRoute and a TLSRoute bound by sectionName', () => {
    const { chart, mesh } = setup();
    const db = new MeshService(chart, 'db', { mesh, image: 'db:1', port: 5432, protocol: Protocol.TCP });
    const secure = new MeshService(chart, 'secure', { mesh, image: 'secure:1', port: 8443, protocol: Protocol.TLS });
    const gateway = new IngressGateway(chart, 'edge', {
      mesh,
      listeners: [GatewayListener.tcp({ port: 5432 }), GatewayListener.tlsPassthrough({ port: 9443, hosts: ['secure.example.com'] })],
    });
    db.exposeViaGateway(gateway);
    secure.exposeViaGateway(gateway);
    const out = synth(chart);
    expect(one(out, 'Gateway', 'edge').spec.listeners).toEqual([
      { name: 'tcp-5432', port: 5432, protocol: 'TCP', allowedRoutes: { namespaces: { from: 'Same' } } },
      { name: 'tls-9443', hostname: 'secure.example.com', port: 9443, protocol: 'TLS', tls: { mode: 'Passthrough' }, allowedRoutes: { namespaces: { from: 'Same' } } },
    ]);
    expect(one(out, 'TCPRoute', 'edge-db').spec).toEqual({ parentRefs: [{ name: 'edge', sectionName: 'tcp-5432' }], rules: [{ backendRefs: [{ name: 'db', port: 5432 }] }] });
    expect(one(out, 'TLSRoute', 'edge-secure').spec).toEqual({
      parentRefs: [{ name: 'edge', sectionName: 'tls-9443' }], hostnames: ['secure.example.com'], rules: [{ backendRefs: [{ name: 'secure', port: 8443 }] }],
    });
    const sim = new MeshSimulator(out);
    expect(sim.trace({ gateway: 'shop/edge', port: 5432, tcp: true }).destinations.map((d) => d.destination.host)).toEqual(['db.shop.svc.cluster.local']);
    const tls = sim.trace({ gateway: 'shop/edge', port: 9443, host: 'secure.example.com', tls: true, tcp: true });
    expect(tls.destinations.map((d) => d.destination.host)).toEqual(['secure.shop.svc.cluster.local']);
    expect(sim.trace({ gateway: 'shop/edge', port: 9443, host: 'other.example.com', tls: true, tcp: true }).outcome).toBe(TraceOutcome.CONNECTION_RESET);
  });

  test('a split across versions: backendRefs with weights, a Service per version', () => {
    const { chart, mesh, web } = setup();
    const v2 = web.addVersion('v2', { image: 'web:2' });
    const gateway = new IngressGateway(chart, 'edge', { mesh });
    web.exposeViaGateway(gateway, { destinations: [{ version: web.defaultVersion, weight: 90 }, { version: v2, weight: 10 }] });
    const out = synth(chart);
    expect(one(out, 'HTTPRoute', 'edge').spec.rules).toEqual([{ backendRefs: [{ name: 'web-v1', port: 8080, weight: 90 }, { name: 'web-v2', port: 8080, weight: 10 }] }]);
    expect(one(out, 'Service', 'web-v2').spec.selector).toEqual({ app: 'web', version: 'v2' });
    const trace = new MeshSimulator(out).trace({ gateway: 'shop/edge', host: 'shop.example.com', port: 80 });
    expect(trace.destinations.map((d) => [d.destination.host, d.destination.weightPercent])).toEqual([['web-v1.shop.svc.cluster.local', 90], ['web-v2.shop.svc.cluster.local', 10]]);
    // The topology picture draws the gateway and its weighted routes.
    const picture = TopologyGraph.mermaid(out);
    expect(picture).toContain('gw_shop__edge -->|"90%"| svc_shop__web_v1');
    expect(picture).toContain('gw_shop__edge -->|"10%"| svc_shop__web_v2');
  });

  test('a service of another namespace: the backendRef names it, a ReferenceGrant there permits exactly that', () => {
    const { chart, mesh } = setup();
    const other = new Mesh(chart, 'payments-mesh', { namespaceName: 'payments', routingApi: RoutingApi.GATEWAY_API });
    const payments = new MeshService(chart, 'payments', { mesh: other, image: 'payments:1', port: 8080 });
    const gateway = new IngressGateway(chart, 'edge', { mesh });
    payments.exposeViaGateway(gateway, { paths: [PathMatch.pathPrefix('/pay')] });
    const out = synth(chart);
    expect(one(out, 'HTTPRoute', 'edge').spec.rules[0].backendRefs).toEqual([{ name: 'payments', namespace: 'payments', port: 8080 }]);
    const grant = one(out, 'ReferenceGrant', 'edge-from-shop', 'payments');
    expect(grant.apiVersion).toBe('gateway.networking.k8s.io/v1beta1');
    expect(grant.spec).toEqual({
      from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'shop' }],
      to: [{ group: '', kind: 'Service', name: 'payments' }],
    });
    expect(gateway.referenceGrants).toHaveLength(1);
    const reached = new MeshSimulator(out).trace({ gateway: 'shop/edge', host: 'shop.example.com', path: '/pay', port: 80 });
    expect(reached.outcome).toBe(TraceOutcome.REACHED);

    // Without the grant Istio refuses the backend (RefNotPermitted): 500, and the trace says why.
    const refused = new MeshSimulator(out.filter((o) => o.kind !== 'ReferenceGrant')).trace({ gateway: 'shop/edge', host: 'shop.example.com', path: '/pay', port: 80 });
    expect(refused).toMatchObject({ outcome: TraceOutcome.DIRECT_RESPONSE, status: 500 });
    expect(refused.explanation).toMatch(/no ReferenceGrant in namespace payments lets HTTPRoute objects of namespace shop refer to Service payments\/payments/);
    // And the promise of the exposure says so at synth.
    ApiObject.of(gateway.referenceGrants[0]).addJsonPatch(JsonPatch.replace('/spec/from/0/namespace', 'elsewhere'));
    expect(() => Testing.synth(chart)).toThrow(/CM506 Gateway exposure not kept by the output: payments\.exposeViaGateway\(edge\) .* ends DIRECT_RESPONSE \(500\)/);
  });

  test('under default-deny: the gateway\'s own allow attaches to the Gateway, the services admit the -istio identity', () => {
    const { chart, mesh, web } = setup({ authorization: AuthorizationMode.DEFAULT_DENY });
    const gateway = new IngressGateway(chart, 'edge', { mesh, hosts: ['shop.example.com'] });
    web.exposeViaGateway(gateway, { paths: [PathMatch.pathPrefix('/shop'), PathMatch.exact('/')] });
    const out = synth(chart);
    expect(one(out, 'AuthorizationPolicy', 'edge-ingress').spec).toEqual({
      action: 'ALLOW',
      targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'edge' }],
      rules: [{ to: [{ operation: { ports: ['80'] } }] }],
    });
    expect(one(out, 'AuthorizationPolicy', 'web-allow').spec.rules).toEqual([{
      from: [{ source: { principals: ['cluster.local/ns/shop/sa/edge-istio'] } }],
      to: [{ operation: { hosts: ['shop.example.com'], paths: ['/shop', '/shop/*', '/'] } }],
    }]);
    const sim = new MeshSimulator(out);
    expect(sim.trace({ gateway: 'shop/edge', host: 'shop.example.com', path: '/shop/cart', port: 80 }).outcome).toBe(TraceOutcome.REACHED);
    expect(sim.trace({ gateway: 'shop/edge', host: 'shop.example.com', path: '/shopping', port: 80 }).outcome).toBe(TraceOutcome.NOT_FOUND);
    // The allow is the gateway's: web itself refuses another caller.
    expect(sim.trace({ sourcePrincipal: 'cluster.local/ns/shop/sa/api', destination: 'shop/web', method: HttpMethod.GET }).outcome).toBe(TraceOutcome.FORBIDDEN);
  });

  test('autoscaling and minAvailable attach to the Deployment and pods Istio generates (`<name>-istio`, the gateway-name label)', () => {
    const { chart, mesh, web } = setup();
    const gateway = new IngressGateway(chart, 'edge', { mesh, autoscaling: { minReplicas: 2, maxReplicas: 5, cpuUtilizationPercent: 50 }, minAvailable: 1 });
    web.exposeViaGateway(gateway);
    const out = synth(chart);
    expect(one(out, 'HorizontalPodAutoscaler', 'edge').spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'edge-istio' },
      minReplicas: 2,
      maxReplicas: 5,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
    });
    expect(one(out, 'PodDisruptionBudget', 'edge').spec).toEqual({ minAvailable: 1, selector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'edge' } } });
  });

  test('JwtAuth on the gateway attaches to the Gateway (targetRefs): a request without a token is refused there', () => {
    const { chart, mesh, web } = setup();
    const gateway = new IngressGateway(chart, 'edge', { mesh });
    web.exposeViaGateway(gateway);
    const jwt = new JwtAuth(chart, 'jwt', { mesh, target: gateway, issuers: [{ issuer: 'https://id.example.com', jwksUri: 'https://id.example.com/jwks.json' }] });
    jwt.protect(gateway);
    const out = synth(chart);
    const gatewayRef = [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'edge' }];
    for (const kind of ['RequestAuthentication', 'AuthorizationPolicy']) {
      const attached = ofKind(out, kind).filter((p) => p.spec.targetRefs);
      const refs = attached.map((p) => [p.metadata.name, p.spec.targetRefs, p.spec.selector]);
      expect(refs).toEqual(attached.map((p) => [p.metadata.name, gatewayRef, undefined]));
      expect(attached.length).toBeGreaterThan(0);
    }
    const sim = new MeshSimulator(out);
    const refused = sim.trace({ gateway: 'shop/edge', host: 'shop.example.com', port: 80 });
    expect(refused).toMatchObject({ outcome: TraceOutcome.FORBIDDEN, status: 403 });
    expect(refused.steps.find((st) => st.kind === 'AUTHORIZATION')?.proxy).toBe('gateway shop/edge');
    const token = { issuer: 'https://id.example.com', subject: 'alice' };
    expect(sim.trace({ gateway: 'shop/edge', host: 'shop.example.com', port: 80, token }).outcome).toBe(TraceOutcome.REACHED);
  });

  test('a local rate limit selects the pods Istio deploys for the Gateway', () => {
    const { chart, mesh, web } = setup();
    const gateway = new IngressGateway(chart, 'edge', { mesh });
    web.exposeViaGateway(gateway);
    gateway.addRateLimit({ requests: 100, per: Duration.seconds(1) });
    const filter = ofKind(synth(chart), 'EnvoyFilter')[0];
    expect(filter.spec.workloadSelector).toEqual({ labels: { 'gateway.networking.k8s.io/gateway-name': 'edge' } });
  });

  describe('what the Gateway API form cannot carry is refused, never dropped', () => {
    test.each([
      ['existingGateway', { existingGateway: { selector: { istio: 'ingressgateway' }, namespaceName: 'istio-system' } }, /CM520 .*cannot bind to gateway pods deployed elsewhere \(existingGateway\)/],
      ['replicas', { replicas: 3 }, /CM520 .*Deployment edge-istio\), whose replicas the library does not write/],
      ['resources', { resources: {} }, /CM520 .*whose resources the library does not write/],
      ['mutual TLS', { listeners: [GatewayListener.https({ tls: GatewayTls.mutual('ca-cert') })] }, /CM520 .*requires client certificates \(GatewayTls\.mutual\)/],
    ])('%s (CM520)', (_name, props, error) => {
      const { chart, mesh } = setup();
      expect(() => new IngressGateway(chart, 'edge', { mesh, ...props } as any)).toThrow(error);
    });

    test('route settings: a string path prefix, retries, CORS (CM521); two services on one TCP listener (CM522); a TLSRoute without hosts (CM521)', () => {
      const { chart, mesh, web, api } = setup();
      const gateway = new IngressGateway(chart, 'edge', { mesh });
      expect(() => web.exposeViaGateway(gateway, { paths: [PathMatch.prefix('/api')] })).toThrow(
        /\[shop\/edge\] CM521 Gateway route the Gateway API cannot express: gateway "edge" is a Gateway API Gateway .* the path prefix "\/api" is a string prefix .*PathMatch\.pathPrefix\('\/api'\)/);
      expect(() => web.exposeViaGateway(gateway, { retry: { attempts: 3 } })).toThrow(/CM521 .*has no retry policy/);
      expect(() => api.exposeViaGateway(gateway, { corsPolicy: { allowOrigins: [CorsOrigin.exact('https://app.example.com')] } })).toThrow(/CM521 .*CORS filter/);

      // Two exposures with the same matches: one could never be used (CM227, at synth).
      const twice = setup();
      const gw = new IngressGateway(twice.chart, 'edge', { mesh: twice.mesh });
      twice.web.exposeViaGateway(gw, { paths: [PathMatch.exact('/x')] });
      twice.api.exposeViaGateway(gw, { paths: [PathMatch.exact('/x')] });
      expect(() => Testing.synth(twice.chart)).toThrow(/CM227 .*the route of gateway "edge" to service "api" takes exactly the requests of the route of gateway "edge" to service "web"/);

      const tcp = setup();
      const a = new MeshService(tcp.chart, 'a', { mesh: tcp.mesh, image: 'a:1', port: 5000, protocol: Protocol.TCP });
      const b = new MeshService(tcp.chart, 'b', { mesh: tcp.mesh, image: 'b:1', port: 5001, protocol: Protocol.TCP });
      const secure = new MeshService(tcp.chart, 'secure', { mesh: tcp.mesh, image: 's:1', port: 8443, protocol: Protocol.TLS });
      const edge = new IngressGateway(tcp.chart, 'edge', { mesh: tcp.mesh, listeners: [GatewayListener.tcp({ port: 5000 }), GatewayListener.tlsPassthrough({ port: 9443 })] });
      a.exposeViaGateway(edge);
      expect(() => b.exposeViaGateway(edge)).toThrow(/CM522 .*TCP listener "tcp-5000" of gateway "edge" already forwards to service "a"/);
      expect(() => secure.exposeViaGateway(edge)).toThrow(/CM521 .*a TLSRoute must name the SNI hosts/);
    });
  });

  test('with RoutingApi.ISTIO the gateway stays an Istio Gateway with its own Envoy', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const mesh = new Mesh(chart, 'mesh', { namespaceName: 'shop' });
    const gateway = new IngressGateway(chart, 'edge', { mesh });
    expect(gateway.usesGatewayApi).toBe(false);
    const out = synth(chart);
    expect(one(out, 'Gateway', 'edge').apiVersion).toBe('networking.istio.io/v1');
    expect(ofKind(out, 'HTTPRoute')).toEqual([]);
    expect(gateway.deployment).toBeDefined();
  });
});

describe("Istio's bookinfo Gateway API ingress samples, reproduced by the constructs", () => {
  // samples/bookinfo/gateway-api/bookinfo-gateway.yaml and route-all-v1.yaml (with platform/kube/bookinfo-versions.yaml),
  // read at test time. Compared semantically: the same objects modulo labels and the Gateway API's defaults (a
  // parentRef without sectionName binds to every listener; a backendRef names a Service by the pods it selects), and
  // the simulator's traces agree on both outputs.
  const NS = 'bookinfo';
  function constructs() {
    const chart = new Chart(Testing.app(), NS, { namespace: NS });
    const mesh = new Mesh(chart, 'mesh', { namespaceName: NS, routingApi: RoutingApi.GATEWAY_API, authorization: AuthorizationMode.DEFAULT_DENY });
    const svc = (name: string) => new MeshService(chart, name, { mesh, image: `${name}:1`, port: 9080 });
    const [productpage, details, ratings, reviews] = ['productpage', 'details', 'ratings', 'reviews'].map(svc);
    reviews.addVersion('v2', { image: 'reviews:2' });
    reviews.addVersion('v3', { image: 'reviews:3' });
    for (const [caller, callee] of [[productpage, details], [productpage, reviews], [reviews, ratings]]) {
      callee.allowFrom(caller);
      caller.callsTo(callee);
    }
    const gateway = new IngressGateway(chart, 'bookinfo-gateway', { mesh, virtualServiceName: 'bookinfo', listeners: [GatewayListener.http({ name: 'http' })] });
    productpage.exposeViaGateway(gateway, {
      paths: [PathMatch.exact('/productpage'), PathMatch.pathPrefix('/static'), PathMatch.exact('/login'), PathMatch.exact('/logout'), PathMatch.pathPrefix('/api/v1/products')],
    });
    // route-all-v1: every service to its v1.
    for (const s of [productpage, details, ratings, reviews]) s.routeTraffic({ destinations: [{ version: s.defaultVersion }] });
    return synth(chart);
  }
  const inNs = (m: Manifest) => ({ ...m, metadata: { ...m.metadata, namespace: NS } });
  const GATEWAY_API_KINDS = ['Gateway', 'HTTPRoute'];

  /** The Deployments a Service selects: what a backendRef to it means. */
  function workloadsOf(out: Manifest[], service: string): string[] {
    const selector = one(out, 'Service', service).spec.selector ?? {};
    return ofKind(out, 'Deployment').filter((d) => Object.entries(selector).every(([k, v]) => d.spec.template.metadata.labels?.[k] === v))
      .map((d) => d.metadata.name).sort();
  }
  /** An HTTPRoute spec with its backendRefs as the workloads they reach, and sectionName dropped when the Gateway has one listener. */
  function normalized(out: Manifest[], route: Manifest): any {
    const listeners = (name: string) => (ofKind(out, 'Gateway').find((g) => g.metadata.name === name)?.spec.listeners ?? []).length;
    return {
      parentRefs: route.spec.parentRefs.map((p: any) => (p.sectionName && p.kind === undefined && listeners(p.name) === 1 ? { name: p.name } : p)),
      rules: route.spec.rules.map((r: any) => ({ ...r, backendRefs: r.backendRefs.map((b: any) => ({ ...b, name: workloadsOf(out, b.name) })) })),
    };
  }

  sampleTest('bookinfo-gateway.yaml and route-all-v1.yaml: the same Gateway and routes, the same traces', () => {
    const ours = constructs();
    const sample = [...loadSample('bookinfo/gateway-api/bookinfo-gateway.yaml'), ...loadSample('bookinfo/gateway-api/route-all-v1.yaml'),
      ...loadSample('bookinfo/platform/kube/bookinfo-versions.yaml')].map(inNs);
    // Theirs: the same workloads, Services and policies, with Istio's Gateway API objects and version Services.
    const versionServices = new Set(sample.filter((m) => m.kind === 'Service').map((m) => m.metadata.name));
    const theirs = [...ours.filter((m) => !GATEWAY_API_KINDS.includes(m.kind) && !(m.kind === 'Service' && versionServices.has(m.metadata.name))), ...sample];

    expect(one(ours, 'Gateway', 'bookinfo-gateway').spec).toEqual(one(sample, 'Gateway', 'bookinfo-gateway').spec);
    expect(ofKind(ours, 'HTTPRoute').map((r) => r.metadata.name).sort()).toEqual(ofKind(sample, 'HTTPRoute').map((r) => r.metadata.name).sort());
    for (const route of ofKind(sample, 'HTTPRoute')) {
      expect([route.metadata.name, normalized(ours, one(ours, 'HTTPRoute', route.metadata.name))]).toEqual([route.metadata.name, normalized(theirs, route)]);
    }

    const summary = (out: Manifest[], request: Parameters<MeshSimulator['trace']>[0]) => {
      const t = new MeshSimulator(out).trace(request);
      return { outcome: t.outcome, status: t.status, reached: t.destinations.map((d) => d.workload?.name).sort() };
    };
    const requests: Array<Parameters<MeshSimulator['trace']>[0]> = [
      ...['/productpage', '/static/app.css', '/login', '/logout', '/api/v1/products/1', '/staticx', '/', '/admin']
        .map((path) => ({ gateway: `${NS}/bookinfo-gateway`, host: 'bookinfo.example.com', path, port: 80 })),
      { source: `${NS}/productpage-v1`, host: 'reviews:9080' },
      { source: `${NS}/productpage-v1`, host: 'details:9080' },
      { source: `${NS}/reviews-v2`, host: 'ratings:9080' },
      { source: `${NS}/details-v1`, host: 'ratings:9080' },
    ];
    for (const request of requests) expect([request, summary(ours, request)]).toEqual([request, summary(theirs, request)]);
    expect(summary(ours, requests[0])).toEqual({ outcome: TraceOutcome.REACHED, status: undefined, reached: ['productpage-v1'] });
    expect(summary(ours, requests[5]).outcome).toBe(TraceOutcome.NOT_FOUND);
    expect(summary(ours, requests[8]).reached).toEqual(['reviews-v1']);
    // details declares no call to ratings: its Sidecar does not even import the host.
    expect(summary(ours, requests[11]).outcome).toBe(TraceOutcome.BAD_GATEWAY);
  });
});

describe('one program, both ingress forms: the Istio Gateway and the Gateway API Gateway trace alike', () => {
  function build(routingApi: RoutingApi) {
    const chart = new Chart(Testing.app(), 'shop');
    const mesh = new Mesh(chart, 'mesh', { namespaceName: 'shop', routingApi, authorization: AuthorizationMode.DEFAULT_DENY });
    const payMesh = new Mesh(chart, 'pay-mesh', { namespaceName: 'pay', routingApi, authorization: AuthorizationMode.DEFAULT_DENY });
    const web = new MeshService(chart, 'web', { mesh, image: 'web:1', port: 8080 });
    const api = new MeshService(chart, 'api', { mesh, image: 'api:1', port: 9090 });
    const v2 = api.addVersion('v2', { image: 'api:2' });
    const pay = new MeshService(chart, 'pay', { mesh: payMesh, image: 'pay:1', port: 8080 });
    const gateway = new IngressGateway(chart, 'edge', {
      mesh,
      hosts: ['shop.example.com'],
      listeners: [GatewayListener.https({ tls: GatewayTls.simple('shop-cert') }), GatewayListener.http({ httpsRedirect: true })],
    });
    web.exposeViaGateway(gateway);
    api.exposeViaGateway(gateway, { paths: [PathMatch.pathPrefix('/api')], destinations: [{ version: api.defaultVersion, weight: 75 }, { version: v2, weight: 25 }] });
    api.exposeViaGateway(gateway, { paths: [PathMatch.exact('/api/v2')], destinations: [{ version: v2 }], timeout: Duration.seconds(3) });
    pay.exposeViaGateway(gateway, { paths: [PathMatch.pathPrefix('/pay')] });
    return Testing.synth(chart) as Manifest[];
  }

  test('the same outcome, workloads, weights and timeout for each request', () => {
    const istio = new MeshSimulator(build(RoutingApi.ISTIO));
    const kube = new MeshSimulator(build(RoutingApi.GATEWAY_API));
    // The Istio form's own Envoy listens on 8443/8080 behind Service ports 443/80; Istio's deployment listens on 443/80.
    const summary = (sim: MeshSimulator, path: string, port: number) => {
      const t = sim.trace({ gateway: 'shop/edge', host: 'shop.example.com', path, port });
      return {
        outcome: t.outcome,
        status: t.status,
        timeout: t.route?.timeout,
        reached: t.destinations.map((d) => `${d.workload?.namespaceName}/${d.workload?.name}:${Math.round(d.destination.weightPercent)}`).sort(),
      };
    };
    const paths = ['/', '/cart', '/api', '/api/orders', '/apis', '/api/v2', '/pay', '/pay/now', '/payments'];
    for (const port of [443, 80]) {
      for (const path of paths) expect([port, path, summary(kube, path, port)]).toEqual([port, path, summary(istio, path, port)]);
    }
    expect(summary(kube, '/api/orders', 443).reached).toEqual(['shop/api-v1:75', 'shop/api-v2:25']);
    expect(summary(kube, '/api/v2', 443)).toMatchObject({ timeout: '3s', reached: ['shop/api-v2:100'] });
    expect(summary(kube, '/pay/now', 443).reached).toEqual(['pay/pay-v1:100']);
    expect(summary(kube, '/cart', 80)).toMatchObject({ outcome: TraceOutcome.REDIRECTED, status: 301 });
  });
});
