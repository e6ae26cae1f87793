// One synthesis (app.synth() / app.synthYaml()): the analysis runs once, each object is rendered
// once, and nothing rendered is kept once the call returns.
import { ApiObject, App, Chart, JsonPatch, Testing } from 'cdk8s';
import { istio, Mesh, MeshService } from '../../src';
import * as run from '../../src/analysis/run';

function shop(app: App, namespaceName: string, analyzeOnSynth?: boolean) {
  const chart = new Chart(app, namespaceName, { namespace: namespaceName });
  const mesh = new Mesh(chart, 'mesh', { namespaceName, analyzeOnSynth });
  const web = new MeshService(chart, 'web', { mesh, image: 'web:1', port: 8080 });
  const api = new MeshService(chart, 'api', { mesh, image: 'api:1', port: 8080 });
  api.allowFrom(web);
  return { chart, mesh, web, api };
}

const objects = (app: App) => app.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject);

describe('synthesis', () => {
  test('app.synthYaml() analyzes once for the whole app, though cdk8s validates once per chart and once more', () => {
    const analyze = jest.spyOn(run, 'runChecksOn');
    try {
      const app = Testing.app();
      shop(app, 'a');
      shop(app, 'b');
      app.synthYaml();
      expect(analyze).toHaveBeenCalledTimes(1);
      app.synthYaml();
      expect(analyze).toHaveBeenCalledTimes(2);
    } finally {
      analyze.mockRestore();
    }
  });

  test('meshes analyze separately when an object names no namespace (each mesh places it in its own)', () => {
    const analyze = jest.spyOn(run, 'runChecksOn');
    try {
      const app = Testing.app();
      shop(app, 'a');
      shop(app, 'b');
      new ApiObject(new Chart(app, 'loose'), 'config', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config' } });
      app.synthYaml();
      expect(analyze.mock.calls.map(([index]) => index.options.defaultNamespace)).toEqual(['a', 'b']);
    } finally {
      analyze.mockRestore();
    }
  });

  test('the output is the same with and without the synth-time analysis, and nothing rendered is kept after the call', () => {
    const withAnalysis = Testing.app();
    shop(withAnalysis, 'shop');
    const without = Testing.app();
    shop(without, 'shop', false);
    expect(withAnalysis.synthYaml()).toBe(without.synthYaml());
    for (const object of objects(withAnalysis)) expect(Object.prototype.hasOwnProperty.call(object, 'toJson')).toBe(false);
  });

  test('changes after a synthesis show in the next one', () => {
    const app = Testing.app();
    const { web } = shop(app, 'shop');
    expect(app.synthYaml()).not.toContain('changed-after-synth');
    ApiObject.of(web.virtualService!).addJsonPatch(JsonPatch.add('/metadata/labels', { note: 'changed-after-synth' }));
    expect(web.virtualService!.toJson().metadata.labels).toEqual({ note: 'changed-after-synth' });
    expect(app.synthYaml()).toContain('changed-after-synth');
  });

  test('a synthesis that fails keeps nothing either', () => {
    const app = Testing.app();
    const { chart } = shop(app, 'shop');
    new istio.VirtualService(chart, 'bogus', {
      metadata: { name: 'bogus' },
      spec: { hosts: ['bogus.shop.svc.cluster.local'], http: [{ route: [{ destination: { host: 'web', subset: 'v9' } }] }] },
    });
    expect(() => app.synthYaml()).toThrow(/IST0101/);
    for (const object of objects(app)) expect(Object.prototype.hasOwnProperty.call(object, 'toJson')).toBe(false);
  });
});
