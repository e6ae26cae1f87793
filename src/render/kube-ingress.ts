// Internal: an IngressGateway as Kubernetes Gateway API objects (the mesh's RoutingApi.GATEWAY_API): a `Gateway` of
// class `istio` (Istio deploys its Envoy: Deployment, Service and ServiceAccount `<name>-istio`, pods labelled
// `gateway.networking.k8s.io/gateway-name`), routes bound to its listeners by `sectionName`, and ReferenceGrants where
// a route sends to another namespace. Sources: Gateway API v1.6.1 standard channel CRDs (../shared/crds/gateway-api;
// their CEL rules: no `tls` on HTTP/TCP listeners, `Terminate` for HTTPS, a `mode` for TLS, no hostname on TCP, one
// listener per port+protocol+hostname; TLSRoute `hostnames` required), Istio's samples/bookinfo/gateway-api/
// bookinfo-gateway.yaml.
import { backendName, GATEWAY_API_VERSION } from './gateway-route';
import type { GatewayListener } from '../edge/ingress-gateway';
import type { WeightedDestination } from '../traffic/traffic-split';

export { GATEWAY_API_VERSION };
/** ReferenceGrant is served as v1 and v1beta1 in Gateway API v1.6.1; v1beta1 is the storage version every Istio reads. */
export const REFERENCE_GRANT_VERSION = 'gateway.networking.k8s.io/v1beta1';

/** One listener of the Gateway API Gateway (a library listener with several hosts becomes one per hostname). */
export interface KubeListener {
  readonly name: string;
  readonly hostname?: string;
  readonly source: GatewayListener;
}

/** The Gateway API listeners of a library listener serving `hosts`. */
export function kubeListeners(listener: GatewayListener, hosts: string[]): KubeListener[] {
  if (listener.protocol === 'TCP' || hosts.includes('*')) return [{ name: listener.name, source: listener }];
  if (hosts.length === 1) return [{ name: listener.name, hostname: hosts[0], source: listener }];
  return hosts.map((h, i) => ({ name: `${listener.name}-${i + 1}`, hostname: h, source: listener }));
}

/** A listener of the Gateway's spec. */
export function renderKubeListener(k: KubeListener): any {
  const l = k.source;
  const tls = l.protocol === 'HTTPS'
    ? { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: l.tls!.credentialName! }] }
    : l.protocol === 'TLS' ? { mode: 'Passthrough' } : undefined;
  // The Service Istio deploys listens on the listener port: the library's servicePort (what clients connect to).
  return compact({ name: k.name, hostname: k.hostname, port: l.servicePort, protocol: l.protocol, tls, allowedRoutes: { namespaces: { from: 'Same' } } });
}

/** A backendRef to a version (its Service `<service>-<version>` when the service has several), across namespaces with `namespace`. */
export function ingressBackendRefs(destinations: WeightedDestination[], fromNamespace: string, port?: number): any[] {
  return destinations.map((d) => {
    const ns = d.version.service.mesh.namespaceName;
    return compact({
      name: backendName(d.version),
      namespace: ns === fromNamespace ? undefined : ns,
      port: port ?? d.version.service.port,
      weight: destinations.length > 1 ? d.weight : undefined,
    });
  });
}

/** The services of other namespaces a gateway's routes send to, by namespace: what the ReferenceGrants there permit. */
export interface CrossNamespaceBackends {
  /** Route kinds (HTTPRoute, TCPRoute, TLSRoute) that refer to the namespace. */
  readonly kinds: Set<string>;
  /** Service names referred to. */
  readonly services: Set<string>;
}

/** The ReferenceGrant spec that permits exactly these references from routes of `fromNamespace`. */
export function renderReferenceGrant(fromNamespace: string, backends: CrossNamespaceBackends): any {
  return {
    from: [...backends.kinds].sort().map((kind) => ({ group: 'gateway.networking.k8s.io', kind, namespace: fromNamespace })),
    to: [...backends.services].sort().map((name) => ({ group: '', kind: 'Service', name })),
  };
}

/** The versions a route's destinations name that need a Service of their own (Istio's bookinfo-versions.yaml). */
export function noteVersionBackends(destinations: WeightedDestination[]): void {
  for (const d of destinations) d.version.service._routing.noteTarget(d.version);
}

export function compact(o: any): any {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
