import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MeshAnalysis } from '../../src';

/**
 * Round trip of every example: it synthesizes with the cdk8s CLI (as a user runs it), analyzes
 * clean, and equals its committed golden YAML in test/examples/golden/<example>/, so any change
 * to the output is visible in review. `npx projen test:update` (jest -u) rewrites the golden
 * files after an intended change.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const EXAMPLES = fs.readdirSync(path.join(ROOT, 'examples')).filter((d) => fs.existsSync(path.join(ROOT, 'examples', d, 'cdk8s.yaml')));
const updating = (expect.getState() as any).snapshotState?._updateSnapshot === 'all';

/** The example's synthesized files: its dist/ from the build, or a fresh synth into a temp folder. */
function synthesized(example: string): Map<string, string> {
  const dir = path.join(ROOT, 'examples', example);
  let outdir = path.join(dir, 'dist');
  if (!fs.existsSync(outdir)) {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), `golden-${example}-`));
    execFileSync('npx', ['cdk8s', 'synth', '--no-check-upgrade', '--output', outdir], { cwd: dir, stdio: 'pipe' });
  }
  // The manifests and the topology written beside them (mesh-topology.mmd / .dot).
  return new Map(fs.readdirSync(outdir).sort().map((f) => [f, fs.readFileSync(path.join(outdir, f), 'utf8')]));
}

describe.each(EXAMPLES)('examples/%s', (example) => {
  const files = synthesized(example);
  const goldenDir = path.join(ROOT, 'test', 'examples', 'golden', example);

  test('synthesizes', () => {
    expect(files.size).toBeGreaterThan(0);
  });

  test('analyzes clean: no errors and no warnings', () => {
    // A `*.patch.yaml` is a strategic-merge patch (only the fields it changes), not an object to admit.
    const manifests = [...files].filter(([name]) => name.endsWith('.yaml') && !name.endsWith('.patch.yaml')).flatMap(([, text]) => MeshAnalysis.parseYaml(text));
    const findings = MeshAnalysis.analyze(manifests).filter((f) => f.severity !== 'Info');
    expect(MeshAnalysis.format(findings)).toEqual(MeshAnalysis.format([]));
  });

  test('equals its golden YAML', () => {
    if (updating) {
      fs.rmSync(goldenDir, { recursive: true, force: true });
      fs.mkdirSync(goldenDir, { recursive: true });
      for (const [name, text] of files) fs.writeFileSync(path.join(goldenDir, name), text);
    }
    const golden = fs.existsSync(goldenDir) ? fs.readdirSync(goldenDir).sort() : [];
    expect(golden).toEqual([...files.keys()]);
    for (const [name, text] of files) expect(text).toEqual(fs.readFileSync(path.join(goldenDir, name), 'utf8'));
  });
});
