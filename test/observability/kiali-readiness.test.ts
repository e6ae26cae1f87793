import { Testing } from 'cdk8s';
import { BookinfoChart } from '../../examples/bookinfo/bookinfo';
import { Dataplane, Mesh, MeshService, Protocol } from '../../src';
import { Manifest, ofKind, one } from '../support/manifests';

/**
 * Kiali draws the graph from the `app` and `version` pod labels; Istio's telemetry (and so
 * Prometheus, Grafana and Jaeger) names workloads by `service.istio.io/canonical-name` and
 * `canonical-revision`. Every version of every service must carry all four, with the values
 * the routes and alerts of the library use.
 */
/** The Deployments of service versions (not of ingress gateways, which Istio labels itself). */
function serviceDeployments(manifests: Manifest[]): Manifest[] {
  return ofKind(manifests, 'Deployment').filter((d) => d.spec.template.metadata.labels['sidecar.istio.io/inject'] === undefined);
}

function expectReady(manifests: Manifest[]): void {
  const deployments = serviceDeployments(manifests);
  expect(deployments.length).toBeGreaterThan(0);
  for (const deployment of deployments) {
    const labels = deployment.spec.template.metadata.labels;
    const [app, version] = [labels.app, labels.version];
    expect({ deployment: deployment.metadata.name, labels }).toEqual({
      deployment: `${app}-${version}`,
      labels: expect.objectContaining({
        'app': app,
        'version': version,
        'service.istio.io/canonical-name': app,
        'service.istio.io/canonical-revision': version,
      }),
    });
    // The Service Kiali links the workload to selects it by `app`; its port names the protocol.
    const service = one(manifests, 'Service', app);
    expect(service.spec.selector).toEqual({ app });
    for (const port of service.spec.ports) expect(port.name).toMatch(/^(http|http2|grpc|grpc-web|https|tls|tcp|mongo|mysql|redis)(-|$)/);
  }
}

describe('Kiali, Jaeger and Grafana readiness', () => {
  test('every version of every bookinfo service carries app, version and the canonical labels', () => {
    const manifests = Testing.synth(new BookinfoChart(Testing.app(), 'bookinfo')) as Manifest[];
    expect(serviceDeployments(manifests).map((d) => d.metadata.name).sort())
      .toEqual(['details-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3']);
    expectReady(manifests);
  });

  test('so do versions with custom names, extra pod labels, other protocols and ambient mode', () => {
    const chart = Testing.chart();
    const sidecar = new Mesh(chart, 'a', { namespaceName: 'shop' });
    const api = new MeshService(chart, 'api', { mesh: sidecar, image: 'api:1', port: 8080, version: 'stable', podLabels: { team: 'core' } });
    api.addVersion('canary-2024', { image: 'api:2' });
    new MeshService(chart, 'grpc', { mesh: sidecar, image: 'g:1', port: 50051, protocol: Protocol.GRPC, portNameSuffix: 'api' });
    new MeshService(chart, 'db', { mesh: sidecar, image: 'mysql:8', port: 3306, protocol: Protocol.MYSQL });
    const ambient = new Mesh(chart, 'b', { namespaceName: 'edge', dataplane: Dataplane.ambient() });
    new MeshService(chart, 'web', { mesh: ambient, image: 'web:1', port: 80 });
    expectReady(Testing.synth(chart) as Manifest[]);
  });
});
