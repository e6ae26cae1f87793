// Internal: the routes of one host as Kubernetes Gateway API mesh routes (GAMMA): an HTTPRoute (or TCPRoute) whose
// parentRef is the host's Service, a Service per version where a route names one (Istio's
// samples/bookinfo/platform/kube/bookinfo-versions.yaml), rules in the order Istio's Gateway API implementation
// matches them (the request simulator's `compareHttpRouteMatches`).
import { Duration } from 'cdk8s';
import { compareGrpcRouteMatches, compareHttpRouteMatches } from '../analysis/simulator/gateway-api';
import type { MeshService } from '../mesh/mesh-service';
import { isHttpProtocol, isTlsProtocol, Protocol } from '../mesh/protocol';
import type { ServiceVersion } from '../mesh/service-version';
import { HeaderMatch, HttpMatch, QueryParamMatch, StringMatchKind } from '../traffic/match';
import { HeaderOperations } from '../traffic/route-actions';
import type { TrafficSplitOptions, WeightedDestination } from '../traffic/traffic-split';

/** The API version of the mesh routes (HTTPRoute and TCPRoute are served as v1 in Gateway API v1.6.1). */
export const GATEWAY_API_VERSION = 'gateway.networking.k8s.io/v1';

/** What the Gateway API cannot express of a route: the reason and what to do instead. */
export interface GatewayApiGap {
  readonly what: string;
  readonly fix: string;
}

const ISTIO_FIX = 'or route the mesh with VirtualServices (new Mesh(..., { routingApi: RoutingApi.ISTIO }); on a waypoint Istio supports them as Alpha)';

/**
 * Why the route cannot be written as an HTTPRoute (or TCPRoute) without changing what it does, or undefined. Each
 * reason is a field of TrafficSplitOptions that the HTTPRoute of Gateway API v1.6.1 (standard channel) has no
 * equivalent for, or has with other semantics. With `grpcRoute` (a gRPC service's mesh route), what a GRPCRoute has
 * not; an ingress gateway's route to a gRPC service is an HTTPRoute.
 */
export function gatewayApiGap(service: MeshService, o: TrafficSplitOptions, grpcRoute = false): GatewayApiGap | undefined {
  if (!isHttpProtocol(service.protocol)) return undefined;
  if (grpcRoute) {
    const gap = grpcRouteGap(o);
    if (gap) return gap;
  }
  const gaps: Array<[unknown, string, string]> = [
    [o.fault, 'the Gateway API has no fault injection', 'inject faults in a test environment with routingApi: RoutingApi.ISTIO, or remove the fault'],
    [o.retry, 'the HTTPRoute of Gateway API v1.6.1 (standard channel) has no retry policy', `remove retry (Istio's default retries apply: 2 attempts on connect-failure, refused-stream, unavailable, cancelled, 503), ${ISTIO_FIX}`],
    [o.directResponse, 'the HTTPRoute has no direct response', `answer from a backend, ${ISTIO_FIX}`],
    // Gateway API v1.6.1 has a CORS filter; how Istio 1.30 turns it into Envoy's CORS policy is not verified here.
    [o.corsPolicy, 'the library does not write the HTTPRoute CORS filter yet', `answer CORS in the service, ${ISTIO_FIX}`],
    [o.rewrite?.uriRegex, 'the URLRewrite filter replaces a full path or a prefix, not a regex', `rewrite with rewrite.uri, ${ISTIO_FIX}`],
    [o.mirror?.host, 'a RequestMirror filter mirrors to a Service, not to a host name', 'mirror to a version (Mirror.toVersion)'],
    [o.mirror?.version && o.mirror.version.service.mesh !== service.mesh ? o.mirror : undefined,
      'a RequestMirror to another namespace needs a ReferenceGrant, which the library does not write yet', `mirror to a version of namespace "${service.mesh.namespaceName}", ${ISTIO_FIX}`],
  ];
  for (const [value, what, fix] of gaps) if (value !== undefined) return { what, fix };
  const redirectCode = o.redirect?.redirectCode ?? 301;
  if (o.redirect && ![301, 302, 303, 307, 308].includes(redirectCode)) {
    return { what: `a RequestRedirect answers 301, 302, 303, 307 or 308, not ${redirectCode}`, fix: 'use one of those codes' };
  }
  const matches = o.matches ?? [];
  for (const m of matches) {
    const gap = matchGap(m, grpcRoute);
    if (gap) return gap;
  }
  if (o.rewrite?.uri !== undefined && matches.some((m) => m.path?.kind === StringMatchKind.PREFIX && !m.path.wholeSegments)) {
    return {
      what: 'a VirtualService rewrite replaces the matched prefix as a string, a URLRewrite ReplacePrefixMatch by path elements',
      fix: `rewrite only routes with exact path matches (or none), ${ISTIO_FIX}`,
    };
  }
  for (const [what, ops] of [['requestHeaders', o.requestHeaders], ['responseHeaders', o.responseHeaders]] as const) {
    const pseudo = [...Object.keys(ops?.set ?? {}), ...Object.keys(ops?.add ?? {})].find((n) => n.startsWith(':') || n === 'host');
    if (pseudo) return { what: `${what} sets "${pseudo}", which a header modifier of the Gateway API cannot`, fix: 'set the authority with rewrite: { authority }' };
  }
  return undefined;
}

/** @param grpc a GRPCRoute match: a prefix `/<service>/` there is a service match, the same as the string prefix. */
function matchGap(m: HttpMatch, grpc: boolean): GatewayApiGap | undefined {
  if (!grpc && m.path?.kind === StringMatchKind.PREFIX && m.path.value !== '/' && !m.path.wholeSegments) {
    return {
      what: `the path prefix "${m.path.value}" is a string prefix in a VirtualService (it also matches "${m.path.value}x"), but a Gateway API PathPrefix matches whole path elements`,
      fix: `match whole path elements with PathMatch.pathPrefix('${m.path.value}'), or PathMatch.regex('${regexEscape(m.path.value)}.*'), ${ISTIO_FIX}`,
    };
  }
  if (m.ignoreUriCase) return { what: 'the Gateway API matches paths case-sensitively only', fix: `remove ignoreUriCase, ${ISTIO_FIX}` };
  if (m.sourceWorkload) return { what: 'an HTTPRoute cannot match the calling workload', fix: `restrict callers with allowFrom, ${ISTIO_FIX}` };
  const absent = (m.headers ?? []).find((h) => h.isAbsent);
  if (absent) return { what: `an HTTPRoute cannot match the absence of header "${absent.name}"`, fix: `match a value instead, ${ISTIO_FIX}` };
  return undefined;
}

/** Escapes RE2 metacharacters. */
export function regexEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A Gateway API duration (`^([0-9]{1,5}(h|m|s|ms)){1,4}$`): `500ms`, `2s`, `1m30s`. */
export function gatewayDuration(d: Duration): string {
  let ms = Math.round(d.toMilliseconds({ integral: false }));
  if (ms === 0) return '0s';
  const parts: string[] = [];
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    const n = Math.floor(ms / size);
    if (n > 0) parts.push(`${n}${unit}`);
    ms -= n * size;
  }
  return parts.join('');
}

/** The name of the Service that selects `version`'s pods: the service itself when it has one version. */
export function backendName(version: ServiceVersion): string {
  const service = version.service;
  return service.versions.length > 1 ? `${service.name}-${version.name}` : service.name;
}

function backendRef(version: ServiceVersion, weight: number | undefined): any {
  return compactObject({ name: backendName(version), port: version.service.port, weight });
}

function backendRefs(destinations: WeightedDestination[]): any[] {
  return destinations.map((d) => backendRef(d.version, destinations.length > 1 ? d.weight : undefined));
}

function stringValue(m: HeaderMatch | QueryParamMatch): { type?: string; value: string } {
  if (m.kind === undefined) return { type: 'RegularExpression', value: '.*' };
  if (m.kind === StringMatchKind.EXACT) return { value: m.value };
  if (m.kind === StringMatchKind.PREFIX) return { type: 'RegularExpression', value: `${regexEscape(m.value)}.*` };
  return { type: 'RegularExpression', value: m.value };
}

/** One HTTPRouteMatch (the library's match, after gatewayApiGap accepted it). */
export function renderGatewayMatch(m: HttpMatch): any {
  const out: any = {};
  if (m.path && !(m.path.kind === StringMatchKind.PREFIX && m.path.value === '/')) {
    out.path = { type: m.path.kind === StringMatchKind.EXACT ? 'Exact' : m.path.kind === StringMatchKind.PREFIX ? 'PathPrefix' : 'RegularExpression', value: m.path.value };
  }
  if (m.method) out.method = m.method;
  if (m.headers?.length) out.headers = m.headers.map((h) => ({ name: h.name, ...stringValue(h) }));
  if (m.queryParams?.length) out.queryParams = m.queryParams.map((q) => ({ name: q.name, ...stringValue(q) }));
  return out;
}

function headerModifier(ops: HeaderOperations): any {
  const list = (map: { [k: string]: string } | undefined) => (map && Object.keys(map).length
    ? Object.entries(map).map(([name, value]) => ({ name, value })) : undefined);
  return compactObject({ set: list(ops.set), add: list(ops.add), remove: ops.remove?.length ? [...ops.remove] : undefined });
}

function compactObject(o: any): any {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** One rule of the HTTPRoute, from a route's options. */
export function renderGatewayRule(o: TrafficSplitOptions): any {
  const filters: any[] = [];
  if (o.requestHeaders) filters.push({ type: 'RequestHeaderModifier', requestHeaderModifier: headerModifier(o.requestHeaders) });
  if (o.responseHeaders) filters.push({ type: 'ResponseHeaderModifier', responseHeaderModifier: headerModifier(o.responseHeaders) });
  if (o.rewrite) {
    filters.push({
      type: 'URLRewrite',
      urlRewrite: compactObject({
        hostname: o.rewrite.authority,
        path: o.rewrite.uri === undefined ? undefined : { type: 'ReplaceFullPath', replaceFullPath: o.rewrite.uri },
      }),
    });
  }
  if (o.redirect) {
    filters.push({
      type: 'RequestRedirect',
      requestRedirect: compactObject({
        scheme: o.redirect.scheme,
        hostname: o.redirect.authority,
        port: o.redirect.port,
        path: o.redirect.uri === undefined ? undefined : { type: 'ReplaceFullPath', replaceFullPath: o.redirect.uri },
        // Written out: the Gateway API's default is 302, the library's (as Istio's) 301.
        statusCode: o.redirect.redirectCode ?? 301,
      }),
    });
  }
  if (o.mirror?.version) {
    const pct = o.mirrorPercent ?? 100;
    filters.push({
      type: 'RequestMirror',
      requestMirror: compactObject({
        backendRef: { name: backendName(o.mirror.version), port: o.mirror.port ?? o.mirror.version.service.port },
        percent: Number.isInteger(pct) ? (pct === 100 ? undefined : pct) : undefined,
        fraction: Number.isInteger(pct) ? undefined : { numerator: Math.round(pct * 10_000), denominator: 1_000_000 },
      }),
    });
  }
  return compactObject({
    matches: o.matches?.length ? o.matches.map(renderGatewayMatch) : undefined,
    filters: filters.length ? filters : undefined,
    backendRefs: o.destinations?.length ? backendRefs(o.destinations) : undefined,
    timeouts: o.timeout ? { request: gatewayDuration(o.timeout) } : undefined,
  });
}

/**
 * The rules in the order Istio's Gateway API implementation tries them: by the precedence of each rule's first
 * match (the request simulator's comparison), the declared (VirtualService) order on ties.
 */
export function orderGatewayRules(rules: any[]): any[] {
  const best = (r: any) => (r.matches?.length ? [...r.matches].sort(compareHttpRouteMatches)[0] : {});
  return rules.map((r, i) => ({ r, i })).sort((a, b) => compareHttpRouteMatches(best(a.r), best(b.r)) || a.i - b.i).map((x) => x.r);
}

/** The parentRef of a mesh route: the Service itself, on its port. */
export function serviceParentRef(service: MeshService): any {
  return { group: '', kind: 'Service', name: service.name, port: service.port };
}

// ---- gRPC services: GRPCRoute --------------------------------------------------------------------------------------

/**
 * The kind of a service's mesh route: GRPCRoute for gRPC, HTTPRoute for the other HTTP protocols, TLSRoute for TLS
 * (routed by SNI, as the VirtualService's `tls` rules), else TCPRoute.
 */
export function gatewayRouteKind(service: MeshService): 'GRPCRoute' | 'HTTPRoute' | 'TLSRoute' | 'TCPRoute' {
  if (service.protocol === Protocol.GRPC) return 'GRPCRoute';
  if (isTlsProtocol(service.protocol)) return 'TLSRoute';
  return isHttpProtocol(service.protocol) ? 'HTTPRoute' : 'TCPRoute';
}

// GRPCRoute's method names (the CRD's validation of `matches[].method` for type Exact).
const GRPC_SERVICE = /^\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$/i;
const GRPC_METHOD = /^[A-Za-z_][A-Za-z_0-9]*$/;
const HTTP2_FIX = 'or declare the service with protocol Protocol.HTTP2, which the library routes with an HTTPRoute (gRPC is HTTP/2, and Istio routes it the same)';

/**
 * The gRPC method a path match names: `PathMatch.exact('/<service>/<method>')` is that method,
 * `PathMatch.prefix('/<service>/')` every method of the service (GEP-1016: a GRPCMethodMatch is the `:path`
 * `/<service>/<method>`, or the prefix `/<service>/` without a method). Undefined for other paths.
 */
function grpcMethodOf(m: HttpMatch): { service: string; method?: string } | undefined {
  if (!m.path) return undefined;
  const parts = m.path.value.split('/');
  if (m.path.kind === StringMatchKind.EXACT && parts.length === 3 && parts[0] === '' && GRPC_SERVICE.test(parts[1]) && GRPC_METHOD.test(parts[2])) {
    return { service: parts[1], method: parts[2] };
  }
  if (m.path.kind === StringMatchKind.PREFIX && parts.length === 3 && parts[0] === '' && parts[2] === '' && GRPC_SERVICE.test(parts[1])) {
    return { service: parts[1] };
  }
  // PathMatch.pathPrefix('/<service>'): the path elements under it, the same requests.
  if (m.path.kind === StringMatchKind.PREFIX && m.path.wholeSegments && parts.length === 2 && parts[0] === '' && GRPC_SERVICE.test(parts[1])) {
    return { service: parts[1] };
  }
  return undefined;
}

/** What a GRPCRoute rule (Gateway API v1.6.1) cannot express of a route of a gRPC service. */
function grpcRouteGap(o: TrafficSplitOptions): GatewayApiGap | undefined {
  const gaps: Array<[unknown, string, string]> = [
    [o.timeout, 'the GRPCRoute of Gateway API v1.6.1 has no timeouts', `let the gRPC client set its deadline (grpc-timeout), ${HTTP2_FIX}`],
    [o.rewrite, 'a GRPCRoute has no URL rewrite', HTTP2_FIX],
    [o.redirect, 'a GRPCRoute has no redirect', HTTP2_FIX],
  ];
  for (const [value, what, fix] of gaps) if (value !== undefined) return { what, fix };
  for (const m of o.matches ?? []) {
    if (m.method) return { what: `a GRPCRoute cannot match the HTTP method ${m.method} (every gRPC call is a POST)`, fix: 'remove the method match' };
    if (m.queryParams?.length) return { what: 'a GRPCRoute cannot match query parameters', fix: HTTP2_FIX };
    if (m.path && !(m.path.kind === StringMatchKind.PREFIX && m.path.value === '/') && !grpcMethodOf(m)) {
      return {
        what: `the path match "${m.path.value}" names no gRPC method: a GRPCRoute matches PathMatch.exact('/<package.Service>/<Method>') or PathMatch.prefix('/<package.Service>/')`,
        fix: `match a method or a service that way, ${HTTP2_FIX}`,
      };
    }
  }
  return undefined;
}

/** One GRPCRouteMatch: the method its path names, and its headers. */
function renderGrpcMatch(m: HttpMatch): any {
  const method = grpcMethodOf(m);
  return compactObject({
    method: method && compactObject({ type: 'Exact', service: method.service, method: method.method }),
    headers: m.headers?.length ? m.headers.map((h) => ({ name: h.name, ...stringValue(h) })) : undefined,
  });
}

/** One rule of the GRPCRoute, from a route's options (after grpcRouteGap accepted them). */
export function renderGrpcRule(o: TrafficSplitOptions): any {
  const http = renderGatewayRule(o);
  // The filters both kinds have: header modifiers and the request mirror.
  return compactObject({
    matches: o.matches?.length ? o.matches.map(renderGrpcMatch) : undefined,
    filters: http.filters,
    backendRefs: http.backendRefs,
  });
}

/** The rules in GRPCRoute precedence order (the request simulator's comparison), the declared order on ties. */
export function orderGrpcRules(rules: any[]): any[] {
  const best = (r: any) => (r.matches?.length ? [...r.matches].sort(compareGrpcRouteMatches)[0] : {});
  return rules.map((r, i) => ({ r, i })).sort((a, b) => compareGrpcRouteMatches(best(a.r), best(b.r)) || a.i - b.i).map((x) => x.r);
}
