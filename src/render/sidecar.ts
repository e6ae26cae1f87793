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

/**
 * `<namespace>/<host>` for every dependency and every telemetry collector outside the control
 * plane's namespace (sorted, unique), then the control plane's namespace. A proxy sends traces
 * and access logs to the collectors itself, so it must see them.
 */
export function sidecarEgressHosts(service: MeshService): string[] {
  const root = service.mesh.rootNamespace;
  const hosts = new Set(service.dependencies.flatMap((d) => d.toCallTarget().egressHosts));
  for (const collector of collectorHosts(service)) {
    if (!collector.endsWith(`.${root}.svc.cluster.local`) && !collector.endsWith(`.${root}`)) hosts.add(`*/${collector}`);
  }
  return [...[...hosts].sort(), `${root}/*`];
}

/** The collector services of the mesh's telemetry providers (tracing, OpenTelemetry logs). */
function collectorHosts(service: MeshService): string[] {
  return service.mesh.telemetryProviders
    .map((p) => Object.values(p._toExtensionProvider()).find((v: any) => typeof v?.service === 'string') as any)
    .filter((config) => config !== undefined)
    .map((config) => config.service as string);
}
