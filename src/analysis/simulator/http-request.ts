// How Istio's proxies read an HTTP request before routing and authorization: method, path normalization,
// query string, header names and duplicates. Source: istio.io "Authorization Policy Normalization"
// (docs/reference/config/security/normalization) and MeshConfig `pathNormalization`.

/** MeshConfig `pathNormalization.normalization`. */
export type PathNormalization = 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';

/** A request as the proxy sees it after normalization. */
export interface HttpRequest {
  readonly method: string;
  /** The normalized path without the query string (what routing and `paths` match). */
  readonly path: string;
  /** The normalized path with the query string, as forwarded. */
  readonly pathWithQuery: string;
  readonly query: ReadonlyMap<string, string>;
  /** Lower-case names; duplicates (names equal but for case) joined with commas in the order given. */
  readonly headers: Readonly<Record<string, string>>;
  /** The authority without a port, lower case. */
  readonly host: string;
}

/** Why a request is refused before any routing (HTTP 400), if it is. */
export function badRequestReason(method: string, rawPath: string): string | undefined {
  // "If the verb in the HTTP request is not in upper case, Istio rejects the request with HTTP 400."
  if (method !== method.toUpperCase()) return `method "${method}" is not in upper case, which Istio rejects with 400`;
  // "%00: the request will always be rejected with HTTP code 400."
  if (/%00/.test(rawPath)) return 'the path contains %00, which Istio always rejects with 400';
  if (!rawPath.startsWith('/')) return `the path "${rawPath}" does not start with /`;
  return undefined;
}

/** Percent-encoded characters BASE decodes: `-`, `.`, digits, letters, `_`, `~` (the unreserved set). */
const UNRESERVED = /%(2[dDeE]|3[0-9]|[46][1-9a-fA-F]|[57][0-9aA]|5[fF]|7[eE])/g;
const SLASHES = /%(2[fF]|5[cC])/g;

/**
 * The path after Istio's normalization (`meshConfig.pathNormalization`, default BASE): percent-decoding once
 * (unreserved characters with BASE, also `%2F`/`%5C` with DECODE_AND_MERGE_SLASHES, which comes first), backslashes
 * to slashes, `.` and `..` segments resolved (RFC 3986), then merged slashes (MERGE_SLASHES and stricter).
 * The query string is kept apart: `paths` compare the path without it.
 */
export function normalizePath(rawPath: string, mode: PathNormalization): { path: string; query: string } {
  const key = `${mode} ${rawPath}`;
  let hit = NORMALIZED.get(key);
  if (!hit) {
    if (NORMALIZED.size > 10_000) NORMALIZED.clear();
    NORMALIZED.set(key, (hit = normalize(rawPath, mode)));
  }
  return hit;
}

/** Paths seen recently (a trace normalizes the same few paths at every hop). */
const NORMALIZED = new Map<string, { path: string; query: string }>();

function normalize(rawPath: string, mode: PathNormalization): { path: string; query: string } {
  const q = rawPath.indexOf('?');
  let path = q < 0 ? rawPath : rawPath.slice(0, q);
  const query = q < 0 ? '' : rawPath.slice(q + 1);
  if (mode === 'NONE') return { path, query };
  if (mode === 'DECODE_AND_MERGE_SLASHES') path = path.replace(SLASHES, (m) => decodeURIComponent(m));
  path = path.replace(UNRESERVED, (m) => String.fromCharCode(parseInt(m.slice(1), 16)));
  path = path.replace(/\\/g, '/');
  path = removeDotSegments(path);
  if (mode !== 'BASE') path = path.replace(/\/{2,}/g, '/');
  return { path, query };
}

/** RFC 3986 section 5.2.4. */
function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segments = path.split('/');
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    const last = i === segments.length - 1;
    if (s === '.') {
      if (last) out.push('');
    } else if (s === '..') {
      if (out.length > 1) out.pop();
      if (last) out.push('');
    } else {
      out.push(s);
    }
  }
  const joined = out.join('/');
  return joined.startsWith('/') ? joined : `/${joined}`;
}

/** Query parameters (the first value of each name). */
export function parseQuery(query: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!query) return out;
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = safeDecode(eq < 0 ? part : part.slice(0, eq));
    if (!out.has(name)) out.set(name, safeDecode(eq < 0 ? '' : part.slice(eq + 1)));
  }
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/**
 * Header names are compared without case, and "Istio merges duplicate headers into a single header by
 * concatenating all values using comma as a separator".
 */
export function mergeHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const key = name.toLowerCase();
    out[key] = key in out ? `${out[key]},${value}` : String(value);
  }
  return out;
}

/** The authority's host part, lower case (`Reviews:9080` → `reviews`; IPv6 literals keep their brackets). */
export function hostOf(authority: string): string {
  const a = authority.toLowerCase();
  if (a.startsWith('[')) return a.slice(0, a.indexOf(']') + 1) || a;
  const colon = a.lastIndexOf(':');
  return colon > 0 && /^\d+$/.test(a.slice(colon + 1)) ? a.slice(0, colon) : a;
}

/** Builds the normalized request. */
export function httpRequest(method: string, rawPath: string, headers: Record<string, string>, host: string, mode: PathNormalization): HttpRequest {
  const { path, query } = normalizePath(rawPath, mode);
  return { method, path, pathWithQuery: query ? `${path}?${query}` : path, query: parseQuery(query), headers, host: hostOf(host) };
}
