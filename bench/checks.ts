// What each synth-time check costs: the benchmark mesh synthesized with every check, without one of them, and without
// any, in process CPU time (less sensitive than the wall clock to other processes on a shared machine).
//   npx ts-node --transpile-only bench/checks.ts [N=1000] [reps=3]
import { buildBenchMesh } from './mesh';

const n = Number(process.argv[2] ?? 1000);
const reps = Number(process.argv[3] ?? 3);
const CONFIGS: Record<string, Parameters<typeof buildBenchMesh>[1]> = {
  all: {},
  without_analysis: { analyzeOnSynth: false, checkDeclarations: true },
  without_promises: { checkDeclarations: false },
  without_validation: { validateOnSynth: false },
  none: { analyzeOnSynth: false, checkDeclarations: false, validateOnSynth: false },
};

buildBenchMesh(100).app.synthYaml(); // JIT warm-up
const samples: Record<string, number[]> = {};
for (let rep = 0; rep < reps; rep++) {
  for (const [name, options] of Object.entries(CONFIGS)) {
    (global as any).gc?.();
    const start = process.cpuUsage();
    buildBenchMesh(n, options).app.synthYaml();
    const used = process.cpuUsage(start);
    (samples[name] ??= []).push(Math.round((used.user + used.system) / 1000));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
const ratio = (x: number) => Math.round((x / ms.none) * 1000) / 1000;
console.log(JSON.stringify({
  n,
  reps,
  cpu_ms: ms,
  samples,
  // Each check's cost over the synthesis without any check, and all of them together (target ≤ 0.35 at N = 1,000).
  analysis_over_unchecked: ratio(ms.all - ms.without_analysis),
  promises_over_unchecked: ratio(ms.all - ms.without_promises),
  validation_over_unchecked: ratio(ms.all - ms.without_validation),
  checks_over_unchecked: ratio(ms.all - ms.none),
}));
