// Checks of Kubernetes Gateway API mesh objects on any YAML: routes (HTTPRoute, GRPCRoute, TCPRoute, TLSRoute)
// whose parentRefs or backendRefs name a Service or Gateway the manifests do not have (or a port it does not
// have), an HTTPRoute attached to a Service beside a VirtualService for the same host (undefined in Istio: istio.io
// "Use Layer 7 features"), and a waypoint that nothing uses (`istio.io/use-waypoint` on a Namespace or Service).
import { Res } from '../manifests';
import { fullName } from '../model';
import { Check } from './check';
import { toFqdn } from '../hosts';
import { gammaRoutes } from '../simulator/gateway-api';
import {
  backendRefRefused, certificateRefRefused, isIngressGateway, parentRefIsGateway, routesForListener,
} from '../simulator/kube-gateway';

const ROUTE_KINDS = ['HTTPRoute', 'GRPCRoute', 'TCPRoute', 'TLSRoute'];
const asList = (v: unknown): any[] => (Array.isArray(v) ? v : []);

function routes(ctx: Parameters<Check['run']>[0]): Res[] {
  return ROUTE_KINDS.flatMap((kind) => ctx.index.of(`${kind}.gateway.networking.k8s.io`));
}

/** A Service named by a ref (group '' or core, kind Service), or a Gateway: missing, or missing the port. */
function refProblem(ctx: Parameters<Check['run']>[0], ref: any, routeNs: string, defaultKind: string): string | undefined {
  const kind = String(ref?.kind ?? defaultKind);
  const group = String(ref?.group ?? (kind === 'Gateway' ? 'gateway.networking.k8s.io' : ''));
  const ns = String(ref?.namespace ?? routeNs);
  // Only what the manifests can decide: an object of a namespace they hold.
  if (!ctx.index.namespaces().includes(ns)) return undefined;
  if (kind === 'Service' && (group === '' || group === 'core')) {
    const svc = ctx.index.get('Service', ns, String(ref?.name));
    if (!svc) return `Service ${ns}/${ref?.name} does not exist in the manifests`;
    const ports = asList(svc.spec?.ports).map((p) => Number(p?.port));
    if (ref?.port !== undefined && !ports.includes(Number(ref.port))) return `Service ${ns}/${ref.name} has no port ${ref.port} (ports: ${ports.join(', ')})`;
    return undefined;
  }
  if (kind === 'Gateway' && group === 'gateway.networking.k8s.io') {
    const gw = ctx.index.get('Gateway.gateway.networking.k8s.io', ns, String(ref?.name));
    if (!gw) return `Gateway ${ns}/${ref?.name} does not exist in the manifests`;
    const ports = asList(gw.spec?.listeners).map((l) => Number(l?.port));
    if (ref?.port !== undefined && !ports.includes(Number(ref.port))) return `Gateway ${ns}/${ref.name} has no listener on port ${ref.port}`;
  }
  return undefined;
}

/** CMA126: a parentRef, CMA127: a backendRef (or a RequestMirror's) that names a missing Service, Gateway or port. */
export const gatewayApiReferences: Check = {
  analyzer: 'cdk8s-mesh.GatewayApiReferenceAnalyzer',
  run(ctx) {
    for (const route of routes(ctx)) {
      asList(route.spec?.parentRefs).forEach((ref, i) => {
        const problem = refProblem(ctx, ref, route.ns, 'Gateway');
        if (problem) {
          ctx.report('CMA126', route, `spec.parentRefs[${i}]`, `${problem}: the ${route.kind} is attached to nothing there, so its rules apply to no request.`,
            'Fix the parentRef (kind Service for a mesh route, Gateway for ingress), or create the object.');
        }
      });
      asList(route.spec?.rules).forEach((rule, i) => {
        const refs: Array<[any, string]> = asList(rule?.backendRefs).map((b, j) => [b, `spec.rules[${i}].backendRefs[${j}]`]);
        asList(rule?.filters).forEach((f, j) => {
          if (f?.type === 'RequestMirror') refs.push([f.requestMirror?.backendRef, `spec.rules[${i}].filters[${j}].requestMirror.backendRef`]);
        });
        for (const [ref, path] of refs) {
          const problem = refProblem(ctx, ref, route.ns, 'Service');
          if (problem) {
            ctx.report('CMA127', route, path, `${problem}: requests routed there fail (500 for an HTTPRoute backend Istio cannot resolve).`,
              'Fix the backendRef, or create the Service (a version Service `<service>-<version>` selects app and version).');
          }
        }
      });
    }
  },
};

/** CMA128: an HTTPRoute attached to a Service and a VirtualService for the same host. */
export const routeAndVirtualService: Check = {
  analyzer: 'cdk8s-mesh.GatewayApiReferenceAnalyzer',
  run(ctx) {
    const httpRoutes = ctx.index.of('HTTPRoute.gateway.networking.k8s.io');
    if (httpRoutes.length === 0) return;
    for (const svc of ctx.index.of('Service')) {
      const attached = gammaRoutes(httpRoutes, svc, undefined, svc.ns);
      if (attached.length === 0) continue;
      const fqdn = toFqdn(svc.name, svc.ns);
      for (const vs of ctx.index.of('VirtualService')) {
        const gateways = asList(vs.spec?.gateways).map(String);
        if (gateways.length > 0 && !gateways.includes('mesh')) continue;
        const i = asList(vs.spec?.hosts).findIndex((h) => toFqdn(String(h), vs.ns) === fqdn);
        if (i < 0) continue;
        ctx.report('CMA128', vs, `spec.hosts[${i}]`,
          `The VirtualService routes ${fqdn} for the mesh, and ${attached.map((r) => `HTTPRoute ${fullName(r)}`).join(', ')} is attached to the Service: mixing VirtualService and HTTPRoute for one workload is undefined in Istio.`,
          'Route the host with one API: remove the VirtualService (or bind it to gateways only), or the HTTPRoute.');
      }
    }
  },
};

/** CMA129: a waypoint (Gateway of class istio-waypoint) that no Namespace or Service uses. */
export const unusedWaypoints: Check = {
  analyzer: 'cdk8s-mesh.GatewayApiReferenceAnalyzer',
  run(ctx) {
    const users = [...ctx.index.of('Namespace'), ...ctx.index.of('Service')];
    for (const wp of ctx.index.of('Gateway.gateway.networking.k8s.io')) {
      if (wp.spec?.gatewayClassName !== 'istio-waypoint') continue;
      const used = users.some((r) => {
        if (r.labels['istio.io/use-waypoint'] !== wp.name) return false;
        const ns = r.labels['istio.io/use-waypoint-namespace'] ?? (r.kind === 'Namespace' ? r.name : r.ns);
        return ns === wp.ns;
      });
      if (!used) {
        ctx.report('CMA129', wp, 'metadata.name', `No Namespace or Service of the manifests has the label istio.io/use-waypoint: ${wp.name} (in namespace ${wp.ns}): the waypoint carries no traffic, and the L7 policies attached to it are never enforced.`,
          `Label the namespace (or the Services) istio.io/use-waypoint: ${wp.name}, or remove the waypoint.`);
      }
    }
  },
};

/**
 * CMA130: a cross-namespace reference no ReferenceGrant permits: a route's backendRef (or RequestMirror backend), a
 * Gateway listener's certificateRef. Istio refuses it (RefNotPermitted): the backend's requests get 500, the listener
 * is not programmed. Decided by the simulator's reading of ReferenceGrants (kube-gateway.ts).
 */
export const crossNamespaceReferences: Check = {
  analyzer: 'cdk8s-mesh.GatewayApiReferenceAnalyzer',
  run(ctx) {
    const grants = ctx.index.of('ReferenceGrant.gateway.networking.k8s.io');
    // Only what the manifests can decide: a referent namespace they hold (its ReferenceGrants would be there).
    const decidable = (ns: string) => ctx.index.namespaces().includes(ns);
    for (const route of routes(ctx)) {
      asList(route.spec?.rules).forEach((rule, i) => {
        const refs: Array<[any, string]> = asList(rule?.backendRefs).map((b, j) => [b, `spec.rules[${i}].backendRefs[${j}]`]);
        asList(rule?.filters).forEach((f, j) => {
          if (f?.type === 'RequestMirror') refs.push([f.requestMirror?.backendRef, `spec.rules[${i}].filters[${j}].requestMirror.backendRef`]);
        });
        for (const [ref, path] of refs) {
          const ns = String(ref?.namespace ?? route.ns);
          const refused = decidable(ns) ? backendRefRefused(grants, route, ref) : undefined;
          if (refused) {
            ctx.report('CMA130', route, path, `The backend ${ns}/${ref?.name} is in another namespace, and ${refused}: Istio refuses the reference (RefNotPermitted), so the requests routed there get 500.`,
              `Add a ReferenceGrant in namespace ${ns} with from {group: gateway.networking.k8s.io, kind: ${route.kind}, namespace: ${route.ns}} and to {group: "", kind: ${ref?.kind ?? 'Service'}, name: ${ref?.name}}, or route to a backend of namespace ${route.ns}.`);
          }
        }
      });
    }
    for (const gw of ctx.index.of('Gateway.gateway.networking.k8s.io')) {
      asList(gw.spec?.listeners).forEach((l, i) => {
        asList(l?.tls?.certificateRefs).forEach((ref, j) => {
          const ns = String(ref?.namespace ?? gw.ns);
          const refused = decidable(ns) ? certificateRefRefused(grants, gw, ref) : undefined;
          if (refused) {
            ctx.report('CMA130', gw, `spec.listeners[${i}].tls.certificateRefs[${j}]`, `The certificate ${ns}/${ref?.name} of listener "${l?.name}" is in another namespace, and ${refused}: Istio does not program the listener, so its TLS handshakes fail.`,
              `Add a ReferenceGrant in namespace ${ns} with from {group: gateway.networking.k8s.io, kind: Gateway, namespace: ${gw.ns}} and to {group: "", kind: Secret, name: ${ref?.name}}, or keep the Secret in namespace ${gw.ns}.`);
          }
        });
      });
    }
  },
};

/**
 * CMA131: listeners that conflict: two listeners on one port with the same hostname (of one Gateway, or of Gateways
 * sharing an address), or protocols that cannot share a port (only HTTPS and TLS can: Gateway API, "Listeners ... must
 * be distinct by port, protocol and hostname"; a port carries one of HTTP, HTTPS/TLS, TCP, UDP). Istio marks them
 * Conflicted and does not program them.
 */
export const listenerConflicts: Check = {
  analyzer: 'cdk8s-mesh.GatewayApiReferenceAnalyzer',
  run(ctx) {
    const gateways = ctx.index.of('Gateway.gateway.networking.k8s.io').filter(isIngressGateway);
    const addresses = (g: Res) => asList(g.spec?.addresses).map((a: any) => String(a?.value ?? '')).filter((v) => v !== '');
    const family = (p: string) => (p === 'HTTPS' || p === 'TLS' ? 'tls' : p.toLowerCase());
    for (const gw of gateways) {
      // Gateways sharing an address share their ports; each Gateway otherwise gets its own Service from Istio.
      const peers = gateways.filter((o) => o === gw || (gw.ns === o.ns && addresses(gw).some((a) => addresses(o).includes(a))));
      const listeners = peers.flatMap((g) => asList(g.spec?.listeners).map((l, i) => ({ g, l, i })));
      asList(gw.spec?.listeners).forEach((l, i) => {
        const conflicts = (o: { l: any }) => Number(o.l?.port) === Number(l?.port)
          && (family(String(o.l?.protocol)) !== family(String(l?.protocol)) || (o.l?.hostname ?? '') === (l?.hostname ?? ''));
        // Within one Gateway the later listener is reported; across Gateways, each.
        const other = listeners.find((o) => (o.g !== gw || o.i < i) && conflicts(o));
        if (!other) return;
        const where = other.g === gw ? `listener "${other.l?.name}"` : `listener "${other.l?.name}" of Gateway ${fullName(other.g)} (same address)`;
        const why = family(String(other.l?.protocol)) !== family(String(l?.protocol))
          ? `${l?.protocol} and ${other.l?.protocol} cannot share port ${l?.port}`
          : `both take port ${l?.port} for ${l?.hostname ? `hostname ${l.hostname}` : 'every hostname'}`;
        ctx.report('CMA131', gw, `spec.listeners[${i}]`, `Listener "${l?.name}" conflicts with ${where}: ${why}, so Istio marks them Conflicted and does not program them.`,
          'Give the listeners distinct ports, or distinct hostnames on one port (HTTPS and TLS may share it).');
      });
    }
  },
};

/**
 * CMA132: a route's parentRef names an existing Gateway, but no listener takes the route: its sectionName names no
 * listener, or the listeners it names do not admit it (allowedRoutes namespaces or kinds). Decided by the simulator's
 * binding (kube-gateway.ts `routesForListener`).
 */
export const unboundRoutes: Check = {
  analyzer: 'cdk8s-mesh.GatewayApiReferenceAnalyzer',
  run(ctx) {
    const nsLabels = (ns: string) => ctx.index.namespace(ns)?.labels;
    for (const route of routes(ctx)) {
      asList(route.spec?.parentRefs).forEach((ref, i) => {
        const ns = String(ref?.namespace ?? route.ns);
        const gw = ctx.index.get('Gateway.gateway.networking.k8s.io', ns, String(ref?.name));
        if (!gw || !parentRefIsGateway(ref, route, gw)) return;
        const listeners = asList(gw.spec?.listeners);
        if (ref?.sectionName !== undefined && !listeners.some((l) => l?.name === ref.sectionName)) {
          ctx.report('CMA132', route, `spec.parentRefs[${i}].sectionName`, `Gateway ${fullName(gw)} has no listener "${ref.sectionName}" (listeners: ${listeners.map((l) => l?.name).join(', ')}): the ${route.kind} is bound to nothing there.`,
            'Name one of the Gateway\'s listeners in sectionName, or remove sectionName to bind to every listener that admits the route.');
          return;
        }
        const single = { ...route, spec: { ...route.spec, parentRefs: [ref] } } as Res;
        const reasons: string[] = [];
        const bound = listeners.some((l) => {
          const r = routesForListener([single], gw, l, route.kind, nsLabels);
          reasons.push(...r.refused);
          return r.bound.length > 0;
        });
        if (!bound && reasons.length > 0) {
          ctx.report('CMA132', route, `spec.parentRefs[${i}]`, `No listener of Gateway ${fullName(gw)} admits the ${route.kind}: ${reasons.join('; ')}.`,
            'Set the listener\'s allowedRoutes (namespaces.from: All or a Selector, or the kinds) to admit it, or move the route to the Gateway\'s namespace.');
        }
      });
    }
  },
};

export const GATEWAY_API_CHECKS: Check[] = [
  gatewayApiReferences, routeAndVirtualService, unusedWaypoints, crossNamespaceReferences, listenerConflicts, unboundRoutes,
];
