/**
 * The warnings the library prints to users at synth (`cdk8s-mesh warning: …` for CM25x,
 * `cdk8s-mesh analysis warning: …` for analysis findings), as the tests see them.
 *
 * Installed for every test file by test/support/setup.ts:
 *
 * - A test that expects warnings captures them with {@link captureWarnings} and asserts them;
 *   captured warnings are not printed. (A test that mocks `console.warn` itself captures them
 *   too.)
 * - Every other library warning is unexpected. Instead of jest's console block with a stack
 *   trace for each one (3,468 lines for 216 warnings buried the real failures), the file ends
 *   with ONE line naming the count per code, e.g.
 *   `cdk8s-mesh warnings no test asserted in test/traffic/istio-samples.test.ts: CMA106 ×31`.
 *   `MESH_TEST_WARNINGS=list` adds one line per warning (test name and message);
 *   `MESH_TEST_WARNINGS=fail` fails each test that printed one.
 *
 * Other `console.warn` calls (e.g. "tests SKIPPED") are printed as usual.
 */
const LIBRARY_WARNING = /^cdk8s-mesh (analysis )?warning: /;

interface Unexpected {
  readonly test: string;
  readonly message: string;
}

let capturing: string[][] = [];
let unexpected: Unexpected[] = [];
let inThisTest: string[] = [];

/**
 * Runs `fn` and returns the library warnings it printed (each message without the
 * `cdk8s-mesh … warning: ` prefix), for the test to assert. Nothing is printed.
 */
export function captureWarnings(fn: () => void): string[] {
  const captured: string[] = [];
  capturing.push(captured);
  try {
    fn();
  } finally {
    capturing = capturing.filter((c) => c !== captured);
  }
  return captured;
}

/** Wraps `console.warn` of the test file and reports what no test asserted. */
export function installWarningCapture(): void {
  const original = console.warn;
  console.warn = function warn(...args: unknown[]): void {
    const text = args.map(String).join(' ');
    if (!LIBRARY_WARNING.test(text)) {
      original.apply(console, args);
      return;
    }
    const message = text.replace(LIBRARY_WARNING, '');
    const open = capturing[capturing.length - 1];
    if (open) {
      open.push(message);
      return;
    }
    inThisTest.push(message);
    unexpected.push({ test: expect.getState().currentTestName ?? '(outside a test)', message });
  };

  beforeEach(() => {
    inThisTest = [];
  });

  afterEach(() => {
    if (process.env.MESH_TEST_WARNINGS === 'fail' && inThisTest.length > 0) {
      const printed = inThisTest;
      inThisTest = [];
      throw new Error(`the test printed ${printed.length} library warning(s) it does not assert (capture them with captureWarnings):\n${printed.join('\n')}`);
    }
  });

  afterAll(() => {
    if (unexpected.length === 0) return;
    const file = (expect.getState().testPath ?? '').replace(/^.*?(?=test\/)/, '');
    const byCode = new Map<string, number>();
    for (const { message } of unexpected) {
      const code = /\b((?:CMA?|IST)\d{3,4})\b/.exec(message)?.[1] ?? 'other';
      byCode.set(code, (byCode.get(code) ?? 0) + 1);
    }
    const counts = [...byCode].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([code, n]) => `${code} ×${n}`).join(', ');
    const lines = [`cdk8s-mesh warnings no test asserted in ${file}: ${counts}`];
    if (process.env.MESH_TEST_WARNINGS === 'list') lines.push(...unexpected.map((u) => `  ${u.test}: ${u.message}`));
    process.stderr.write(`${lines.join('\n')}\n`);
    unexpected = [];
  });
}
