// How AuthorizationPolicy rules match a request (Istio's pilot/pkg/security/authz/model and builder).

/** The attributes of a request as the destination proxy sees them. */
export interface RequestAttributes {
  /** mTLS peer identity without `spiffe://`; undefined for plaintext. */
  readonly principal?: string;
  readonly sourceIp?: string;
  readonly remoteIp?: string;
  /** `<issuer>/<subject>` of a validated JWT. */
  readonly requestPrincipal?: string;
  readonly claims?: Record<string, unknown>;
  readonly audiences?: string[];
  readonly presenter?: string;
  readonly host: string;
  /** Workload (target) port. */
  readonly port: number;
  readonly method: string;
  readonly path: string;
  /** Lower-case header names. */
  readonly headers: Record<string, string>;
  readonly sni?: string;
  readonly http: boolean;
}

/** Fields and `when` keys Istio can only evaluate on HTTP traffic. */
const HTTP_ONLY_FIELDS = ['requestPrincipals', 'notRequestPrincipals', 'hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'];

export function isHttpOnlyKey(key: string): boolean {
  return key.startsWith('request.');
}

/** True when a rule uses any attribute only HTTP traffic has. */
export function ruleUsesHttpOnly(rule: any): boolean {
  const usesHttpOnly = (fields: any) => fields !== undefined && fields !== null && HTTP_ONLY_FIELDS.some((k) => k in fields);
  for (const f of rule?.from ?? []) if (usesHttpOnly(f?.source)) return true;
  for (const t of rule?.to ?? []) if (usesHttpOnly(t?.operation)) return true;
  for (const c of rule?.when ?? []) if (isHttpOnlyKey(c?.key ?? '')) return true;
  return false;
}

/** Istio's string match: `*` is any non-empty value, `abc*` a prefix, `*abc` a suffix, otherwise exact. */
export function stringMatches(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (pattern === '*') return value.length > 0;
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  return value === pattern;
}

/** Paths add `{*}` (one segment) and `{**}` (any rest, the last operator) templates to the string match. */
export function pathMatches(pattern: string, path: string): boolean {
  if (!pattern.includes('{')) return stringMatches(pattern, path);
  const regex = pattern.split('/').map((segment) => {
    if (segment === '{*}') return '[^/]+';
    if (segment === '{**}') return '.*';
    return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }).join('/');
  return new RegExp(`^${regex}$`).test(path);
}

/** IPv4/IPv6 address or CIDR containment. */
export function ipMatches(block: string, ip: string | undefined): boolean {
  if (!ip) return false;
  const [base, bitsText] = block.split('/');
  const a = ipBits(base);
  const b = ipBits(ip);
  if (!a || !b || a.length !== b.length) return false;
  const bits = bitsText === undefined ? a.length : Number(bitsText);
  return a.slice(0, bits) === b.slice(0, bits);
}

function ipBits(ip: string): string | undefined {
  if (ip.includes(':')) {
    const [head, tail] = ip.split('::');
    const parts = (s: string | undefined) => (s ? s.split(':') : []);
    const groups = tail === undefined ? parts(head) : [...parts(head), ...Array(8 - parts(head).length - parts(tail).length).fill('0'), ...parts(tail)];
    if (groups.length !== 8) return undefined;
    return groups.map((g) => parseInt(g || '0', 16).toString(2).padStart(16, '0')).join('');
  }
  const octets = ip.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255))) return undefined;
  return octets.map((o) => o.toString(2).padStart(8, '0')).join('');
}

/** `values` matches when any value matches; `notValues` when none does (so an absent attribute matches `notValues`). */
function anyNone(values: string[] | undefined, notValues: string[] | undefined, test: (v: string) => boolean): boolean {
  if (values && !values.some(test)) return false;
  if (notValues && notValues.some(test)) return false;
  return true;
}

const principalOf = (p: string) => p.replace(/^spiffe:\/\//, '');
const namespaceOf = (principal: string | undefined) => principal ? /\/ns\/([^/]+)\//.exec(principal)?.[1] : undefined;
const serviceAccountOf = (principal: string | undefined) => principal ? /\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(principal) : undefined;

/**
 * Whether `source` matches. On TCP traffic HTTP-only fields count as matching: that is Istio's rule for DENY
 * policies; ALLOW rules that use them are discarded before (see `ruleUsesHttpOnly`).
 */
export function sourceMatches(source: any, req: RequestAttributes, policyNs: string): boolean {
  const p = req.principal;
  const saMatch = (entry: string) => {
    const sa = serviceAccountOf(p);
    if (!sa) return false;
    const [ns, name] = entry.includes('/') ? entry.split('/', 2) : [policyNs, entry];
    return sa[1] === ns && sa[2] === name;
  };
  const trustDomain = p?.split('/')[0];
  return anyNone(source.principals, source.notPrincipals, (v) => stringMatches(principalOf(v), p))
    && (!req.http || anyNone(source.requestPrincipals, source.notRequestPrincipals, (v) => stringMatches(v, req.requestPrincipal)))
    && anyNone(source.namespaces, source.notNamespaces, (v) => stringMatches(v, namespaceOf(p)))
    && anyNone(source.ipBlocks, source.notIpBlocks, (v) => ipMatches(v, req.sourceIp))
    && anyNone(source.remoteIpBlocks, source.notRemoteIpBlocks, (v) => ipMatches(v, req.remoteIp ?? req.sourceIp))
    && anyNone(source.serviceAccounts, source.notServiceAccounts, saMatch)
    && anyNone(source.trustDomains, source.notTrustDomains, (v) => stringMatches(v, trustDomain));
}

export function operationMatches(op: any, req: RequestAttributes): boolean {
  const tcpOk = anyNone(op.ports, op.notPorts, (v) => Number(v) === req.port);
  if (!req.http) return tcpOk;
  return tcpOk
    && anyNone(op.hosts, op.notHosts, (v) => stringMatches(v.toLowerCase(), req.host.toLowerCase()))
    && anyNone(op.methods, op.notMethods, (v) => stringMatches(v, req.method))
    && anyNone(op.paths, op.notPaths, (v) => pathMatches(v, req.path));
}

/** The value of a `when` key, or undefined when the request does not have it (or the analysis cannot know it). */
function attribute(key: string, req: RequestAttributes): unknown {
  const header = /^request\.headers\[(.+)\]$/.exec(key);
  if (header) return req.headers[header[1].toLowerCase()];
  const claim = /^request\.auth\.claims((?:\[[^\]]+\])+)$/.exec(key);
  if (claim) {
    const names = claim[1].slice(1, -1).split('][');
    return names.reduce<unknown>((o, n) => (o && typeof o === 'object' ? (o as any)[n] : undefined), req.claims);
  }
  switch (key) {
    case 'source.ip': return req.sourceIp;
    case 'remote.ip': return req.remoteIp ?? req.sourceIp;
    case 'source.namespace': return namespaceOf(req.principal);
    case 'source.principal': return req.principal;
    case 'request.auth.principal': return req.requestPrincipal;
    case 'request.auth.audiences': return req.audiences;
    case 'request.auth.presenter': return req.presenter;
    case 'destination.port': return String(req.port);
    case 'connection.sni': return req.sni;
    default: return undefined;
  }
}

export function conditionMatches(cond: any, req: RequestAttributes): boolean {
  const key: string = cond?.key ?? '';
  if (!req.http && isHttpOnlyKey(key)) return true;
  const value = attribute(key, req);
  const values = value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)];
  const ipKey = key === 'source.ip' || key === 'remote.ip';
  const test = (pattern: string) => values.some((v) => (ipKey ? ipMatches(pattern, v) : stringMatches(pattern, v)));
  return anyNone(cond.values, cond.notValues, test);
}

/** Every part of a rule (sources ORed, operations ORed, conditions ANDed) matches. */
export function ruleMatches(rule: any, req: RequestAttributes, policyNs: string): boolean {
  const from: any[] | undefined = rule?.from;
  const to: any[] | undefined = rule?.to;
  return (!from || from.some((f) => sourceMatches(f?.source ?? {}, req, policyNs)))
    && (!to || to.some((t) => operationMatches(t?.operation ?? {}, req)))
    && (rule?.when ?? []).every((c: any) => conditionMatches(c, req));
}
