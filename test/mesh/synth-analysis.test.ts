import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Testing } from 'cdk8s';
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

describe('topology beside the YAML', () => {
  const build = (writeTopology?: boolean) => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-'));
    const app = new App({ outdir });
    const chart = new Chart(app, 'shop', { namespace: 'shop' });
    const mesh = new Mesh(chart, 'mesh', { writeTopology });
    const web = new MeshService(chart, 'web', { mesh, image: 'web:1', port: 80 });
    const reviews = new MeshService(chart, 'reviews', { mesh, image: 'reviews:1', port: 9080 });
    reviews.routeTraffic({ destinations: [{ version: reviews.defaultVersion, weight: 80 }, { version: reviews.addVersion('v2'), weight: 20 }] });
    reviews.allowFrom(web);
    return { app, outdir };
  };

  test('app.synth() writes mesh-topology.mmd and mesh-topology.dot next to the manifests', () => {
    const { app, outdir } = build();
    app.synth();
    expect(fs.readdirSync(outdir).sort()).toEqual(['mesh-topology.dot', 'mesh-topology.mmd', 'shop.k8s.yaml']);
    const mermaid = fs.readFileSync(path.join(outdir, 'mesh-topology.mmd'), 'utf8');
    expect(mermaid).toContain('svc_shop__reviews -->|"80%"| svc_shop__reviews__v_v1');
    expect(mermaid).toContain('svc_shop__web -.->|"allowed"| svc_shop__reviews');
    expect(fs.readFileSync(path.join(outdir, 'mesh-topology.dot'), 'utf8')).toMatch(/^digraph mesh \{/);
  });

  test('synthYaml() writes nothing, and writeTopology: false turns it off', () => {
    const yaml = build();
    yaml.app.synthYaml();
    expect(fs.readdirSync(yaml.outdir)).toEqual([]);
    const off = build(false);
    off.app.synth();
    expect(fs.readdirSync(off.outdir)).toEqual(['shop.k8s.yaml']);
  });
});
