import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { APP_PATH, ArgoCdExample, MANIFESTS_PATH, NAMESPACE, REPO_URL } from '../../examples/argocd/argocd';
import { BookinfoChart } from '../../examples/bookinfo/bookinfo';
import { SyncWaves } from '../../src';
import { patchAsDeployment } from '../gitops/support';
import { Manifest, inventory, one } from '../support/manifests';
import { expectSchemaValid } from '../support/schema';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'node_modules', '.bin');
/** cdk8s runs the apps with ts-node: give the child processes time. */
const SLOW = 120_000;

function synthExample(): { example: ArgoCdExample; manifests: Manifest[] } {
  const app = Testing.app();
  const example = new ArgoCdExample(app);
  return { example, manifests: app.charts.flatMap((c) => Testing.synth(c)) as Manifest[] };
}

/** bookinfo's objects as `npx cdk8s synth` in examples/bookinfo writes them (examples/bookinfo/main.ts). */
function bookinfoObjects(): Manifest[] {
  return Testing.synth(new BookinfoChart(new App(), 'bookinfo', { progressiveDelivery: true })) as Manifest[];
}

function parseYamlStream(text: string): Manifest[] {
  return YAML.parseAllDocuments(text).map((d) => d.toJS()).filter((o) => o !== null);
}

/** `objects` without Argo CD sync-wave annotations (examples/bookinfo/main.ts may add them with SyncWaves). */
function withoutSyncWaves(objects: Manifest[]): Manifest[] {
  return objects.map((o) => {
    const { [SyncWaves.ANNOTATION]: _wave, ...annotations } = o.metadata.annotations ?? {};
    const metadata = { ...o.metadata, annotations };
    if (Object.keys(annotations).length === 0) delete metadata.annotations;
    return { ...o, metadata };
  });
}

function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): string {
  const result = spawnSync(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} (in ${options.cwd}) exited with ${result.status}:\n${result.stderr}\n${result.stdout}`);
  }
  return result.stdout;
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'argocd-example-'));
}

describe('examples/argocd', () => {
  const { example, manifests } = synthExample();

  test('way 1: the Application watches the folder CI renders, in the project that permits it', () => {
    const application = one(manifests, 'Application', 'bookinfo', 'argocd');
    expect(application.spec).toMatchObject({
      project: 'mesh',
      source: { repoURL: REPO_URL, path: MANIFESTS_PATH, targetRevision: 'main' },
      destination: { namespace: NAMESPACE },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['PruneLast=true', 'RespectIgnoreDifferences=true'] },
    });
    // The gateway of bookinfo is autoscaled: its replica count is the autoscaler's. Argo Rollouts owns reviews'
    // route weights and the pod-template-hash labels of its subsets.
    expect(application.spec.ignoreDifferences).toEqual([
      { group: 'apps', kind: 'Deployment', name: 'bookinfo-gateway', namespace: NAMESPACE, jsonPointers: ['/spec/replicas'] },
      { group: 'networking.istio.io', kind: 'DestinationRule', name: 'reviews', namespace: NAMESPACE, jqPathExpressions: ['.spec.subsets[].labels["rollouts-pod-template-hash"]'] },
      { group: 'networking.istio.io', kind: 'VirtualService', name: 'reviews', namespace: NAMESPACE, jqPathExpressions: ['.spec.http[].route[].weight'] },
    ]);
    expect(one(manifests, 'AppProject', 'mesh', 'argocd').spec).toMatchObject({
      sourceRepos: [REPO_URL],
      destinations: [{ namespace: NAMESPACE }],
      clusterResourceWhitelist: [{ group: '', kind: 'Namespace' }],
    });
  });

  test('way 2: the Application names the plugin, whose ConfigMap the sidecar mounts', () => {
    const application = one(manifests, 'Application', 'bookinfo-cdk8s', 'argocd');
    expect(application.spec.source).toEqual({ repoURL: REPO_URL, path: APP_PATH, targetRevision: 'main', plugin: { name: 'cdk8s' } });
    // The plugin discovers cdk8s.yaml, which the app folder has.
    expect(fs.existsSync(path.join(ROOT, APP_PATH, 'cdk8s.yaml'))).toBe(true);
    const configMap = one(manifests, 'ConfigMap', 'cmp-cdk8s', 'argocd');
    const patch = example.plugin.repoServerPatch();
    expect(patch.spec.template.spec.volumes).toContainEqual({ name: 'cmp-cdk8s', configMap: { name: configMap.metadata.name } });
    expectSchemaValid([patchAsDeployment(patch)], 'the repo-server patch as a Deployment');
  });

  test('snapshot', () => {
    expect(inventory(manifests)).toEqual([
      'AppProject/mesh', 'Application/bookinfo', 'ConfigMap/cmp-cdk8s', 'Application/bookinfo-cdk8s',
    ]);
    expect(manifests).toMatchSnapshot();
  });

  test('`cdk8s synth` of the example (what `npx projen examples` runs) writes valid charts and the patch', () => {
    const out = tempDir();
    try {
      run(path.join(BIN, 'cdk8s'), ['synth', '--no-check-upgrade', '--output', out], { cwd: path.join(ROOT, 'examples', 'argocd') });
      expect(fs.readdirSync(out).sort()).toEqual([
        'argocd-repo-server.patch.yaml', 'mesh-project.k8s.yaml', 'render-in-argocd.k8s.yaml', 'render-in-ci.k8s.yaml',
      ]);
      for (const file of fs.readdirSync(out).filter((f) => f.endsWith('.k8s.yaml'))) {
        expectSchemaValid(parseYamlStream(fs.readFileSync(path.join(out, file), 'utf8')), `examples/argocd ${file}`);
      }
      const [patch] = parseYamlStream(fs.readFileSync(path.join(out, 'argocd-repo-server.patch.yaml'), 'utf8'));
      expect(patch).toEqual(example.plugin.repoServerPatch());
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, SLOW);

  test('way 1: the workflow command of docs/gitops.md writes the folder the Application watches', () => {
    // GIVEN: the documented command, read from the guide itself
    const guide = fs.readFileSync(path.join(ROOT, 'docs', 'gitops.md'), 'utf8');
    const command = /^\(cd examples\/bookinfo && npx cdk8s synth .*--output \.\.\/\.\.\/(\S+)\)$/m.exec(guide);
    expect(command).not.toBeNull();
    expect(command![1]).toBe(MANIFESTS_PATH);
    // ... pointed at a clean checkout's worth of output folder, with a file left from an earlier run
    const repo = tempDir();
    const folder = path.join(repo, MANIFESTS_PATH);
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, 'removed-chart.k8s.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: stale }\n');
    try {
      // WHEN
      run('bash', ['-c', command![0].replace(`--output ../../${MANIFESTS_PATH}`, `--output '${folder}'`)], { cwd: ROOT });
      // THEN: exactly bookinfo's manifests, valid, and nothing stale for Argo CD to keep deploying
      // (The topology picture is written beside the manifests; Argo CD reads only the YAML.)
      expect(fs.readdirSync(folder).sort()).toEqual(['bookinfo.k8s.yaml', 'mesh-topology.dot', 'mesh-topology.mmd']);
      const rendered = parseYamlStream(fs.readFileSync(path.join(folder, 'bookinfo.k8s.yaml'), 'utf8'));
      expectSchemaValid(rendered, MANIFESTS_PATH);
      expect(withoutSyncWaves(rendered)).toEqual(bookinfoObjects());
    } finally {
      fs.rmSync(repo, { recursive: true, force: true });
    }
  }, SLOW);

  test("way 2: the plugin's generate script prints bookinfo's manifests as one YAML stream", () => {
    const config = YAML.parse(one(manifests, 'ConfigMap', 'cmp-cdk8s').data['plugin.yaml']);
    const [script] = config.spec.generate.args;
    const stdout = run('sh', ['-c', script], {
      cwd: path.join(ROOT, APP_PATH),
      // The sidecar image has the cdk8s CLI on its PATH; here it is the repository's.
      env: { PATH: `${BIN}${path.delimiter}${process.env.PATH}` },
    });
    const generated = parseYamlStream(stdout);
    expectSchemaValid(generated, 'the plugin output');
    expect(withoutSyncWaves(generated)).toEqual(bookinfoObjects());
  }, SLOW);

  test("way 2: the plugin's init script runs `npm ci` where the lock file is (a monorepo's root), and nothing without one", () => {
    const [script] = YAML.parse(one(manifests, 'ConfigMap', 'cmp-cdk8s').data['plugin.yaml']).spec.init.args;
    const tmp = tempDir();
    try {
      // A stand-in npm that records where and how it ran.
      const bin = path.join(tmp, 'bin');
      fs.mkdirSync(bin);
      fs.writeFileSync(path.join(bin, 'npm'), '#!/bin/sh\necho "$PWD $*" >> "$NPM_LOG"\n', { mode: 0o755 });
      const repo = path.join(tmp, 'repo');
      const appDir = path.join(repo, 'examples', 'bookinfo');
      fs.mkdirSync(appDir, { recursive: true });
      const log = path.join(tmp, 'npm.log');
      const env = { PATH: `${bin}${path.delimiter}${process.env.PATH}`, NPM_LOG: log };

      run('sh', ['-c', script], { cwd: appDir, env });
      expect(fs.existsSync(log)).toBe(false);

      fs.writeFileSync(path.join(repo, 'package-lock.json'), '{}');
      run('sh', ['-c', script], { cwd: appDir, env });
      expect(fs.readFileSync(log, 'utf8')).toBe(`${fs.realpathSync(repo)} ci --ignore-scripts --no-audit --no-fund\n`);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
