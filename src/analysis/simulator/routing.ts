// Which VirtualService routes a request, by which rule, to which destinations, and what else the rule does
// (networking/v1 virtual_service.proto). The caller's proxy (a sidecar, a gateway, a waypoint) does this.
import { hostMatchesPattern, hostSpecificity } from './hosts-match';
import { HttpRequest } from './http-request';
import { gatewaysApply, httpRuleMatch, l4RuleMatch, MatchContext, tcpMatchApplies, tlsMatchApplies } from './route-match';
import { fullRegex } from './string-match';
import { exportedTo, toFqdn } from '../hosts';
import { Res } from '../manifests';

/** One weighted destination of a route. */
export interface RoutedDestination {
  /** FQDN of the destination host. */
  readonly host: string;
  /** The host as written, and the namespace it was written in (for the registry lookup). */
  readonly writtenHost: string;
  readonly writtenNs: string;
  readonly subset?: string;
  /** The port written in the route, if any. */
  readonly port?: number;
  readonly weight: number;
  /** Field path of the destination. */
  readonly field: string;
  /** Header operations of this destination (`route[i].headers.request`). */
  readonly headers?: any;
}

/** What the route does. */
export interface RouteDecision {
  /** `route` (to destinations), `redirect`, `direct` (directResponse), `delegate-miss`, or `none` (no rule matches: 404). */
  readonly action: 'route' | 'redirect' | 'direct' | 'none';
  readonly vs?: Res;
  /** The rule (and match) that decided, e.g. `spec.http[1].match[0]`. */
  readonly field?: string;
  readonly rule?: any;
  /** The delegate VirtualService the rule came from. */
  readonly delegate?: Res;
  readonly destinations: RoutedDestination[];
  /** Other VirtualServices that define the same host for this proxy (only one applies for sidecars). */
  readonly conflicting: Res[];
  readonly notes: string[];
}

const asList = (v: unknown): any[] => (Array.isArray(v) ? v : []);

/** Indexes VirtualServices by the hosts they define, so a lookup does not scan every VirtualService. */
export class VirtualServiceIndex {
  private readonly exact = new Map<string, Res[]>();
  private readonly wildcards: Array<{ pattern: string; vs: Res }> = [];

  constructor(virtualServices: Res[]) {
    for (const vs of virtualServices) {
      for (const h of asList(vs.spec.hosts)) {
        const host = String(h).toLowerCase();
        if (host.startsWith('*')) {this.wildcards.push({ pattern: host, vs });} else {
          const fqdn = toFqdn(host, vs.ns);
          const list = this.exact.get(fqdn);
          if (list) {
            if (!list.includes(vs)) list.push(vs);
          } else {
            this.exact.set(fqdn, [vs]);
          }
        }
      }
    }
  }

  /** VirtualServices with a host matching `fqdn`, with the specificity of the best matching host. */
  candidates(fqdn: string): Array<{ vs: Res; specificity: number }> {
    const out: Array<{ vs: Res; specificity: number }> = (this.exact.get(fqdn) ?? []).map((vs) => ({ vs, specificity: hostSpecificity(fqdn) }));
    for (const w of this.wildcards) {
      if (!hostMatchesPattern(fqdn, w.pattern, w.vs.ns) || out.some((o) => o.vs === w.vs)) continue;
      out.push({ vs: w.vs, specificity: hostSpecificity(w.pattern) });
    }
    return out;
  }
}

/** The VirtualServices that apply to a request for `fqdn` on a proxy, most specific host first, and the ones tied with it. */
export function applicableVirtualServices(
  index: VirtualServiceIndex, fqdn: string, ctx: MatchContext, callerNs: string, visible: (vs: Res) => boolean,
): Res[] {
  const bound = index.candidates(fqdn).filter(({ vs }) => {
    const gateways = asList(vs.spec.gateways).map(String);
    ctx = { ...ctx, vsNamespace: vs.ns };
    // A VirtualService applies to the proxy when one of its gateways (or a rule's) names it.
    const ruleBound = (r: any) => asList(r?.match).some((m) => m?.gateways && gatewaysApply(m.gateways, gateways, ctx));
    const boundHere = gatewaysApply(undefined, gateways, ctx) || asList(vs.spec.http).some(ruleBound);
    if (!boundHere) return false;
    return exportedTo(vs, callerNs) && visible(vs);
  });
  if (bound.length === 0) return [];
  const best = Math.max(...bound.map((b) => b.specificity));
  return bound.filter((b) => b.specificity === best).map((b) => b.vs);
}

/** Plays the http rules of `vss` (merged, in order: one for a sidecar, several for a gateway). */
export function routeHttp(vss: Res[], req: HttpRequest, ctx: MatchContext, delegates: (ref: any, vs: Res) => Res | undefined): RouteDecision {
  const conflicting = vss.slice(1);
  for (const vs of vss) {
    const gateways = asList(vs.spec.gateways).map(String);
    const rules = asList(vs.spec.http);
    for (let i = 0; i < rules.length; i++) {
      const m = httpRuleMatch(rules[i], gateways, req, ctx);
      if (m === undefined) continue;
      const field = m < 0 ? `spec.http[${i}]` : `spec.http[${i}].match[${m}]`;
      const rule = rules[i];
      if (rule?.delegate) {
        const target = delegates(rule.delegate, vs);
        if (!target) {
          return { action: 'none', vs, field: `spec.http[${i}].delegate`, rule, destinations: [], conflicting, notes: [`the delegate VirtualService ${rule.delegate.namespace ?? vs.ns}/${rule.delegate.name} does not exist`] };
        }
        const inner = routeHttp([target], req, { ...ctx, gateway: ctx.gateway }, () => undefined);
        if (inner.action === 'none') continue;
        return { ...inner, vs, field, delegate: target, conflicting, notes: [`rule ${field} delegates to VirtualService ${target.ns}/${target.name}, whose ${inner.field} takes it`, ...inner.notes] };
      }
      return decisionOf(vs, field, rule, conflicting);
    }
  }
  return { action: 'none', vs: vss[0], destinations: [], conflicting, notes: [] };
}

/** Plays the tcp (or tls) rules. */
export function routeL4(vss: Res[], protocol: 'tcp' | 'tls', ctx: MatchContext): RouteDecision {
  const conflicting = vss.slice(1);
  for (const vs of vss) {
    const gateways = asList(vs.spec.gateways).map(String);
    const rules = asList(vs.spec[protocol]);
    for (let i = 0; i < rules.length; i++) {
      const test = (m: any) => (protocol === 'tls' ? tlsMatchApplies(m, gateways, vs.ns, ctx) : tcpMatchApplies(m, gateways, ctx));
      // TLS rules need a match (with sniHosts); a tcp rule without matches takes everything.
      const m = protocol === 'tls' && asList(rules[i]?.match).length === 0 ? undefined : l4RuleMatch(rules[i], test, gatewaysApply(undefined, gateways, ctx));
      if (m === undefined) continue;
      return decisionOf(vs, m < 0 ? `spec.${protocol}[${i}]` : `spec.${protocol}[${i}].match[${m}]`, rules[i], conflicting, protocol, i);
    }
  }
  return { action: 'none', vs: vss[0], destinations: [], conflicting, notes: [] };
}

function decisionOf(vs: Res, field: string, rule: any, conflicting: Res[], protocol = 'http', index?: number): RouteDecision {
  const base = field.replace(/\.match\[\d+\]$/, '');
  if (protocol === 'http' && rule?.redirect) return { action: 'redirect', vs, field, rule, destinations: [], conflicting, notes: [] };
  if (protocol === 'http' && rule?.directResponse) return { action: 'direct', vs, field, rule, destinations: [], conflicting, notes: [] };
  const routes = asList(rule?.route);
  const explicit = routes.filter((r) => r?.weight !== undefined).length;
  const destinations: RoutedDestination[] = routes.map((r, j) => ({
    host: toFqdn(String(r?.destination?.host ?? ''), vs.ns),
    writtenHost: String(r?.destination?.host ?? ''),
    writtenNs: vs.ns,
    subset: typeof r?.destination?.subset === 'string' ? r.destination.subset : undefined,
    port: r?.destination?.port?.number !== undefined ? Number(r.destination.port.number) : undefined,
    // "If there is only one destination in a rule, it will receive all traffic."
    weight: routes.length === 1 ? 100 : Number(r?.weight ?? 0),
    field: `${base}.route[${j}].destination`,
    headers: r?.headers?.request,
  }));
  const notes = routes.length > 1 && explicit < routes.length ? ['destinations without a weight get none of the traffic'] : [];
  void index;
  return { action: destinations.length ? 'route' : 'none', vs, field, rule, destinations, conflicting, notes: destinations.length ? notes : ['the rule has no route'] };
}

/** Istio's retry policy when a route writes none (pilot route/retry/retry.go). */
export const DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';

/** The fault of a rule, in words, and whether every request is aborted (with which status). */
export function faultOf(rule: any): { text?: string; abortAll?: number } {
  const fault = rule?.fault;
  if (!fault || typeof fault !== 'object') return {};
  const pct = (x: any) => (typeof x?.percentage?.value === 'number' ? x.percentage.value : typeof x?.percent === 'number' ? x.percent : 100);
  const parts: string[] = [];
  let abortAll: number | undefined;
  if (fault.delay) parts.push(`delay ${fault.delay.fixedDelay ?? '?'} for ${pct(fault.delay)}% of requests`);
  if (fault.abort) {
    const status = fault.abort.httpStatus ?? (fault.abort.grpcStatus ? `gRPC ${fault.abort.grpcStatus}` : '?');
    parts.push(`abort with ${status} for ${pct(fault.abort)}% of requests`);
    if (pct(fault.abort) >= 100 && typeof fault.abort.httpStatus === 'number') abortAll = fault.abort.httpStatus;
  }
  return { text: parts.join(' and ') || undefined, abortAll };
}

/** Mirror targets of a rule, in words. */
export function mirrorsOf(rule: any, vsNs: string): string[] {
  const describe = (d: any, pct: number) => `${toFqdn(String(d?.host ?? ''), vsNs)}${d?.subset ? ` subset ${d.subset}` : ''} (${pct}%)`;
  const out: string[] = [];
  if (rule?.mirror) out.push(describe(rule.mirror, typeof rule.mirrorPercentage?.value === 'number' ? rule.mirrorPercentage.value : 100));
  for (const m of asList(rule?.mirrors)) out.push(describe(m?.destination, typeof m?.percentage?.value === 'number' ? m.percentage.value : 100));
  return out;
}

/**
 * The path and authority after `rewrite`: `uri` replaces the matched prefix (or the whole path for other
 * matches), `uriRegexRewrite` substitutes, `authority` replaces the Host.
 */
export function rewritten(rule: any, matchIndex: number | undefined, path: string, host: string): { path: string; host: string; text?: string } {
  const rw = rule?.rewrite;
  if (!rw || typeof rw !== 'object') return { path, host };
  let p = path;
  const m = matchIndex !== undefined && matchIndex >= 0 ? asList(rule.match)[matchIndex] : undefined;
  if (typeof rw.uri === 'string' && rw.replacesPrefix === true) {
    // A Gateway API ReplacePrefixMatch: the matched path elements are replaced (a PathPrefix `/` matches none).
    const prefix = typeof m?.uri?.segmentPrefix === 'string' ? m.uri.segmentPrefix : '';
    const rest = path.startsWith(prefix) ? path.slice(prefix.length) : path;
    p = rw.uri.endsWith('/') && rest.startsWith('/') ? rw.uri + rest.slice(1) : rw.uri + rest;
  } else if (typeof rw.uri === 'string') {
    const prefix = m?.uri?.prefix;
    p = typeof prefix === 'string' && path.startsWith(prefix) ? rw.uri + path.slice(prefix.length) : rw.uri;
  } else if (rw.uriRegexRewrite?.match) {
    const re = fullRegex(String(rw.uriRegexRewrite.match));
    if (re) p = path.replace(new RegExp(String(rw.uriRegexRewrite.match)), String(rw.uriRegexRewrite.rewrite ?? '').replace(/\\(\d)/g, '$$$1'));
  }
  const h = typeof rw.authority === 'string' ? rw.authority.toLowerCase() : host;
  const changes = [p !== path ? `path ${path} → ${p}` : '', h !== host ? `authority ${host} → ${h}` : ''].filter((x) => x);
  return { path: p, host: h, text: changes.join(', ') || undefined };
}

/** Applies `headers.request` operations (set, add, remove) to lower-case request headers. */
export function applyHeaderOperations(headers: Record<string, string>, ops: any): Record<string, string> {
  if (!ops || typeof ops !== 'object') return headers;
  const out = { ...headers };
  for (const [k, v] of Object.entries(ops.set && typeof ops.set === 'object' ? ops.set : {})) out[k.toLowerCase()] = String(v);
  for (const [k, v] of Object.entries(ops.add && typeof ops.add === 'object' ? ops.add : {})) {
    const key = k.toLowerCase();
    out[key] = key in out ? `${out[key]},${v}` : String(v);
  }
  for (const k of asList(ops.remove)) delete out[String(k).toLowerCase()];
  return out;
}
