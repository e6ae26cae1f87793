import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { deployment, docs, namespace, service } from './fixtures';
import { main } from '../../src/analysis/cli';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'src/analysis/cli.ts');

const BROKEN = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: shop }
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: { host: reviews, subset: v9 }
`;
const SERVICE = docs(
  service('shop', 'reviews', '[{ name: http, port: 9080 }]'),
  deployment('shop', 'reviews-v1', { labels: 'app: reviews, version: v1' }),
  deployment('shop', 'web', { serviceAccount: 'web' }),
  namespace('shop'),
  `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: reviews, namespace: shop }
spec:
  selector: { matchLabels: { app: reviews } }
  rules: [{ from: [{ source: { principals: ["cluster.local/ns/shop/sa/web"] } }], to: [{ operation: { methods: ["GET"] } }] }]
`);

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-mesh-cli-'));
  fs.mkdirSync(path.join(dir, 'broken/nested'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'broken/nested/vs.yaml'), BROKEN);
  fs.writeFileSync(path.join(dir, 'broken/notes.txt'), 'not a manifest: ignored');
  fs.writeFileSync(path.join(dir, 'service.yml'), SERVICE);
  fs.writeFileSync(path.join(dir, 'bad.yaml'), 'kind: [unclosed');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs the real entry point in a child process, as `npx cdk8s-mesh` would (TypeScript through ts-node). */
function spawnCli(...args: string[]) {
  const r = spawnSync(process.execPath, ['-r', 'ts-node/register', CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: {
      ...process.env,
      TS_NODE_TRANSPILE_ONLY: 'true',
      TS_NODE_COMPILER_OPTIONS: JSON.stringify({ module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '6.0' }),
    },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function runCli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const status = main(args, (t) => { stdout += t; }, (t) => { stderr += t; });
  return { status, stdout, stderr };
}

test('the entry point starts with a node shebang (lib/analysis/cli.js is the package bin)', () => {
  expect(fs.readFileSync(CLI, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
});

test('analyze reads folders recursively, prints findings grouped by object and exits 1 on an Error', () => {
  const r = spawnCli('analyze', path.join(dir, 'broken'), path.join(dir, 'service.yml'));
  expect(r.status).toBe(1);
  expect(r.stdout).toContain(`VirtualService shop/reviews (${path.join(dir, 'broken/nested/vs.yaml')}:2)`);
  expect(r.stdout).toMatch(/ {2}Error {3}IST0101 {2}spec\.http\[0\]\.route\[0\]\.destination\.subset\n {10}Referenced subset not found: "v9"/);
  expect(r.stdout).toMatch(/fix: Create a DestinationRule for reviews\.shop\.svc\.cluster\.local with a subset "v9"/);
  expect(r.stdout).toMatch(/\d+ errors?, \d+ warnings?, \d+ info\n$/);
});

test('analyze --output json prints the findings and exits 0 without errors', () => {
  const r = spawnCli('analyze', path.join(dir, 'service.yml'), '--output', 'json');
  expect(r.status).toBe(0);
  const findings = JSON.parse(r.stdout);
  expect(findings.every((f: any) => f.severity !== 'Error')).toBe(true);
});

test('usage errors exit 2', () => {
  expect(spawnCli().status).toBe(2);
  const unknown = runCli('analyze', dir, '--colour');
  expect(unknown).toMatchObject({ status: 2 });
  expect(unknown.stderr).toContain('unknown option --colour');
  expect(runCli('analyze').stderr).toContain('no files or folders given');
  expect(runCli('analyze', path.join(dir, 'missing.yaml')).status).toBe(2);
  expect(runCli('analyze', dir, '--output', 'xml').stderr).toContain('--output must be one of human, json');
  expect(runCli('frobnicate').status).toBe(2);
  expect(runCli('--help')).toMatchObject({ status: 0 });
});

test('a YAML syntax error is an Error finding naming the file and line; the other files are still analyzed', () => {
  const bad = path.join(dir, 'bad.yaml');
  const r = runCli('analyze', bad, path.join(dir, 'broken'));
  expect(r.status).toBe(1);
  expect(r.stdout).toContain(`File ${bad} (${bad}:1)`);
  expect(r.stdout).toMatch(/Error {3}CMA112 {2}\n {10}YAML syntax error: /);
  expect(r.stdout).toContain('IST0101'); // broken/nested/vs.yaml was analyzed
  expect(r.stderr).toBe('');
});

test('a Helm template is "not a manifest" (CMA111, with the line of the first {{ }}), not analyzed', () => {
  const template = path.join(dir, 'template.yaml');
  fs.writeFileSync(template, 'apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Values.name }}\n');
  const r = runCli('analyze', template);
  expect(r.status).toBe(0);
  expect(r.stdout).toContain(`File ${template} (${template}:4)`);
  expect(r.stdout).toMatch(/Warning CMA111 {2}\n {10}not a manifest: the file is a Go\/Helm template \("\{\{ \.Values\.name \}\}"\)/);
  expect(r.stdout).toMatch(/fix: Render it first \(helm template, kustomize build\)/);
  fs.rmSync(template);
});

test('graph prints Mermaid by default and DOT on request', () => {
  const mermaid = runCli('graph', path.join(dir, 'service.yml'));
  expect(mermaid.status).toBe(0);
  expect(mermaid.stdout).toMatch(/^flowchart LR\n/);
  expect(mermaid.stdout).toContain('svc_shop__reviews["reviews"]');
  const dot = runCli('graph', path.join(dir, 'service.yml'), '--format=dot', '--no-access');
  expect(dot.stdout).toMatch(/^digraph mesh \{/);
  expect(dot.stdout).not.toContain('allowed');
});

test('can-call answers with the decision and exits 0 when allowed, 1 when refused', () => {
  const yes = runCli('can-call', 'shop/web', 'shop/reviews', path.join(dir, 'service.yml'));
  expect(yes.status).toBe(0);
  expect(yes.stdout).toMatch(/^ALLOW: .*allowed by rule 0 of AuthorizationPolicy shop\/reviews/);
  const no = runCli('can-call', 'shop/web', 'shop/reviews', path.join(dir, 'service.yml'), '--method', 'DELETE');
  expect(no.status).toBe(1);
  expect(no.stdout).toMatch(/^DENY: /);
  expect(runCli('can-call', 'shop/nobody', 'shop/reviews', path.join(dir, 'service.yml')).status).toBe(2);
  expect(runCli('can-call', 'shop/web', 'shop/reviews', path.join(dir, 'service.yml'), '--port', 'http').status).toBe(2);
});

test('trace prints the numbered steps, the route and each destination; exits 0 when delivered, 1 when not', () => {
  const ok = spawnCli('trace', 'shop/web', path.join(dir, 'service.yml'), '--host', 'reviews:9080', '--path', '/r/1');
  expect(ok.status).toBe(0);
  expect(ok.stdout).toMatch(/^REACHED\n {2}1\. ENTRY +sidecar of Deployment shop\/web: /);
  expect(ok.stdout).toContain("route: timeout none; retries 2 on connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes (Istio's default)");
  expect(ok.stdout).toMatch(/→ 100% reviews\.shop\.svc\.cluster\.local port 9080: REACHED\n/);
  expect(ok.stdout).toMatch(/AUTHORIZATION +sidecar of Deployment shop\/reviews-v1: allowed by rule 0 of AuthorizationPolicy shop\/reviews \[AuthorizationPolicy shop\/reviews spec\.rules\[0\]\]/);
  const post = runCli('trace', 'shop/web', path.join(dir, 'service.yml'), '--host', 'reviews:9080', '--method', 'POST', '--header', 'X-A:1', '--header', 'x-a: 2');
  expect(post.status).toBe(1);
  expect(post.stdout).toMatch(/^FORBIDDEN \(403\) — not delivered\n/);
});

test('trace --output json is the RequestTrace; a token is given as issuer, subject and claims; "-" is a client outside the mesh', () => {
  const json = JSON.parse(runCli('trace', 'shop/web', path.join(dir, 'service.yml'), '--to', 'shop/reviews', '--output', 'json',
    '--token-issuer', 'https://id.example.com', '--token-claim', 'groups=a', '--token-claim', 'groups=b').stdout);
  expect(json).toMatchObject({ outcome: 'REACHED', allowed: true, destinations: [{ destination: { host: 'reviews.shop.svc.cluster.local', port: 9080, weightPercent: 100 } }] });
  const outside = runCli('trace', '-', path.join(dir, 'service.yml'), '--host', 'reviews.shop', '--port', '9080');
  expect(outside.status).toBe(1);
  expect(outside.stdout).toMatch(/a client outside the mesh has no Istio proxy/);
  expect(runCli('trace', 'shop/web', path.join(dir, 'service.yml')).stderr).toContain('trace needs --host or --to');
  expect(runCli('trace', 'shop/web', path.join(dir, 'service.yml'), '--host', 'x', '--token-claim', 'a=b').stderr).toContain('the token options need --token-issuer');
});
