// The mutual TLS of one hop (security/v1 peer_authentication.proto, networking/v1 destination_rule.proto
// ClientTLSSettings, MeshConfig enableAutoMtls): what the client's proxy sends and what the server accepts.
import { PolicyScopes } from './authorization';
import { exportedTo, toFqdn } from '../hosts';
import { Res } from '../manifests';
import { matchesSelector, MeshIndex, Workload } from '../model';

export type PeerMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/** The PeerAuthentication mode on a workload port and the policy (and field) it comes from. */
export interface PeerModeResult {
  readonly mode: PeerMode;
  readonly policy?: Res;
  readonly field?: string;
  /** Policies ignored on the way (ambient ignores DISABLE). */
  readonly note?: string;
}

const MODES = new Set(['STRICT', 'PERMISSIVE', 'DISABLE']);

/**
 * The effective mode: a workload policy's port-level setting, then its `mtls`, then the namespace policy, then the
 * mesh policy (root namespace); UNSET inherits; nothing set is PERMISSIVE. In ambient mode "it is not possible to
 * use the DISABLE mode in a policy. Such policies will be ignored" (istio.io, ambient "Use Layer 4 security policy").
 */
export function peerMode(scopes: PolicyScopes, w: Workload, port: number): PeerModeResult {
  const s = scopes.forWorkload(w);
  const ambient = w.dataplane === 'ambient';
  const candidates: Array<[Res, unknown, string]> = [];
  for (const p of s.workload) {
    const portLevel = p.spec.portLevelMtls && typeof p.spec.portLevelMtls === 'object' ? p.spec.portLevelMtls[String(port)] : undefined;
    candidates.push([p, portLevel?.mode, `spec.portLevelMtls.${port}.mode`], [p, p.spec.mtls?.mode, 'spec.mtls.mode']);
  }
  for (const p of [...s.namespace, ...s.mesh]) candidates.push([p, p.spec.mtls?.mode, 'spec.mtls.mode']);
  let ignored: Res | undefined;
  for (const [policy, mode, field] of candidates) {
    if (typeof mode !== 'string' || !MODES.has(mode)) continue;
    if (ambient && mode === 'DISABLE') {
      ignored ??= policy;
      continue;
    }
    return { mode: mode as PeerMode, policy, field, note: ignored && `${ignored.kind} ${ignored.ns}/${ignored.name} (DISABLE) is ignored in ambient mode` };
  }
  return { mode: 'PERMISSIVE', note: ignored && `${ignored.kind} ${ignored.ns}/${ignored.name} (DISABLE) is ignored in ambient mode` };
}

/** A DestinationRule's client TLS mode for one hop, and the field that sets it. */
export interface ClientTls {
  readonly mode: string;
  readonly rule: Res;
  readonly field: string;
}

/**
 * The DestinationRule Istio uses for `fqdn` from a client in `clientNs` (labels `clientLabels`): one with a
 * workloadSelector selecting the client in its namespace, else the client's namespace, then the host's namespace,
 * then the root namespace; exact hosts before wildcard ones; `exportTo` respected.
 */
export function destinationRuleFor(index: MeshIndex, fqdn: string, clientNs: string, clientLabels: Record<string, string>,
  hostNs: string | undefined): Res | undefined {
  const candidates = index.destinationRulesCovering(fqdn).filter((dr) => exportedTo(dr, clientNs));
  const selects = (dr: Res) => {
    const sel = dr.spec.workloadSelector?.matchLabels;
    return !sel || (dr.ns === clientNs && matchesSelector(clientLabels, sel));
  };
  const usable = candidates.filter(selects);
  const specificity = (dr: Res) => (toFqdn(String(dr.spec.host ?? ''), dr.ns) === fqdn ? 1 : 0);
  for (const ns of [clientNs, hostNs, index.options.rootNamespace]) {
    if (ns === undefined) continue;
    const inNs = usable.filter((dr) => dr.ns === ns);
    if (inNs.length === 0) continue;
    const withSelector = inNs.find((dr) => dr.spec.workloadSelector?.matchLabels);
    return withSelector ?? inNs.sort((a, b) => specificity(b) - specificity(a))[0];
  }
  return undefined;
}

/** The TLS mode a DestinationRule sets for a subset and port: subset port-level, subset, port-level, top level. */
export function clientTlsOf(dr: Res | undefined, subset: string | undefined, port: number): ClientTls | undefined {
  if (!dr) return undefined;
  const subsets: any[] = Array.isArray(dr.spec.subsets) ? dr.spec.subsets : [];
  const si = subset === undefined ? -1 : subsets.findIndex((s) => s?.name === subset);
  const levels: Array<[any, string]> = [];
  if (si >= 0) levels.push([subsets[si]?.trafficPolicy, `spec.subsets[${si}].trafficPolicy`]);
  levels.push([dr.spec.trafficPolicy, 'spec.trafficPolicy']);
  for (const [policy, path] of levels) {
    const portLevel: any[] = Array.isArray(policy?.portLevelSettings) ? policy.portLevelSettings : [];
    const pi = portLevel.findIndex((p) => Number(p?.port?.number) === port && p?.tls?.mode);
    if (pi >= 0) return { mode: String(portLevel[pi].tls.mode), rule: dr, field: `${path}.portLevelSettings[${pi}].tls.mode` };
    if (typeof policy?.tls?.mode === 'string') return { mode: policy.tls.mode, rule: dr, field: `${path}.tls.mode` };
  }
  return undefined;
}
