// An ingress gateway in front of an ambient namespace with a waypoint. Istio's gateways send to a Service's pods,
// skipping its waypoint, unless the Service carries `istio.io/ingress-use-waypoint: "true"` (pilot
// EndpointBuilder.findServiceWaypoint: "Ingress behaves differently, must explicitly opt in"; istio.io "Migrate
// policies": add the label "to route ingress traffic through a waypoint"). Through the waypoint, the waypoint routes by
// the Service's own routes, so a version chosen at the gateway would not be kept.
import { Chart, Testing } from 'cdk8s';
import { Dataplane, GatewayListener, IngressGateway, Mesh, MeshService, RoutingApi } from '../../src';
import { MeshSimulator, TraceOutcome } from '../../src/analysis';
import { Manifest, ofKind, one } from '../support/manifests';

function mesh() {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
  const m = new Mesh(chart, 'mesh', { dataplane: Dataplane.ambient({ waypoint: true }) });
  const cart = new MeshService(chart, 'cart', { mesh: m, image: 'cart:1', port: 8080 });
  const v2 = cart.addVersion('v2', { image: 'cart:2' });
  const gateway = new IngressGateway(chart, 'gateway', { mesh: m, hosts: ['shop.example.com'], listeners: [GatewayListener.http()] });
  return { chart, cart, v2, gateway };
}

describe('ingress gateway in a waypoint mesh', () => {
  test('the gateway routes to the Service (no subset); the waypoint applies the service\'s split to ingress traffic', () => {
    const { chart, cart, v2, gateway } = mesh();
    cart.routeTraffic({ destinations: [{ version: cart.defaultVersion, weight: 80 }, { version: v2, weight: 20 }] });
    cart.exposeViaGateway(gateway);
    const manifests = Testing.synth(chart) as Manifest[];
    // Ambient routes with the Gateway API: the gateway is a Gateway of class istio, its route an HTTPRoute.
    expect(one(manifests, 'HTTPRoute', 'gateway').spec.rules[0].backendRefs).toEqual([{ name: 'cart', port: 8080 }]);
    expect(ofKind(manifests, 'Service').map((m) => m.metadata.name)).not.toContain('cart-v1-gateway');
    const t = new MeshSimulator(manifests).trace({ gateway: 'shop/gateway', host: 'shop.example.com', path: '/' });
    expect(t.outcome).toBe(TraceOutcome.REACHED);
    expect(t.destinations.map((d) => [d.workload?.name, d.destination.weightPercent])).toEqual([['cart-v1', 80], ['cart-v2', 20]]);
    expect(t.destinations[0].steps.map((s) => `${s.proxy}: ${s.summary}`).join('\n')).toMatch(/waypoint shop\/waypoint: HTTPRoute shop\/cart spec\.rules\[0\] takes it/);
  });

  test('an Istio Gateway in the same mesh (routingApi: RoutingApi.ISTIO on the gateway) routes to the Service too', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const m = new Mesh(chart, 'mesh', { dataplane: Dataplane.ambient({ waypoint: true }) });
    const cart = new MeshService(chart, 'cart', { mesh: m, image: 'cart:1', port: 8080 });
    const v2 = cart.addVersion('v2', { image: 'cart:2' });
    cart.routeTraffic({ destinations: [{ version: cart.defaultVersion, weight: 80 }, { version: v2, weight: 20 }] });
    const gateway = new IngressGateway(chart, 'gateway', { mesh: m, hosts: ['shop.example.com'], listeners: [GatewayListener.http()], routingApi: RoutingApi.ISTIO });
    cart.exposeViaGateway(gateway);
    const manifests = Testing.synth(chart) as Manifest[];
    expect(one(manifests, 'VirtualService', 'gateway').spec.http[0].route).toEqual([{ destination: { host: 'cart.shop.svc.cluster.local', port: { number: 8080 } } }]);
    const t = new MeshSimulator(manifests).trace({ gateway: 'shop/gateway', host: 'shop.example.com', path: '/' });
    expect(t.destinations.map((d) => [d.workload?.name, d.destination.weightPercent])).toEqual([['cart-v1', 80], ['cart-v2', 20]]);
  });

  test('CM248: a version split at the gateway is refused, with where to declare it instead', () => {
    const { cart, v2, gateway } = mesh();
    expect(() => cart.exposeViaGateway(gateway, { destinations: [{ version: v2 }] })).toThrow(
      /\[shop\/gateway\] CM248 Version split at a gateway in a waypoint mesh: the route to service "cart" splits traffic across versions at the gateway, but in an ambient mesh with a waypoint the gateway sends every request to the waypoint.*Fix: declare the split on the service \(cart\.routeTraffic/);
  });

  test('a sidecar mesh keeps the gateway\'s own split (subsets of the DestinationRule)', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const m = new Mesh(chart, 'mesh');
    const cart = new MeshService(chart, 'cart', { mesh: m, image: 'cart:1', port: 8080 });
    const v2 = cart.addVersion('v2', { image: 'cart:2' });
    const gateway = new IngressGateway(chart, 'gateway', { mesh: m, hosts: ['shop.example.com'], listeners: [GatewayListener.http()] });
    cart.exposeViaGateway(gateway, { destinations: [{ version: v2 }] });
    const manifests = Testing.synth(chart) as Manifest[];
    expect(one(manifests, 'VirtualService', 'gateway').spec.http[0].route[0].destination).toEqual({ host: 'cart.shop.svc.cluster.local', subset: 'v2', port: { number: 8080 } });
    expect(one(manifests, 'Service', 'cart').metadata.labels?.['istio.io/ingress-use-waypoint']).toBeUndefined();
  });
});
