// Mesh routes of gRPC services in a Gateway API mesh are GRPCRoutes. Sources: the GRPCRoute CRD of Gateway API v1.6.1
// (../shared/crds/gateway-api: `matches[].method` {type, service, method}, filters RequestHeaderModifier,
// ResponseHeaderModifier, RequestMirror, ExtensionRef; no timeouts, rewrite or redirect; precedence by the characters
// of the matching service, then method, then the number of header matches) and GEP-1016 (a gRPC call is a POST to
// `/<service>/<method>`; a service without a method matches every method of it).
import { Chart, Duration, JsonPatch, Testing } from 'cdk8s';
import { Dataplane, HeaderMatch, HttpMethod, Mesh, MeshService, PathMatch, Protocol } from '../../src';
import { MeshSimulator, TraceOutcome } from '../../src/analysis';
import { Manifest, ofKind, one } from '../support/manifests';
import { expectSchemaValid } from '../support/schema';

function cartMesh() {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
  const mesh = new Mesh(chart, 'mesh', { dataplane: Dataplane.ambient({ waypoint: true }) });
  const web = new MeshService(chart, 'web', { mesh, image: 'web:1', port: 8080 });
  const cart = new MeshService(chart, 'cart', { mesh, image: 'cart:1', port: 50051, protocol: Protocol.GRPC });
  const v2 = cart.addVersion('v2', { image: 'cart:2' });
  cart.allowFrom(web);
  web.callsTo(cart);
  return { chart, cart, v2 };
}

describe('GRPCRoute for gRPC services (RoutingApi.GATEWAY_API)', () => {
  test('methods, services and headers become GRPCRoute matches, ordered by GRPCRoute precedence; weights on backendRefs', () => {
    const { chart, cart, v2 } = cartMesh();
    cart.routeTraffic({ matches: [{ path: PathMatch.prefix('/shop.cart.v1.Cart/') }], destinations: [{ version: cart.defaultVersion, weight: 80 }, { version: v2, weight: 20 }] });
    cart.routeTraffic({ matches: [{ path: PathMatch.exact('/shop.cart.v1.Cart/Checkout'), headers: [HeaderMatch.exact('x-beta', 'yes')] }], destinations: [{ version: v2 }] });
    const manifests = Testing.synth(chart) as Manifest[];
    expectSchemaValid(manifests);
    expect(ofKind(manifests, 'HTTPRoute')).toHaveLength(0);
    const route = one(manifests, 'GRPCRoute', 'cart');
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route.spec).toEqual({
      parentRefs: [{ group: '', kind: 'Service', name: 'cart', port: 50051 }],
      rules: [
        // Same service, and a method: first.
        { matches: [{ method: { type: 'Exact', service: 'shop.cart.v1.Cart', method: 'Checkout' }, headers: [{ name: 'x-beta', value: 'yes' }] }], backendRefs: [{ name: 'cart-v2', port: 50051 }] },
        { matches: [{ method: { type: 'Exact', service: 'shop.cart.v1.Cart' } }], backendRefs: [{ name: 'cart-v1', port: 50051, weight: 80 }, { name: 'cart-v2', port: 50051, weight: 20 }] },
        { backendRefs: [{ name: 'cart-v1', port: 50051 }] },
      ],
    });
  });

  test('traced at the waypoint as Istio plays it: the method\'s path, the service\'s prefix, the default route', () => {
    const { chart, cart, v2 } = cartMesh();
    cart.routeTraffic({ matches: [{ path: PathMatch.exact('/shop.cart.v1.Cart/Checkout') }], destinations: [{ version: v2 }] });
    cart.routeTraffic({ matches: [{ path: PathMatch.prefix('/shop.cart.v1.Cart/') }], destinations: [{ version: cart.defaultVersion, weight: 50 }, { version: v2, weight: 50 }] });
    const sim = new MeshSimulator(Testing.synth(chart));
    const call = (path: string) => sim.trace({ source: 'shop/web-v1', host: 'cart.shop.svc.cluster.local:50051', method: 'POST', path });
    const checkout = call('/shop.cart.v1.Cart/Checkout');
    expect(checkout.outcome).toBe(TraceOutcome.REACHED);
    expect(checkout.route?.field).toBe('spec.rules[0].matches[0]');
    expect(checkout.destinations.map((d) => d.workload?.name)).toEqual(['cart-v2']);
    expect(call('/shop.cart.v1.Cart/List').destinations.map((d) => [d.workload?.name, d.destination.weightPercent])).toEqual([['cart-v1', 50], ['cart-v2', 50]]);
    // Another gRPC service on the same port: neither match, the default route.
    expect(call('/shop.cart.v1.Admin/List').destinations.map((d) => d.workload?.name)).toEqual(['cart-v1']);
  });

  test('the route promise (CM228) is proven on the GRPCRoute: kept as written, broken when the GRPCRoute is patched', () => {
    const { chart, cart, v2 } = cartMesh();
    cart.routeTraffic({ matches: [{ path: PathMatch.exact('/shop.cart.v1.Cart/Checkout') }], destinations: [{ version: v2 }] });
    expect(() => Testing.synth(chart)).not.toThrow();
    cart.gatewayRoute!.addJsonPatch(JsonPatch.replace('/spec/rules/0/backendRefs/0/name', 'cart-v1'));
    expect(() => Testing.synth(chart)).toThrow(/\[shop\/cart\/Route1\] CM228 Route not kept by the output: route 1 of service "cart" promises that POST \/shop\.cart\.v1\.Cart\/Checkout .* goes to v2, but traced, rule spec\.rules\[0\]\.matches\[0\] of GRPCRoute cart sends it to v1/);
  });

  test.each([
    ['a timeout', { timeout: Duration.seconds(2) }, /the GRPCRoute of Gateway API v1\.6\.1 has no timeouts\. Fix: let the gRPC client set its deadline \(grpc-timeout\), or declare the service with protocol Protocol\.HTTP2/],
    ['a path that names no method', { matches: [{ path: PathMatch.prefix('/api') }] }, /the path match "\/api" names no gRPC method: a GRPCRoute matches PathMatch\.exact\('\/<package\.Service>\/<Method>'\)/],
    ['an HTTP method', { matches: [{ method: HttpMethod.GET }] }, /a GRPCRoute cannot match the HTTP method GET \(every gRPC call is a POST\)/],
    ['a rewrite', { rewrite: { uri: '/x' } }, /a GRPCRoute has no URL rewrite/],
  ])('CM246: %s is refused, with what to do', (_what, options, message) => {
    const { cart, v2 } = cartMesh();
    const route = () => cart.routeTraffic({ ...options, destinations: [{ version: v2 }] } as any);
    expect(route).toThrow(/\[shop\/cart\/Route1\] CM246 Route the Gateway API cannot express/);
    expect(route).toThrow(message);
  });

  test('Protocol.HTTP2 keeps an HTTPRoute, with timeouts', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const mesh = new Mesh(chart, 'mesh', { dataplane: Dataplane.ambient({ waypoint: true }) });
    const cart = new MeshService(chart, 'cart', { mesh, image: 'cart:1', port: 50051, protocol: Protocol.HTTP2 });
    cart.routeTraffic({ timeout: Duration.seconds(2) });
    const manifests = Testing.synth(chart) as Manifest[];
    expect(ofKind(manifests, 'GRPCRoute')).toHaveLength(0);
    expect(one(manifests, 'HTTPRoute', 'cart').spec.rules[0].timeouts).toEqual({ request: '2s' });
  });
});
