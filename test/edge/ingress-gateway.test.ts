import { Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { GatewayListener, GatewayTls, IngressGateway, Mesh, MeshService, MeshSimulator, PathMatch, Protocol, TraceOutcome } from '../../src';
import { Manifest, inventory, one } from '../support/manifests';

function setup() {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
  const mesh = new Mesh(chart, 'mesh');
  const web = new MeshService(chart, 'web', { mesh, image: 'web:1', port: 8080 });
  return { chart, mesh, web };
}

describe('IngressGateway', () => {
  test('its own Envoy: Deployment with gateway injection, LoadBalancer Service, ServiceAccount, Role to read TLS secrets', () => {
    // GIVEN
    const { chart, mesh, web } = setup();
    // WHEN
    const gateway = new IngressGateway(chart, 'edge', {
      mesh,
      hosts: ['shop.example.com'],
      listeners: [GatewayListener.https({ tls: GatewayTls.simple('shop-cert') }), GatewayListener.http({ httpsRedirect: true })],
      autoscaling: { minReplicas: 2, maxReplicas: 5 },
      minAvailable: 1,
      serviceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' },
    });
    web.exposeViaGateway(gateway, { paths: [PathMatch.prefix('/')], timeout: Duration.seconds(15) });
    // THEN
    const manifests = Testing.synth(chart) as Manifest[];
    const objects = inventory(manifests).filter((n) => n.endsWith('/edge'));
    expect(objects).toEqual(['Gateway/edge', 'ServiceAccount/edge', 'Deployment/edge', 'Service/edge', 'Role/edge', 'RoleBinding/edge',
      'HorizontalPodAutoscaler/edge', 'PodDisruptionBudget/edge', 'VirtualService/edge']);
    expect(one(manifests, 'Gateway', 'edge').spec).toEqual({
      selector: { 'gateway.cdk8s-mesh.dev/name': 'edge', 'gateway.cdk8s-mesh.dev/namespace': 'shop' },
      servers: [
        { port: { number: 8443, name: 'https-8443', protocol: 'HTTPS' }, hosts: ['shop.example.com'], tls: { mode: 'SIMPLE', credentialName: 'shop-cert' } },
        { port: { number: 8080, name: 'http-8080', protocol: 'HTTP' }, hosts: ['shop.example.com'], tls: { httpsRedirect: true } },
      ],
    });
    const deployment = one(manifests, 'Deployment', 'edge');
    expect(deployment.spec.replicas).toBeUndefined(); // the autoscaler owns it
    expect(deployment.spec.template.metadata).toMatchObject({
      labels: { 'app': 'edge', 'istio': 'edge', 'sidecar.istio.io/inject': 'true' },
      annotations: { 'inject.istio.io/templates': 'gateway' },
    });
    expect(deployment.spec.template.spec.containers[0]).toMatchObject({ name: 'istio-proxy', image: 'auto' });
    expect(deployment.spec.template.spec.serviceAccountName).toBe('edge');
    expect(one(manifests, 'Service', 'edge').spec).toMatchObject({
      type: 'LoadBalancer',
      selector: { istio: 'edge' },
      ports: [
        { name: 'http-status', port: 15021, targetPort: 15021 },
        { name: 'https-443', port: 443, targetPort: 8443 },
        { name: 'http-80', port: 80, targetPort: 8080 },
      ],
    });
    expect(one(manifests, 'Role', 'edge').rules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'watch', 'list'] }]);
    expect(one(manifests, 'RoleBinding', 'edge')).toMatchObject({ roleRef: { kind: 'Role', name: 'edge' }, subjects: [{ kind: 'ServiceAccount', name: 'edge' }] });
    expect(one(manifests, 'HorizontalPodAutoscaler', 'edge').spec).toMatchObject({ minReplicas: 2, maxReplicas: 5, scaleTargetRef: { kind: 'Deployment', name: 'edge' } });
    expect(one(manifests, 'PodDisruptionBudget', 'edge').spec).toEqual({ minAvailable: 1, selector: { matchLabels: { 'app': 'edge', 'gateway.cdk8s-mesh.dev/name': 'edge', 'gateway.cdk8s-mesh.dev/namespace': 'shop', 'istio': 'edge' } } });
    // The route: the gateway's hosts, the service's port and its mesh subset, explicit retries.
    expect(one(manifests, 'VirtualService', 'edge').spec).toEqual({
      hosts: ['shop.example.com'],
      gateways: ['edge'],
      http: [{
        match: [{ uri: { prefix: '/' } }],
        route: [{ destination: { host: 'web.shop.svc.cluster.local', subset: 'v1', port: { number: 8080 } } }],
        timeout: '15s',
        // Nothing declares the methods web serves, so a POST may come: retried only when it cannot have reached web (14.3d).
        retries: { attempts: 2, retryOn: 'connect-failure,refused-stream' },
      }],
    });
    expect(gateway.principal).toBe('cluster.local/ns/shop/sa/edge');
    expect(gateway.toWorkloadSelector()).toEqual({ namespaceName: 'shop', matchLabels: { 'gateway.cdk8s-mesh.dev/name': 'edge', 'gateway.cdk8s-mesh.dev/namespace': 'shop' } });
    expect(manifests.filter((m) => m.metadata.name === 'edge')).toMatchSnapshot();
  });

  test('gateway routes follow the service split, so ingress honours the mesh subsets (IST0140)', () => {
    const { chart, mesh, web } = setup();
    const v2 = web.addVersion('v2');
    web.routeTraffic({ destinations: [{ version: web.defaultVersion, weight: 75 }, { version: v2, weight: 25 }] });
    const gateway = new IngressGateway(chart, 'edge', { mesh });
    web.exposeViaGateway(gateway);
    const route = one(Testing.synth(chart) as Manifest[], 'VirtualService', 'edge').spec.http[0].route;
    expect(route.map((r: any) => [r.destination.subset, r.weight])).toEqual([['v1', 75], ['v2', 25]]);
  });

  test('routes with different host sets get one VirtualService each; several services share one', () => {
    const { chart, mesh, web } = setup();
    const api = new MeshService(chart, 'api', { mesh, image: 'api:1', port: 9000, protocol: Protocol.GRPC });
    const gateway = new IngressGateway(chart, 'edge', { mesh, hosts: ['shop.example.com', 'api.example.com'], replicas: 3, serviceType: kplus.ServiceType.NODE_PORT });
    web.exposeViaGateway(gateway, { hosts: ['shop.example.com'] });
    api.exposeViaGateway(gateway, { hosts: ['api.example.com'], paths: [PathMatch.prefix('/shop.v1.')], rewrite: { authority: 'api' } });
    web.exposeViaGateway(gateway, { hosts: ['shop.example.com'], paths: [PathMatch.prefix('/static')] });
    const manifests = Testing.synth(chart) as Manifest[];
    // `/static` was exposed after `/`, but is written first: first match wins, and `/` would take it.
    expect(one(manifests, 'VirtualService', 'edge').spec).toMatchObject({ hosts: ['shop.example.com'], http: [{ match: [{ uri: { prefix: '/static' } }] }, { match: [{ uri: { prefix: '/' } }] }] });
    expect(one(manifests, 'VirtualService', 'edge-2').spec).toMatchObject({ hosts: ['api.example.com'], http: [{ rewrite: { authority: 'api' } }] });
    expect(one(manifests, 'Deployment', 'edge').spec.replicas).toBe(3);
    expect(one(manifests, 'Service', 'edge').spec.type).toBe('NodePort');
  });

  test('an existing gateway: only the Gateway and routes, no workload', () => {
    const { chart, mesh, web } = setup();
    const gateway = new IngressGateway(chart, 'shared', {
      mesh,
      hosts: ['*.example.com'],
      existingGateway: { selector: { istio: 'ingressgateway' }, namespaceName: 'istio-system' },
      listeners: [GatewayListener.https({ tls: GatewayTls.mutual('wildcard-cert'), port: 443 })],
    });
    web.exposeViaGateway(gateway, { hosts: ['shop.example.com'] });
    const manifests = Testing.synth(chart) as Manifest[];
    expect(inventory(manifests).filter((n) => n.endsWith('/shared'))).toEqual(['Gateway/shared', 'VirtualService/shared']);
    expect(one(manifests, 'Gateway', 'shared').spec.servers[0].tls).toEqual({ mode: 'MUTUAL', credentialName: 'wildcard-cert' });
    expect(gateway.principal).toBe('cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account');
    // Where its pods run and as whom, for the request simulator (and the promise of the exposure, CM506).
    expect(one(manifests, 'Gateway', 'shared').metadata.annotations).toEqual({
      'gateway.cdk8s-mesh.dev/pod-namespace': 'istio-system',
      'gateway.cdk8s-mesh.dev/service-account': 'istio-ingressgateway-service-account',
    });
    const trace = new MeshSimulator(manifests).trace({ gateway: 'shop/shared', host: 'shop.example.com', port: 443, tls: true });
    expect(trace.outcome).toBe(TraceOutcome.REACHED);
    expect(trace.undecided.join()).toContain('running as ServiceAccount istio-system/istio-ingressgateway-service-account');
  });

  test('TLS passthrough routes by SNI', () => {
    const { chart, mesh } = setup();
    const secure = new MeshService(chart, 'secure', { mesh, image: 's:1', port: 8443, protocol: Protocol.HTTPS });
    const gateway = new IngressGateway(chart, 'edge', { mesh, hosts: ['secure.example.com'], listeners: [GatewayListener.tlsPassthrough({ port: 8443 })] });
    secure.exposeViaGateway(gateway);
    expect(one(Testing.synth(chart) as Manifest[], 'VirtualService', 'edge').spec.tls).toEqual([{
      match: [{ port: 8443, sniHosts: ['secure.example.com'] }],
      route: [{ destination: { host: 'secure.shop.svc.cluster.local', subset: 'v1', port: { number: 8443 } } }],
    }]);
  });

  describe('bad input', () => {
    test('CM501: gateway host without a dot', () => {
      const { chart, mesh } = setup();
      expect(() => new IngressGateway(chart, 'edge', { mesh, hosts: ['shop'] }))
        .toThrow(/\[shop\/edge\] CM501 .*gateway host "shop" is not a fully qualified domain name.*Fix: .*"shop.example.com"/);
      expect(() => new IngressGateway(setup().chart, 'edge', { mesh: setup().mesh, hosts: ['shop*.example.com'] })).toThrow(/CM501/);
    });
    test('CM502: HTTPS listener without TLS', () => {
      const { chart, mesh } = setup();
      expect(() => new IngressGateway(chart, 'edge', { mesh, hosts: ['a.example.com'], listeners: [GatewayListener.https({} as any)] }))
        .toThrow(/CM502 .*HTTPS listener on port 8443 has no TLS certificate.*Fix: pass tls: GatewayTls.simple/);
    });
    test('CM503: two listeners on one port', () => {
      const { chart, mesh } = setup();
      expect(() => new IngressGateway(chart, 'edge', { mesh, listeners: [GatewayListener.http(), GatewayListener.tcp({ port: 8080 })] }))
        .toThrow(/CM503 .*two listeners use port 8080/);
    });
    test('CM504: route host not served by the gateway', () => {
      const { chart, mesh, web } = setup();
      const gateway = new IngressGateway(chart, 'edge', { mesh, hosts: ['shop.example.com'] });
      expect(() => web.exposeViaGateway(gateway, { hosts: ['admin.example.com'] }))
        .toThrow(/CM504 .*route host "admin.example.com" for service "web" is not served by any HTTP listener of gateway "edge"/);
    });
    test('CM505: no listener for the service protocol', () => {
      const { chart, mesh } = setup();
      const db = new MeshService(chart, 'db', { mesh, image: 'db', port: 5432, protocol: Protocol.TCP });
      const gateway = new IngressGateway(chart, 'edge', { mesh });
      expect(() => db.exposeViaGateway(gateway)).toThrow(/CM505 .*gateway "edge" has no TCP listener for tcp service "db".*Fix: add GatewayListener.tcp/);
    });
    test('CM210: a gateway route with retry settings but zero attempts (the same retry checks as mesh routes)', () => {
      const { chart, mesh, web } = setup();
      const gateway = new IngressGateway(chart, 'edge', { mesh });
      expect(() => web.exposeViaGateway(gateway, { retry: { attempts: 0, perTryTimeout: Duration.seconds(1) } }))
        .toThrow(/\[shop\/edge\] CM210 .*retry.attempts is 0 \(no retries\) but perTryTimeout is set/);
    });

    test('CM507: empty selector of an existing gateway', () => {
      const { chart, mesh } = setup();
      expect(() => new IngressGateway(chart, 'edge', { mesh, existingGateway: { selector: {}, namespaceName: 'istio-system' } })).toThrow(/CM507 /);
    });
    test('CM101: a gateway name with dots', () => {
      const { chart, mesh } = setup();
      expect(() => new IngressGateway(chart, 'edge', { mesh, name: 'edge.gateway' })).toThrow(/CM101 .*gateway name "edge.gateway"/);
    });
  });
});
