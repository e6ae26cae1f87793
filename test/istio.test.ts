import { Testing } from 'cdk8s';
import { istio } from '../src';

describe('istio submodule: typed bindings for every Istio kind', () => {
  test('writes any Istio resource with types, at its v1 (or storage) version', () => {
    const chart = Testing.chart();
    new istio.ServiceEntry(chart, 'se', {
      metadata: { name: 'httpbin-ext', namespace: 'shop' },
      spec: {
        hosts: ['httpbin.org'],
        ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
        resolution: istio.ServiceEntrySpecResolution.DNS,
        location: istio.ServiceEntrySpecLocation.MESH_EXTERNAL,
      },
    });
    new istio.WasmPlugin(chart, 'wasm', {
      metadata: { name: 'basic-auth', namespace: 'shop' },
      spec: { url: 'oci://ghcr.io/example/basic-auth:1.0', phase: istio.WasmPluginSpecPhase.AUTHN },
    });
    const [se, wasm] = Testing.synth(chart);
    expect(se).toEqual({
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'httpbin-ext', namespace: 'shop' },
      spec: { hosts: ['httpbin.org'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'DNS', location: 'MESH_EXTERNAL' },
    });
    expect(wasm.apiVersion).toBe('extensions.istio.io/v1alpha1');
  });

  test('one version per kind: v1 wherever Istio serves it', () => {
    const versions = [istio.VirtualService, istio.DestinationRule, istio.Gateway, istio.ServiceEntry, istio.Sidecar,
      istio.WorkloadEntry, istio.WorkloadGroup, istio.AuthorizationPolicy, istio.PeerAuthentication,
      istio.RequestAuthentication, istio.Telemetry].map((k) => k.GVK.apiVersion);
    expect(versions.every((v) => v.endsWith('/v1'))).toBe(true);
    expect(istio.EnvoyFilter.GVK.apiVersion).toBe('networking.istio.io/v1alpha3');
    expect(istio.ProxyConfig.GVK.apiVersion).toBe('networking.istio.io/v1beta1');
  });
});
