import * as fs from 'fs';
import * as path from 'path';
import { codeUsage, renderErrorsDoc } from '../projenrc/errors-doc';
import { ERROR_CATALOGUE, WARNING_CATALOGUE } from '../src/errors';

/** The error catalogue, its documentation and its tests cannot drift apart. */
const ROOT = path.resolve(__dirname, '..');
const CODES = [...Object.keys(ERROR_CATALOGUE), ...Object.keys(WARNING_CATALOGUE)];

function testFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const file = path.join(dir, e.name);
    return e.isDirectory() ? testFiles(file) : file.endsWith('.test.ts') && e.name !== 'errors.test.ts' ? [file] : [];
  });
}

describe('error catalogue', () => {
  const usage = codeUsage(ROOT);

  test('docs/errors.md is generated from the catalogue (run `npx projen docs:errors` after changing it)', () => {
    expect(fs.readFileSync(path.join(ROOT, 'docs', 'errors.md'), 'utf8')).toEqual(renderErrorsDoc(ROOT));
  });

  test('every code raised in src/ is in the catalogue', () => {
    expect([...usage.keys()].filter((code) => !CODES.includes(code))).toEqual([]);
  });

  test('every code in the catalogue is raised somewhere (no dead codes)', () => {
    expect(CODES.filter((code) => !usage.has(code))).toEqual([]);
  });

  test('every code has a test that asserts its message', () => {
    const tests = testFiles(path.join(ROOT, 'test')).map((f) => fs.readFileSync(f, 'utf8')).join('\n');
    expect(CODES.filter((code) => !tests.includes(code))).toEqual([]);
  });

  test('the README counts the codes', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`${Object.keys(ERROR_CATALOGUE).length} error codes`);
  });
});
