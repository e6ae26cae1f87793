// Internal: the server-side mTLS mode of a workload port, from which client-side DestinationRule
// TLS is derived. Not exported from the package.
import { mtlsPoliciesOf, podLabelsOf, selects } from './internal';
import { MtlsMode } from './mtls-mode';
import type { MtlsPolicy } from './mtls-policy';
import type { Mesh } from '../mesh/mesh';
import type { MeshService } from '../mesh/mesh-service';
import type { ServiceVersion } from '../mesh/service-version';

/**
 * The mTLS mode the pods of `service` (or of one `version`) accept on `port`, resolved the way
 * Istio does: the workload policy's port-level mode, then its workload mode, then the namespace
 * mode (`Mesh.mtlsMode` or a namespace-wide MtlsPolicy), then the mesh-wide MtlsPolicy of the
 * mesh's root namespace, then Istio's default, PERMISSIVE. UNSET at any level means "inherit".
 *
 * Never returns UNSET. Without `version`, returns `undefined` when the versions disagree (a
 * version has its own policy): resolve each subset with its version then.
 *
 * Only what this app declares is known: a PeerAuthentication applied from elsewhere is not.
 *
 * @param port the Service port (as DestinationRule `portLevelSettings` name it) or the container port
 * @internal
 */
export function _effectiveMtls(service: MeshService, port: number, version?: ServiceVersion): MtlsMode | undefined {
  const containerPort = service.findPort(port)?.targetPort ?? port;
  const modes = new Set((version ? [version] : service.versions).map((v) => resolve(service, v, containerPort)));
  return modes.size === 1 ? [...modes][0] : undefined;
}

/**
 * The client-side DestinationRule `tls.mode` that agrees with a server-side mode: `DISABLE` for a
 * DISABLE port (plaintext), `ISTIO_MUTUAL` otherwise (STRICT requires it, PERMISSIVE accepts it).
 * @internal
 */
export function _clientTlsMode(mode: MtlsMode): 'ISTIO_MUTUAL' | 'DISABLE' {
  return mode === MtlsMode.DISABLE ? 'DISABLE' : 'ISTIO_MUTUAL';
}

function resolve(service: MeshService, version: ServiceVersion, containerPort: number): MtlsMode {
  return _mtlsDecision(service, version, containerPort).mode;
}

/**
 * The mTLS mode of one version's pods on a container port, and the declaration that decides it: a workload
 * MtlsPolicy (its port-level mode, then its mode), the Mesh (`mtlsMode`), a namespace-wide MtlsPolicy, a mesh-wide
 * MtlsPolicy; none when Istio's default (PERMISSIVE) applies. UNSET at any level means "inherit".
 * @internal
 */
export function _mtlsDecision(service: MeshService, version: ServiceVersion, containerPort: number):
{ mode: MtlsMode; decidedBy?: MtlsPolicy | Mesh } {
  const mesh = service.mesh;
  const policies = mtlsPoliciesOf(service);
  // The pod labels are rendered only when some workload policy could select them.
  let labels: { [key: string]: string } | undefined;
  const workload = policies.find((p) => p.target && p.namespaceName === mesh.namespaceName
    && selects(p.target.toWorkloadSelector().matchLabels, labels ??= podLabelsOf(version)));
  const namespaceWide = policies.find((p) => !p.target && !p.meshWide && p.namespaceName === mesh.namespaceName);
  const meshWide = policies.find((p) => p.meshWide && p.namespaceName === mesh.rootNamespace);
  const chain: [MtlsMode | undefined, MtlsPolicy | Mesh | undefined][] = [
    [workload?._portModes.get(containerPort), workload],
    [workload?.mode, workload],
    [mesh.mtlsMode, mesh],
    [namespaceWide?.mode, namespaceWide],
    [meshWide?.mode, meshWide],
  ];
  const decided = chain.find(([mode]) => mode !== undefined && mode !== MtlsMode.UNSET);
  return decided ? { mode: decided[0]!, decidedBy: decided[1] } : { mode: MtlsMode.PERMISSIVE };
}
