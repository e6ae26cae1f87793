import { App, Chart, Testing } from 'cdk8s';
import { BookinfoChart } from '../../examples/bookinfo/bookinfo';
import { MeshService } from '../../src';
import { Manifest, inventory } from '../support/manifests';

/**
 * GitOps diffs stay quiet only if the output changes exactly where the program changed: same
 * program, same bytes; names that do not depend on construct paths (cdk8s would otherwise add a
 * hash of the path); objects in declaration order, so a new service is an addition, not a reshuffle.
 */
describe('GitOps-friendly output', () => {
  test('the same program synthesizes byte-identical YAML', () => {
    const yaml = () => {
      const app = Testing.app();
      new BookinfoChart(app, 'bookinfo');
      return app.synthYaml();
    };
    expect(yaml()).toEqual(yaml());
  });

  test('no object name carries a construct-path hash', () => {
    const manifests = Testing.synth(new BookinfoChart(Testing.app(), 'bookinfo')) as Manifest[];
    const hashed = manifests.map((m) => m.metadata.name).filter((name) => /-c8[0-9a-f]{6}$/.test(name));
    expect(hashed).toEqual([]);
  });

  test('names and namespaces do not depend on construct ids or nesting', () => {
    const plain = Testing.synth(new BookinfoChart(Testing.app(), 'bookinfo')) as Manifest[];
    const nested = Testing.synth(new BookinfoChart(new Chart(new App(), 'platform'), 'team-books')) as Manifest[];
    expect(inventory(nested)).toEqual(inventory(plain));
    expect(nested.map((m) => m.metadata.namespace)).toEqual(plain.map((m) => m.metadata.namespace));
  });

  test('adding a service appends its objects and leaves the order of the others alone', () => {
    const before = inventory(Testing.synth(new BookinfoChart(Testing.app(), 'bookinfo')) as Manifest[]);
    const chart = new BookinfoChart(Testing.app(), 'bookinfo');
    const stock = new MeshService(chart, 'stock', { mesh: chart.mesh, image: 'stock:1', port: 9080 });
    stock.allowFrom(chart.productpage);
    const after = inventory(Testing.synth(chart) as Manifest[]);
    expect(after.filter((id) => before.includes(id))).toEqual(before);
    expect(after.filter((id) => !before.includes(id)).sort()).toEqual([
      'AuthorizationPolicy/stock-allow', 'DestinationRule/stock', 'Deployment/stock-v1', 'Service/stock', 'ServiceAccount/stock', 'Sidecar/stock', 'VirtualService/stock',
    ].sort());
  });
});
