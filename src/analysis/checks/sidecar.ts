import { exportScopes, hostCoveredBy, toFqdn, visibleIn } from '../hosts';
import { Res } from '../manifests';
import { fullName, MeshIndex, Workload } from '../model';
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

/** `ns/host` egress entries, with `.` resolved against the namespace of the workloads the Sidecar governs. */
function egressImports(sidecar: Res, consumerNs: string): (host: string, configNs: string) => boolean {
  const entries: Array<[string, string]> = (sidecar.spec.egress ?? []).flatMap((l: any) => (l?.hosts ?? []).map((h: string) => {
    const [ns, dns] = h.includes('/') ? h.split('/', 2) : ['*', h];
    return [ns === '.' ? consumerNs : ns, dns] as [string, string];
  }));
  return (host, configNs) => entries.some(([ns, dns]) => ns !== '~' && (ns === '*' || ns === configNs) && (dns === '*' || hostCoveredBy(host, dns)));
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
    const meshRoutes = index.of('VirtualService').filter(isMeshBound).map((vs) => ({
      vs,
      scopes: exportScopes(vs.spec.exportTo, vs.ns),
      hosts: (vs.spec.hosts ?? []).map((h: string) => toFqdn(h, vs.ns)) as string[],
      destinations: [...new Set(routeDestinations(vs).map((d) => toFqdn(d.destination.host ?? '', vs.ns)))],
    }));
    const namespaceWide = new Set(index.of('Sidecar').filter((s) => !s.spec.workloadSelector).map((s) => s.ns));
    for (const sidecar of index.of('Sidecar')) {
      if ((sidecar.spec.egress ?? []).length === 0) continue;
      const consumers = sidecar.ns === root && !sidecar.spec.workloadSelector
        ? index.namespaces().filter((ns) => ns === root || !namespaceWide.has(ns))
        : [sidecar.ns];
      const importers = new Map(consumers.map((ns) => [ns, egressImports(sidecar, ns)]));
      const missing = new Map<string, string[]>();
      const need = (host: string, fromNs: string, usedBy: string) => {
        const entry = index.registry.lookup(fromNs, host);
        if (!entry) return;
        for (const imports of importers.values()) {
          if (imports(host, entry.res.ns)) continue;
          const key = `${entry.res.ns}/${host}`;
          missing.set(key, [...new Set([...(missing.get(key) ?? []), usedBy])]);
        }
      };
      for (const [consumerNs, imports] of importers) {
        for (const r of meshRoutes) {
          if (!visibleIn(r.scopes, consumerNs)) continue;
          const via = r.hosts.find((h) => imports(h, r.vs.ns));
          if (via) for (const host of r.destinations) need(host, r.vs.ns, `VirtualService ${fullName(r.vs)} (for ${via})`);
        }
      }
      for (const w of governedWorkloads(index, sidecar, consumers)) {
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

/** Workloads a Sidecar configures: its selector's, or its namespaces' workloads that no selector Sidecar takes. */
function governedWorkloads(index: MeshIndex, sidecar: Res, consumers: string[]): Workload[] {
  if (sidecar.spec.workloadSelector) return index.workloadsMatching(sidecar.spec.workloadSelector.labels ?? {}, sidecar.ns);
  const selected = new Set(index.of('Sidecar').filter((s) => s.spec.workloadSelector)
    .flatMap((s) => index.workloadsMatching(s.spec.workloadSelector.labels ?? {}, s.ns)));
  return consumers.flatMap((ns) => index.workloadsMatching(undefined, ns)).filter((w) => !selected.has(w));
}
