import { Testing } from 'cdk8s';
import { BookinfoChart } from '../../examples/bookinfo/bookinfo';
import { Manifest, fqdn, loadSample, ofKind, one, sampleTest } from '../support/manifests';

const SERVICES = ['details', 'ratings', 'reviews', 'productpage'];

function synthBookinfo(): { chart: BookinfoChart; manifests: Manifest[] } {
  const chart = new BookinfoChart(Testing.app(), 'bookinfo');
  return { chart, manifests: Testing.synth(chart) as Manifest[] };
}

describe('examples/bookinfo', () => {
  const { chart, manifests } = synthBookinfo();

  test('namespace with the injection label and STRICT mTLS', () => {
    expect(one(manifests, 'Namespace', 'bookinfo').metadata.labels).toMatchObject({ 'istio-injection': 'enabled' });
    expect(one(manifests, 'PeerAuthentication', 'default', 'bookinfo').spec).toEqual({ mtls: { mode: 'STRICT' } });
  });

  test.each(SERVICES)('%s: Service on port 9080 named http, ServiceAccount bookinfo-%s', (name) => {
    expect(one(manifests, 'Service', name).spec).toMatchObject({
      ports: [{ port: 9080, name: 'http', appProtocol: 'http' }],
      selector: { app: name },
    });
    one(manifests, 'ServiceAccount', `bookinfo-${name}`);
  });

  test('a Deployment per version with app/version labels', () => {
    const deployments = ofKind(manifests, 'Deployment').filter((d) => d.metadata.labels?.version).map((d) => d.metadata.name).sort();
    expect(deployments).toEqual(['details-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3']);
    for (const name of deployments) {
      const [app, version] = name.split('-');
      expect(one(manifests, 'Deployment', name).spec.template.metadata.labels).toMatchObject({ app, version });
    }
  });

  test('a DestinationRule per service with one subset per version keyed on `version`', () => {
    expect(one(manifests, 'DestinationRule', 'reviews').spec.subsets).toEqual(
      ['v1', 'v2', 'v3'].map((v) => ({ name: v, labels: { version: v } })));
    for (const name of SERVICES) {
      expect(one(manifests, 'DestinationRule', name).spec.host).toBe(`${name}.bookinfo.svc.cluster.local`);
    }
  });

  sampleTest("matches Istio's bookinfo.yaml: services, ports, accounts, deployments, images and labels", () => {
    const sample = loadSample('bookinfo/platform/kube/bookinfo.yaml');
    for (const svc of ofKind(sample, 'Service')) {
      const ours = one(manifests, 'Service', svc.metadata.name);
      expect(ours.spec.selector).toEqual(svc.spec.selector);
      const ports = (s: Manifest) => s.spec.ports.map((p: any) => ({ name: p.name, port: p.port }));
      expect(ports(ours)).toEqual(ports(svc));
      expect(ours.metadata.labels).toMatchObject(svc.metadata.labels);
    }
    // Istio's four accounts, and the example's own ingress gateway's.
    expect(ofKind(manifests, 'ServiceAccount').map((s) => s.metadata.name).sort())
      .toEqual([...ofKind(sample, 'ServiceAccount').map((s) => s.metadata.name), 'bookinfo-gateway'].sort());
    for (const dep of ofKind(sample, 'Deployment')) {
      const ours = one(manifests, 'Deployment', dep.metadata.name);
      expect(ours.metadata.labels).toEqual(dep.metadata.labels);
      expect(ours.spec.replicas).toBe(dep.spec.replicas);
      expect(ours.spec.selector).toEqual(dep.spec.selector);
      expect(ours.spec.template.metadata.labels).toMatchObject(dep.spec.template.metadata.labels);
      const [theirs] = dep.spec.template.spec.containers;
      const [mine] = ours.spec.template.spec.containers;
      expect(ours.spec.template.spec.serviceAccountName).toBe(dep.spec.template.spec.serviceAccountName);
      const container = (c: any) => ({
        name: c.name, image: c.image, pull: c.imagePullPolicy, ports: c.ports, env: c.env, mounts: sortBy(c.volumeMounts),
      });
      expect(container(mine)).toEqual(container(theirs));
    }
  });

  sampleTest("services without routes of their own keep Istio's virtual-service-all-v1 routing", () => {
    const unrouted = ['productpage', 'details'];
    for (const vs of loadSample('bookinfo/networking/virtual-service-all-v1.yaml').filter((v) => unrouted.includes(v.metadata.name))) {
      const ours = one(manifests, 'VirtualService', vs.metadata.name);
      const ns = ours.metadata.namespace;
      expect(ours.spec.hosts).toEqual(vs.spec.hosts.map((h: string) => fqdn(h, ns!)));
      expect(ours.spec.http.map((r: any) => r.route)).toEqual(vs.spec.http.map((r: any) => r.route.map((d: any) => ({
        ...d, destination: { ...d.destination, host: fqdn(d.destination.host, ns!) },
      }))));
    }
  });

  sampleTest("every subset we declare is one of destination-rule-all's, on the same host", () => {
    for (const dr of loadSample('bookinfo/networking/destination-rule-all.yaml')) {
      const ours = one(manifests, 'DestinationRule', dr.metadata.name);
      expect(ours.spec.host).toBe(fqdn(dr.spec.host, ours.metadata.namespace!));
      expect(dr.spec.subsets).toEqual(expect.arrayContaining(ours.spec.subsets));
    }
  });

  test('traffic: jason → reviews v2, everyone else 90/10 v1/v3 with a timeout and retries', () => {
    const http = one(manifests, 'VirtualService', 'reviews').spec.http;
    expect(http).toHaveLength(2);
    expect(http[0]).toMatchObject({ match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [{ destination: { subset: 'v2' } }] });
    expect(http[1]).toMatchObject({
      route: [{ destination: { subset: 'v1' }, weight: 90 }, { destination: { subset: 'v3' }, weight: 10 }],
      timeout: '2s',
      retries: { attempts: 2, perTryTimeout: '0.5s', retryOn: 'connect-failure,refused-stream,gateway-error' },
    });
  });

  test('traffic: ratings has a circuit breaker, locality failover and a chaos route', () => {
    expect(one(manifests, 'DestinationRule', 'ratings').spec.trafficPolicy).toMatchObject({
      connectionPool: { tcp: { maxConnections: 100 } },
      outlierDetection: { consecutive5xxErrors: 5 },
      loadBalancer: { consistentHash: { httpHeaderName: 'end-user' }, localityLbSetting: { failover: [{ from: 'us-east1', to: 'us-central1' }] } },
    });
    expect(one(manifests, 'VirtualService', 'ratings').spec.http[0]).toMatchObject({
      match: [{ headers: { 'x-bookinfo-chaos': { exact: 'ratings-delay' } } }],
      fault: { delay: { fixedDelay: '7s', percentage: { value: 100 } } },
      retries: { attempts: 0 },
    });
  });

  sampleTest("traffic: the ingress gateway is Istio's bookinfo-gateway, with its own Envoy", () => {
    const [gateway, vs] = loadSample('bookinfo/networking/bookinfo-gateway.yaml');
    expect(one(manifests, 'Gateway', 'bookinfo-gateway').spec.servers).toEqual(gateway.spec.servers);
    expect(one(manifests, 'VirtualService', 'bookinfo').spec.http[0].match).toEqual(vs.spec.http[0].match);
    for (const kind of ['Deployment', 'Service', 'ServiceAccount', 'Role', 'RoleBinding', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']) {
      one(manifests, kind, 'bookinfo-gateway');
    }
  });

  test('traffic: details reaches Google APIs through a declared ServiceEntry, and only that', () => {
    expect(one(manifests, 'ServiceEntry', 'googleapis').spec.hosts).toEqual(['www.googleapis.com']);
    expect(one(manifests, 'Sidecar', 'details').spec.egress).toEqual([{ hosts: ['bookinfo/www.googleapis.com', 'istio-system/*'] }]);
    expect(one(manifests, 'Sidecar', 'productpage').spec.egress).toEqual([{
      hosts: ['bookinfo/details.bookinfo.svc.cluster.local', 'bookinfo/reviews.bookinfo.svc.cluster.local', 'istio-system/*'],
    }]);
  });

  test('exposes the services it declares', () => {
    expect(chart.reviews.versions.map((v) => v.name)).toEqual(['v1', 'v2', 'v3']);
    expect(chart.productpage.principal).toBe('cluster.local/ns/bookinfo/sa/bookinfo-productpage');
  });

  test('snapshot', () => {
    expect(manifests).toMatchSnapshot();
  });
});

/** Mounted paths (volume names are ours to choose). */
function sortBy(mounts: any[] | undefined): string[] | undefined {
  return mounts?.map((m) => m.mountPath).sort();
}
