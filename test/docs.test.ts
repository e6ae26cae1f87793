import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { expectSchemaValid } from './support/schema';

/**
 * Every TypeScript block in README.md and docs/*.md is a copy of a snippet file that the tests
 * type-check and run, marked `<!-- snippet: <path> -->` on the line before the fence. A doc
 * cannot show code that does not compile or does not work.
 */
const ROOT = path.resolve(__dirname, '..');
const DOCS_DIR = path.join(ROOT, 'docs');
const DOCS = ['README.md', ...(fs.existsSync(DOCS_DIR) ? fs.readdirSync(DOCS_DIR) : []).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

interface Block { doc: string; line: number; snippet?: string; code: string }

function tsBlocks(doc: string): Block[] {
  const lines = fs.readFileSync(path.join(ROOT, doc), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i])) continue;
    const marker = /^<!-- snippet: (\S+) -->$/.exec(lines[i - 1] ?? '');
    const end = lines.indexOf('```', i + 1);
    blocks.push({ doc, line: i + 1, snippet: marker?.[1], code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

const blocks = DOCS.flatMap(tsBlocks);

describe('docs snippets', () => {
  test('README has a TypeScript usage example', () => {
    expect(blocks.some((b) => b.doc === 'README.md')).toBe(true);
  });

  test.each(blocks.map((b) => [`${b.doc}:${b.line}`, b] as const))('%s is a verbatim copy of a tested snippet file', (_where, block) => {
    expect(block.snippet).toBeDefined();
    const source = fs.readFileSync(path.join(ROOT, block.snippet!), 'utf8').trimEnd();
    expect(block.code).toEqual(source);
  });

  const programs = [...new Set(blocks.map((b) => b.snippet).filter((s): s is string => !!s))];
  test.each(programs)('%s runs and synthesizes YAML', (snippet) => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'snippet-'));
    process.env.CDK8S_OUTDIR = outdir;
    try {
      // A fresh module registry per snippet: each is a program that runs on import.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      jest.isolateModules(() => require(path.join(ROOT, snippet)));
      // The manifests, and (for an app with a Mesh) the topology written beside them.
      const files = fs.readdirSync(outdir).filter((f) => f.endsWith('.yaml'));
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) {
        const objects = YAML.parseAllDocuments(fs.readFileSync(path.join(outdir, file), 'utf8')).map((d) => d.toJS());
        expect(objects.length).toBeGreaterThan(0);
        // The snippet ran in an isolated module registry, outside the automatic schema hook.
        expectSchemaValid(objects, `${snippet} → ${file}`);
        expect(probesOnUnexposedPorts(objects)).toEqual([]);
      }
    } finally {
      delete process.env.CDK8S_OUTDIR;
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

/**
 * Probes that probe a port their container does not expose (docs/app-mesh.md's catalog once
 * probed port 80 on a 9080 service): a pod probed on the wrong port never becomes Ready.
 */
function probesOnUnexposedPorts(objects: any[]): string[] {
  return objects.filter((o) => o?.kind === 'Deployment').flatMap((d) => (d.spec.template.spec.containers ?? []).flatMap((c: any) =>
    ['readinessProbe', 'livenessProbe', 'startupProbe'].flatMap((kind) => {
      const port = (c[kind]?.httpGet ?? c[kind]?.tcpSocket)?.port;
      const exposed = (c.ports ?? []).flatMap((p: any) => [p.containerPort, p.name]);
      return port === undefined || exposed.includes(port) ? [] : [`${d.metadata.name}/${c.name} ${kind} probes port ${port}, exposed: ${exposed.join(', ')}`];
    })));
}
