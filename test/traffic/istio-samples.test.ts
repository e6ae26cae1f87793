import { Chart, Duration, Testing } from 'cdk8s';
import {
  ExternalPort, ExternalService, Fault, GatewayListener, HeaderMatch, IngressGateway, Mesh, MeshService, PathMatch, Protocol, RetryOn, ServiceVersion,
} from '../../src';
import { defined, normalizeSample } from '../support/istio-compare';
import { Manifest, loadSample, one, sampleTest } from '../support/manifests';

// Official Istio samples reproduced with the constructs, compared field by field with the real
// files in ../shared/istio-testdata/samples (read at test time). A short host in a sample is the
// FQDN in our output; our output may add what the sample leaves to Istio's defaults (an explicit
// retry policy, a subset on a gateway route).

interface Bookinfo {
  chart: Chart;
  reviews: MeshService;
  ratings: MeshService;
  v: { [name: string]: ServiceVersion };
}

function bookinfo(namespace = 'bookinfo'): Bookinfo {
  const chart = new Chart(Testing.app(), 'bookinfo', { namespace });
  const mesh = new Mesh(chart, 'mesh');
  const svc = (name: string) => new MeshService(chart, name, { mesh, image: `${name}:1`, port: 9080 });
  svc('productpage');
  svc('details');
  const reviews = svc('reviews');
  const ratings = svc('ratings');
  const v = {
    reviewsV1: reviews.defaultVersion,
    reviewsV2: reviews.addVersion('v2', { image: 'reviews:2' }),
    reviewsV3: reviews.addVersion('v3', { image: 'reviews:3' }),
    ratingsV1: ratings.defaultVersion,
  };
  return { chart, reviews, ratings, v };
}

function expectLikeSample(manifests: Manifest[], samplePath: string, namespace = 'bookinfo'): void {
  for (const sample of loadSample(samplePath)) {
    const ours = one(manifests, sample.kind, sample.metadata.name);
    expect(ours.apiVersion).toBe(sample.apiVersion.replace(/v1alpha3|v1beta1/, 'v1'));
    expect(ours.spec).toMatchObject(defined(normalizeSample(sample, namespace).spec));
  }
}

describe('Istio samples: traffic shifting', () => {
  const splits: Array<[string, (b: Bookinfo) => Array<[ServiceVersion, number]>]> = [
    ['virtual-service-reviews-80-20.yaml', (b) => [[b.v.reviewsV1, 80], [b.v.reviewsV2, 20]]],
    ['virtual-service-reviews-90-10.yaml', (b) => [[b.v.reviewsV1, 90], [b.v.reviewsV2, 10]]],
    ['virtual-service-reviews-50-v3.yaml', (b) => [[b.v.reviewsV1, 50], [b.v.reviewsV3, 50]]],
    ['virtual-service-reviews-v2-v3.yaml', (b) => [[b.v.reviewsV2, 50], [b.v.reviewsV3, 50]]],
  ];
  sampleTest.each(splits)('%s', (file, weights) => {
    // GIVEN bookinfo with reviews v1, v2, v3
    const b = bookinfo();
    // WHEN
    b.reviews.routeTraffic({ destinations: weights(b).map(([version, weight]) => ({ version, weight })) });
    // THEN one http rule, the weighted split, in the one VirtualService `reviews`
    const manifests = Testing.synth(b.chart) as Manifest[];
    expectLikeSample(manifests, `bookinfo/networking/${file}`);
    expect(one(manifests, 'VirtualService', 'reviews').spec.http).toHaveLength(1);
  });

  sampleTest('virtual-service-reviews-v3.yaml: a single destination has no weight', () => {
    const b = bookinfo();
    b.reviews.routeTraffic({ destinations: [{ version: b.v.reviewsV3 }] });
    const manifests = Testing.synth(b.chart) as Manifest[];
    expectLikeSample(manifests, 'bookinfo/networking/virtual-service-reviews-v3.yaml');
    expect(one(manifests, 'VirtualService', 'reviews').spec.http[0].route[0].weight).toBeUndefined();
  });
});

describe('Istio samples: request routing and fault injection', () => {
  const jason = [{ headers: [HeaderMatch.exact('end-user', 'jason')] }];

  sampleTest('virtual-service-reviews-test-v2.yaml: end-user jason → v2, everyone else → v1', () => {
    const b = bookinfo();
    b.reviews.routeTraffic({ matches: jason, destinations: [{ version: b.v.reviewsV2 }] });
    const manifests = Testing.synth(b.chart) as Manifest[];
    expectLikeSample(manifests, 'bookinfo/networking/virtual-service-reviews-test-v2.yaml');
    expect(one(manifests, 'VirtualService', 'reviews').spec.http).toHaveLength(2);
  });

  sampleTest('virtual-service-reviews-jason-v2-v3.yaml: a catch-all split replaces the default route', () => {
    const b = bookinfo();
    b.reviews.routeTraffic({ destinations: [{ version: b.v.reviewsV3 }] });
    b.reviews.routeTraffic({ matches: jason, destinations: [{ version: b.v.reviewsV2 }] });
    expectLikeSample(Testing.synth(b.chart) as Manifest[], 'bookinfo/networking/virtual-service-reviews-jason-v2-v3.yaml');
  });

  sampleTest('virtual-service-ratings-test-delay.yaml: 7s delay for jason (100%)', () => {
    const b = bookinfo();
    b.ratings.routeTraffic({ matches: jason, destinations: [{ version: b.v.ratingsV1 }], fault: Fault.delay(Duration.seconds(7), 100) });
    const manifests = Testing.synth(b.chart) as Manifest[];
    expectLikeSample(manifests, 'bookinfo/networking/virtual-service-ratings-test-delay.yaml');
    // Istio applies no retries to a route with faults: the YAML says so.
    expect(one(manifests, 'VirtualService', 'ratings').spec.http[0].retries).toEqual({ attempts: 0 });
  });

  sampleTest('virtual-service-ratings-test-abort.yaml: HTTP 500 for jason (100%)', () => {
    const b = bookinfo();
    b.ratings.routeTraffic({ matches: jason, destinations: [{ version: b.v.ratingsV1 }], fault: Fault.abort(500, 100) });
    expectLikeSample(Testing.synth(b.chart) as Manifest[], 'bookinfo/networking/virtual-service-ratings-test-abort.yaml');
  });

  sampleTest('fault-injection-details-v1.yaml: abort 555 on every request (VirtualService and DestinationRule)', () => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'bookinfo' });
    const mesh = new Mesh(chart, 'mesh');
    const details = new MeshService(chart, 'details', { mesh, image: 'details:1', port: 9080 });
    // The sample's first rule has no match (so its second is unreachable); one catch-all says the same.
    details.routeTraffic({ destinations: [{ version: details.defaultVersion }], fault: Fault.abort(555, 100) });
    const manifests = Testing.synth(chart) as Manifest[];
    const [vs, dr] = loadSample('bookinfo/networking/fault-injection-details-v1.yaml').map((m) => normalizeSample(m, 'bookinfo'));
    expect(one(manifests, 'VirtualService', 'details').spec.http[0]).toMatchObject(defined(vs.spec.http[0]));
    expect(one(manifests, 'DestinationRule', 'details').spec).toMatchObject(defined(dr.spec));
  });
});

describe('Istio samples: destination rules', () => {
  sampleTest('destination-rule-all.yaml: a subset per version, keyed on `version`', () => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'bookinfo' });
    const mesh = new Mesh(chart, 'mesh');
    const versions: { [svc: string]: string[] } = {
      productpage: ['v1'], reviews: ['v1', 'v2', 'v3'], ratings: ['v1', 'v2', 'v2-mysql', 'v2-mysql-vm'], details: ['v1', 'v2'],
    };
    for (const [name, [first, ...rest]] of Object.entries(versions)) {
      const svc = new MeshService(chart, name, { mesh, image: `${name}:1`, port: 9080, version: first });
      rest.forEach((v) => svc.addVersion(v));
    }
    const manifests = Testing.synth(chart) as Manifest[];
    for (const sample of loadSample('bookinfo/networking/destination-rule-all.yaml')) {
      expect(one(manifests, 'DestinationRule', sample.metadata.name).spec).toEqual(normalizeSample(sample, 'bookinfo').spec);
    }
  });

  test('the circuit-breaking task: httpbin DestinationRule', () => {
    // https://istio.io/latest/docs/tasks/traffic-management/circuit-breaking/
    const chart = new Chart(Testing.app(), 'c', { namespace: 'default' });
    const mesh = new Mesh(chart, 'mesh');
    const httpbin = new MeshService(chart, 'httpbin', { mesh, image: 'kong/httpbin:0.1.0', port: 8000, targetPort: 8080 });
    httpbin.addCircuitBreaker({
      connectionPool: { maxConnections: 1, maxPendingRequests: 1, maxRequestsPerConnection: 1 },
      outlierDetection: { consecutive5xxErrors: 1, interval: Duration.seconds(1), baseEjectionTime: Duration.minutes(3), maxEjectionPercent: 100 },
    });
    const dr = one(Testing.synth(chart) as Manifest[], 'DestinationRule', 'httpbin');
    expect(dr.spec).toEqual({
      host: 'httpbin.default.svc.cluster.local',
      trafficPolicy: {
        connectionPool: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1 } },
        outlierDetection: { consecutive5xxErrors: 1, interval: '1s', baseEjectionTime: '3m', maxEjectionPercent: 100 },
      },
      subsets: [{ name: 'v1', labels: { version: 'v1' } }],
    });
  });
});

describe('Istio samples: timeouts and retries', () => {
  test('the request-timeouts task: reviews → v2 with a 0.5s timeout', () => {
    const b = bookinfo();
    b.reviews.routeTraffic({ destinations: [{ version: b.v.reviewsV2 }], timeout: Duration.millis(500) });
    expect(one(Testing.synth(b.chart) as Manifest[], 'VirtualService', 'reviews').spec.http).toMatchObject([{
      route: [{ destination: { host: 'reviews.bookinfo.svc.cluster.local', subset: 'v2' } }],
      timeout: '0.5s',
    }]);
  });

  test('the HTTPRetry example: ratings-route, 3 attempts, 2s per try, gateway-error,connect-failure,refused-stream', () => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'prod' });
    const mesh = new Mesh(chart, 'mesh');
    const ratings = new MeshService(chart, 'ratings', { mesh, image: 'ratings:1', port: 9080, virtualServiceName: 'ratings-route' });
    ratings.routeTraffic({
      destinations: [{ version: ratings.defaultVersion }],
      retry: { attempts: 3, perTryTimeout: Duration.seconds(2), retryOn: [RetryOn.GATEWAY_ERROR, RetryOn.CONNECT_FAILURE, RetryOn.REFUSED_STREAM] },
    });
    const vs = one(Testing.synth(chart) as Manifest[], 'VirtualService', 'ratings-route');
    expect(vs.spec).toEqual({
      hosts: ['ratings.prod.svc.cluster.local'],
      http: [{
        route: [{ destination: { host: 'ratings.prod.svc.cluster.local', subset: 'v1' } }],
        retries: { attempts: 3, perTryTimeout: '2s', retryOn: 'gateway-error,connect-failure,refused-stream' },
      }],
    });
  });
});

describe('Istio samples: ingress and egress', () => {
  sampleTest('bookinfo-gateway.yaml: five URI matches to productpage:9080', () => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'bookinfo' });
    const mesh = new Mesh(chart, 'mesh');
    const productpage = new MeshService(chart, 'productpage', { mesh, image: 'productpage:1', port: 9080 });
    const gateway = new IngressGateway(chart, 'gateway', {
      mesh,
      name: 'bookinfo-gateway',
      virtualServiceName: 'bookinfo',
      hosts: ['*'],
      listeners: [GatewayListener.http({ port: 8080, name: 'http' })],
      existingGateway: { selector: { istio: 'ingressgateway' }, namespaceName: 'istio-system' },
    });
    productpage.exposeViaGateway(gateway, {
      paths: [PathMatch.exact('/productpage'), PathMatch.prefix('/static'), PathMatch.exact('/login'),
        PathMatch.exact('/logout'), PathMatch.prefix('/api/v1/products')],
    });
    const manifests = Testing.synth(chart) as Manifest[];
    expectLikeSample(manifests, 'bookinfo/networking/bookinfo-gateway.yaml');
    // The route also names productpage's subset, so the mesh's versions apply at ingress (no IST0140).
    expect(one(manifests, 'VirtualService', 'bookinfo').spec.http[0].route[0].destination.subset).toBe('v1');
  });

  sampleTest('tcp-echo-20-v2.yaml: a TCP gateway route shifting 80/20 between versions', () => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'default' });
    const mesh = new Mesh(chart, 'mesh');
    const tcpEcho = new MeshService(chart, 'tcp-echo', {
      mesh, image: 'registry.istio.io/release/tcp-echo-server:1.3', port: 9000, protocol: Protocol.TCP, destinationRuleName: 'tcp-echo-destination',
    });
    const v2 = tcpEcho.addVersion('v2');
    const gateway = new IngressGateway(chart, 'gateway', {
      mesh,
      name: 'tcp-echo-gateway',
      virtualServiceName: 'tcp-echo',
      listeners: [GatewayListener.tcp({ port: 31400, name: 'tcp' })],
      existingGateway: { selector: { istio: 'ingressgateway' }, namespaceName: 'istio-system' },
    });
    tcpEcho.exposeViaGateway(gateway, { destinations: [{ version: tcpEcho.defaultVersion, weight: 80 }, { version: v2, weight: 20 }] });
    const manifests = Testing.synth(chart) as Manifest[];
    const [gw, dr] = loadSample('tcp-echo/tcp-echo-all-v1.yaml');
    expect(one(manifests, 'Gateway', 'tcp-echo-gateway').spec).toEqual(gw.spec);
    expect(one(manifests, 'DestinationRule', 'tcp-echo-destination').spec).toEqual(normalizeSample(dr, 'default').spec);
    const gatewayVs = manifests.find((m) => m.kind === 'VirtualService' && m.metadata.name === 'tcp-echo' && m.spec.gateways)!;
    expect(gatewayVs.spec).toEqual(normalizeSample(loadSample('tcp-echo/tcp-echo-20-v2.yaml')[0], 'default').spec);
  });

  sampleTest("the egress task's httpbin-ext: ServiceEntry and a 3s timeout", () => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'default' });
    const mesh = new Mesh(chart, 'mesh');
    new ExternalService(chart, 'httpbin-ext', { mesh, hosts: ['httpbin.org'], ports: [ExternalPort.http(80)], timeout: Duration.seconds(3) });
    const manifests = Testing.synth(chart) as Manifest[];
    expect(one(manifests, 'ServiceEntry', 'httpbin-ext').spec).toEqual({
      hosts: ['httpbin.org'],
      ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
      resolution: 'DNS',
      location: 'MESH_EXTERNAL',
    });
    // https://istio.io/latest/docs/tasks/traffic-management/egress/egress-control/
    expect(one(manifests, 'VirtualService', 'httpbin-ext').spec).toMatchObject({
      hosts: ['httpbin.org'],
      http: [{ timeout: '3s', route: [{ destination: { host: 'httpbin.org' } }] }],
    });
  });
});
