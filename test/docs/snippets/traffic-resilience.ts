import { App, Chart, Duration } from 'cdk8s';
import { Acknowledgement, Fault, HeaderMatch, LoadBalancer, Mesh, MeshService } from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });
const mesh = new Mesh(chart, 'mesh');
const ratings = new MeshService(chart, 'ratings', { mesh, image: 'example/ratings:1', port: 9080 });

// Fail fast instead of queueing, and eject pods that keep failing.
ratings.addCircuitBreaker({
  connectionPool: { maxConnections: 100, maxPendingRequests: 10, maxRequestsPerConnection: 10 },
  outlierDetection: { consecutive5xxErrors: 5, interval: Duration.seconds(10), baseEjectionTime: Duration.seconds(30), maxEjectionPercent: 50 },
});

// Prefer the caller's region; fail over to us-west (needs the outlier detection above).
ratings.addLoadBalancing({
  loadBalancer: LoadBalancer.consistentHashByHeader('x-user-id'),
  localityFailover: [{ sourceRegion: 'us-east', targetRegion: 'us-west' }],
});

// Chaos test: delay 10% of requests from testers by 2s. Istio ignores a faulted
// route's timeout, which the library reports unless acknowledged.
ratings.routeTraffic({
  matches: [{ headers: [HeaderMatch.exact('x-chaos', 'delay')] }],
  destinations: [{ version: ratings.defaultVersion }],
  fault: Fault.delay(Duration.seconds(2), 10),
  timeout: Duration.seconds(1),
  acknowledge: [Acknowledgement.FAULT_DISABLES_RETRIES],
});

app.synth();
