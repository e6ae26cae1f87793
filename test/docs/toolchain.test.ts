import * as fs from 'fs';
import * as path from 'path';

/**
 * The toolchain a user's app needs is declared where they read first, and agrees with what this
 * repository builds and runs its examples with (finding 14.3l). TypeScript 7, the native
 * compiler, has no JavaScript compiler API, and ts-node 10 calls `ts.sys.fileExists` on load:
 * `TypeError: Cannot read properties of undefined (reading 'fileExists')` (checked with
 * typescript 7.0.2 and ts-node 10.9.2).
 */
const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const pkg = JSON.parse(read('package.json'));
const installed = (name: string): string => JSON.parse(read(`node_modules/${name}/package.json`)).version;
const major = (version: string) => Number(version.split('.')[0]);
const section = (markdown: string, heading: string) => {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  expect(start).toBeGreaterThan(-1);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
};

describe('the supported toolchain', () => {
  const readme = read('README.md');
  const install = section(readme, 'Install');
  const gettingStarted = read('docs/getting-started.md');

  test('README keeps opening with what the library is and the two commands, before Install', () => {
    expect(readme.startsWith('# cdk8s-mesh\n\n**Declare an Istio service mesh')).toBe(true);
    const tryIt = readme.indexOf('npm ci && npx projen examples');
    expect(tryIt).toBeGreaterThan(-1);
    expect(readme.indexOf('npm ci && npx projen build')).toBeGreaterThan(tryIt);
    expect(readme.indexOf('## Install')).toBeGreaterThan(readme.indexOf('npm ci && npx projen build'));
  });

  test('Install says how to install the package before it is published: the tarball the build packs', () => {
    const tarball = `dist/js/${pkg.name}@${pkg.version}.jsii.tgz`;
    expect(install).toContain('npx projen package:js');
    expect(install).toContain(`npm install /path/to/cdk8s-mesh/${tarball} cdk8s cdk8s-plus-27 constructs`);
    // The package task writes that very file name (jsii-pacmak's js target).
    const tasks = JSON.parse(read('.projen/tasks.json')).tasks;
    expect(tasks['package:js'].steps).toEqual([{ execArgs: ['jsii-pacmak', '-v', '--target', 'js'] }]);
    if (fs.existsSync(path.join(ROOT, 'dist', 'js'))) expect(fs.readdirSync(path.join(ROOT, 'dist', 'js'))).toContain(path.basename(tarball));
  });

  test('the TypeScript and ts-node range is declared, and this repository builds and runs its examples inside it', () => {
    for (const doc of [install, gettingStarted]) {
      expect(doc).toContain('TypeScript 5 or 6');
      expect(doc).toContain('ts-node 10.9');
      expect(doc).toContain('npm install --save-dev typescript@6 ts-node@10');
      expect(doc).toContain("Cannot read properties of undefined (reading 'fileExists')");
    }
    expect([5, 6]).toContain(major(installed('typescript')));
    expect(installed('ts-node')).toMatch(/^10\.9\./);
    expect(pkg.devDependencies.typescript).toMatch(/^\^?[56]\./);
    // The examples are run the way users' apps are: with ts-node.
    for (const example of fs.readdirSync(path.join(ROOT, 'examples'))) {
      const config = path.join(ROOT, 'examples', example, 'cdk8s.yaml');
      if (fs.existsSync(config)) expect(fs.readFileSync(config, 'utf8')).toMatch(/app: npx ts-node /);
    }
  });

  test('the Node.js and peer ranges the docs state are the package\'s', () => {
    expect(pkg.engines.node).toBe('>= 20.0.0');
    expect(install).toContain('Node.js 20 or later');
    expect(pkg.peerDependencies).toEqual({ 'cdk8s': '^2.70.106', 'cdk8s-plus-27': '^2.9.5', 'constructs': '^10.8.1' });
    expect(install).toContain('cdk8s 2.70 or later with constructs 10 and cdk8s-plus-27');
  });
});
