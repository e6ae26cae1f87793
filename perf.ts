import { libraryOutput, traceDeclaredCalls } from './bench/measure';
import { buildBenchMesh } from './bench/mesh';
const n = 1000;
const out = libraryOutput(n);
for (let i = 0; i < 3; i++) {
  let t = performance.now();
  const r = traceDeclaredCalls(out.bench, out.manifests);
  const d = performance.now() - t;
  t = performance.now();
  buildBenchMesh(n).app.synthYaml();
  const lib = performance.now() - t;
  t = performance.now();
  buildBenchMesh(n, { analyzeOnSynth: false }).app.synthYaml();
  const off = performance.now() - t;
  console.log(JSON.stringify(r), 'declared', d.toFixed(0), 'library', lib.toFixed(0), 'ratio', (d / lib).toFixed(3), 'without checks', off.toFixed(0));
}
