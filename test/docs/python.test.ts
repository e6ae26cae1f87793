import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * docs/python.md shows Python that cannot run here (it needs the published package and the jsii
 * runtime), so its names are checked against the Python bindings jsii generates from the
 * compiled assembly: `jsii-pacmak --code-only -t python` into a temporary folder, then
 * check_python_names.py reads both with Python's own parser.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const JSII = path.join(ROOT, '.jsii');
const GUIDE = path.join(ROOT, 'docs', 'python.md');
const CHECKER = path.join(__dirname, 'check_python_names.py');

const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });
const missing = [
  ...fs.existsSync(JSII) ? [] : ['the jsii assembly .jsii (run `npx projen compile`)'],
  ...python.status === 0 ? [] : ['python3 (the checker parses the bindings with Python\'s ast module)'],
];
if (missing.length) {
  const bar = '!'.repeat(100);
  console.warn([bar, '!!! docs/python.md IS NOT CHECKED against the Python bindings: missing', ...missing.map((m) => `!!!   ${m}`), bar].join('\n'));
}
const maybe = missing.length ? describe.skip : describe;

function pythonBlocks(): string[] {
  return [...fs.readFileSync(GUIDE, 'utf8').matchAll(/^```python\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

maybe('docs/python.md against the generated Python bindings', () => {
  let tmp: string;
  let bindings: string;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pacmak-python-'));
    if (fs.statSync(JSII).mtimeMs < newestSource(path.join(ROOT, 'src'))) {
      console.warn('docs/python.md: .jsii is older than src/: the bindings may lag behind the code (run `npx projen compile`).');
    }
    const pacmak = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'jsii-pacmak'), ['--code-only', '-t', 'python', '-o', tmp], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20', JSII_SILENCE_SUPPORT_WARNING: '1' },
    });
    if (pacmak.status !== 0) throw new Error(`jsii-pacmak failed:\n${pacmak.stderr}`);
    bindings = path.join(tmp, 'python', 'src', 'cdk8s_mesh', '__init__.py');
  }, 120_000);

  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  function check(...snippets: string[]): { status: number | null; problems: string; summary: string } {
    const files = snippets.map((code, i) => {
      const file = path.join(tmp, `snippet${i + 1}.py`);
      fs.writeFileSync(file, code);
      return file;
    });
    const result = spawnSync('python3', [CHECKER, bindings, ...files], { encoding: 'utf8' });
    return { status: result.status, problems: result.stdout, summary: result.stderr };
  }

  test('the guide has the README example and a larger one', () => {
    const blocks = pythonBlocks();
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toContain('catalog.add_version("v2", image="example/catalog:2.0")');
  });

  test('every class, method, property, enum member and argument the Python examples use exists in the bindings', () => {
    const result = check(...pythonBlocks());
    expect(result.problems).toBe('');
    expect(result.status).toBe(0);
    // Not a vacuous pass: the examples use dozens of cdk8s_mesh names.
    expect(Number(/checked (\d+) names/.exec(result.summary)![1])).toBeGreaterThan(40);
  });

  test('the check catches TypeScript spellings and misspellings', () => {
    const result = check([
      'from cdk8s import App, Chart',
      'from cdk8s_mesh import Mesh, MeshService, RetryOn, Nothing',
      'app = App()',
      'chart = Chart(app, "shop")',
      'mesh = Mesh(chart, "mesh")',
      'catalog = MeshService(chart, "catalog", mesh=mesh, imagee="x", port=8080)',
      'catalog.addVersion("v2", image="y")',
      'catalog.defaultVersion',
      'catalog.default_version.deploymentt',
      'RetryOn.CONNECTFAILURE',
      '',
    ].join('\n'));
    expect(result.status).toBe(1);
    expect(result.problems.trim().split('\n').map((l) => l.replace(/^.*?:\d+: /, ''))).toEqual([
      'cdk8s_mesh has no class Nothing',
      'MeshService() has no argument imagee',
      'MeshService() misses required argument(s) image',
      'MeshService has no method addVersion',
      'MeshService has no property defaultVersion',
      'ServiceVersion has no property deploymentt',
      'RetryOn has no member CONNECTFAILURE',
    ]);
  });
});

function newestSource(dir: string): number {
  return Math.max(0, ...fs.readdirSync(dir, { withFileTypes: true }).map((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? newestSource(p) : e.name.endsWith('.ts') ? fs.statSync(p).mtimeMs : 0;
  }));
}
