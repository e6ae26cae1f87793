import { Chart, Testing } from 'cdk8s';
import { istio, Mesh, MeshService } from '../../src';

function setup(analyzeOnSynth?: boolean) {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
  const mesh = new Mesh(chart, 'mesh', { analyzeOnSynth });
  const reviews = new MeshService(chart, 'reviews', { mesh, image: 'reviews:1', port: 9080 });
  return { chart, mesh, reviews };
}

/** A hand-written VirtualService (the escape hatch) routing to a subset no DestinationRule defines. */
function bogusRoute(chart: Chart) {
  new istio.VirtualService(chart, 'hand-written', {
    metadata: { name: 'reviews-bogus' },
    spec: { hosts: ['reviews-canary.shop.svc.cluster.local'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v9' } }] }] },
  });
}

describe('analysis at synth', () => {
  test('an error finding fails synth, naming the object, its construct path, the field and the fix', () => {
    const { chart } = setup();
    bogusRoute(chart);
    expect(() => Testing.synth(chart)).toThrow(
      /\[shop\/mesh\] IST0101 VirtualService shop\/reviews-bogus \(shop\/hand-written\) spec\.http\[0\]\.route\[0\]\.destination\.subset: .*v9.*Fix: /);
  });

  test('the library output itself analyzes clean', () => {
    const { chart } = setup();
    expect(() => Testing.synth(chart)).not.toThrow();
  });

  test('warnings are printed once per app, not on every synth', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const { chart, mesh } = setup();
      // TLS origination without a CA to verify the server: IST0128, a warning.
      new istio.DestinationRule(chart, 'tls', {
        metadata: { name: 'external-tls', namespace: mesh.namespaceName },
        spec: { host: 'api.example.com', trafficPolicy: { tls: { mode: istio.DestinationRuleSpecTrafficPolicyTlsMode.SIMPLE } } },
      });
      Testing.synth(chart);
      Testing.synth(chart);
      const messages = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('IST0128'));
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatch(/cdk8s-mesh analysis warning: IST0128 DestinationRule shop\/external-tls \(shop\/tls\)/);
    } finally {
      warn.mockRestore();
    }
  });

  test('analyzeOnSynth: false turns it off', () => {
    const { chart } = setup(false);
    bogusRoute(chart);
    expect(() => Testing.synth(chart)).not.toThrow();
  });
});
