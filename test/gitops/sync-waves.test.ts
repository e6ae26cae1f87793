import { ApiObject, App, Chart, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { BookinfoChart } from '../../examples/bookinfo/bookinfo';
import { Dataplane, Mesh, MeshService, SyncWaves } from '../../src';
import { Manifest, one } from '../support/manifests';

const WAVE = 'argocd.argoproj.io/sync-wave';

function waves(manifests: Manifest[]): Record<string, string> {
  return Object.fromEntries(manifests.map((m) => [`${m.kind}/${m.metadata.name}`, m.metadata.annotations?.[WAVE]]));
}

describe('SyncWaves', () => {
  test('bookinfo: namespace, then policy, workloads, routes, and the ingress gateway last', () => {
    // GIVEN
    const chart = new BookinfoChart(Testing.app(), 'bookinfo');
    // WHEN
    SyncWaves.apply(chart);
    // THEN
    const manifests = Testing.synth(chart) as Manifest[];
    const w = waves(manifests);
    expect(w['Namespace/bookinfo']).toBe('-2');
    for (const policy of ['PeerAuthentication/default', 'AuthorizationPolicy/allow-nothing', 'AuthorizationPolicy/reviews-allow',
      'AuthorizationPolicy/bookinfo-gateway-ingress', 'Sidecar/reviews', 'RequestAuthentication/jwt', 'Telemetry/telemetry', 'ServiceEntry/googleapis']) {
      expect([policy, w[policy]]).toEqual([policy, '-1']);
    }
    for (const workload of ['ServiceAccount/bookinfo-reviews', 'Service/reviews', 'Deployment/reviews-v3', 'PrometheusRule/reviews-slo',
      'PodMonitor/envoy-stats-monitor', 'ConfigMap/mesh-dashboards']) {
      expect([workload, w[workload]]).toEqual([workload, '0']);
    }
    for (const route of ['DestinationRule/reviews', 'VirtualService/reviews', 'VirtualService/googleapis', 'DestinationRule/googleapis']) {
      expect([route, w[route]]).toEqual([route, '1']);
    }
    // Everything the IngressGateway writes, its Envoy included, except its authorization policy.
    for (const kind of ['Gateway', 'ServiceAccount', 'Deployment', 'Service', 'Role', 'RoleBinding', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']) {
      expect([kind, w[`${kind}/bookinfo-gateway`]]).toEqual([kind, '2']);
    }
    expect(w['VirtualService/bookinfo']).toBe('2');
    expect(Object.values(w).every((v) => v !== undefined)).toBe(true);
    expect(w).toMatchSnapshot();
  });

  test('objects declared after apply() are annotated too', () => {
    const chart = Testing.chart();
    SyncWaves.apply(chart);
    const mesh = new Mesh(chart, 'mesh', { namespaceName: 'shop' });
    new MeshService(chart, 'web', { mesh, image: 'web:1', port: 8080 });
    const w = waves(Testing.synth(chart) as Manifest[]);
    expect([w['Namespace/shop'], w['Deployment/web-v1'], w['VirtualService/web']]).toEqual(['-2', '0', '1']);
  });

  test('custom waves, and an annotation the user wrote is kept', () => {
    const chart = Testing.chart();
    const mesh = new Mesh(chart, 'mesh', { namespaceName: 'shop' });
    const web = new MeshService(chart, 'web', { mesh, image: 'web:1', port: 8080 });
    web.defaultVersion.deployment.metadata.addAnnotation(WAVE, '7');
    SyncWaves.apply(chart, { namespaces: -10, policies: -5, workloads: 0, routes: 5, gateways: 5 });
    const manifests = Testing.synth(chart) as Manifest[];
    const w = waves(manifests);
    expect([w['Namespace/shop'], w['PeerAuthentication/default'], w['Service/web'], w['Deployment/web-v1'], w['VirtualService/web']])
      .toEqual(['-10', '-5', '0', '7', '5']);
  });

  test('synthesizing twice gives the same output', () => {
    const chart = new BookinfoChart(Testing.app(), 'bookinfo');
    SyncWaves.apply(chart);
    expect(Testing.synth(chart)).toEqual(Testing.synth(chart));
  });

  test('the innermost scope wins: an app-wide default, a chart of its own', () => {
    const app = Testing.app();
    const shop = new Chart(app, 'shop');
    new Mesh(shop, 'mesh', { namespaceName: 'shop' });
    const edge = new Chart(app, 'edge');
    new Mesh(edge, 'mesh', { namespaceName: 'edge' });
    SyncWaves.apply(app);
    SyncWaves.apply(edge, { namespaces: -20 });
    expect(one(Testing.synth(shop) as Manifest[], 'Namespace', 'shop').metadata.annotations[WAVE]).toBe('-2');
    expect(one(Testing.synth(edge) as Manifest[], 'Namespace', 'edge').metadata.annotations[WAVE]).toBe('-20');
  });

  test('app.synth() writes the waves even when another mesh comes first in the tree (its analysis renders every object)', () => {
    const app = Testing.app();
    new Mesh(new Chart(app, 'a'), 'mesh', { namespaceName: 'a' });
    const b = new Chart(app, 'b');
    const mesh = new Mesh(b, 'mesh', { namespaceName: 'b' });
    new MeshService(b, 'web', { mesh, image: 'web:1', port: 8080 });
    SyncWaves.apply(b);
    const objects = YAML.parseAllDocuments(app.synthYaml()).map((d) => d.toJS() as Manifest);
    expect(waves(objects.filter((m) => m.metadata.namespace === 'b' || m.metadata.name === 'b'))).toMatchObject({
      'Namespace/b': '-2', 'Deployment/web-v1': '0', 'VirtualService/web': '1',
    });
    expect(one(objects, 'Namespace', 'a').metadata.annotations).toBeUndefined();
  });

  test("an ambient mesh's waypoint is namespace infrastructure (policy wave), not an ingress gateway", () => {
    const chart = Testing.chart();
    const mesh = new Mesh(chart, 'mesh', { namespaceName: 'shop', dataplane: Dataplane.ambient({ waypoint: true }) });
    SyncWaves.apply(chart);
    const gateway = Testing.synth(chart).find((m: Manifest) => m.kind === 'Gateway');
    expect(gateway.metadata.name).toBe(ApiObject.of(mesh.waypoint!).name);
    expect(gateway.metadata.annotations[WAVE]).toBe('-1');
  });

  test('objects outside the scope are left alone', () => {
    const app = Testing.app();
    const annotated = new Chart(app, 'a');
    const plain = new Chart(app, 'b');
    new Mesh(annotated, 'mesh', { namespaceName: 'a' });
    new Mesh(plain, 'mesh', { namespaceName: 'b' });
    SyncWaves.apply(annotated);
    expect(one(Testing.synth(plain) as Manifest[], 'Namespace', 'b').metadata.annotations).toBeUndefined();
  });

  describe('bad input', () => {
    test('CM901: a wave that is not a whole number', () => {
      const app = new App();
      expect(() => SyncWaves.apply(app, { routes: 1.5 })).toThrow(/CM901 Invalid sync wave: the sync wave of routes is 1.5\. Fix: use a whole number/);
    });

    test('CM902: waves out of order name both tiers and the fix', () => {
      const chart = Testing.chart();
      expect(() => SyncWaves.apply(chart, { gateways: -5 }))
        .toThrow(/\[test\] CM902 Sync waves out of order: gateways \(wave -5\) would be applied before routes \(wave 1\)\. Fix: give gateways a wave of at least 1/);
    });
  });
});
