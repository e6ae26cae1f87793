// Ingress through a Kubernetes Gateway API `Gateway` (class `istio`): which listener takes a connection, which routes
// are bound to it, and which cross-namespace references a ReferenceGrant permits. Used by the engine's trace and by the
// analysis checks, so both read the Gateway API the same way. Sources, Gateway API v1.6.1 standard channel CRDs
// (../shared/crds/gateway-api):
// - Gateway `spec.listeners[].hostname`: "Hostnames that are prefixed with a wildcard label (`*.`) are interpreted as
//   a suffix match. That means that a match for `*.example.com` would match both `test.example.com`, and
//   `foo.test.example.com`, but not `example.com`"; no hostname matches every host.
// - `allowedRoutes.namespaces.from`: `Same` (the default), `All`, `Selector`; `allowedRoutes.kinds` defaults to the
//   kinds the listener's protocol supports (HTTPRoute for HTTP/HTTPS, TLSRoute for TLS, TCPRoute for TCP).
// - HTTPRoute `parentRefs[]`: group default `gateway.networking.k8s.io`, kind default `Gateway`, namespace default the
//   route's; `sectionName` names one listener, `port` the listeners on a port.
// - ReferenceGrant (in the namespace of the referent): `from[]` {group, kind, namespace} and `to[]` {group, kind,
//   name?}; "a reference to a resource in another namespace is only valid if a ReferenceGrant in the target namespace
//   allows it". Without one, Istio marks the reference RefNotPermitted and does not use it: a backendRef's requests are
//   answered 500 (HTTPRoute `backendRefs`: "requests that would have been sent to that backend MUST receive a 500"),
//   a certificateRef's listener is not programmed.
// Istio's automated deployment (istio/istio PR 43103 "Gateway naming conventions ... concatenation of Name and
// GatewayClassName", with its own ServiceAccount; the pod of Istio's analyzer test data
// k8sgateway-selector.yaml is `bookinfo-gateway-istio-…`, labelled `gateway.networking.k8s.io/gateway-name`): the
// gateway's Deployment, Service and ServiceAccount are `<gateway>-<class>`, its pods labelled with the Gateway's name.
import { Res } from '../manifests';

const asList = (v: unknown): any[] => (Array.isArray(v) ? v : []);
export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
/** The pod label Istio puts on the pods it deploys for a Gateway. */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

/**
 * The ServiceAccount (and Deployment, Service) Istio's automated deployment runs a Gateway's pods as: named after the
 * Gateway and its class (`<name>-<gatewayClassName>`, e.g. `bookinfo-gateway-istio`), except a waypoint (class
 * `istio-waypoint`), which keeps the Gateway's name; the annotation `gateway.istio.io/service-account` overrides it
 * (Istio release note "Gateway naming scheme updated", PR 43103; istio.io "Configure waypoint proxies": a waypoint
 * runs as `sa/waypoint`).
 */
export function kubeGatewayServiceAccount(gateway: Res): string {
  const override = gateway.annotations['gateway.istio.io/service-account'];
  if (override) return override;
  const klass = String(gateway.spec?.gatewayClassName ?? 'istio');
  return klass === 'istio-waypoint' ? gateway.name : `${gateway.name}-${klass}`;
}

/** True when a Gateway API Gateway is an ingress (not a waypoint or east-west gateway). */
export function isIngressGateway(gateway: Res): boolean {
  const klass = String(gateway.spec?.gatewayClassName ?? '');
  return klass !== 'istio-waypoint' && klass !== 'istio-east-west' && klass !== 'istio-remote';
}

/** A listener hostname (or route hostname) matches a host: exact, a `*.` suffix (one or more labels), or no hostname. */
export function gatewayHostnameMatches(pattern: string | undefined, host: string): boolean {
  if (pattern === undefined || pattern === '') return true;
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (p.startsWith('*.')) return h.endsWith(p.slice(1)) && h.length > p.length - 1;
  return p === h;
}

/** How specific a listener hostname is: exact names first, then the longest wildcard, then none. */
function hostnameSpecificity(pattern: string | undefined): number {
  if (!pattern) return 0;
  return pattern.startsWith('*.') ? pattern.length : 100_000 + pattern.length;
}

/** The listener of `listeners` (all on one port) that takes a request for `host`: the most specific hostname matching it. */
export function listenerForHost(listeners: Array<{ l: any; i: number }>, host: string): { l: any; i: number } | undefined {
  const matching = listeners.filter(({ l }) => gatewayHostnameMatches(l?.hostname, host || (l?.hostname ?? '')));
  return matching.sort((a, b) => hostnameSpecificity(b.l?.hostname) - hostnameSpecificity(a.l?.hostname) || a.i - b.i)[0];
}

/** The route kinds a listener admits: `allowedRoutes.kinds`, else what its protocol carries. */
export function allowedRouteKinds(listener: any): string[] {
  const kinds = asList(listener?.allowedRoutes?.kinds).map((k: any) => String(k?.kind));
  if (kinds.length > 0) return kinds;
  switch (String(listener?.protocol ?? '')) {
    case 'HTTP': case 'HTTPS': return ['HTTPRoute', 'GRPCRoute'];
    case 'TLS': return ['TLSRoute'];
    case 'TCP': return ['TCPRoute'];
    case 'UDP': return ['UDPRoute'];
    default: return [];
  }
}

/** Whether a listener's `allowedRoutes.namespaces` admits a route of namespace `routeNs`; why not, when it does not. */
export function namespaceAdmitted(listener: any, gateway: Res, routeNs: string,
  nsLabels: (ns: string) => Record<string, string> | undefined): string | undefined {
  const ns = listener?.allowedRoutes?.namespaces ?? {};
  const from = String(ns.from ?? 'Same');
  if (from === 'All') return undefined;
  if (from === 'Same') return routeNs === gateway.ns ? undefined : `listener "${listener?.name}" admits routes of its own namespace only (allowedRoutes.namespaces.from: Same)`;
  if (from === 'Selector') {
    const labels = nsLabels(routeNs);
    const selector = ns.selector ?? {};
    if (asList(selector.matchExpressions).length > 0) return undefined;
    const wanted: Record<string, string> = selector.matchLabels ?? {};
    if (labels && Object.entries(wanted).every(([k, v]) => labels[k] === v)) return undefined;
    return `the labels of namespace ${routeNs} do not match listener "${listener?.name}"'s allowedRoutes.namespaces.selector`;
  }
  return `listener "${listener?.name}" admits routes of no namespace (allowedRoutes.namespaces.from: ${from})`;
}

/** True when a parentRef names the Gateway `gateway` (kind Gateway of the Gateway API, in its namespace). */
export function parentRefIsGateway(ref: any, route: Res, gateway: Res): boolean {
  const group = String(ref?.group ?? GATEWAY_GROUP);
  const kind = String(ref?.kind ?? 'Gateway');
  return group === GATEWAY_GROUP && kind === 'Gateway' && ref?.name === gateway.name && String(ref?.namespace ?? route.ns) === gateway.ns;
}

/** True when a parentRef that names the Gateway also selects `listener` (its sectionName and port, when given). */
export function parentRefSelectsListener(ref: any, listener: any): boolean {
  if (ref?.sectionName !== undefined && ref.sectionName !== listener?.name) return false;
  return ref?.port === undefined || Number(ref.port) === Number(listener?.port);
}

/** A route's hostnames admit `host` (no hostnames: every host of the listener). */
export function routeHostnamesMatch(route: Res, host: string): boolean {
  const names = asList(route.spec?.hostnames).map(String);
  return names.length === 0 || !host || names.some((n) => gatewayHostnameMatches(n, host));
}

/** The routes of `kind` bound to one listener of a Gateway, with the reasons other routes naming it are not. */
export function routesForListener(routes: Res[], gateway: Res, listener: any, kind: string,
  nsLabels: (ns: string) => Record<string, string> | undefined): { bound: Res[]; refused: string[] } {
  const bound: Res[] = [];
  const refused: string[] = [];
  const kindAllowed = allowedRouteKinds(listener).includes(kind);
  for (const route of routes) {
    const refs = asList(route.spec?.parentRefs).filter((p) => parentRefIsGateway(p, route, gateway));
    if (refs.length === 0 || !refs.some((p) => parentRefSelectsListener(p, listener))) continue;
    if (!kindAllowed) {
      refused.push(`${kind} ${route.ns}/${route.name}: listener "${listener?.name}" admits ${allowedRouteKinds(listener).join(', ') || 'no routes'}`);
      continue;
    }
    const why = namespaceAdmitted(listener, gateway, route.ns, nsLabels);
    if (why) {
      refused.push(`${kind} ${route.ns}/${route.name}: ${why}`);
      continue;
    }
    bound.push(route);
  }
  return { bound, refused };
}

/** What refers across namespaces, as a ReferenceGrant's `from` names it. */
export interface ReferenceFrom {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
}

/** What is referred to, as a ReferenceGrant's `to` names it. */
export interface ReferenceTo {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** The ReferenceGrant (in the referent's namespace) that permits the reference; undefined for a reference within one namespace too. */
export function permittingGrant(grants: Res[], from: ReferenceFrom, to: ReferenceTo): Res | undefined {
  return grants.find((g) => g.ns === to.namespace
    && asList(g.spec?.from).some((f: any) => String(f?.group ?? '') === from.group && f?.kind === from.kind && f?.namespace === from.namespace)
    && asList(g.spec?.to).some((t: any) => String(t?.group ?? '') === to.group && t?.kind === to.kind && (t?.name === undefined || t.name === '' || t.name === to.name)));
}

/** Why a cross-namespace reference is refused (no ReferenceGrant permits it), or undefined when it is allowed. */
export function referenceRefused(grants: Res[], from: ReferenceFrom, to: ReferenceTo): string | undefined {
  if (from.namespace === to.namespace) return undefined;
  if (permittingGrant(grants, from, to)) return undefined;
  return `no ReferenceGrant in namespace ${to.namespace} lets ${from.kind} objects of namespace ${from.namespace} refer to ${to.kind} ${to.namespace}/${to.name}`;
}

/** Why a backendRef of a route is refused (RefNotPermitted), or undefined. */
export function backendRefRefused(grants: Res[], route: Res, ref: any): string | undefined {
  const group = String(ref?.group ?? '');
  const kind = String(ref?.kind ?? 'Service');
  const namespace = String(ref?.namespace ?? route.ns);
  return referenceRefused(grants, { group: GATEWAY_GROUP, kind: route.kind, namespace: route.ns }, { group, kind, namespace, name: String(ref?.name ?? '') });
}

/** Why a listener's certificateRef is refused (RefNotPermitted), or undefined. */
export function certificateRefRefused(grants: Res[], gateway: Res, ref: any): string | undefined {
  const namespace = String(ref?.namespace ?? gateway.ns);
  return referenceRefused(grants, { group: GATEWAY_GROUP, kind: 'Gateway', namespace: gateway.ns },
    { group: String(ref?.group ?? ''), kind: String(ref?.kind ?? 'Secret'), namespace, name: String(ref?.name ?? '') });
}
