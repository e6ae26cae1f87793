// The benchmark's own correctness on a small mesh (no timing assertions: `npm run bench` times it).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Yaml } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { bareBreakdown, libraryBreakdown } from '../bench/breakdown';
import { accessMatrix, analyze, bareApp, fanOut, libraryOutput, traceDeclaredCalls, yamlFloor } from '../bench/measure';
import { buildBenchMesh } from '../bench/mesh';
import { parseArgs, runBench } from '../bench/run';
import { istio, MeshAnalysis } from '../src';

const N = 5;

describe('bench', () => {
  const output = libraryOutput(N);

  test('the bare cdk8s baseline synthesizes exactly the library\'s objects, and the same YAML', () => {
    const app = bareApp(output.manifests);
    expect(app.charts.flatMap((chart) => chart.toJson())).toEqual(output.manifests);
    expect(app.synthYaml()).toBe(output.yaml);
    expect(yamlFloor(output.manifests)).toBe(output.yaml);
  });

  test('the mesh has what the benchmark says: 2 versions, 2 routes, a circuit breaker, 3 callers, JWT on every tenth service', () => {
    const kinds = (kind: string) => output.manifests.filter((m) => m.kind === kind);
    expect(kinds('Deployment')).toHaveLength(2 * N);
    for (const vs of kinds('VirtualService')) {
      expect(vs.spec.http).toHaveLength(2);
      expect(vs.spec.http[0]).toMatchObject({ match: [{ headers: { 'end-user': { exact: 'tester' } } }], timeout: '2s', retries: { attempts: 3 } });
      expect(vs.spec.http[1].route.map((r: any) => r.weight)).toEqual([90, 10]);
    }
    for (const dr of kinds('DestinationRule')) expect(dr.spec.trafficPolicy).toHaveProperty('outlierDetection');
    expect(kinds('RequestAuthentication')).toHaveLength(Math.ceil(N / 10));
    expect(kinds('AuthorizationPolicy').filter((p) => p.spec.action === 'DENY')).toHaveLength(Math.ceil(N / 10));
    expect(kinds('Telemetry')).toHaveLength(1);
    expect(output.bench.edges).toBe(3 * N);
    expect(output.bench.services.map((s) => s.dependencies.length)).toEqual(Array(N).fill(3));
    expect(analyze(output.manifests)).toEqual([]);
  });

  test('fan-out: scoped Sidecars configure each proxy for its declared calls plus the control plane; unscoped, N × N', () => {
    const fan = fanOut(output.manifests);
    expect(fan).toEqual({ workloads: N, hosts: N, scoped: 3 * N + N, controlPlaneEntries: N, unscoped: N * N });
  });

  test('a Sidecar entry for every host of a namespace counts every host it covers', () => {
    const manifests = [...output.manifests, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Sidecar',
      metadata: { name: 'wide', namespace: 'bench' },
      spec: { workloadSelector: { labels: { app: 'svc-0' } }, egress: [{ hosts: ['./*', '*/svc-1.bench.svc.cluster.local'] }] },
    }];
    expect(fanOut(manifests).scoped).toBe(fanOut(output.manifests).scoped + N + 1);
  });

  test('runBench reports every figure, one result per size', () => {
    const result = runBench({ sizes: [N], reps: 1, collectGarbage: false, matrixSize: N });
    const [size] = result.sizes;
    expect(size).toMatchObject({ n: N, objects: output.manifests.length, output_bytes: Buffer.byteLength(output.yaml), edges: 3 * N, findings: 0 });
    expect(size.bare_output_identical).toBe(true);
    expect(size.fanout.matches).toBe(true);
    for (const figure of ['library_ms', 'library_without_analysis_ms', 'bare_cdk8s_ms', 'yaml_floor_ms', 'analysis_ms', 'declared_calls_ms',
      'library_over_bare', 'analysis_over_library', 'declared_calls_over_library', 'peak_rss_mib'] as const) {
      expect(size[figure]).toBeGreaterThan(0);
    }
    expect(size.library_without_analysis_over_bare).toBeGreaterThan(0);
    expect(size.breakdown_ms.library.total).toBeGreaterThan(0);
    expect(size.breakdown_ms.bare_cdk8s.total).toBeGreaterThan(0);
    expect(Object.values(size.samples).every((s) => s.length === 1)).toBe(true);
    expect(result.machine.nproc).toBeGreaterThan(0);
    expect(result.growth).toBeUndefined();
    expect(result.access_matrix).toMatchObject({ n: N, cells: N * N });
    expect(result.access_matrix!.us_per_cell).toBeGreaterThan(0);
  });

  test('the declared calls of the bench mesh all get through when traced, and the matrix admits exactly them', () => {
    expect(traceDeclaredCalls(output.bench, output.manifests)).toEqual({ calls: 3 * N, delivered: 3 * N });
    // Every declared call is a matrix cell that allows GET /, except calls into JWT-protected services (no token).
    const jwtCallers = Math.ceil(N / 10) * 3;
    expect(accessMatrix(output.manifests)).toEqual({ services: N, cells: N * N, allowed: 3 * N - jwtCallers });
  });

  test('arguments: sizes (with separators), --reps and --out; defaults 100, 1,000 and 3,000 with 5 repetitions', () => {
    expect(parseArgs([])).toMatchObject({ sizes: [100, 1000, 3000], reps: 5 });
    expect(parseArgs(['1_000', '3,000', '--reps', '7', '--out', '/tmp/x.json', '--no-gc', '--cold']))
      .toEqual({ sizes: [1000, 3000], reps: 7, out: '/tmp/x.json', collectGarbage: false, cold: true });
    expect(parseArgs([])).toMatchObject({ collectGarbage: true, cold: false });
    expect(() => parseArgs(['--reps', '0'])).toThrow(/--reps/);
    expect(() => parseArgs(['3'])).toThrow(/at least 4/);
  });

  test('the synth-time analysis is on in the library measure, and can be turned off for the extra figure', () => {
    const withBogusRoute = (analyzeOnSynth?: boolean) => {
      const bench = buildBenchMesh(N, { analyzeOnSynth });
      new istio.VirtualService(bench.mesh, 'bogus', {
        metadata: { name: 'bogus', namespace: 'bench' },
        spec: { hosts: ['svc-0.bench.svc.cluster.local'], http: [{ route: [{ destination: { host: 'svc-0', subset: 'v9' } }] }] },
      });
      return () => bench.app.synthYaml();
    };
    expect(withBogusRoute()).toThrow(/IST0101/);
    expect(withBogusRoute(false)).not.toThrow();
  });
});

describe('bench/breakdown.ts', () => {
  const phases = ['build', 'render_cdk8s_plus', 'render_other', 'analysis', 'promises', 'validation', 'yaml', 'cdk8s_rest'] as const;

  test('the library\'s synthesis in phases that add up to its total: cdk8s-plus objects, the analysis, the validation and the YAML each get time', () => {
    const library = libraryBreakdown(N);
    const sum = phases.reduce((total, phase) => total + library[phase], 0);
    expect(sum).toBeCloseTo(library.total, 0);
    // Named, so a failure says which phase got no time.
    expect(phases.filter((p) => p !== 'cdk8s_rest' && !(library[p] > 0))).toEqual([]);
  });

  test('the bare baseline renders no cdk8s-plus object and runs no analysis', () => {
    const bare = bareBreakdown(libraryOutput(N).manifests);
    expect(bare).toMatchObject({ render_cdk8s_plus: 0, analysis: 0 });
    expect(bare.render_other).toBeGreaterThan(0);
    expect(bare.yaml).toBeGreaterThan(0);
  });

  test('the instrumentation is removed afterwards', () => {
    const before = [Yaml.stringify, MeshAnalysis.analyze, kplus.k8s.KubeDeployment.prototype.toJson, istio.VirtualService.prototype.toJson];
    libraryBreakdown(N);
    expect([Yaml.stringify, MeshAnalysis.analyze, kplus.k8s.KubeDeployment.prototype.toJson, istio.VirtualService.prototype.toJson]).toEqual(before);
  });
});

describe('bench/cold.ts', () => {
  test('runs one measure in a fresh process and prints its time', () => {
    const file = path.join(os.tmpdir(), `cold-test-${process.pid}.json`);
    fs.writeFileSync(file, JSON.stringify(libraryOutput(N).manifests));
    try {
      const child = spawnSync(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), path.join(__dirname, '..', 'bench', 'cold.ts'), 'yaml_floor', String(N), file],
        { cwd: path.join(__dirname, '..'), encoding: 'utf8' });
      expect(child.status).toBe(0);
      expect(JSON.parse(child.stdout)).toEqual({ measure: 'yaml_floor', n: N, ms: expect.any(Number) });
    } finally {
      fs.rmSync(file, { force: true });
    }
  }, 60_000);
});
