// Go (RE2) regular expressions, as the API server and Istio's webhook compile them.
import { RE2JS } from '@bufbuild/re2';

/** A compiled RE2 pattern: `test` finds a match anywhere (as Go's MatchString). */
export interface Re2Matcher {
  test(text: string): boolean;
}

/** Why `pattern` is not a valid RE2 expression, or undefined when it is. */
export function re2Error(pattern: string): string | undefined {
  const compiled = compileRe2(pattern);
  return compiled instanceof Error ? compiled.message : undefined;
}

/** The matcher of `pattern` (compiled once per process), or the RE2 syntax error. */
export function compileRe2(pattern: string): Re2Matcher | Error {
  let m = CACHE.get(pattern);
  if (!m) {
    m = build(pattern);
    CACHE.set(pattern, m);
  }
  return m;
}
const CACHE = new Map<string, Re2Matcher | Error>();

function build(pattern: string): Re2Matcher | Error {
  let re2: RE2JS;
  try {
    re2 = RE2JS.compile(pattern);
  } catch (e) {
    return new Error((e as Error).message);
  }
  const js = toJsRegExp(pattern);
  if (!js) return { test: (text) => re2.test(text) };
  // JS `.` also stops at \r, \u2028 and \u2029, RE2's only at \n: let RE2 decide those inputs.
  return { test: (text) => (/[\r\u2028\u2029]/.test(text) ? re2.test(text) : js.test(text)) };
}

/**
 * The same expression as a JS RegExp (100 times faster than the RE2 engine in JS), when it uses
 * only constructs that mean the same in both: literals, classes, `\d \w \s \b`, anchors,
 * groups, quantifiers, and leading flags `(?i)` / `(?s)` / `(?m)`. Anything else (Unicode classes,
 * POSIX classes, `\z`, `\Q…\E`, inline flags inside) is left to the RE2 engine.
 */
function toJsRegExp(pattern: string): RegExp | undefined {
  let source = pattern;
  let flags = '';
  const lead = /^(\^?)\(\?([ims]+)\)/.exec(source);
  if (lead) {
    source = lead[1] + source.slice(lead[0].length);
    flags = [...new Set(lead[2])].join('');
  }
  if (/\\[pPzAQEC]|\[\[:|\(\?[a-zA-Z-]|\\[0-9]|\\x\{|\\s/.test(source)) return undefined;
  // `(?P<name>` is RE2's named group.
  source = source.replace(/\(\?P</g, '(?<');
  try {
    return new RegExp(source, flags);
  } catch {
    return undefined;
  }
}
