// What a caller's sidecar lets out (networking/v1 sidecar.proto, MeshConfig outboundTrafficPolicy): which Sidecar
// applies to the workload, which hosts its egress listeners import, and what happens to the rest.
import { hostMatchesPattern } from './hosts-match';
import { Res } from '../manifests';
import { matchesSelector, MeshIndex, Workload } from '../model';

/** The Sidecar scope of one workload. */
export interface SidecarScope {
  /** The Sidecar in effect; undefined when none applies (every host is visible). */
  readonly sidecar?: Res;
  /** Several workload-selecting Sidecars select the workload (IST0110): which one applies is undefined. */
  readonly ambiguous?: Res[];
  /** `REGISTRY_ONLY` or `ALLOW_ANY`, and where it comes from. */
  readonly outboundPolicy: string;
  readonly outboundPolicySource: string;
}

/** Sidecars by namespace default and by the first pair of their workload selector, so a lookup does not scan them all. */
export class SidecarIndex {
  private readonly selecting = new Map<string, Res[]>();
  private readonly defaults = new Map<string, Res>();

  constructor(readonly index: MeshIndex) {
    for (const s of index.of('Sidecar')) {
      const selector = selectorOf(s);
      if (!selector) {
        if (!this.defaults.has(s.ns)) this.defaults.set(s.ns, s);
        continue;
      }
      const [k, v] = Object.entries(selector).sort()[0];
      const key = `${s.ns}\u0000${k}=${v}`;
      const list = this.selecting.get(key);
      if (list) list.push(s);
      else this.selecting.set(key, [s]);
    }
  }

  /** Workload-selecting Sidecars of `ns` that select `w`, in manifest order. */
  selectingSidecars(w: Workload, ns: string): Res[] {
    const found: Res[] = [];
    for (const k of Object.keys(w.labels)) {
      for (const s of this.selecting.get(`${ns}\u0000${k}=${w.labels[k]}`) ?? []) {
        if (!found.includes(s) && matchesSelector(w.labels, selectorOf(s)!)) found.push(s);
      }
    }
    const order = this.index.of('Sidecar');
    return found.length > 1 ? found.sort((a, b) => order.indexOf(a) - order.indexOf(b)) : found;
  }

  defaultOf(ns: string): Res | undefined {
    return this.defaults.get(ns);
  }
}

/** The Sidecar that configures `w`'s proxy: a workload-selecting one in its namespace, else the namespace's, else the root namespace's. */
export function sidecarScopeOf(sidecars: SidecarIndex, w: Workload | undefined, ns: string): SidecarScope {
  const index = sidecars.index;
  const selecting = w ? sidecars.selectingSidecars(w, ns) : [];
  const sidecar = selecting[0] ?? sidecars.defaultOf(ns) ?? sidecars.defaultOf(index.options.rootNamespace);
  const meshMode = index.options.meshConfig?.outboundTrafficPolicy?.mode;
  const own = sidecar?.spec.outboundTrafficPolicy?.mode;
  return {
    sidecar,
    ambiguous: selecting.length > 1 ? selecting : undefined,
    outboundPolicy: own ?? meshMode ?? 'ALLOW_ANY',
    outboundPolicySource: own ? `Sidecar ${sidecar!.ns}/${sidecar!.name} spec.outboundTrafficPolicy.mode` : meshMode ? 'the mesh config outboundTrafficPolicy.mode' : "Istio's default outboundTrafficPolicy (ALLOW_ANY)",
  };
}

function selectorOf(s: Res): Record<string, string> | undefined {
  const labels = s.spec.workloadSelector?.labels;
  return labels && typeof labels === 'object' && Object.keys(labels).length > 0 ? labels : undefined;
}

/**
 * Whether the Sidecar imports `fqdn` (defined by an object of `configNs`) on `port`: an egress listener for that port
 * (or without a port) lists `<namespace>/<host>` with `*`, `.` (the Sidecar's namespace) or the namespace, and the
 * host (`*`, `*.suffix` or the name). Returns the field that imports it, or undefined.
 */
export function importedBy(sidecar: Res, fqdn: string, configNs: string, port: number): string | undefined {
  const egress: any[] = Array.isArray(sidecar.spec.egress) ? sidecar.spec.egress : [];
  for (let i = 0; i < egress.length; i++) {
    const listener = egress[i];
    const listenerPort = listener?.port?.number;
    if (listenerPort !== undefined && Number(listenerPort) !== port) continue;
    const hosts: any[] = Array.isArray(listener?.hosts) ? listener.hosts : [];
    for (let j = 0; j < hosts.length; j++) {
      const entry = String(hosts[j]);
      const slash = entry.indexOf('/');
      if (slash < 0) continue;
      const ns = entry.slice(0, slash);
      const host = entry.slice(slash + 1);
      const nsOk = ns === '*' || (ns === '.' ? sidecar.ns === configNs : ns !== '~' && ns === configNs);
      if (nsOk && hostMatchesPattern(fqdn, host, configNs)) return `spec.egress[${i}].hosts[${j}]`;
    }
  }
  return undefined;
}
