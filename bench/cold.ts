// One measure in a fresh process, as CI or Argo CD's repo server runs a synthesis: JIT and heap
// cold. `node -r ts-node/register/transpile-only bench/cold.ts <measure> <n> [manifests.json]`
// prints {"measure", "n", "ms"}; loading modules and reading the input are not timed.
import * as fs from 'fs';
import { analyze, synthBare, synthLibrary, yamlFloor } from './measure';

export const COLD_MEASURES = ['library', 'bare_cdk8s', 'yaml_floor', 'analysis'] as const;
export type ColdMeasure = typeof COLD_MEASURES[number];

if (require.main === module) {
  const [measure, n, file] = process.argv.slice(2) as [ColdMeasure, string, string | undefined];
  const manifests = file ? JSON.parse(fs.readFileSync(file, 'utf8')) : [];
  const run: Record<ColdMeasure, () => unknown> = {
    library: () => synthLibrary(Number(n)),
    bare_cdk8s: () => synthBare(manifests),
    yaml_floor: () => yamlFloor(manifests),
    analysis: () => analyze(manifests),
  };
  const start = performance.now();
  run[measure]();
  console.log(JSON.stringify({ measure, n: Number(n), ms: Math.round((performance.now() - start) * 10) / 10 }));
}
