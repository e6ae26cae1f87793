import { exportScopes, hostCoveredBy, isWildcard, toFqdn, visibleIn } from '../hosts';
import { Res } from '../manifests';
import { fullName, MeshIndex, push, Workload } from '../model';
import { isMeshBound, routeDestinations } from '../routes';
import { Check, list } from './check';
import { reportNamespaceWideDuplicates } from './telemetry';

/** IST0111: more than one Sidecar without a workloadSelector in one namespace; which one applies is undefined. */
export const sidecarDefaultSelector: Check = {
  analyzer: 'sidecar.SelectorAnalyzer',
  run(ctx) {
    reportNamespaceWideDuplicates(ctx.index.of('Sidecar'), (s) => !s.spec.workloadSelector, (s, others) =>
      ctx.report('IST0111', s, 'spec.workloadSelector',
        `Sidecar ${list(others)} in namespace ${s.ns} also has no workloadSelector; only one namespace-wide Sidecar takes effect.`,
        'Merge them into one Sidecar, or give all but one a workloadSelector.'));
  },
};

/**
 * Hosts a workload declares it calls, comma-separated FQDNs or names relative to its namespace
 * (the declared dependencies of `MeshService.callsTo`).
 */
export const DECLARED_CALLS_ANNOTATION = 'cdk8s-mesh.dev/calls';

export function declaredCalls(w: Workload): string[] {
  const value = w.annotations[DECLARED_CALLS_ANNOTATION] ?? w.res.annotations[DECLARED_CALLS_ANNOTATION];
  return value ? value.split(',').map((h) => toFqdn(h.trim(), w.ns)).filter((h) => h.length > 0) : [];
}

interface EgressEntry { readonly ns: string; readonly dns: string }

/** The Sidecar's `ns/host` egress entries; `.` is the namespace of the workloads it governs, `~` imports nothing. */
function egressEntries(sidecar: Res, consumerNs: string): EgressEntry[] {
  return (sidecar.spec.egress ?? []).flatMap((l: any) => (l?.hosts ?? []).map((h: string) => {
    const [ns, dns] = h.includes('/') ? h.split('/', 2) : ['*', h];
    return { ns: ns === '.' ? consumerNs : ns, dns };
  })).filter((e: EgressEntry) => e.ns !== '~');
}

const importedBy = (entries: EgressEntry[]) => (host: string, configNs: string) =>
  entries.some((e) => (e.ns === '*' || e.ns === configNs) && (e.dns === '*' || hostCoveredBy(host, e.dns)));

interface MeshRoute {
  readonly vs: Res;
  readonly scopes?: Set<string>;
  readonly hosts: string[];
  readonly destinations: string[];
}

/**
 * Mesh VirtualServices indexed by host and by namespace, so a Sidecar finds the ones its egress entries can import
 * without scanning them all (a Sidecar per service names a few exact hosts).
 */
class MeshRoutes {
  private readonly all: MeshRoute[];
  private readonly byHost = new Map<string, MeshRoute[]>();
  private readonly byNs = new Map<string, MeshRoute[]>();
  private readonly wildcardHosted: MeshRoute[];

  constructor(index: MeshIndex) {
    this.all = index.of('VirtualService').filter(isMeshBound).map((vs) => ({
      vs,
      scopes: exportScopes(vs.spec.exportTo, vs.ns),
      hosts: (vs.spec.hosts ?? []).map((h: string) => toFqdn(h, vs.ns)),
      destinations: [...new Set(routeDestinations(vs).map((d) => toFqdn(d.destination.host ?? '', vs.ns)))],
    }));
    for (const r of this.all) {
      push(this.byNs, r.vs.ns, r);
      for (const h of r.hosts) push(this.byHost, h, r);
    }
    this.wildcardHosted = this.all.filter((r) => r.hosts.some(isWildcard));
  }

  /** A superset of the routes the entries import (the caller checks each precisely). */
  candidates(entries: EgressEntry[]): MeshRoute[] {
    const found = new Set<MeshRoute>();
    for (const e of entries) {
      const matches = isWildcard(e.dns) ? (e.ns === '*' ? this.all : this.byNs.get(e.ns) ?? []) : [...(this.byHost.get(e.dns) ?? []), ...this.wildcardHosted];
      for (const r of matches) found.add(r);
    }
    return [...found];
  }
}

/**
 * CMA108: a Sidecar's egress hosts import a VirtualService (or the workloads declare a call) whose destination
 * host they do not import: the proxy has the route but no cluster for the destination, so those requests fail.
 */
export const sidecarEgress: Check = {
  analyzer: 'cdk8s-mesh.SidecarEgressAnalyzer',
  run(ctx) {
    const { index } = ctx;
    const root = index.options.rootNamespace;
    const routes = new MeshRoutes(index);
    const sidecars = index.of('Sidecar');
    const namespaceWide = new Set(sidecars.filter((s) => !s.spec.workloadSelector).map((s) => s.ns));
    const selected = new Set(sidecars.filter((s) => s.spec.workloadSelector)
      .flatMap((s) => index.workloadsMatching(s.spec.workloadSelector.labels ?? {}, s.ns)));
    for (const sidecar of sidecars) {
      const consumers = sidecar.ns === root && !sidecar.spec.workloadSelector
        ? index.namespaces().filter((ns) => ns === root || !namespaceWide.has(ns))
        : [sidecar.ns];
      const entries = new Map(consumers.map((ns) => [ns, egressEntries(sidecar, ns)]));
      // No egress, or `*/*`: every host is imported.
      if ((sidecar.spec.egress ?? []).length === 0 || [...entries.values()].flat().some((e) => e.ns === '*' && e.dns === '*')) continue;
      const importers = [...entries].map(([ns, egress]) => ({ ns, egress, imports: importedBy(egress) }));
      const missing = new Map<string, string[]>();
      const need = (host: string, fromNs: string, usedBy: string) => {
        const entry = index.registry.lookup(fromNs, host);
        if (!entry) return;
        for (const { imports } of importers) {
          if (imports(host, entry.res.ns)) continue;
          const key = `${entry.res.ns}/${host}`;
          missing.set(key, [...new Set([...(missing.get(key) ?? []), usedBy])]);
        }
      };
      for (const { ns: consumerNs, egress, imports } of importers) {
        for (const r of routes.candidates(egress)) {
          if (!visibleIn(r.scopes, consumerNs)) continue;
          const via = r.hosts.find((h) => imports(h, r.vs.ns));
          if (via) for (const host of r.destinations) need(host, r.vs.ns, `VirtualService ${fullName(r.vs)} (for ${via})`);
        }
      }
      const governed = sidecar.spec.workloadSelector
        ? index.workloadsMatching(sidecar.spec.workloadSelector.labels ?? {}, sidecar.ns)
        : consumers.flatMap((ns) => index.workloadsMatching(undefined, ns)).filter((w) => !selected.has(w));
      for (const w of governed) {
        for (const host of declaredCalls(w)) need(host, w.ns, `${w.res.kind} ${fullName(w.res)} (declared call)`);
      }
      for (const [key, usedBy] of [...missing].sort()) {
        ctx.report('CMA108', sidecar, 'spec.egress',
          `The egress hosts do not import ${key}, which ${list(usedBy.sort())} use${usedBy.length === 1 ? 's' : ''}: the proxy has no cluster for it and those requests fail.`,
          `Add "${key}" (or "${key.split('/')[0]}/*") to the egress hosts.`);
      }
    }
  },
};
