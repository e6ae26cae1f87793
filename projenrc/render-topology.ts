/**
 * Renders the bookinfo example's topology to docs/bookinfo-topology.svg (`npx projen docs:topology`):
 * the synthesized YAML (examples/bookinfo/dist, written by `npx projen examples`) → the analysis'
 * Graphviz DOT (TopologyGraph.dot, the same as `cdk8s-mesh graph --format dot`) → SVG with
 * @viz-js/viz (Graphviz compiled to WebAssembly, no `dot` binary needed).
 *
 * The SVG is committed and shown in README.md; run this again after the example changes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { MeshAnalysis, TopologyGraph } from '../src';

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'examples', 'bookinfo', 'dist');
const out = path.join(root, 'docs', 'bookinfo-topology.svg');

async function main(): Promise<void> {
  const files = fs.existsSync(dist) ? fs.readdirSync(dist).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(dist, f)) : [];
  if (files.length === 0) {
    throw new Error(`no YAML in ${path.relative(root, dist)}: run \`npx projen examples\` first`);
  }
  const dot = TopologyGraph.dot(MeshAnalysis.loadFiles(files));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const viz = await require('@viz-js/viz').instance();
  const svg: string = viz.renderString(dot, { format: 'svg' });
  fs.writeFileSync(out, svg.endsWith('\n') ? svg : `${svg}\n`);
  console.log(`wrote ${path.relative(root, out)} from ${files.map((f) => path.relative(root, f)).join(', ')}`);
}

main().catch((e) => {
  console.error(`render-topology: ${(e as Error).message}`);
  process.exitCode = 1;
});
