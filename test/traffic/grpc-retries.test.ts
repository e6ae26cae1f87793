// gRPC retries (issue 17, part 5): Envoy's gRPC retry conditions (envoyproxy.io configuration/http/http_filters/
// router_filter, x-envoy-retry-grpc-on: cancelled, deadline-exceeded, internal, resource-exhausted, unavailable — read
// from the grpc-status of the response) as Istio's `retryOn` (istio.io docs/reference/config/networking/
// virtual-service/#HTTPRetry), rendered, traced by the simulator, and refused where no gRPC server answers.
import { Chart, Duration, Testing } from 'cdk8s';
import { AuthorizationMode, Mesh, MeshService, MeshSimulator, Protocol, RetryOn } from '../../src';
import { Manifest, one } from '../support/manifests';

function setup(protocol: Protocol) {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
  const mesh = new Mesh(chart, 'mesh', { authorization: AuthorizationMode.NONE });
  const svc = new MeshService(chart, 'inventory', { mesh, image: 'inventory:1', port: 9090, protocol });
  return { chart, svc };
}
const GRPC_CONDITIONS = [RetryOn.CANCELLED, RetryOn.DEADLINE_EXCEEDED, RetryOn.RESOURCE_EXHAUSTED, RetryOn.UNAVAILABLE, RetryOn.INTERNAL];

test('a gRPC service retries on gRPC status codes: rendered as Istio\'s retryOn, and the simulator reports the policy in effect', () => {
  const { chart, svc } = setup(Protocol.GRPC);
  svc.routeTraffic({
    destinations: [{ version: svc.defaultVersion }],
    retry: { attempts: 3, perTryTimeout: Duration.seconds(1), retryOn: GRPC_CONDITIONS },
  });
  const manifests = Testing.synth(chart) as Manifest[];
  expect(one(manifests, 'VirtualService', 'inventory').spec.http[0].retries)
    .toEqual({ attempts: 3, perTryTimeout: '1s', retryOn: 'cancelled,deadline-exceeded,resource-exhausted,unavailable,internal' });
  const t = new MeshSimulator(manifests).trace({
    sourcePrincipal: 'cluster.local/ns/shop/sa/web', host: 'inventory.shop.svc.cluster.local:9090', method: 'POST', path: '/shop.Inventory/Get',
  });
  expect(t.route!.retries).toEqual({ attempts: 3, perTryTimeout: '1s', retryOn: 'cancelled,deadline-exceeded,resource-exhausted,unavailable,internal', isDefault: false });
});

test('CM245: only gRPC conditions on an HTTP/1.1 service would never retry (no grpc-status); with an HTTP condition or on HTTP/2 it is accepted', () => {
  const { svc } = setup(Protocol.HTTP);
  const grpcOnly = { attempts: 2, retryOn: [RetryOn.UNAVAILABLE, RetryOn.RESOURCE_EXHAUSTED] };
  expect(() => svc.routeTraffic({ destinations: [{ version: svc.defaultVersion }], retry: grpcOnly }))
    .toThrow(/\[shop\/inventory\/Route1\] CM245 gRPC retry conditions on an HTTP\/1\.1 service: retry\.retryOn is unavailable, resource-exhausted: gRPC status conditions, which read the grpc-status a gRPC server sends, but the service speaks HTTP\/1\.1, so the route would never retry\. Fix: declare the service with protocol Protocol\.GRPC/);
  const mixed = setup(Protocol.HTTP).svc;
  const withHttpCondition = { attempts: 2, retryOn: [RetryOn.UNAVAILABLE, RetryOn.CONNECT_FAILURE] };
  expect(() => mixed.routeTraffic({ destinations: [{ version: mixed.defaultVersion }], retry: withHttpCondition })).not.toThrow();
  const h2 = setup(Protocol.HTTP2).svc;
  expect(() => h2.routeTraffic({ destinations: [{ version: h2.defaultVersion }], retry: { attempts: 2, retryOn: [RetryOn.UNAVAILABLE] } }))
    .not.toThrow();
});
