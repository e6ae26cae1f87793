// `npm run bench [-- N...] [--reps R] [--out FILE]`: synthesis and analysis cost of cdk8s-mesh
// against what cdk8s itself costs for the same objects. One JSON line per N, then the growth
// from 1,000 to 3,000 services; everything also goes to bench/results.json. See bench/README.md.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as v8 from 'v8';
import * as vm from 'vm';
import { bareBreakdown, Breakdown, libraryBreakdown } from './breakdown';
import { COLD_MEASURES } from './cold';
import { accessMatrix, analyze, fanOut, FanOut, libraryOutput, synthBare, synthLibrary, traceDeclaredCalls, yamlFloor } from './measure';

/** Figures for one mesh size. */
export interface SizeResult {
  readonly n: number;
  readonly objects: number;
  readonly output_bytes: number;
  /** Median milliseconds: build the mesh with cdk8s-mesh and `app.synthYaml()` (synth-time analysis on). */
  readonly library_ms: number;
  /** Extra figure: the same with `analyzeOnSynth: false` (not the acceptance figure). */
  readonly library_without_analysis_ms: number;
  /** The same objects as plain ApiObjects in a fresh App, synthesized. */
  readonly bare_cdk8s_ms: number;
  /** `Yaml.stringify` of the same objects. */
  readonly yaml_floor_ms: number;
  /** `MeshAnalysis.analyze` of the synthesized objects. */
  readonly analysis_ms: number;
  /** Tracing every declared call on the output with the request simulator, as the synth-time check does (index built included). */
  readonly declared_calls_ms: number;
  /** `declared_calls_ms / library_ms` (target: at most 0.1). */
  readonly declared_calls_over_library: number;
  readonly library_over_bare: number;
  /** Extra figure: `library_without_analysis_ms / bare_cdk8s_ms`. */
  readonly library_without_analysis_over_bare: number;
  readonly analysis_over_library: number;
  /** The synth-time validation's share (breakdown `validation` / the rest of that synthesis); target ≤ 0.2 at N = 1,000. */
  readonly validation_over_synthesis: number;
  /**
   * Every synth-time check together (breakdown `analysis` + `validation` + `promises`) over the synthesis without them;
   * target ≤ 0.35 at N = 1,000 (issue 14).
   */
  readonly checks_over_synthesis: number;
  /** Peak resident set size of the process so far (sizes run smallest first). */
  readonly peak_rss_mib: number;
  /** Declared caller → callee edges. */
  readonly edges: number;
  readonly fanout: FanOut & { readonly expected: number; readonly matches: boolean };
  /** The baseline's YAML is byte-identical to the library's. */
  readonly bare_output_identical: boolean;
  /** Findings of the analysis (the synth-time analysis let the app synthesize). */
  readonly findings: number;
  /**
   * Median CPU milliseconds of the process (all its threads, GC helpers included) for the same
   * measures: less sensitive than wall time to other processes sharing the machine.
   */
  readonly cpu_ms: { readonly [measure: string]: number };
  /**
   * With `--cold`: median milliseconds of each measure run once in a fresh process (as CI and
   * Argo CD run a synthesis: JIT and heap cold), `reps` processes per measure.
   */
  readonly cold_ms?: { readonly [measure: string]: number };
  /**
   * Where one synthesis of each spends its time (one instrumented run after the timed ones, not
   * a median): build, rendering of cdk8s-plus and other objects, synth-time analysis, YAML, and
   * the rest of cdk8s's synthesis (validation passes, dependency graphs, tree walks).
   */
  readonly breakdown_ms: { readonly library: Breakdown; readonly bare_cdk8s: Breakdown };
  /** Every wall-clock sample, by measure, in milliseconds. */
  readonly samples: { readonly [measure: string]: number[] };
}

/** The whole run. */
export interface BenchResult {
  readonly machine: { readonly nproc: number; readonly cpu: string; readonly node: string; readonly gc_between_runs: boolean };
  readonly reps: number;
  readonly sizes: SizeResult[];
  /** time(3,000) / time(1,000), when both sizes ran. */
  readonly growth?: { readonly library: number; readonly analysis: number; readonly bare_cdk8s: number };
  /** The full service × service access matrix of the bench mesh at `n` services, traced cell by cell (median of `reps`). */
  readonly access_matrix?: { readonly n: number; readonly cells: number; readonly ms: number; readonly us_per_cell: number };
}

export interface BenchOptions {
  readonly sizes: number[];
  /** Repetitions per measure (the median is reported); at least 5 for the figures in README.md. */
  readonly reps: number;
  /** Called with each size's result as soon as it is known. */
  readonly onResult?: (result: SizeResult) => void;
  /** Collect garbage before each measurement (default true). */
  readonly collectGarbage?: boolean;
  /** Also run each measure in fresh processes (default false). */
  readonly cold?: boolean;
  /** Size of the access-matrix measure (default 300; 0 skips it). */
  readonly matrixSize?: number;
}

/** `global.gc`, or one obtained through V8's flags when node was not started with --expose-gc. */
function garbageCollector(): (() => void) | undefined {
  if (typeof global.gc === 'function') return global.gc;
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round = (x: number, digits = 1) => Number(x.toFixed(digits));

/** Runs every measure `reps` times per size, alternating them (a different order each repetition). */
export function runBench(options: BenchOptions): BenchResult {
  const gc = options.collectGarbage === false ? undefined : garbageCollector();
  const sizes: SizeResult[] = [];
  for (const n of [...options.sizes].sort((a, b) => a - b)) {
    // One untimed run: warms the JIT and yields the objects the baselines and the analysis use.
    // Only the objects and figures are kept: the warm-up app would otherwise stay in the heap
    // every measurement's garbage collections go through.
    const { manifests, yaml, bench } = libraryOutput(n);
    const edges = bench.edges;
    const outputBytes = Buffer.byteLength(yaml);
    const bareOutputIdentical = synthBare(manifests) === yaml;
    const measures: { [name: string]: () => unknown } = {
      library: () => synthLibrary(n),
      library_without_analysis: () => synthLibrary(n, { analyzeOnSynth: false }),
      bare_cdk8s: () => synthBare(manifests),
      yaml_floor: () => yamlFloor(manifests),
      analysis: () => analyze(manifests),
      declared_calls: () => traceDeclaredCalls(bench, manifests),
    };
    const names = Object.keys(measures);
    const samples: { [name: string]: number[] } = Object.fromEntries(names.map((name) => [name, []]));
    const cpuSamples: { [name: string]: number[] } = Object.fromEntries(names.map((name) => [name, []]));
    for (let rep = 0; rep < options.reps; rep++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(k + rep) % names.length];
        gc?.();
        const cpu = process.cpuUsage();
        const start = performance.now();
        measures[name]();
        samples[name].push(round(performance.now() - start));
        const used = process.cpuUsage(cpu);
        cpuSamples[name].push(round((used.user + used.system) / 1000));
      }
    }
    const ms = Object.fromEntries(names.map((name) => [name, median(samples[name])]));
    const cpuMs = Object.fromEntries(names.map((name) => [name, median(cpuSamples[name])]));
    gc?.();
    const libraryPhases = libraryBreakdown(n);
    gc?.();
    const barePhases = bareBreakdown(manifests);
    const fanout = fanOut(manifests);
    const expected = edges + fanout.controlPlaneEntries;
    const result: SizeResult = {
      n,
      objects: manifests.length,
      output_bytes: outputBytes,
      library_ms: ms.library,
      library_without_analysis_ms: ms.library_without_analysis,
      bare_cdk8s_ms: ms.bare_cdk8s,
      yaml_floor_ms: ms.yaml_floor,
      analysis_ms: ms.analysis,
      library_over_bare: round(ms.library / ms.bare_cdk8s, 2),
      library_without_analysis_over_bare: round(ms.library_without_analysis / ms.bare_cdk8s, 2),
      analysis_over_library: round(ms.analysis / ms.library, 3),
      declared_calls_ms: ms.declared_calls,
      declared_calls_over_library: round(ms.declared_calls / ms.library, 3),
      validation_over_synthesis: round(libraryPhases.validation / (libraryPhases.total - libraryPhases.validation), 3),
      checks_over_synthesis: round(checks(libraryPhases) / (libraryPhases.total - checks(libraryPhases)), 3),
      peak_rss_mib: round(process.resourceUsage().maxRSS / 1024, 0),
      edges,
      fanout: { ...fanout, expected, matches: fanout.scoped === expected },
      bare_output_identical: bareOutputIdentical,
      findings: analyze(manifests).length,
      cpu_ms: { ...cpuMs, library_over_bare: round(cpuMs.library / cpuMs.bare_cdk8s, 2) },
      cold_ms: options.cold ? coldMeasures(n, manifests, options.reps) : undefined,
      breakdown_ms: { library: libraryPhases, bare_cdk8s: barePhases },
      samples,
    };
    sizes.push(result);
    options.onResult?.(result);
  }
  const at = (n: number) => sizes.find((s) => s.n === n);
  const [small, large] = [at(1000), at(3000)];
  const growth = small && large ? {
    library: round(large.library_ms / small.library_ms, 2),
    analysis: round(large.analysis_ms / small.analysis_ms, 2),
    bare_cdk8s: round(large.bare_cdk8s_ms / small.bare_cdk8s_ms, 2),
  } : undefined;
  return {
    machine: { nproc: os.availableParallelism(), cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version, gc_between_runs: gc !== undefined },
    reps: options.reps,
    sizes,
    growth,
    access_matrix: options.matrixSize === 0 ? undefined : matrixMeasure(options.matrixSize ?? 300, options.reps, gc),
  };
}

/** The access matrix at `n` services: every cell a traced `GET /`. */
function matrixMeasure(n: number, reps: number, gc?: () => void): BenchResult['access_matrix'] {
  const { manifests } = libraryOutput(n);
  const samples: number[] = [];
  let cells = 0;
  for (let rep = 0; rep < reps; rep++) {
    gc?.();
    const start = performance.now();
    cells = accessMatrix(manifests).cells;
    samples.push(performance.now() - start);
  }
  const ms = median(samples);
  return { n, cells, ms: round(ms), us_per_cell: round((ms * 1000) / cells, 2) };
}

/** Medians of each measure run in `reps` fresh processes each, alternating. */
function coldMeasures(n: number, manifests: any[], reps: number): { [measure: string]: number } {
  const file = path.join(os.tmpdir(), `cdk8s-mesh-bench-${process.pid}-${n}.json`);
  fs.writeFileSync(file, JSON.stringify(manifests));
  const samples: { [measure: string]: number[] } = Object.fromEntries(COLD_MEASURES.map((m) => [m, []]));
  try {
    for (let rep = 0; rep < reps; rep++) {
      for (const measure of COLD_MEASURES) {
        const child = spawnSync(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), path.join(__dirname, 'cold.ts'), measure, String(n), file],
          { cwd: path.join(__dirname, '..'), encoding: 'utf8', maxBuffer: 1024 * 1024 });
        if (child.status !== 0) throw new Error(`cold ${measure} (N = ${n}) failed: ${child.stderr}`);
        samples[measure].push(JSON.parse(child.stdout.trim().split('\n').pop()!).ms);
      }
    }
  } finally {
    fs.rmSync(file, { force: true });
  }
  const ms = Object.fromEntries(COLD_MEASURES.map((m) => [m, median(samples[m])]));
  return { ...ms, library_over_bare: round(ms.library / ms.bare_cdk8s, 2) };
}

/** `[N...] [--reps R] [--out FILE] [--no-gc] [--cold]` */
export function parseArgs(argv: string[]): BenchOptions & { out: string } {
  const sizes: number[] = [];
  let reps = 5;
  let collectGarbage = true;
  let cold = false;
  let out = path.join(__dirname, 'results.json');
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--reps') reps = Number(argv[++i]);
    else if (arg === '--out') out = argv[++i];
    else if (arg === '--no-gc') collectGarbage = false;
    else if (arg === '--cold') cold = true;
    else sizes.push(Number(arg.replace(/[_,]/g, '')));
  }
  if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps takes a whole number of at least 1');
  if (sizes.some((n) => !Number.isInteger(n) || n < 4)) throw new Error('sizes are whole numbers of services, at least 4');
  return { sizes: sizes.length ? sizes : [100, 1000, 3000], reps, out, collectGarbage, cold };
}

if (require.main === module) {
  const options = parseArgs(process.argv.slice(2));
  const result = runBench({
    ...options,
    onResult: ({ samples: _, ...figures }) => console.log(JSON.stringify(figures)),
  });
  if (result.growth) console.log(JSON.stringify({ growth_3000_over_1000: result.growth }));
  if (result.access_matrix) console.log(JSON.stringify({ access_matrix: result.access_matrix }));
  fs.writeFileSync(options.out, `${JSON.stringify(result, undefined, 2)}\n`);
  console.error(`wrote ${path.relative(process.cwd(), options.out)} (nproc ${result.machine.nproc}, ${result.reps} repetitions, medians)`);
}

/** The synth-time checks of a breakdown: the analysis, the validation and the promises. */
function checks(phases: { analysis: number; validation: number; promises: number }): number {
  return phases.analysis + phases.validation + phases.promises;
}
