// Mesh routes of the Kubernetes Gateway API (GAMMA: an HTTPRoute or TCPRoute whose parentRef is a Service), played
// by the same engine as VirtualServices. Istio itself converts each HTTPRoute into an internal VirtualService with one
// match per http rule and sorts those rules by the Gateway API precedence (pilot/pkg/config/kube/gateway
// conversion.go, `sortHTTPRoutes`); this module does the same conversion, so matching, weights, rewrites, redirects,
// mirrors, header operations and timeouts are decided by the rules the rest of the simulator already has.
//
// Precedence, from the HTTPRoute CRD (`spec.rules[].matches`, Gateway API v1.6.1): across all rules of the applicable
// Routes, an "Exact" path match, then the "Prefix" path match with the most characters, then a method match, then the
// most header matches, then the most query param matches; ties go to the oldest Route, then the Route first by
// "{namespace}/{name}", then the first rule and match in list order. RegularExpression paths are implementation-
// specific: Istio ranks them after prefixes (Exact > Prefix > Regex).
import { toFqdn } from '../hosts';
import { Res } from '../manifests';

const asList = (v: unknown): any[] => (Array.isArray(v) ? v : []);

/** Where a rule of the converted routes came from, to name the HTTPRoute field in traces. */
export interface GatewayRuleOrigin {
  readonly route: Res;
  /** `spec.rules[i].matches[j]`, or `spec.rules[i]` for a rule without matches. */
  readonly field: string;
  /** `spec.rules[i]`. */
  readonly ruleField: string;
}

/** The Gateway API routes of one Service, as Istio's internal VirtualService, with the origin of each rule. */
export interface ConvertedRoutes {
  /** A VirtualService-shaped object (kind and name of the first route; `spec.http` or `spec.tcp`). */
  readonly vs: Res;
  readonly origins: GatewayRuleOrigin[];
  /** The routes converted, in precedence order of creation and name. */
  readonly routes: Res[];
}

/** True when a parentRef names the Service `svc` (the GAMMA pattern), on `port` if it names one. */
export function parentRefIsService(ref: any, route: Res, svc: Res, port: number | undefined): boolean {
  const group = ref?.group ?? '';
  if (ref?.kind !== 'Service' || (group !== '' && group !== 'core')) return false;
  if (ref.name !== svc.name || (ref.namespace ?? route.ns) !== svc.ns) return false;
  return ref.port === undefined || port === undefined || Number(ref.port) === port;
}

/**
 * The routes of `kind` (HTTPRoute, TCPRoute) attached to Service `svc` that apply to a caller in `callerNs`: producer
 * routes (in the Service's namespace) apply to every caller, consumer routes (in another namespace) to callers of
 * that namespace only, and a caller's consumer routes win over the producer's (GEP-1426).
 */
export function gammaRoutes(all: Res[], svc: Res, port: number | undefined, callerNs: string): Res[] {
  const attached = all.filter((r) => asList(r.spec?.parentRefs).some((p) => parentRefIsService(p, r, svc, port)));
  const consumer = attached.filter((r) => r.ns !== svc.ns && r.ns === callerNs);
  const chosen = consumer.length > 0 ? consumer : attached.filter((r) => r.ns === svc.ns);
  return chosen.sort(routeOrder);
}

/** Routes in the Gateway API's order of precedence on ties: the oldest first, then by `{namespace}/{name}`. */
export function routeOrder(a: Res, b: Res): number {
  const ta = String(a.raw?.metadata?.creationTimestamp ?? '');
  const tb = String(b.raw?.metadata?.creationTimestamp ?? '');
  if (ta !== tb) return ta < tb ? -1 : 1;
  const na = `${a.ns}/${a.name}`;
  const nb = `${b.ns}/${b.name}`;
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** An HTTPRouteMatch's path, with the API server's default (PathPrefix `/`). */
function pathOf(m: any): { type: string; value: string } {
  const p = m?.path ?? {};
  return { type: String(p.type ?? 'PathPrefix'), value: String(p.value ?? '/') };
}

/** Istio's rank of a path match: Exact > PathPrefix > RegularExpression. */
function pathRank(type: string): number {
  return type === 'Exact' ? 3 : type === 'PathPrefix' ? 2 : 1;
}

/**
 * Compares two HTTPRouteMatches by the Gateway API precedence: negative when `a` is tried first, 0 on a tie (then
 * route age, name, and list order decide).
 */
export function compareHttpRouteMatches(a: any, b: any): number {
  const pa = pathOf(a);
  const pb = pathOf(b);
  if (pathRank(pa.type) !== pathRank(pb.type)) return pathRank(pb.type) - pathRank(pa.type);
  if (pa.value.length !== pb.value.length) return pb.value.length - pa.value.length;
  const ma = a?.method !== undefined;
  const mb = b?.method !== undefined;
  if (ma !== mb) return ma ? -1 : 1;
  const ha = asList(a?.headers).length;
  const hb = asList(b?.headers).length;
  if (ha !== hb) return hb - ha;
  return asList(b?.queryParams).length - asList(a?.queryParams).length;
}

/**
 * Compares two GRPCRouteMatches by the GRPCRoute precedence (`spec.rules[].matches`, Gateway API v1.6.1): the most
 * characters in a matching service, then in a matching method, then the most header matches (mesh routes have no
 * hostnames); 0 on a tie (route age, name and list order decide).
 */
export function compareGrpcRouteMatches(a: any, b: any): number {
  const chars = (m: any, key: 'service' | 'method') => String(m?.method?.[key] ?? '').length;
  return chars(b, 'service') - chars(a, 'service') || chars(b, 'method') - chars(a, 'method')
    || asList(b?.headers).length - asList(a?.headers).length;
}

/**
 * A GRPCRouteMatch as a VirtualService HTTPMatchRequest on `:path` (GEP-1016: a gRPC call is a POST to
 * `/<service>/<method>`): an Exact service and method is that path, a service alone the prefix `/<service>/`, a
 * method alone (or a RegularExpression match) a regex with `[^/]+` for what is not given.
 */
export function grpcRouteMatchAsIstio(m: any): any {
  const out = httpRouteMatchAsIstio({ headers: m?.headers });
  const method = m?.method;
  if (!method) return out;
  const service = method.service === undefined ? undefined : String(method.service);
  const name = method.method === undefined ? undefined : String(method.method);
  if ((method.type ?? 'Exact') === 'Exact' && service !== undefined) {
    out.uri = name !== undefined ? { exact: `/${service}/${name}` } : { prefix: `/${service}/` };
  } else if (service !== undefined || name !== undefined) {
    const part = (v: string | undefined, exact: boolean) => (v === undefined ? '[^/]+' : exact ? v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : v);
    const exact = (method.type ?? 'Exact') === 'Exact';
    out.uri = { regex: `/${part(service, exact)}/${part(name, exact)}` };
  }
  return out;
}

/** An HTTPRouteMatch as a VirtualService HTTPMatchRequest (a path prefix matches whole path segments). */
export function httpRouteMatchAsIstio(m: any): any {
  const out: any = {};
  const path = pathOf(m);
  if (path.type === 'Exact') out.uri = { exact: path.value };
  else if (path.type === 'RegularExpression') out.uri = { regex: path.value };
  else if (path.value !== '/') out.uri = { segmentPrefix: path.value.replace(/\/+$/, '') };
  if (m?.method !== undefined) out.method = { exact: String(m.method) };
  const values = (list: unknown[], lower: boolean) => Object.fromEntries(list.map((h: any) => [
    lower ? String(h?.name ?? '').toLowerCase() : String(h?.name ?? ''),
    h?.type === 'RegularExpression' ? { regex: String(h?.value ?? '') } : { exact: String(h?.value ?? '') },
  ]));
  if (asList(m?.headers).length) out.headers = values(asList(m.headers), true);
  if (asList(m?.queryParams).length) out.queryParams = values(asList(m.queryParams), false);
  return out;
}

function headerOps(f: any): any {
  const map = (list: unknown) => (asList(list).length ? Object.fromEntries(asList(list).map((h: any) => [String(h?.name ?? '').toLowerCase(), String(h?.value ?? '')])) : undefined);
  return { set: map(f?.set), add: map(f?.add), remove: asList(f?.remove).length ? asList(f.remove).map(String) : undefined };
}

function backendHost(ref: any, ns: string): string {
  return toFqdn(String(ref?.name ?? ''), String(ref?.namespace ?? ns));
}

/**
 * Why a backendRef of a route cannot be used (a cross-namespace reference no ReferenceGrant permits), or undefined.
 * Istio drops such a backend: its share of the requests is answered 500.
 */
export type BackendRefused = (route: Res, ref: any) => string | undefined;

/** One HTTPRoute (or GRPCRoute) rule, for one of its matches, as an Istio http rule. */
function convertHttpRule(route: Res, rule: any, match: any | undefined, refused: BackendRefused | undefined, grpc: boolean): any {
  const out: any = {};
  if (match !== undefined) out.match = [grpc ? grpcRouteMatchAsIstio(match) : httpRouteMatchAsIstio(match)];
  for (const f of asList(rule?.filters)) {
    switch (f?.type) {
      case 'RequestHeaderModifier': out.headers = { ...out.headers, request: headerOps(f.requestHeaderModifier) }; break;
      case 'ResponseHeaderModifier': out.headers = { ...out.headers, response: headerOps(f.responseHeaderModifier) }; break;
      case 'URLRewrite': {
        const rw = f.urlRewrite ?? {};
        const path = rw.path ?? {};
        out.rewrite = {
          authority: rw.hostname,
          uri: path.type === 'ReplaceFullPath' ? path.replaceFullPath : path.type === 'ReplacePrefixMatch' ? path.replacePrefixMatch : undefined,
          // ReplacePrefixMatch replaces the matched prefix; ReplaceFullPath the whole path.
          replacesPrefix: path.type === 'ReplacePrefixMatch',
        };
        break;
      }
      case 'RequestRedirect': {
        const r = f.requestRedirect ?? {};
        out.redirect = {
          scheme: r.scheme,
          authority: r.hostname,
          port: r.port,
          uri: r.path?.type === 'ReplaceFullPath' ? r.path.replaceFullPath : undefined,
          // "StatusCode is the HTTP status code to be used in response." default 302 (HTTPRoute CRD).
          redirectCode: r.statusCode ?? 302,
        };
        break;
      }
      case 'RequestMirror': {
        const m = f.requestMirror ?? {};
        const pct = typeof m.percent === 'number' ? m.percent
          : m.fraction ? (Number(m.fraction.numerator) / Number(m.fraction.denominator ?? 100)) * 100 : 100;
        out.mirrors = [...asList(out.mirrors), {
          destination: {
            host: backendHost(m.backendRef, route.ns),
            port: m.backendRef?.port !== undefined ? { number: m.backendRef.port } : undefined,
          },
          percentage: { value: pct },
        }];
        break;
      }
      default: break;
    }
  }
  const services = asList(rule?.backendRefs).filter((b) => (b?.kind ?? 'Service') === 'Service' && (b?.group ?? '') === '');
  const reasons = refused ? services.map((b) => refused(route, b)).filter((r): r is string => r !== undefined) : [];
  const refs = refused ? services.filter((b) => refused(route, b) === undefined) : services;
  if (!out.redirect && reasons.length > 0) {
    // Not a field of Istio's VirtualService: the trace reads it to say why the backend is not used.
    out.refusedBackends = reasons;
    if (refs.length === 0) out.directResponse = { status: 500 };
  }
  if (!out.redirect && refs.length > 0) {
    out.route = refs.map((b) => {
      const filters = asList(b?.filters).find((f) => f?.type === 'RequestHeaderModifier');
      return {
        destination: { host: backendHost(b, route.ns), port: b?.port !== undefined ? { number: Number(b.port) } : undefined },
        // "Weight ... defaults to 1" (HTTPBackendRef): weights are proportional.
        weight: b?.weight === undefined ? 1 : Number(b.weight),
        headers: filters ? { request: headerOps(filters.requestHeaderModifier) } : undefined,
      };
    });
  }
  const timeout = rule?.timeouts?.request;
  if (typeof timeout === 'string' && timeout !== '0s') out.timeout = timeout;
  return out;
}

/**
 * The HTTPRoutes (or the GRPCRoutes) of a Service, merged and sorted as Istio's waypoint (or sidecar) plays them. A
 * GRPCRoute has the filters of an HTTPRoute that gRPC keeps (header modifiers, mirror) and its own matches and
 * precedence.
 */
export function convertHttpRoutes(routes: Res[], refused?: BackendRefused, grpc = false): ConvertedRoutes | undefined {
  if (routes.length === 0) return undefined;
  const compare = grpc ? compareGrpcRouteMatches : compareHttpRouteMatches;
  type Entry = { rule: any; origin: GatewayRuleOrigin; order: number; match?: any };
  const entries: Entry[] = [];
  routes.forEach((route, r) => {
    asList(route.spec?.rules).forEach((rule, i) => {
      const matches = asList(rule?.matches);
      const ruleField = `spec.rules[${i}]`;
      // A rule without matches matches every request: PathPrefix "/".
      if (matches.length === 0) {
        const rule0 = convertHttpRule(route, rule, undefined, refused, grpc);
        entries.push({ rule: rule0, origin: { route, field: ruleField, ruleField }, order: r, match: {} });
      }
      matches.forEach((m, j) => entries.push({ rule: convertHttpRule(route, rule, m, refused, grpc), origin: { route, field: `${ruleField}.matches[${j}]`, ruleField }, order: r, match: m }));
    });
  });
  // A stable sort: route order (age, name), then list order break the ties the spec leaves.
  const sorted = entries.map((e, k) => ({ e, k }))
    .sort((x, y) => compare(x.e.match, y.e.match) || x.e.order - y.e.order || x.k - y.k)
    .map((x) => x.e);
  const first = routes[0];
  return {
    vs: { ...first, spec: { http: sorted.map((e) => e.rule) } },
    origins: sorted.map((e) => e.origin),
    routes,
  };
}

/** The TCPRoutes (or TLSRoutes) of a parent: the first rule's weighted backends (a TCPRoute rule has no matches). */
export function convertTcpRoutes(routes: Res[], refused?: BackendRefused): ConvertedRoutes | undefined {
  if (routes.length === 0) return undefined;
  const route = routes[0];
  const rules = asList(route.spec?.rules);
  const tcp = rules.slice(0, 1).map((rule) => ({
    refusedBackends: refused ? asList(rule?.backendRefs).map((b) => refused(route, b)).filter((r) => r !== undefined) : undefined,
    route: asList(rule?.backendRefs).filter((b) => !refused || refused(route, b) === undefined).map((b) => ({
      destination: { host: backendHost(b, route.ns), port: b?.port !== undefined ? { number: Number(b.port) } : undefined },
      weight: b?.weight === undefined ? 1 : Number(b.weight),
    })),
  }));
  return { vs: { ...route, spec: { tcp } }, origins: [{ route, field: 'spec.rules[0]', ruleField: 'spec.rules[0]' }], routes };
}

/**
 * The TLSRoutes of a Service as Istio's `tls` rules: each route's one rule, for the SNI hostnames it lists (the TLSRoute
 * CRD: `hostnames` "should match against the SNI attribute of TLS ClientHello"; a `*.` label is a wildcard).
 */
export function convertTlsRoutes(routes: Res[], refused?: BackendRefused): ConvertedRoutes | undefined {
  if (routes.length === 0) return undefined;
  const backendsOf = (route: Res) => asList(asList(route.spec?.rules)[0]?.backendRefs);
  const tls = routes.map((route) => ({
    match: [{ sniHosts: asList(route.spec?.hostnames).map(String) }],
    refusedBackends: refused ? backendsOf(route).map((b) => refused(route, b)).filter((r) => r !== undefined) : undefined,
    route: backendsOf(route).filter((b) => !refused || refused(route, b) === undefined).map((b) => ({
      destination: { host: backendHost(b, route.ns), port: b?.port !== undefined ? { number: Number(b.port) } : undefined },
      weight: b?.weight === undefined ? 1 : Number(b.weight),
    })),
  }));
  const origins = routes.map((route) => ({ route, field: 'spec.rules[0]', ruleField: 'spec.rules[0]' }));
  return { vs: { ...routes[0], spec: { tls } }, origins, routes };
}

/** An Istio field path of a converted rule (`spec.http[3].match[0]`, `spec.http[3].route[1].destination`) as the HTTPRoute field. */
export function originalField(field: string | undefined, origins: GatewayRuleOrigin[]): string | undefined {
  if (field === undefined) return undefined;
  const m = /^spec\.(?:http|tcp|tls)\[(\d+)\](.*)$/.exec(field);
  if (!m) return field;
  const origin = origins[Number(m[1])];
  if (!origin) return field;
  const rest = m[2];
  const dest = /^\.route\[(\d+)\]/.exec(rest);
  if (dest) return `${origin.ruleField}.backendRefs[${dest[1]}]`;
  return origin.field;
}
