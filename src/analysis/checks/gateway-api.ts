// Checks of Kubernetes Gateway API mesh objects on any YAML: routes (HTTPRoute, GRPCRoute, TCPRoute, TLSRoute)
// whose parentRefs or backendRefs name a Service or Gateway the manifests do not have (or a port it does not
// have), an HTTPRoute attached to a Service beside a VirtualService for the same host (undefined in Istio: istio.io
// "Use Layer 7 features"), and a waypoint that nothing uses (`istio.io/use-waypoint` on a Namespace or Service).
import { Res } from '../manifests';
import { fullName } from '../model';
import { Check } from './check';
import { toFqdn } from '../hosts';
import { gammaRoutes } from '../simulator/gateway-api';

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

export const GATEWAY_API_CHECKS: Check[] = [gatewayApiReferences, routeAndVirtualService, unusedWaypoints];
