// Runs the analysis over Istio's own analyzer test grid (istio/istio 1.30.3, pkg/config/analysis/analyzers) and
// compares, case by case, the multiset of (code, resource) with what Istio's tests expect, restricted to the
// analyzer under test as Istio's harness does. The data is read from the shared folder, never copied.
import * as fs from 'fs';
import * as path from 'path';
import { parseManifestText } from '../../src/analysis/manifests';
import { runChecks } from '../../src/analysis/run';

const TESTDATA = process.env.MESH_ISTIO_TESTDATA ?? path.resolve(__dirname, '../../../shared/istio-testdata');
const EXPECTATIONS = path.join(TESTDATA, 'analyzer-expectations.json');
const INPUTS = path.join(TESTDATA, 'pkg/config/analysis/analyzers/testdata');

interface Case {
  id: string;
  name: string;
  analyzerName: string;
  inputFiles: string[];
  meshConfigFile?: string;
  skipAll?: boolean;
  expected: Array<{ code: string; resource: string }>;
  derived: { decidableFrom: string; why: string };
}

/** Cases we attempt that do not agree with Istio, and why. The test fails if this list is not exactly right. */
const KNOWN_DISAGREEMENTS: Record<string, string> = {};

/**
 * Cluster-state cases we also replay, taking the Pods/Deployments in their files as a snapshot of the cluster
 * (the analysis reads Pods like pod templates).
 */
const CLUSTER_SNAPSHOT_CASES = ['testGrid[21]', 'testGrid[46]', 'testGrid[47]', 'testGrid[71]', 'testGrid[72]', 'testGrid[96]', 'testGrid[98]'];

/** Why cluster-state cases are not replayed from their files, where the derived reason does not say it all. */
const NOT_TRIED: Record<string, string> = {
  'testGrid[23]': 'IST0103 (PodMissingProxy) needs running Pods; the Namespace-label messages (IST0102, IST0123) are implemented',
  'testGrid[24]': 'IST0148 and IST0103 need the installed injector ConfigMap and running Pods',
  'testGrid[33]': 'IST0167 (Sidecar in an ambient namespace) is not re-implemented; IST0111 is',
  'testGrid[97]': 'Istio adds the Node topology labels of the Pod\'s node before matching subsets; Nodes are cluster state',
};

/** Istio's harness adds a dummy ingress gateway workload (pkg/config/analysis/local/defaults.go). */
const HARNESS_OBJECTS = [
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'istio-ingressgateway-dummypod', namespace: 'istio-system', labels: { istio: 'ingressgateway' } }, spec: {} },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'istio-ingressgateway', namespace: 'istio-system', labels: { istio: 'ingressgateway' } },
    spec: { selector: { istio: 'ingressgateway' }, ports: [80, 443, 31400, 15443].map((port) => ({ port, targetPort: port, protocol: 'TCP' })) },
  },
];

// Without the grid, test/conformance/conformance.test.ts prints the one line that says what is skipped.
const available = fs.existsSync(EXPECTATIONS);

(available ? describe : describe.skip)('Istio analyzer test grid', () => {
  const cases: Case[] = available ? JSON.parse(fs.readFileSync(EXPECTATIONS, 'utf8')) : [];
  const decidable = cases.filter((c) => c.derived.decidableFrom !== 'cluster');
  const snapshots = cases.filter((c) => CLUSTER_SNAPSHOT_CASES.includes(c.id));

  const run = (c: Case) => {
    const objects = [...HARNESS_OBJECTS, ...c.inputFiles.flatMap((f) => parseManifestText(fs.readFileSync(path.join(INPUTS, f), 'utf8')))];
    const meshConfig = c.meshConfigFile ? parseManifestText(fs.readFileSync(path.join(INPUTS, c.meshConfigFile), 'utf8'))[0] : undefined;
    // istioctl analyze analyzes the objects of files even when the API server would refuse them (some inputs
    // of the grid would be: a ServiceEntry host "*", a route without destination, an EnvoyFilter `match: null`).
    const findings = runChecks(objects, { defaultNamespace: '', meshConfig, analyzeRefusedObjects: true }, [c.analyzerName]);
    return findings.map((f) => `${f.code} ${f.kind} ${f.namespaceName ? `${f.namespaceName}/` : ''}${f.name}`).sort();
  };

  const compare = (c: Case) => {
    const want = c.expected.map((e) => `${e.code} ${e.resource}`).sort();
    const got = run(c);
    const agrees = JSON.stringify(want) === JSON.stringify(got);
    const row = `${agrees ? 'agree    ' : 'DIFFER   '} ${c.id.padEnd(13)} ${c.analyzerName.padEnd(52)} expected ${want.length}, got ${got.length}  ${c.name}`;
    return { agrees, row: agrees ? row : `${row}\n           expected [${want.join('; ')}]\n           got      [${got.join('; ')}]` };
  };

  test('agrees with Istio on the YAML-decidable cases', () => {
    const results = decidable.map((c) => ({ c, ...compare(c) }));
    const disagreeing = results.filter((r) => !r.agrees).map((r) => r.c.id);
    const agreed = decidable.length - disagreeing.length;
    const notTried = cases.filter((c) => c.derived.decidableFrom === 'cluster' && !CLUSTER_SNAPSHOT_CASES.includes(c.id));
    // eslint-disable-next-line no-console
    console.log([
      `Istio analyzer grid: ${agreed} of ${decidable.length} YAML-decidable cases agree exactly (${cases.length} cases in all)`,
      ...results.map((r) => (r.agrees ? r.row : `${r.row}\n           why: ${KNOWN_DISAGREEMENTS[r.c.id] ?? 'UNEXPLAINED'}`)),
      ...notTried.map((c) => `not tried ${c.id.padEnd(13)} ${c.analyzerName.padEnd(52)} ${NOT_TRIED[c.id] ?? `needs cluster state: ${c.derived.why}`}`),
    ].join('\n'));
    expect(decidable).toHaveLength(57);
    expect(agreed).toBeGreaterThanOrEqual(50);
    expect(disagreeing.sort()).toEqual(Object.keys(KNOWN_DISAGREEMENTS).sort());
  });

  test('agrees with Istio on the cluster cases replayed from their files', () => {
    const results = snapshots.map(compare);
    // eslint-disable-next-line no-console
    console.log(`Cluster-state cases replayed from their files (Pods as a snapshot): ${results.filter((r) => r.agrees).length} of ${results.length} agree\n${results.map((r) => r.row).join('\n')}`);
    expect(results.filter((r) => !r.agrees).map((r) => r.row)).toEqual([]);
  });
});
