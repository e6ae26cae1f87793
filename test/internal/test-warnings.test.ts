import { spawnSync } from 'child_process';
import * as path from 'path';
import { Chart, Duration, Testing } from 'cdk8s';
import { Mesh, MeshService, MeshWarnings } from '../../src';
import { captureWarnings } from '../support/warnings';

/**
 * The test log (finding 14.3m): the library's warnings are asserted by the tests that expect
 * them, and the others are summed up in one line per test file, instead of a console block with
 * a stack trace each (test/support/warnings.ts).
 */
const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURE = 'test/support/fixtures/warnings.fixture.ts';

/** Runs the fixture in a jest of its own, as the test task runs every file. */
function runFixture(mode?: string): { status: number | null; output: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, MESH_TEST_WARNINGS: mode };
  if (mode === undefined) delete env.MESH_TEST_WARNINGS;
  const result = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'jest'),
    ['--ci', '--coverage=false', '--reporters=default', '--testMatch', `**/${path.basename(FIXTURE)}`, FIXTURE],
    { cwd: ROOT, env, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('library warnings in tests', () => {
  test('captureWarnings returns the warnings a piece of code prints, and only those', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const api = new MeshService(chart, 'api', { mesh: new Mesh(chart, 'mesh'), image: 'api:1', port: 8080 });
    const warnings = captureWarnings(() => api.routeTraffic({
      destinations: [{ version: api.defaultVersion }], timeout: Duration.seconds(1), retry: { attempts: 2, perTryTimeout: Duration.seconds(1) },
    }));
    expect(warnings).toEqual([expect.stringMatching(/^\[shop\/api\/Route1\] CM250 Retries exceed the route timeout: 2 retries after the first try/)]);
    // The library keeps them for users' own assertions too.
    expect(MeshWarnings.of(api)).toHaveLength(1);
    expect(captureWarnings(() => undefined)).toEqual([]);
  });

  test('a warning no test asserts: one summary line for the file, no console block', () => {
    const { status, output } = runFixture();
    expect(status).toBe(0);
    expect(output).toContain(`cdk8s-mesh warnings no test asserted in ${FIXTURE}: CM250 ×1\n`);
    expect(output).not.toContain('console.warn');
    expect(output).not.toContain('at meshWarning');
  }, 120_000);

  test('MESH_TEST_WARNINGS=list names each one; =fail fails the test that printed it', () => {
    const listed = runFixture('list');
    expect(listed.status).toBe(0);
    expect(listed.output).toMatch(/\n {2}prints a warning it does not assert: \[shop\/api\/Route1\] CM250 Retries exceed the route timeout/);
    const failing = runFixture('fail');
    expect(failing.status).toBe(1);
    expect(failing.output).toMatch(/✕ prints a warning it does not assert/);
    expect(failing.output).toMatch(/✓ captures and asserts its warning/);
    expect(failing.output).toContain('the test printed 1 library warning(s) it does not assert (capture them with captureWarnings)');
  }, 120_000);
});
