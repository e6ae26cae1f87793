import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { Manifest, loadSample, sampleTest } from '../support/manifests';

/**
 * The migration guides make promises the docs test alone does not check: the Istio YAML rewrite
 * keeps every object's name (so Argo CD updates instead of recreating), and the App Mesh concept
 * map covers every App Mesh construct.
 */
const ROOT = path.resolve(__dirname, '..', '..');

/** Runs a docs snippet (as test/docs.test.ts does) and returns what it synthesized. */
function runSnippet(snippet: string): Manifest[] {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'snippet-'));
  process.env.CDK8S_OUTDIR = outdir;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    jest.isolateModules(() => require(path.join(ROOT, snippet)));
    return fs.readdirSync(outdir).filter((f) => f.endsWith('.yaml')).flatMap((f) => YAML.parseAllDocuments(fs.readFileSync(path.join(outdir, f), 'utf8')).map((d) => d.toJS()));
  } finally {
    delete process.env.CDK8S_OUTDIR;
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

describe('docs/istio-yaml.md', () => {
  const FILES = ['platform/kube/bookinfo.yaml', 'networking/bookinfo-gateway.yaml', 'networking/destination-rule-reviews.yaml',
    'networking/virtual-service-reviews-jason-v2-v3.yaml', 'networking/virtual-service-ratings-test-delay.yaml'];

  sampleTest("the rewrite keeps the kind, namespace and name of every object of Istio's files, and every Deployment's selector", () => {
    const ours = runSnippet('test/docs/snippets/istio-yaml-bookinfo.ts');
    const id = (m: Manifest) => `${m.kind} ${m.metadata.namespace ?? 'default'}/${m.metadata.name}`;
    const theirs = FILES.flatMap((f) => loadSample(`bookinfo/${f}`));
    expect(theirs.map(id).filter((i) => !ours.map(id).includes(i))).toEqual([]);
    for (const deployment of theirs.filter((m) => m.kind === 'Deployment')) {
      expect(ours.find((m) => id(m) === id(deployment))!.spec.selector).toEqual(deployment.spec.selector);
    }
  });

  test('the guide names every file the rewrite covers', () => {
    const guide = fs.readFileSync(path.join(ROOT, 'docs', 'istio-yaml.md'), 'utf8');
    for (const file of FILES) expect(guide).toContain(path.basename(file));
  });
});

describe('docs/app-mesh.md', () => {
  const guide = fs.readFileSync(path.join(ROOT, 'docs', 'app-mesh.md'), 'utf8');
  const conceptMap = guide.slice(guide.indexOf('## Concept map'), guide.indexOf('## Side by side'));
  const appMeshColumn = conceptMap.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| ---')).slice(1).map((l) => l.split(' | ')[0]);

  test.each([
    'Mesh', 'VirtualNode', 'VirtualService', 'VirtualRouter', 'Route', 'VirtualGateway', 'GatewayRoute',
    'backends', 'outlierDetection', 'tls', 'retryPolicy', 'HealthCheck', 'AccessLog',
  ])('the concept map has a row for %s', (construct) => {
    expect(appMeshColumn.some((cell) => new RegExp(`\\b${construct}\\b`).test(cell))).toBe(true);
  });

  test('the App Mesh side is shown, and not as TypeScript the docs test would compile', () => {
    const fences = [...guide.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map(([, lang, code]) => ({ lang, code }));
    expect(fences.some((f) => f.lang === 'text' && f.code.includes('new appmesh.VirtualService('))).toBe(true);
    expect(fences.filter((f) => f.lang === 'ts' && f.code.includes('appmesh.'))).toEqual([]);
    expect(guide).toMatch(/not compiled/);
  });
});
