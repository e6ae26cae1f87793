import { App, Chart, Testing } from 'cdk8s';
import { Dataplane, Mesh, MtlsMode, OutboundTrafficPolicy } from '../../src';
import { Manifest, inventory, one } from '../support/manifests';

function synth(chart: Chart): Manifest[] {
  return Testing.synth(chart) as Manifest[];
}

describe('Mesh', () => {
  test('creates the namespace with the injection label, STRICT mTLS and default-deny authorization', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN
    const mesh = new Mesh(chart, 'mesh', { namespaceName: 'shop' });
    // THEN
    const manifests = synth(chart);
    expect(inventory(manifests)).toEqual(['Namespace/shop', 'PeerAuthentication/default', 'AuthorizationPolicy/allow-nothing']);
    expect(one(manifests, 'AuthorizationPolicy', 'allow-nothing')).toMatchObject({ metadata: { namespace: 'shop' }, spec: {} });
    expect(one(manifests, 'Namespace', 'shop').metadata.labels).toEqual({ 'istio-injection': 'enabled' });
    expect(one(manifests, 'PeerAuthentication', 'default')).toMatchObject({
      apiVersion: 'security.istio.io/v1',
      metadata: { namespace: 'shop' },
      spec: { mtls: { mode: 'STRICT' } },
    });
    expect(mesh.namespaceName).toBe('shop');
    expect(mesh.trustDomain).toBe('cluster.local');
    expect(mesh.rootNamespace).toBe('istio-system');
    expect(mesh.namespaceObject?.name).toBe('shop');
    expect(manifests).toMatchSnapshot();
  });

  test('takes its namespace from the chart and keeps the Namespace object cluster-scoped', () => {
    const chart = new Chart(Testing.app(), 'chart', { namespace: 'shop' });
    const mesh = new Mesh(chart, 'mesh');
    const namespace = one(synth(chart), 'Namespace', 'shop');
    expect(mesh.namespaceName).toBe('shop');
    expect(namespace.metadata.namespace).toBeUndefined();
  });

  test('a revision replaces istio-injection with istio.io/rev (never both: IST0123)', () => {
    const chart = Testing.chart();
    new Mesh(chart, 'mesh', { namespaceName: 'shop', dataplane: Dataplane.sidecar({ revision: 'canary-1-30' }) });
    expect(one(synth(chart), 'Namespace', 'shop').metadata.labels).toEqual({ 'istio.io/rev': 'canary-1-30' });
  });

  test('ambient mode labels the namespace and can deploy a waypoint', () => {
    const chart = Testing.chart();
    const mesh = new Mesh(chart, 'mesh', { namespaceName: 'shop', dataplane: Dataplane.ambient({ waypoint: true }) });
    const manifests = synth(chart);
    expect(one(manifests, 'Namespace', 'shop').metadata.labels).toEqual({
      'istio.io/dataplane-mode': 'ambient',
      'istio.io/use-waypoint': 'waypoint',
    });
    expect(one(manifests, 'Gateway', 'waypoint')).toMatchObject({
      apiVersion: 'gateway.networking.k8s.io/v1',
      metadata: { namespace: 'shop', labels: { 'istio.io/waypoint-for': 'service' } },
      spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
    });
    expect(mesh.dataplane.isAmbient).toBe(true);
    expect(manifests).toMatchSnapshot();
  });

  test('ambient mode without a waypoint has no istio-injection label', () => {
    const chart = Testing.chart();
    new Mesh(chart, 'mesh', { namespaceName: 'shop', dataplane: Dataplane.ambient() });
    expect(one(synth(chart), 'Namespace', 'shop').metadata.labels).toEqual({ 'istio.io/dataplane-mode': 'ambient' });
  });

  test('adopts an existing namespace and exposes the labels it must carry', () => {
    const chart = Testing.chart();
    const mesh = new Mesh(chart, 'mesh', { namespaceName: 'shop', createNamespace: false, mtlsMode: MtlsMode.PERMISSIVE });
    const manifests = synth(chart);
    expect(inventory(manifests)).toEqual(['PeerAuthentication/default', 'AuthorizationPolicy/allow-nothing']);
    expect(manifests[0].spec).toEqual({ mtls: { mode: 'PERMISSIVE' } });
    expect(mesh.namespaceLabels).toEqual({ 'istio-injection': 'enabled' });
  });

  test('mtlsMode UNSET writes no namespace policy, so the mesh-wide one applies', () => {
    const chart = Testing.chart();
    new Mesh(chart, 'mesh', { namespaceName: 'shop', mtlsMode: MtlsMode.UNSET, namespaceLabels: { team: 'a' } });
    const manifests = synth(chart);
    expect(inventory(manifests)).toEqual(['Namespace/shop', 'AuthorizationPolicy/allow-nothing']);
    expect(manifests[0].metadata.labels).toEqual({ 'team': 'a', 'istio-injection': 'enabled' });
  });

  test('without per-service scoping, REGISTRY_ONLY is written on a namespace Sidecar', () => {
    const chart = Testing.chart();
    const mesh = new Mesh(chart, 'mesh', { namespaceName: 'shop', scopeSidecars: false });
    expect(one(synth(chart), 'Sidecar', 'default').spec).toEqual({ egress: [{ hosts: ['*/*'] }], outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } });
    expect(mesh.outboundTrafficPolicy).toBe(OutboundTrafficPolicy.REGISTRY_ONLY);
  });

  test('ALLOW_ANY without scoping writes no Sidecar', () => {
    const chart = Testing.chart();
    new Mesh(chart, 'mesh', { namespaceName: 'shop', scopeSidecars: false, outboundTrafficPolicy: OutboundTrafficPolicy.ALLOW_ANY });
    expect(synth(chart).filter((m) => m.kind === 'Sidecar')).toEqual([]);
  });

  test('custom trust domain and root namespace', () => {
    const mesh = new Mesh(Testing.chart(), 'mesh', { namespaceName: 'shop', trustDomain: 'corp.example', rootNamespace: 'istio-config' });
    expect(mesh.trustDomain).toBe('corp.example');
    expect(mesh.rootNamespace).toBe('istio-config');
  });

  test('output is byte-identical across two runs of the same program', () => {
    const build = () => {
      const app = new App();
      const chart = new Chart(app, 'c');
      new Mesh(chart, 'mesh', { namespaceName: 'shop', dataplane: Dataplane.ambient({ waypoint: true }) });
      return app.synthYaml();
    };
    expect(build()).toEqual(build());
  });

  describe('bad input', () => {
    test('CM101: namespace name that is not a DNS label', () => {
      expect(() => new Mesh(Testing.chart(), 'mesh', { namespaceName: 'My_Shop' }))
        .toThrow(/\[test\/mesh\] CM101 .*namespace name "My_Shop" is not a valid DNS label.*Fix: .*e\.g\. "my-shop"/);
    });

    test('CM101: root namespace that is not a DNS label', () => {
      expect(() => new Mesh(Testing.chart(), 'mesh', { namespaceName: 'shop', rootNamespace: 'Istio System' }))
        .toThrow(/CM101 .*root namespace "Istio System"/);
    });

    test('CM102: no namespace anywhere', () => {
      expect(() => new Mesh(Testing.chart(), 'mesh'))
        .toThrow(/\[test\/mesh\] CM102 .*no namespaceName and its Chart has no namespace.*Fix: pass namespaceName/);
    });

    test('CM103: a mesh for another namespace than its chart', () => {
      const chart = new Chart(Testing.app(), 'chart', { namespace: 'shop' });
      expect(() => new Mesh(chart, 'mesh', { namespaceName: 'billing' }))
        .toThrow(/\[chart\/mesh\] CM103 .*namespace "billing" but its Chart writes to namespace "shop"/);
    });

    test('CM104: two meshes for one namespace', () => {
      const app = Testing.app();
      new Mesh(new Chart(app, 'a'), 'mesh', { namespaceName: 'shop' });
      expect(() => new Mesh(new Chart(app, 'b'), 'mesh', { namespaceName: 'shop' }))
        .toThrow(/\[b\/mesh\] CM104 .*namespace "shop" already has a Mesh \(a\/mesh\).*Fix: declare one Mesh per namespace/);
    });

    test('CM111: a trust domain that is not a DNS name', () => {
      expect(() => new Mesh(Testing.chart(), 'mesh', { namespaceName: 'shop', trustDomain: 'spiffe://x' }))
        .toThrow(/CM111 .*trust domain "spiffe:\/\/x" is not a DNS name/);
    });

    test('CM109: sidecar scoping or an outbound policy in ambient mode', () => {
      expect(() => new Mesh(Testing.chart(), 'mesh', { namespaceName: 'shop', dataplane: Dataplane.ambient(), scopeSidecars: true }))
        .toThrow(/CM109 .*scopeSidecars configures sidecars, but the mesh is in ambient mode.*Fix: remove the option/);
      expect(() => new Mesh(Testing.chart(), 'mesh', { namespaceName: 'shop', dataplane: Dataplane.ambient(), outboundTrafficPolicy: OutboundTrafficPolicy.REGISTRY_ONLY }))
        .toThrow(/CM109 .*outboundTrafficPolicy configures sidecars/);
    });

    test('CM301: mTLS DISABLE in ambient mode', () => {
      expect(() => new Mesh(Testing.chart(), 'mesh', { namespaceName: 'shop', dataplane: Dataplane.ambient(), mtlsMode: MtlsMode.DISABLE }))
        .toThrow(/CM301 .*DISABLE is not supported in ambient mode.*Fix: use PERMISSIVE/);
    });
  });
});
