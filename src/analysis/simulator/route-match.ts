// Which VirtualService rule a request takes: HTTPMatchRequest, L4MatchAttributes and TLSMatchAttributes, by
// Istio's first-match semantics (networking/v1 virtual_service.proto), and when one match covers another, which
// is what decides shadowing (IST0130/IST0131) and the order the library writes routes in.
import { hostMatchesPattern } from './hosts-match';
import { HttpRequest } from './http-request';
import { fullRegex, ipMatches, stringMatchApplies, stringMatchCovers } from './string-match';

/** What a match is evaluated against, besides the request itself. */
export interface MatchContext {
  /** The port the proxy received the request on (the Service port for a sidecar, the server port for a gateway). */
  readonly port: number;
  /** `mesh` for a sidecar, `<namespace>/<name>` of the Gateway for a gateway. */
  readonly gateway: string;
  /** Namespace of the VirtualService (short gateway names in `gateways` resolve there). */
  readonly vsNamespace: string;
  /** Labels of the calling workload (sidecar), or of the gateway's pods. */
  readonly sourceLabels: Record<string, string>;
  readonly sourceNamespace: string;
  /** `http` or `https` as the proxy received it. */
  readonly scheme: string;
  /** Claims of a JWT validated on this proxy (gateways only: `@request.auth.claims.*` headers). */
  readonly claims?: Record<string, unknown>;
  /** The destination address, for `destinationSubnets`, when known. */
  readonly destinationIp?: string;
  /** TLS SNI (TLS routes). */
  readonly sni?: string;
}

/** True when the VirtualService rule (or match) is bound to the gateway of `ctx` (`gateways` lists override the VS's). */
export function gatewaysApply(gateways: unknown, vsGateways: string[], ctx: MatchContext): boolean {
  const list = Array.isArray(gateways) && gateways.length > 0 ? gateways : vsGateways;
  const effective = list.length === 0 ? ['mesh'] : list;
  return effective.some((g) => resolveGateway(String(g), ctx.vsNamespace) === ctx.gateway);
}

/** `mesh`, or `<namespace>/<name>` of a gateway reference written in a VirtualService of `vsNamespace`. */
export function resolveGateway(ref: string, vsNamespace: string): string {
  if (ref === 'mesh') return 'mesh';
  if (ref.includes('/')) {
    const [ns, name] = ref.split('/', 2);
    return `${ns === '.' ? vsNamespace : ns}/${name}`;
  }
  // The legacy `name.namespace` form.
  const dot = ref.indexOf('.');
  return dot > 0 ? `${ref.slice(dot + 1).split('.')[0]}/${ref.slice(0, dot)}` : `${vsNamespace}/${ref}`;
}

const asList = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const asMap = (v: unknown): Record<string, any> => (v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, any> : {});

function labelsInclude(labels: Record<string, string>, wanted: unknown): boolean {
  for (const [k, v] of Object.entries(asMap(wanted))) if (labels[k] !== String(v)) return false;
  return true;
}

/** The value a header match reads: a request header, a pseudo-header, or a JWT claim (`@request.auth.claims.a.b`). */
function headerValue(name: string, req: HttpRequest, ctx: MatchContext): string | undefined {
  const lower = name.toLowerCase();
  const claim = /^@request\.auth\.claims(?:\.(.+)|((?:\[[^\]]+\])+))$/.exec(name);
  if (claim) {
    const path = claim[1] !== undefined ? claim[1].split('.') : claim[2].slice(1, -1).split('][');
    const value = path.reduce<unknown>((o, n) => (o && typeof o === 'object' ? (o as any)[n] : undefined), ctx.claims);
    if (value === undefined) return undefined;
    return Array.isArray(value) ? value.map(String).join(',') : String(value);
  }
  switch (lower) {
    case ':method': return req.method;
    case ':path': return req.pathWithQuery;
    case ':authority': case 'host': return req.headers[lower] ?? req.host;
    case ':scheme': return ctx.scheme;
    default: return req.headers[lower];
  }
}

/** One HTTPMatchRequest: every field present must hold. */
export function httpMatchApplies(m: any, vsGateways: string[], req: HttpRequest, ctx: MatchContext): boolean {
  if (!m || typeof m !== 'object') return true;
  if (m.gateways !== undefined && !gatewaysApply(m.gateways, vsGateways, ctx)) return false;
  if (m.port !== undefined && Number(m.port) !== ctx.port) return false;
  if (m.sourceNamespace !== undefined && m.sourceNamespace !== ctx.sourceNamespace) return false;
  if (m.sourceLabels !== undefined && !labelsInclude(ctx.sourceLabels, m.sourceLabels)) return false;
  const ignoreCase = m.ignoreUriCase === true;
  if (m.uri !== undefined && !stringMatchApplies(m.uri, req.path, ignoreCase)) return false;
  if (m.scheme !== undefined && !stringMatchApplies(m.scheme, ctx.scheme)) return false;
  if (m.method !== undefined && !stringMatchApplies(m.method, req.method)) return false;
  if (m.authority !== undefined && !stringMatchApplies(m.authority, req.host) && !stringMatchApplies(m.authority, `${req.host}:${ctx.port}`)) return false;
  for (const [name, sm] of Object.entries(asMap(m.headers))) {
    if (!stringMatchApplies(sm, headerValue(name, req, ctx))) return false;
  }
  for (const [name, sm] of Object.entries(asMap(m.withoutHeaders))) {
    if (stringMatchApplies(sm, headerValue(name, req, ctx))) return false;
  }
  for (const [name, sm] of Object.entries(asMap(m.queryParams))) {
    if (!stringMatchApplies(sm, req.query.get(name))) return false;
  }
  return true;
}

/** An http rule applies when it has no match or one of its matches applies (matches are ORed). */
export function httpRuleMatch(rule: any, vsGateways: string[], req: HttpRequest, ctx: MatchContext): number | undefined {
  const matches = asList(rule?.match);
  if (matches.length === 0) return gatewaysApply(undefined, vsGateways, ctx) ? -1 : undefined;
  const i = matches.findIndex((m) => httpMatchApplies(m, vsGateways, req, ctx));
  return i < 0 ? undefined : i;
}

/** L4MatchAttributes (tcp rules). */
export function tcpMatchApplies(m: any, vsGateways: string[], ctx: MatchContext): boolean {
  if (!m || typeof m !== 'object') return true;
  if (m.gateways !== undefined && !gatewaysApply(m.gateways, vsGateways, ctx)) return false;
  if (m.port !== undefined && Number(m.port) !== ctx.port) return false;
  if (m.sourceNamespace !== undefined && m.sourceNamespace !== ctx.sourceNamespace) return false;
  if (m.sourceLabels !== undefined && !labelsInclude(ctx.sourceLabels, m.sourceLabels)) return false;
  const subnets = asList(m.destinationSubnets);
  if (subnets.length > 0 && !subnets.some((s) => ipMatches(String(s), ctx.destinationIp))) return false;
  return true;
}

/** TLSMatchAttributes (tls rules): `sniHosts` are required and may be wildcards. */
export function tlsMatchApplies(m: any, vsGateways: string[], vsNamespace: string, ctx: MatchContext): boolean {
  if (!tcpMatchApplies(m, vsGateways, ctx)) return false;
  const sni = ctx.sni;
  return sni !== undefined && asList(m?.sniHosts).some((h) => hostMatchesPattern(sni, String(h), vsNamespace));
}

/** Index of the matching match of an L4 rule (-1: no matches, matches everything), or undefined. */
export function l4RuleMatch(rule: any, test: (m: any) => boolean, gatewayOk: boolean): number | undefined {
  const matches = asList(rule?.match);
  if (matches.length === 0) return gatewayOk ? -1 : undefined;
  const i = matches.findIndex(test);
  return i < 0 ? undefined : i;
}

// ---- covering: does every request of match `b` also match `a`? ----

function mapCovers(a: unknown, b: unknown, ignoreCase = false): boolean {
  const bm = asMap(b);
  return Object.entries(asMap(a)).every(([k, sm]) => k in bm && stringMatchCovers(sm, bm[k], ignoreCase));
}

/**
 * True when every request `b` matches is also matched by `a` (HTTPMatchRequests of one VirtualService). This is
 * the relation that makes a later rule unreachable behind an earlier one; it is decided per field, exactly for
 * exact and prefix values, conservatively (not covered) where regexes would have to be compared.
 */
export function httpMatchCovers(a: any, b: any): boolean {
  const x = a && typeof a === 'object' ? a : {};
  const y = b && typeof b === 'object' ? b : {};
  if (x.port !== undefined && Number(x.port) !== Number(y.port)) return false;
  if (x.sourceNamespace !== undefined && x.sourceNamespace !== y.sourceNamespace) return false;
  if (x.sourceLabels !== undefined && !labelsInclude(asMap(y.sourceLabels), x.sourceLabels)) return false;
  if (x.gateways !== undefined) {
    const yg = asList(y.gateways);
    if (yg.length === 0 || !yg.every((g) => asList(x.gateways).includes(g))) return false;
  }
  if (x.uri !== undefined) {
    if (y.uri === undefined) return false;
    const xi = x.ignoreUriCase === true;
    const yi = y.ignoreUriCase === true;
    // A case-sensitive match never covers a case-insensitive one; a case-insensitive one covers what it covers
    // in lower case.
    if (yi && !xi) return false;
    if (!stringMatchCovers(x.uri, y.uri, xi)) return false;
  }
  for (const field of ['scheme', 'method', 'authority']) {
    if (x[field] !== undefined && (y[field] === undefined || !stringMatchCovers(x[field], y[field]))) return false;
  }
  if (!mapCovers(x.headers, y.headers) || !mapCovers(x.queryParams, y.queryParams)) return false;
  // `a` excludes header values: `b` must exclude at least as much.
  const yw = asMap(y.withoutHeaders);
  for (const [k, sm] of Object.entries(asMap(x.withoutHeaders))) {
    if (!(k in yw) || !stringMatchCovers(yw[k], sm)) return false;
  }
  return true;
}

/** True when every request of the rule `b` (its matches ORed; none = all) is taken by rule `a`. */
export function httpRuleCovers(a: any, b: any): boolean {
  const am = asList(a?.match);
  if (am.length === 0) return true;
  const bm = asList(b?.match);
  if (bm.length === 0) return am.some((m) => httpMatchCovers(m, {}));
  return bm.every((mb) => am.some((ma) => httpMatchCovers(ma, mb)));
}

/** True when the regex of a StringMatch cannot compile (it then matches nothing). */
export function brokenRegex(sm: any): boolean {
  return typeof sm?.regex === 'string' && fullRegex(sm.regex) === null;
}

/** A match (or a whole rule) that an earlier rule takes every request of. */
export interface Shadow {
  /** The shadowed rule. */
  readonly rule: number;
  /** The shadowed match of that rule; undefined when the rule has no matches (a catch-all). */
  readonly match?: number;
  /** The earlier rule that takes its requests. */
  readonly by: number;
  /** The match of the earlier rule; undefined when it is a catch-all. */
  readonly byMatch?: number;
}

/**
 * The http rules (and their matches) that can never be used because an earlier rule of the same VirtualService takes
 * every request they match: first match wins.
 */
export function shadowedMatches(rules: any[]): { matches: Shadow[]; rules: Shadow[] } {
  const matches: Shadow[] = [];
  const whole: Shadow[] = [];
  rules.forEach((rule, j) => {
    const mj = asList(rule?.match);
    const takenBy = (m: any): { by: number; byMatch?: number } | undefined => {
      for (let i = 0; i < j; i++) {
        const mi = asList(rules[i]?.match);
        if (mi.length === 0) return { by: i };
        const k = mi.findIndex((x) => httpMatchCovers(x, m));
        if (k >= 0) return { by: i, byMatch: k };
      }
      return undefined;
    };
    if (mj.length === 0) {
      const t = takenBy({});
      if (t) whole.push({ rule: j, ...t });
      return;
    }
    // An earlier rule, or an earlier match of the same rule, takes the match's requests.
    const taken = mj.map((m, k) => takenBy(m) ?? sameRule(mj, k, j));
    taken.forEach((t, k) => {
      if (t && t.byMatch !== undefined) matches.push({ rule: j, match: k, ...t });
    });
    const fromEarlier = taken.filter((t) => t && t.by < j);
    if (fromEarlier.length === mj.length) whole.push({ rule: j, by: fromEarlier[0]!.by, byMatch: fromEarlier[0]!.byMatch });
  });
  return { matches, rules: whole };
}

function sameRule(matches: any[], k: number, rule: number): { by: number; byMatch: number } | undefined {
  for (let i = 0; i < k; i++) if (httpMatchCovers(matches[i], matches[k])) return { by: rule, byMatch: i };
  return undefined;
}

/**
 * An order of http rules in which no rule is unreachable behind an earlier, broader one (first match wins):
 * declaration order, except that a rule some of whose requests an earlier rule would take, and which takes none of
 * that rule's, moves before it; rules without matches go last. `duplicates` are pairs that take each other's
 * requests (the same matches): no order can serve both.
 */
export function orderHttpRules(rules: any[]): { order: number[]; duplicates: Array<[number, number]> } {
  const shadows = (a: any, b: any) => {
    const am = asList(a?.match);
    const bm = asList(b?.match);
    if (am.length === 0) return true;
    return (bm.length === 0 ? [{}] : bm).some((mb) => am.some((ma) => httpMatchCovers(ma, mb)));
  };
  const specific = rules.map((_, i) => i).filter((i) => asList(rules[i]?.match).length > 0);
  const catchAll = rules.map((_, i) => i).filter((i) => asList(rules[i]?.match).length === 0);
  const duplicates: Array<[number, number]> = [];
  for (let x = 0; x < specific.length; x++) {
    for (let y = x + 1; y < specific.length; y++) {
      const a = rules[specific[x]];
      const b = rules[specific[y]];
      if (httpRuleCovers(a, b) && httpRuleCovers(b, a)) duplicates.push([specific[x], specific[y]]);
    }
  }
  for (let k = 1; k < catchAll.length; k++) duplicates.push([catchAll[0], catchAll[k]]);
  const ordered = [...specific];
  let moved = true;
  // At most n² moves: each puts a strictly more specific rule first.
  for (let guard = ordered.length * ordered.length; moved && guard > 0; guard--) {
    moved = false;
    for (let j = 1; j < ordered.length && !moved; j++) {
      for (let i = 0; i < j; i++) {
        if (shadows(rules[ordered[i]], rules[ordered[j]]) && !shadows(rules[ordered[j]], rules[ordered[i]])) {
          const [later] = ordered.splice(j, 1);
          ordered.splice(i, 0, later);
          moved = true;
          break;
        }
      }
    }
  }
  return { order: [...ordered, ...catchAll], duplicates };
}
