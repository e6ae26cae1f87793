import { App, Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  GatewayListener, GatewayTls, IngressGateway, Mesh, MeshService, OutboundTrafficPolicy, PathMatch, RetryOn, Telemetry, TelemetryProvider,
} from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });

// Mesh (egress filter DROP_ALL): a namespace whose workloads reach only declared hosts.
const mesh = new Mesh(chart, 'mesh', { outboundTrafficPolicy: OutboundTrafficPolicy.REGISTRY_ONLY });

// VirtualNode catalog-v1 + VirtualService catalog: one MeshService. Its Kubernetes Service is
// the service discovery (catalog.shop.svc.cluster.local); the listener's health check is the
// readiness probe.
const catalog = new MeshService(chart, 'catalog', {
  mesh,
  image: 'example/catalog:1.0',
  port: 9080,
  readiness: kplus.Probe.fromHttpGet('/health', {
    periodSeconds: Duration.seconds(5), timeoutSeconds: Duration.seconds(2), successThreshold: 3, failureThreshold: 2,
  }),
});
// VirtualNode catalog-v2: a version of the same service.
const v2 = catalog.addVersion('v2', { image: 'example/catalog:2.0' });

// VirtualRouter + Route: the weighted targets, timeout and retry policy of the service's route.
catalog.routeTraffic({
  destinations: [{ version: catalog.defaultVersion, weight: 90 }, { version: v2, weight: 10 }],
  timeout: Duration.seconds(3),
  retry: { attempts: 2, perTryTimeout: Duration.seconds(1), retryOn: [RetryOn.CONNECT_FAILURE, RetryOn.GATEWAY_ERROR] },
});

// The listener's outlier detection and connection pool: a circuit breaker.
catalog.addCircuitBreaker({
  outlierDetection: { consecutive5xxErrors: 5, interval: Duration.seconds(10), baseEjectionTime: Duration.seconds(30), maxEjectionPercent: 50 },
  connectionPool: { maxConnections: 100, maxPendingRequests: 10 },
});

// VirtualNode web with `backends: [catalog]`: allowFrom declares the call and admits it.
// Mutual TLS between the two is on by default (STRICT), with certificates Istio rotates.
const web = new MeshService(chart, 'web', { mesh, image: 'example/web:1.0', port: 8080 });
catalog.allowFrom(web);

// VirtualGateway with a TLS listener + GatewayRoute: an IngressGateway and a route to web.
const gateway = new IngressGateway(chart, 'gateway', {
  mesh,
  hosts: ['shop.example.com'],
  listeners: [GatewayListener.https({ tls: GatewayTls.simple('shop-example-com-tls') })],
});
web.exposeViaGateway(gateway, { paths: [PathMatch.prefix('/')] });

// AccessLog.fromFilePath('/dev/stdout'): Envoy's access log for the namespace.
new Telemetry(chart, 'access-logs', { mesh, accessLogging: { providers: [TelemetryProvider.ENVOY] } });

app.synth();
