import { App, Chart, Duration } from 'cdk8s';
import { HeaderMatch, HttpMethod, Mesh, MeshService, PathMatch, RetryOn } from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });
const mesh = new Mesh(chart, 'mesh');
const reviews = new MeshService(chart, 'reviews', { mesh, image: 'example/reviews:1', port: 9080 });
const v2 = reviews.addVersion('v2', { image: 'example/reviews:2' });

// Canary: 90% of requests stay on v1, 10% go to v2 (the catch-all route).
reviews.routeTraffic({
  destinations: [{ version: reviews.defaultVersion, weight: 90 }, { version: v2, weight: 10 }],
  timeout: Duration.seconds(5),
  retry: { attempts: 3, perTryTimeout: Duration.seconds(1), retryOn: [RetryOn.CONNECT_FAILURE, RetryOn.GATEWAY_ERROR] },
});

// Testers (header end-user: jason) always get v2. Fields of one match are ANDed;
// several matches are ORed.
reviews.routeTraffic({
  matches: [{ headers: [HeaderMatch.exact('end-user', 'jason')] }],
  destinations: [{ version: v2 }],
});

// Writes are not retried where the request may have reached the upstream.
reviews.routeTraffic({
  matches: [{ method: HttpMethod.POST, path: PathMatch.prefix('/reviews') }],
  destinations: [{ version: reviews.defaultVersion }],
});

app.synth();
