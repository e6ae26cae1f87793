import { ApiObject, Lazy } from 'cdk8s';
import { Sidecar, SidecarSpec, SidecarSpecOutboundTrafficPolicyMode } from '../imports/networking.istio.io';
import type { MeshService } from '../mesh/mesh-service';

/**
 * The Sidecar that scopes a service's proxies to what it calls: its declared dependencies,
 * the hosts their routes mirror to, and the control plane. Istio otherwise pushes the
 * configuration of every service of the mesh to every proxy.
 */
export function renderScopedSidecar(service: MeshService): ApiObject {
  const mesh = service.mesh;
  return new Sidecar(service, 'Sidecar', {
    metadata: { name: service.name, namespace: mesh.namespaceName },
    spec: Lazy.any({
      produce: (): SidecarSpec => ({
        workloadSelector: { labels: { app: service.name } },
        egress: [{ hosts: sidecarEgressHosts(service) }],
        outboundTrafficPolicy: mesh.outboundTrafficPolicy && { mode: mesh.outboundTrafficPolicy as string as SidecarSpecOutboundTrafficPolicyMode },
      }),
    }) as SidecarSpec,
  });
}

/** `<namespace>/<host>` for every dependency (sorted, unique), then the control plane's namespace. */
export function sidecarEgressHosts(service: MeshService): string[] {
  const hosts = new Set(service.dependencies.flatMap((d) => d.toCallTarget().egressHosts));
  return [...[...hosts].sort(), `${service.mesh.rootNamespace}/*`];
}
