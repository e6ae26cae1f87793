import { Chart, Testing } from 'cdk8s';
import { httpbin, meshChart, service, specOf, synth, workload } from './support';
import { Dataplane, Mesh, MtlsMode, MtlsPolicy } from '../../src';
import { _clientTlsMode, _effectiveMtls } from '../../src/security/effective-mtls';
import { one } from '../support/manifests';

describe('MtlsPolicy', () => {
  describe("reproduces Istio's documented PeerAuthentications (istio.md B5)", () => {
    test('mesh-wide: default in istio-system, no selector', () => {
      // GIVEN
      const { chart, mesh } = meshChart('foo');
      // WHEN
      const policy = new MtlsPolicy(chart, 'mesh-strict', { mesh, meshWide: true, mode: MtlsMode.STRICT });
      // THEN
      const pa = one(synth(chart), 'PeerAuthentication', 'default', 'istio-system');
      expect(pa).toMatchObject({ apiVersion: 'security.istio.io/v1', metadata: { name: 'default', namespace: 'istio-system' } });
      expect(pa.spec).toEqual({ mtls: { mode: 'STRICT' } });
      expect(policy.namespaceName).toBe('istio-system');
      expect(pa).toMatchSnapshot();
    });

    test('mesh-wide in a custom root namespace', () => {
      const chart = Testing.chart();
      const mesh = new Mesh(chart, 'mesh', { namespaceName: 'foo', rootNamespace: 'istio-config' });
      new MtlsPolicy(chart, 'm', { mesh, meshWide: true, mode: MtlsMode.PERMISSIVE });
      expect(specOf(synth(chart), 'PeerAuthentication', 'default', 'istio-config')).toEqual({ mtls: { mode: 'PERMISSIVE' } });
    });

    test('namespace-wide: the Mesh writes default in its namespace from mtlsMode', () => {
      const { chart } = meshChart('foo');
      expect(specOf(synth(chart), 'PeerAuthentication', 'default', 'foo')).toEqual({ mtls: { mode: 'STRICT' } });
    });

    test('namespace-wide: an MtlsPolicy when the Mesh leaves the namespace mode UNSET', () => {
      const chart = Testing.chart();
      const mesh = new Mesh(chart, 'mesh', { namespaceName: 'foo', mtlsMode: MtlsMode.UNSET });
      new MtlsPolicy(chart, 'ns', { mesh, mode: MtlsMode.STRICT });
      const manifests = synth(chart);
      expect(one(manifests, 'PeerAuthentication', 'default', 'foo').spec).toEqual({ mtls: { mode: 'STRICT' } });
      expect(manifests).toMatchSnapshot();
    });

    test('per workload: httpbin in bar', () => {
      const { chart, mesh } = meshChart('bar');
      new MtlsPolicy(chart, 'httpbin-mtls', { mesh, target: httpbin(chart, mesh), mode: MtlsMode.STRICT });
      const pa = one(synth(chart), 'PeerAuthentication', 'httpbin', 'bar');
      expect(pa.spec).toEqual({ selector: { matchLabels: { app: 'httpbin' } }, mtls: { mode: 'STRICT' } });
      expect(pa).toMatchSnapshot();
    });

    test('per port: DISABLE on the container port, given the Service port', () => {
      // GIVEN: httpbin's Service port 8000 forwards to container port 8080
      const { chart, mesh } = meshChart('bar');
      const bin = httpbin(chart, mesh);
      // WHEN
      new MtlsPolicy(chart, 'httpbin-mtls', { mesh, target: bin, mode: MtlsMode.STRICT, portOverrides: [{ port: 8000, mode: MtlsMode.DISABLE }] });
      // THEN: Istio matches portLevelMtls against the workload port
      const pa = one(synth(chart), 'PeerAuthentication', 'httpbin', 'bar');
      expect(pa.spec).toEqual({
        selector: { matchLabels: { app: 'httpbin' } },
        mtls: { mode: 'STRICT' },
        portLevelMtls: { 8080: { mode: 'DISABLE' } },
      });
      expect(pa).toMatchSnapshot();
    });

    test("the API reference's finance examples: STRICT except 8080, and UNSET except 8080", () => {
      const { chart, mesh } = meshChart('foo');
      const finance = workload('foo', { app: 'finance' });
      new MtlsPolicy(chart, 'finance', { mesh, target: finance, mode: MtlsMode.STRICT, portOverrides: [{ port: 8080, mode: MtlsMode.DISABLE }] });
      const manifests = synth(chart);
      expect(specOf(manifests, 'PeerAuthentication', 'finance', 'foo')).toEqual({
        selector: { matchLabels: { app: 'finance' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { 8080: { mode: 'DISABLE' } },
      });

      const other = meshChart('foo');
      new MtlsPolicy(other.chart, 'inherit', { mesh: other.mesh, name: 'finance-inherit', target: finance, mode: MtlsMode.UNSET, portOverrides: [{ port: 8080, mode: MtlsMode.DISABLE }] });
      expect(specOf(synth(other.chart), 'PeerAuthentication', 'finance-inherit').mtls).toEqual({ mode: 'UNSET' });
    });

    test('a version target selects app and version', () => {
      const { chart, mesh } = meshChart('foo');
      const reviews = service(chart, mesh, 'reviews');
      const v2 = reviews.addVersion('v2', { image: 'reviews:2' });
      new MtlsPolicy(chart, 'v2', { mesh, target: v2, mode: MtlsMode.PERMISSIVE });
      expect(specOf(synth(chart), 'PeerAuthentication', 'reviews-v2')).toEqual({
        selector: { matchLabels: { app: 'reviews', version: 'v2' } }, mtls: { mode: 'PERMISSIVE' },
      });
    });
  });

  describe('effective mode (for client-side DestinationRule TLS)', () => {
    test('resolves port override, workload, namespace, mesh-wide, then PERMISSIVE', () => {
      // GIVEN: namespace mode UNSET, a mesh-wide STRICT, a workload DISABLE on one port of httpbin
      const chart = Testing.chart();
      const mesh = new Mesh(chart, 'mesh', { namespaceName: 'foo', mtlsMode: MtlsMode.UNSET });
      const bin = httpbin(chart, mesh);
      const sleep = service(chart, mesh, 'sleep');
      const reviews = service(chart, mesh, 'reviews');
      const v2 = reviews.addVersion('v2', { image: 'reviews:2' });
      // THEN before any policy: Istio's default
      expect(_effectiveMtls(sleep, 9080)).toBe(MtlsMode.PERMISSIVE);
      // WHEN
      new MtlsPolicy(chart, 'mesh-wide', { mesh, meshWide: true, mode: MtlsMode.STRICT });
      new MtlsPolicy(chart, 'bin', { mesh, target: bin, mode: MtlsMode.UNSET, portOverrides: [{ port: 8000, mode: MtlsMode.DISABLE }] });
      new MtlsPolicy(chart, 'v2', { mesh, target: v2, mode: MtlsMode.PERMISSIVE });
      // THEN
      expect(_effectiveMtls(sleep, 9080)).toBe(MtlsMode.STRICT);
      expect(_effectiveMtls(bin, 8000)).toBe(MtlsMode.DISABLE);
      expect(_effectiveMtls(bin, 8080)).toBe(MtlsMode.DISABLE);
      expect(_effectiveMtls(reviews, 9080, reviews.defaultVersion)).toBe(MtlsMode.STRICT);
      expect(_effectiveMtls(reviews, 9080, v2)).toBe(MtlsMode.PERMISSIVE);
      expect(_effectiveMtls(reviews, 9080)).toBeUndefined();
      expect(_clientTlsMode(MtlsMode.DISABLE)).toBe('DISABLE');
      expect(_clientTlsMode(MtlsMode.STRICT)).toBe('ISTIO_MUTUAL');
      expect(_clientTlsMode(MtlsMode.PERMISSIVE)).toBe('ISTIO_MUTUAL');
    });

    test("the Mesh's namespace mode beats the mesh-wide one", () => {
      const { chart, mesh } = meshChart('foo');
      const sleep = service(chart, mesh, 'sleep');
      new MtlsPolicy(chart, 'mesh-wide', { mesh, meshWide: true, mode: MtlsMode.PERMISSIVE });
      expect(_effectiveMtls(sleep, 9080)).toBe(MtlsMode.STRICT);
    });
  });

  describe('bad input', () => {
    test('CM301: DISABLE in ambient mode, for the policy or a port', () => {
      const { chart, mesh } = meshChart('foo', { dataplane: Dataplane.ambient() });
      const bin = httpbin(chart, mesh);
      expect(() => new MtlsPolicy(chart, 'p', { mesh, target: bin, mode: MtlsMode.DISABLE }))
        .toThrow(/\[test\/p\] CM301 .*DISABLE is not supported in ambient mode.*Fix: use PERMISSIVE/);
      expect(() => new MtlsPolicy(chart, 'q', { mesh, target: bin, mode: MtlsMode.STRICT, portOverrides: [{ port: 8000, mode: MtlsMode.DISABLE }] }))
        .toThrow(/\[test\/q\] CM301 /);
    });

    test('CM302: port-level mTLS without a workload target', () => {
      const { chart, mesh } = meshChart();
      expect(() => new MtlsPolicy(chart, 'p', { mesh, meshWide: true, mode: MtlsMode.STRICT, portOverrides: [{ port: 8080, mode: MtlsMode.DISABLE }] }))
        .toThrow(/\[test\/p\] CM302 .*portOverrides are set on a mesh-wide policy; Istio only allows port-level mTLS for selected workloads.*Fix: set target/);
    });

    test('CM303: a namespace-wide policy while the Mesh writes the namespace mode', () => {
      const { chart, mesh } = meshChart();
      expect(() => new MtlsPolicy(chart, 'p', { mesh, mode: MtlsMode.PERMISSIVE }))
        .toThrow(/\[test\/p\] CM303 .*namespace "foo" already has its namespace-wide mTLS mode STRICT from the Mesh \(test\/mesh, mtlsMode\).*Fix: set the mode with the Mesh's mtlsMode instead.*or set the Mesh's mtlsMode to MtlsMode\.UNSET/);
    });

    test('CM303: two mesh-wide policies', () => {
      const app = Testing.app();
      const a = new Mesh(new Chart(app, 'a'), 'mesh', { namespaceName: 'a' });
      const b = new Mesh(new Chart(app, 'b'), 'mesh', { namespaceName: 'b' });
      new MtlsPolicy(a, 'strict', { mesh: a, meshWide: true, mode: MtlsMode.STRICT });
      expect(() => new MtlsPolicy(b, 'strict', { mesh: b, meshWide: true, mode: MtlsMode.PERMISSIVE }))
        .toThrow(/\[b\/mesh\/strict\] CM303 .*already is a mesh-wide \(root namespace "istio-system"\) mTLS policy \(a\/mesh\/strict\); Istio applies only the oldest/);
    });

    test('CM304: a port override that is not a port of the service', () => {
      const { chart, mesh } = meshChart();
      expect(() => new MtlsPolicy(chart, 'p', { mesh, target: httpbin(chart, mesh), mode: MtlsMode.STRICT, portOverrides: [{ port: 9090, mode: MtlsMode.DISABLE }] }))
        .toThrow(/\[test\/p\] CM304 .*port 9090 is not a port of service "httpbin" \(Service port 8000 \(container port 8080\)\).*Fix: use 8000/);
    });

    test('CM305: one port overridden twice (as Service port and container port)', () => {
      const { chart, mesh } = meshChart();
      expect(() => new MtlsPolicy(chart, 'p', {
        mesh,
        target: httpbin(chart, mesh),
        mode: MtlsMode.STRICT,
        portOverrides: [{ port: 8000, mode: MtlsMode.DISABLE }, { port: 8080, mode: MtlsMode.PERMISSIVE }],
      }))
        .toThrow(/\[test\/p\] CM305 .*sets container port 8080 twice/);
    });

    test('CM106: a port override out of range', () => {
      const { chart, mesh } = meshChart();
      expect(() => new MtlsPolicy(chart, 'p', { mesh, target: workload('foo', { app: 'x' }), mode: MtlsMode.STRICT, portOverrides: [{ port: 0, mode: MtlsMode.DISABLE }] }))
        .toThrow(/\[test\/p\] CM106 .*port 0, which is not a TCP port number/);
    });

    test('CM324: a workload policy named default next to the Mesh\'s', () => {
      const { chart, mesh } = meshChart();
      expect(() => new MtlsPolicy(chart, 'p', { mesh, name: 'default', target: httpbin(chart, mesh), mode: MtlsMode.STRICT }))
        .toThrow(/\[test\/p\] CM324 .*already has a PeerAuthentication "default" \(test\/mesh\)/);
    });

    test('CM328: two workload policies selecting the same pods', () => {
      const { chart, mesh } = meshChart();
      const bin = httpbin(chart, mesh);
      new MtlsPolicy(chart, 'a', { mesh, target: bin, mode: MtlsMode.STRICT });
      new MtlsPolicy(chart, 'b', { mesh, target: bin.defaultVersion, mode: MtlsMode.PERMISSIVE });
      expect(() => synth(chart)).toThrow(/\[test\/a\] CM328 .*this policy and test\/b both select the pods of httpbin-v1; Istio applies only the oldest.*Fix: use one workload policy per pod/);
    });

    test('CM330: a mesh-wide policy with a target', () => {
      const { chart, mesh } = meshChart();
      expect(() => new MtlsPolicy(chart, 'p', { mesh, meshWide: true, target: httpbin(chart, mesh), mode: MtlsMode.STRICT }))
        .toThrow(/\[test\/p\] CM330 .*meshWide and has a target; Istio ignores selectors of policies in the root namespace.*Fix: remove target/);
    });
  });
});
