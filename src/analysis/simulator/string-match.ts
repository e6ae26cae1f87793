// The two string-matching languages of Istio: VirtualService StringMatch (exact / prefix / regex, RE2 full match)
// and AuthorizationPolicy values (`*`, `prefix*`, `*suffix`, exact; path templates `{*}` / `{**}`).

const REGEX_CACHE = new Map<string, RegExp | null>();

/**
 * An RE2 pattern as Envoy's `safe_regex` uses it: the whole value must match. Patterns JavaScript cannot compile
 * match nothing (Istio's webhook rejects patterns RE2 cannot compile).
 */
export function fullRegex(pattern: string, ignoreCase = false): RegExp | null {
  const key = `${ignoreCase ? 'i' : ''}\u0000${pattern}`;
  let re = REGEX_CACHE.get(key);
  if (re === undefined) {
    try {
      re = new RegExp(`^(?:${pattern})$`, ignoreCase ? 'i' : '');
    } catch {
      re = null;
    }
    REGEX_CACHE.set(key, re);
  }
  return re;
}

/**
 * A VirtualService StringMatch (`{exact}`, `{prefix}`, `{regex}`; `{}` matches any value that is present), plus the
 * internal `{segmentPrefix}` of converted Gateway API routes: Envoy's `path_separated_prefix`, which Istio uses for a
 * PathPrefix match ("matches full path elements": `/api` matches `/api` and `/api/x`, not `/apis`).
 */
export function stringMatchApplies(m: any, value: string | undefined, ignoreCase = false): boolean {
  if (value === undefined) return false;
  if (!m || typeof m !== 'object') return true;
  if (typeof m.exact === 'string') return ignoreCase ? value.toLowerCase() === m.exact.toLowerCase() : value === m.exact;
  if (typeof m.prefix === 'string') return ignoreCase ? value.toLowerCase().startsWith(m.prefix.toLowerCase()) : value.startsWith(m.prefix);
  if (typeof m.regex === 'string') return fullRegex(m.regex, ignoreCase)?.test(value) ?? false;
  if (typeof m.segmentPrefix === 'string') {
    const v = ignoreCase ? value.toLowerCase() : value;
    const p = ignoreCase ? m.segmentPrefix.toLowerCase() : m.segmentPrefix;
    return v === p || v.startsWith(`${p}/`);
  }
  return true;
}

/** The kind and value of a StringMatch, or undefined for `{}` (presence). */
export function stringMatchOf(m: any): { kind: 'exact' | 'prefix' | 'regex' | 'segmentPrefix'; value: string } | undefined {
  if (!m || typeof m !== 'object') return undefined;
  for (const kind of ['exact', 'prefix', 'regex', 'segmentPrefix'] as const) if (typeof m[kind] === 'string') return { kind, value: m[kind] };
  return undefined;
}

/**
 * True when every value `b` matches is also matched by `a` (both StringMatches; undefined is "any present value").
 * Decided exactly for exact and prefix; a regex covers only the same regex (or an exact/prefix value it provably
 * matches: an exact value it matches).
 */
export function stringMatchCovers(a: any, b: any, ignoreCase = false): boolean {
  const x = stringMatchOf(a);
  if (!x) return true;
  const y = stringMatchOf(b);
  if (!y) return false;
  const norm = (s: string) => (ignoreCase ? s.toLowerCase() : s);
  if (x.kind === 'segmentPrefix' || y.kind === 'segmentPrefix') return segmentCovers(x, y, norm);
  if (x.kind === 'exact') return y.kind === 'exact' && norm(y.value) === norm(x.value);
  if (x.kind === 'prefix' && y.kind === 'regex') {
    // A regex `<literal>.*` or `<literal>(/.*)?` (a prefix of whole path elements) only matches values that start with
    // the literal: a prefix of the literal covers it.
    const literal = regexLiteralPrefix(y.value);
    return literal !== undefined && norm(literal).startsWith(norm(x.value));
  }
  if (x.kind === 'prefix') return (y.kind === 'exact' || y.kind === 'prefix') && norm(y.value).startsWith(norm(x.value));
  if (y.kind === 'regex') return y.value === x.value;
  if (y.kind === 'exact') return fullRegex(x.value, ignoreCase)?.test(y.value) ?? false;
  // A prefix is covered by a regex such as `^/api.*` only when the regex accepts every continuation; decide the
  // common `<literal>.*` form exactly and leave the rest uncovered.
  const literalStar = /^((?:[^\\.*+?^${}()|[\]]|\\.)*)\.\*$/.exec(x.value);
  if (literalStar) {
    const literal = literalStar[1].replace(/\\(.)/g, '$1');
    return norm(y.value).startsWith(norm(literal));
  }
  return false;
}

function segmentCovers(x: { kind: string; value: string }, y: { kind: string; value: string }, norm: (s: string) => string): boolean {
  const inSegments = (p: string, v: string) => v === p || v.startsWith(`${p}/`);
  if (x.kind === 'segmentPrefix') {
    return (y.kind === 'exact' || y.kind === 'segmentPrefix' || y.kind === 'prefix') && inSegments(norm(x.value), norm(y.value))
      && !(y.kind === 'prefix' && norm(y.value) === norm(x.value)); // `/api` (string prefix) also takes `/apis`
  }
  // `y` is a segment prefix: a string prefix of it covers it; an exact match or a regex is not decided here.
  return x.kind === 'prefix' && norm(y.value).startsWith(norm(x.value));
}

/** Istio's authorization value match: `*` is any non-empty value, `abc*` a prefix, `*abc` a suffix, otherwise exact. */
export function valueMatches(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (pattern === '*') return value.length > 0;
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  return value === pattern;
}

const TEMPLATE_CACHE = new Map<string, RegExp>();

/** Authorization `paths`: value patterns plus the `{*}` (one segment) and `{**}` (the rest) templates. */
export function pathMatches(pattern: string, path: string): boolean {
  if (!pattern.includes('{')) return valueMatches(pattern, path);
  let re = TEMPLATE_CACHE.get(pattern);
  if (!re) {
    const body = pattern.split('/').map((segment) => {
      if (segment === '{*}') return '[^/]+';
      if (segment === '{**}') return '.*';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }).join('/');
    re = new RegExp(`^${body}$`);
    TEMPLATE_CACHE.set(pattern, re);
  }
  return re.test(path);
}

/** IPv4/IPv6 address or CIDR containment. */
export function ipMatches(block: string, ip: string | undefined): boolean {
  if (!ip) return false;
  const [base, bitsText] = block.split('/');
  const a = ipBits(base);
  const b = ipBits(ip);
  if (!a || !b || a.length !== b.length) return false;
  const bits = bitsText === undefined ? a.length : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > a.length) return false;
  return a.slice(0, bits) === b.slice(0, bits);
}

function ipBits(ip: string): string | undefined {
  if (ip.includes(':')) {
    const [head, tail] = ip.split('::');
    const parts = (s: string | undefined) => (s ? s.split(':') : []);
    const groups = tail === undefined ? parts(head) : [...parts(head), ...Array(Math.max(0, 8 - parts(head).length - parts(tail).length)).fill('0'), ...parts(tail)];
    if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{0,4}$/.test(g))) return undefined;
    return groups.map((g) => parseInt(g || '0', 16).toString(2).padStart(16, '0')).join('');
  }
  const octets = ip.split('.');
  if (octets.length !== 4 || octets.some((o) => !/^\d{1,3}$/.test(o) || Number(o) > 255)) return undefined;
  return octets.map((o) => Number(o).toString(2).padStart(8, '0')).join('');
}

/** The literal every match of a regex `<literal>.*` or `<literal>(/.*)?` starts with, or undefined for other regexes. */
function regexLiteralPrefix(regex: string): string | undefined {
  const m = /^((?:[^\\.*+?^${}()|[\]]|\\.)*)(?:\.\*|\(\/\.\*\)\?)$/.exec(regex);
  return m ? m[1].replace(/\\(.)/g, '$1') : undefined;
}
