/* eslint-disable no-bitwise */ // IP and CIDR arithmetic
// CEL as the Kubernetes API server evaluates `x-kubernetes-validations`: cel-es (@bufbuild/cel)
// with the Kubernetes libraries the CRDs call (url, ip/cidr, quantity, lists, regex), RE2 regexes.
import {
  CelFunc, CelScalar, celEnv, celFunc, celMethod, isCelError, isCelList, isCelMap, listType, mapType, parse, plan,
} from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { compileRe2 } from './regex';

/** A compiled rule: evaluates with `self` bound, returns the result or the evaluation error. */
export type CompiledExpression = (self: unknown) => { value?: unknown; error?: string };

const { STRING, INT, BOOL, DYN, DOUBLE } = CelScalar;
const LIST_DYN = listType(DYN);
const LIST_STRING = listType(STRING);
const MAP_STRING_LIST = mapType(STRING, LIST_STRING);

/** Evaluation errors raised by library functions. */
class CelLibraryError extends Error {}

// ---- url library (k8s.io/apiserver/pkg/cel/library/urls.go): Go's net/url semantics ----

interface GoUrl {
  readonly scheme: string;
  readonly opaque: string;
  readonly host: string;
  readonly path: string;
  readonly rawQuery: string;
}

/** Go's url.ParseRequestURI (viaRequest) or url.Parse; a string is the error. */
export function parseGoUrl(raw: string, viaRequest: boolean): GoUrl | string {
  if (/[\x00-\x1f\x7f]/.test(raw)) return 'net/url: invalid control character in URL';
  let rest = raw;
  if (!viaRequest) {
    const hash = rest.indexOf('#');
    if (hash >= 0) rest = rest.slice(0, hash);
  }
  if (rest === '' && viaRequest) return 'empty url';
  if (rest === '*') return { scheme: '', opaque: '', host: '', path: '*', rawQuery: '' };
  let scheme = '';
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (/[a-zA-Z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c)) {
      if (i === 0) break;
      continue;
    }
    if (c === ':') {
      if (i === 0) return 'missing protocol scheme';
      scheme = rest.slice(0, i).toLowerCase();
      rest = rest.slice(i + 1);
    }
    break;
  }
  let rawQuery = '';
  if (rest.endsWith('?') && rest.split('?').length === 2) {
    rest = rest.slice(0, -1);
  } else if (rest.includes('?')) {
    rawQuery = rest.slice(rest.indexOf('?') + 1);
    rest = rest.slice(0, rest.indexOf('?'));
  }
  if (!rest.startsWith('/')) {
    if (scheme !== '') return { scheme, opaque: rest, host: '', path: '', rawQuery };
    if (viaRequest) return 'invalid URI for request';
    const colon = rest.indexOf(':');
    const slash = rest.indexOf('/');
    if (colon >= 0 && (slash < 0 || colon < slash)) return 'first path segment in URL cannot contain colon';
  }
  let host = '';
  if ((scheme !== '' || (!viaRequest && !rest.startsWith('///'))) && rest.startsWith('//')) {
    let authority = rest.slice(2);
    const slash = authority.indexOf('/');
    rest = slash >= 0 ? authority.slice(slash) : '';
    if (slash >= 0) authority = authority.slice(0, slash);
    const at = authority.lastIndexOf('@');
    host = at >= 0 ? authority.slice(at + 1) : authority;
    if (at >= 0 && (!/^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(authority.slice(0, at)) || /%(?![0-9a-fA-F]{2})/.test(authority.slice(0, at)))) return 'net/url: invalid userinfo';
    const hostError = checkHost(host);
    if (hostError) return hostError;
  }
  if (/%(?![0-9a-fA-F]{2})/.test(rest)) return 'invalid URL escape in path';
  return { scheme, opaque: '', host, path: rest, rawQuery };
}

function checkHost(host: string): string | undefined {
  let port = '';
  let name = host;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) return "missing ']' in host";
    port = host.slice(end + 1);
    name = host.slice(1, end);
  } else if (host.lastIndexOf(':') >= 0) {
    port = host.slice(host.lastIndexOf(':'));
    name = host.slice(0, host.lastIndexOf(':'));
  }
  if (port !== '' && !/^:[0-9]*$/.test(port)) return `invalid port ${JSON.stringify(port)} after host`;
  if (/%(?![0-9a-fA-F]{2})/.test(name)) return 'invalid URL escape in host';
  // Go's shouldEscape(encodeHost): ASCII other than these is an invalid host character.
  if (!host.startsWith('[') && /[^A-Za-z0-9\-._~!$&'()*+,;=:[\]<>"%\u0080-\uffff]/.test(name)) return `invalid character in host name ${JSON.stringify(name)}`;
  return undefined;
}

function toUrl(raw: string): any {
  const checked = parseGoUrl(raw, true);
  if (typeof checked === 'string') throw new CelLibraryError(`URL parse error during conversion from string: parse ${JSON.stringify(raw)}: ${checked}`);
  const u = parseGoUrl(raw, false);
  if (typeof u === 'string') throw new CelLibraryError(`URL parse error during conversion from string: parse ${JSON.stringify(raw)}: ${u}`);
  return new Map([[URL_MARK, raw], ['scheme', u.scheme], ['host', u.host], ['path', u.path], ['query', u.rawQuery]]);
}
const URL_MARK = '\u0000url';

function urlPart(u: unknown, part: string): string {
  if (!isCelMap(u) || !u.has(URL_MARK)) throw new CelLibraryError('no such overload');
  return u.get(part) as string;
}

function hostnameOf(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon >= 0 ? host.slice(0, colon) : host;
}

function portOf(host: string): string {
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : 0;
  const colon = host.indexOf(':', end);
  return colon >= 0 ? host.slice(colon + 1) : '';
}

// ---- ip / cidr libraries (ip.go, cidr.go): netip.ParseAddr, no zones, no IPv4-mapped IPv6 ----

interface Ip { readonly family: 4 | 6; readonly value: bigint }

export function parseIp(text: string): Ip | string {
  if (text.includes('%')) return 'IP address with zone value is not allowed';
  if (/^[0-9.]+$/.test(text)) {
    const parts = text.split('.');
    if (parts.length !== 4 || parts.some((p) => !/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255)) return `ParseAddr(${JSON.stringify(text)}): invalid IPv4 address`;
    return { family: 4, value: parts.reduce((acc, p) => (acc << 8n) + BigInt(p), 0n) };
  }
  const v6 = parseIpv6(text);
  if (v6 === undefined) return `ParseAddr(${JSON.stringify(text)}): invalid IP address`;
  if (v6 >> 32n === 0xffffn) return 'IPv4-mapped IPv6 address is not allowed';
  return { family: 6, value: v6 };
}

function parseIpv6(text: string): bigint | undefined {
  let s = text;
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  // No colon: not IPv6 (and a dotted name such as `secure.example.com` must not be read as an embedded IPv4 tail).
  if (lastColon < 0) return undefined;
  if (s.slice(lastColon + 1).includes('.')) {
    const v4 = parseIp(s.slice(lastColon + 1));
    if (typeof v4 === 'string' || v4.family !== 4) return undefined;
    tail = [Number(v4.value >> 16n), Number(v4.value & 0xffffn)];
    s = s.slice(0, lastColon + 1) + (s[lastColon - 1] === ':' ? '' : '0');
    if (s.endsWith(':0')) s = s.slice(0, -2);
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  if ([...head, ...rest].some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const count = head.length + rest.length + tail.length;
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;
  const all = [...head.map((g) => parseInt(g, 16)), ...Array(8 - count).fill(0), ...rest.map((g) => parseInt(g, 16)), ...tail];
  if (halves.length === 1 && all.length !== 8) return undefined;
  return all.reduce((acc, g) => (acc << 16n) + BigInt(g), 0n);
}

function ipMap(ip: Ip): any {
  return new Map<string, unknown>([[IP_MARK, `${ip.family}:${ip.value}`]]);
}
const IP_MARK = '\u0000ip';
const CIDR_MARK = '\u0000cidr';

function ipOf(v: unknown): Ip {
  if (typeof v === 'string') {
    const ip = parseIp(v);
    if (typeof ip === 'string') throw new CelLibraryError(ip);
    return ip;
  }
  if (!isCelMap(v) || !v.has(IP_MARK)) throw new CelLibraryError('no such overload');
  const [family, value] = (v.get(IP_MARK) as string).split(':');
  return { family: Number(family) as 4 | 6, value: BigInt(value) };
}

export function parseCidr(text: string): { ip: Ip; bits: number } | string {
  const slash = text.indexOf('/');
  if (slash < 0) return `netip.ParsePrefix(${JSON.stringify(text)}): no '/'`;
  const ip = parseIp(text.slice(0, slash));
  if (typeof ip === 'string') return ip;
  const bitsText = text.slice(slash + 1);
  const max = ip.family === 4 ? 32 : 128;
  if (!/^(0|[1-9][0-9]*)$/.test(bitsText) || Number(bitsText) > max) return `netip.ParsePrefix(${JSON.stringify(text)}): bad bits after slash: ${JSON.stringify(bitsText)}`;
  return { ip, bits: Number(bitsText) };
}

function cidrOf(v: unknown): { ip: Ip; bits: number } {
  if (!isCelMap(v) || !v.has(CIDR_MARK)) throw new CelLibraryError('no such overload');
  const parsed = parseCidr(v.get(CIDR_MARK) as string);
  if (typeof parsed === 'string') throw new CelLibraryError(parsed);
  return parsed;
}

function masked(ip: Ip, bits: number): bigint {
  const width = ip.family === 4 ? 32 : 128;
  const mask = ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - bits)) - 1n);
  return ip.value & mask;
}

function ipString(ip: Ip): string {
  if (ip.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 255n)).join('.');
  const groups = Array.from({ length: 8 }, (_v, i) => Number((ip.value >> BigInt(112 - 16 * i)) & 0xffffn));
  // The longest run of zero groups (at least 2) becomes `::`.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  return best < 0 ? hex.join(':') : `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

// ---- quantity library (quantity.go): resource.ParseQuantity, compared as numbers ----

const QUANTITY = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;
const SUFFIX: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

export function parseQuantity(text: string): number | undefined {
  const m = QUANTITY.exec(text);
  if (!m) return undefined;
  const suffix = m[2] ?? '';
  const factor = suffix === '' ? 1 : /^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : SUFFIX[suffix];
  return Number(m[1]) * factor;
}

function quantityOf(v: unknown): number {
  if (!isCelMap(v) || !v.has(QUANTITY_MARK)) throw new CelLibraryError('no such overload');
  return v.get(QUANTITY_MARK) as number;
}
const QUANTITY_MARK = '\u0000quantity';

function toQuantity(text: string): any {
  const value = parseQuantity(text);
  if (value === undefined) throw new CelLibraryError('quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\'');
  return new Map<string, unknown>([[QUANTITY_MARK, value]]);
}

// ---- lists library (lists.go) ----

function comparable(list: unknown): unknown[] {
  if (!isCelList(list)) throw new CelLibraryError('no such overload');
  return [...list];
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if ((typeof a === 'bigint' || typeof a === 'number') && (typeof b === 'bigint' || typeof b === 'number')) return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  throw new CelLibraryError('no such overload');
}

function equalValues(a: unknown, b: unknown): boolean {
  try {
    return compare(a, b) === 0;
  } catch {
    return a === b;
  }
}

const KUBERNETES_LIBRARY: CelFunc[] = [
  celFunc('isURL', [STRING], BOOL, (s) => typeof parseGoUrl(s, true) !== 'string'),
  celFunc('url', [STRING], DYN, (s) => toUrl(s)),
  celMethod('getScheme', DYN, [], STRING, function getScheme(this: unknown) { return urlPart(this, 'scheme'); }),
  celMethod('getHost', DYN, [], STRING, function getHost(this: unknown) { return urlPart(this, 'host'); }),
  celMethod('getHostname', DYN, [], STRING, function getHostname(this: unknown) { return hostnameOf(urlPart(this, 'host')); }),
  celMethod('getPort', DYN, [], STRING, function getPort(this: unknown) { return portOf(urlPart(this, 'host')); }),
  celMethod('getEscapedPath', DYN, [], STRING, function getEscapedPath(this: unknown) { return urlPart(this, 'path'); }),
  celMethod('getQuery', DYN, [], MAP_STRING_LIST, function getQuery(this: unknown) {
    const query = new Map<string, string[]>();
    for (const pair of urlPart(this, 'query').split('&').filter(Boolean)) {
      const [k, v = ''] = pair.split('=', 2).map((x) => decodeURIComponent(x.replace(/\+/g, ' ')));
      query.set(k, [...(query.get(k) ?? []), v]);
    }
    return query;
  }),

  celFunc('isIP', [STRING], BOOL, (s) => typeof parseIp(s) !== 'string'),
  celFunc('ip', [STRING], DYN, (s) => ipMap(ipOf(s))),
  celFunc('ip.isCanonical', [STRING], BOOL, (s) => ipString(ipOf(s)) === s),
  celMethod('family', DYN, [], INT, function family(this: unknown) { return BigInt(ipOf(this).family); }),
  celMethod('isUnspecified', DYN, [], BOOL, function isUnspecified(this: unknown) { return ipOf(this).value === 0n; }),
  celMethod('isLoopback', DYN, [], BOOL, function isLoopback(this: unknown) {
    const ip = ipOf(this);
    return ip.family === 4 ? ip.value >> 24n === 127n : ip.value === 1n;
  }),
  celMethod('isLinkLocalUnicast', DYN, [], BOOL, function isLinkLocalUnicast(this: unknown) {
    const ip = ipOf(this);
    return ip.family === 4 ? ip.value >> 16n === 0xa9fen : ip.value >> 118n === 0x3fan;
  }),
  celMethod('isLinkLocalMulticast', DYN, [], BOOL, function isLinkLocalMulticast(this: unknown) {
    const ip = ipOf(this);
    return ip.family === 4 ? ip.value >> 8n === 0xe00000n : ip.value >> 112n === 0xff02n;
  }),
  celMethod('isGlobalUnicast', DYN, [], BOOL, function isGlobalUnicast(this: unknown) {
    const ip = ipOf(this);
    if (ip.family === 4) {
      return !(ip.value === 0n || ip.value === 0xffffffffn || ip.value >> 24n === 127n || ip.value >> 28n === 14n || ip.value >> 16n === 0xa9fen);
    }
    return !(ip.value === 0n || ip.value === 1n || ip.value >> 120n === 0xffn || ip.value >> 118n === 0x3fan);
  }),
  celFunc('isCIDR', [STRING], BOOL, (s) => typeof parseCidr(s) !== 'string'),
  celFunc('cidr', [STRING], DYN, (s) => {
    const parsed = parseCidr(s);
    if (typeof parsed === 'string') throw new CelLibraryError(parsed);
    return new Map<string, unknown>([[CIDR_MARK, s]]) as any;
  }),
  celMethod('containsIP', DYN, [DYN], BOOL, function containsIP(this: unknown, other: unknown) {
    const c = cidrOf(this);
    const ip = ipOf(other);
    return ip.family === c.ip.family && masked(ip, c.bits) === masked(c.ip, c.bits);
  }),
  celMethod('containsCIDR', DYN, [DYN], BOOL, function containsCIDR(this: unknown, other: unknown) {
    const c = cidrOf(this);
    const o = typeof other === 'string' ? (() => { const p = parseCidr(other); if (typeof p === 'string') throw new CelLibraryError(p); return p; })() : cidrOf(other);
    return o.ip.family === c.ip.family && o.bits >= c.bits && masked(o.ip, c.bits) === masked(c.ip, c.bits);
  }),
  celMethod('prefixLength', DYN, [], INT, function prefixLength(this: unknown) { return BigInt(cidrOf(this).bits); }),
  celMethod('ip', DYN, [], DYN, function cidrIp(this: unknown) { return ipMap(cidrOf(this).ip); }),
  celMethod('masked', DYN, [], DYN, function maskedCidr(this: unknown) {
    const c = cidrOf(this);
    return new Map<string, any>([[CIDR_MARK, `${ipString({ family: c.ip.family, value: masked(c.ip, c.bits) })}/${c.bits}`]]) as any;
  }),

  celFunc('isQuantity', [STRING], BOOL, (s) => parseQuantity(s) !== undefined),
  celFunc('quantity', [STRING], DYN, (s) => toQuantity(s)),
  celMethod('isInteger', DYN, [], BOOL, function isInteger(this: unknown) { return Number.isInteger(quantityOf(this)); }),
  celMethod('asInteger', DYN, [], INT, function asInteger(this: unknown) {
    const q = quantityOf(this);
    if (!Number.isInteger(q)) throw new CelLibraryError('cannot convert value to integer');
    return BigInt(q);
  }),
  celMethod('asApproximateFloat', DYN, [], DOUBLE, function asApproximateFloat(this: unknown) { return quantityOf(this); }),
  celMethod('sign', DYN, [], INT, function sign(this: unknown) { return BigInt(Math.sign(quantityOf(this))); }),
  celMethod('isGreaterThan', DYN, [DYN], BOOL, function isGreaterThan(this: unknown, o: unknown) { return quantityOf(this) > quantityOf(o); }),
  celMethod('isLessThan', DYN, [DYN], BOOL, function isLessThan(this: unknown, o: unknown) { return quantityOf(this) < quantityOf(o); }),
  celMethod('compareTo', DYN, [DYN], INT, function compareTo(this: unknown, o: unknown) { return BigInt(Math.sign(quantityOf(this) - quantityOf(o))); }),

  celMethod('isSorted', LIST_DYN, [], BOOL, function isSorted(this: unknown) {
    const items = comparable(this);
    return items.every((v, i) => i === 0 || compare(items[i - 1], v) <= 0);
  }),
  celMethod('sum', LIST_DYN, [], DYN, function sum(this: unknown) {
    const items = comparable(this);
    if (items.length === 0) return 0n;
    return items.reduce((a: any, b: any) => a + b) as any;
  }),
  celMethod('min', LIST_DYN, [], DYN, function min(this: unknown) {
    const items = comparable(this);
    if (items.length === 0) throw new CelLibraryError('min called on empty list');
    return items.reduce((a, b) => (compare(b, a) < 0 ? b : a)) as any;
  }),
  celMethod('max', LIST_DYN, [], DYN, function max(this: unknown) {
    const items = comparable(this);
    if (items.length === 0) throw new CelLibraryError('max called on empty list');
    return items.reduce((a, b) => (compare(b, a) > 0 ? b : a)) as any;
  }),
  celMethod('indexOf', LIST_DYN, [DYN], INT, function indexOf(this: unknown, v: unknown) { return BigInt(comparable(this).findIndex((x) => equalValues(x, v))); }),
  celMethod('lastIndexOf', LIST_DYN, [DYN], INT, function lastIndexOf(this: unknown, v: unknown) {
    const items = comparable(this);
    for (let i = items.length - 1; i >= 0; i--) if (equalValues(items[i], v)) return BigInt(i);
    return -1n;
  }),

  celMethod('find', STRING, [STRING], STRING, function find(this: string, re: string) { return findAll(this, re, 1)[0] ?? ''; }),
  celMethod('findAll', STRING, [STRING], LIST_STRING, function findAllMatches(this: string, re: string) { return findAll(this, re, -1); }),
  celMethod('findAll', STRING, [STRING, INT], LIST_STRING, function findAllN(this: string, re: string, n: bigint) { return findAll(this, re, Number(n)); }),
];

/** Matches of `re` in `text` (regex library); JS's engine once RE2 has accepted the pattern. */
function findAll(text: string, re: string, limit: number): string[] {
  const compiled = compileRe2(re);
  if (compiled instanceof Error) throw new CelLibraryError(compiled.message);
  const lead = /^\(\?([ims]+)\)/.exec(re);
  const js = new RegExp(lead ? re.slice(lead[0].length) : re, `g${lead ? lead[1] : ''}`);
  const out: string[] = [];
  for (const m of text.matchAll(js)) {
    if (limit >= 0 && out.length >= limit) break;
    out.push(m[0]);
  }
  return out;
}

const ENV = celEnv({
  funcs: [...strings, ...KUBERNETES_LIBRARY],
  re2: {
    compile(pattern: string) {
      const m = compileRe2(pattern);
      if (m instanceof Error) throw new CelLibraryError(`error parsing regexp: ${m.message}`);
      return m;
    },
  },
});

/** cel-go's wording for the errors whose cel-es text differs (users search for the API server's). */
function goErrorText(message: string): string {
  if (/^Cannot convert .* to a BigInt/.test(message)) return "type conversion error from 'string' to 'int'";
  if (/^field not found: /.test(message)) return `no such key: ${message.slice('field not found: '.length)}`;
  return message;
}

const COMPILED = new Map<string, CompiledExpression | string>();

/**
 * The rule compiled once per process (a string is the compile error: the rule cannot be run,
 * which the caller reports, never treats as passed).
 */
export function compileCel(expression: string): CompiledExpression | string {
  let compiled = COMPILED.get(expression);
  if (compiled === undefined) {
    try {
      const run = plan(ENV, parse(expression));
      compiled = (self: unknown) => {
        try {
          const value = run({ self } as any);
          return isCelError(value) ? { error: goErrorText(value.message) } : { value };
        } catch (e) {
          return { error: goErrorText((e as Error).message) };
        }
      };
    } catch (e) {
      compiled = (e as Error).message;
    }
    COMPILED.set(expression, compiled);
  }
  return compiled;
}
