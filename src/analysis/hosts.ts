// Host names the way Istio's analyzers and proxies read them (pkg/config/host, analyzers/util/hosts.go).

export const CLUSTER_DOMAIN = 'svc.cluster.local';

/** `reviews` in namespace `default` becomes `reviews.default.svc.cluster.local`; FQDNs and wildcards stay as they are. */
export function toFqdn(host: string, namespaceName: string): string {
  if (host.startsWith('*') || host.includes('.')) return host;
  return `${host}.${namespaceName}.${CLUSTER_DOMAIN}`;
}

/** `<name>.<namespace>.svc.cluster.local` → its parts; undefined for any other host. */
export function clusterServiceOf(fqdn: string): { name: string; namespaceName: string } | undefined {
  const m = /^([^.]+)\.([^.]+)\.svc\.cluster\.local$/.exec(fqdn);
  return m ? { name: m[1], namespaceName: m[2] } : undefined;
}

export function isWildcard(host: string): boolean {
  return host.startsWith('*');
}

/** True when two (possibly wildcarded) host names overlap, in either direction (Istio's `host.Name.Matches`). */
export function hostsOverlap(a: string, b: string): boolean {
  const aw = isWildcard(a);
  const bw = isWildcard(b);
  if (aw && bw) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  if (aw) return b.endsWith(a.slice(1));
  if (bw) return a.endsWith(b.slice(1));
  return a === b;
}

/** True when `host` is covered by `pattern` (`*`, `*.example.com`, or an exact name). */
export function hostCoveredBy(host: string, pattern: string): boolean {
  if (!isWildcard(pattern)) return host === pattern;
  if (isWildcard(host)) return host.length >= pattern.length && host.slice(1).endsWith(pattern.slice(1));
  return host.endsWith(pattern.slice(1));
}

/**
 * The namespaces an `exportTo` list makes an object visible in: undefined means every namespace.
 * `.` is the object's own namespace, `*` is all of them, `~` none.
 */
export function exportScopes(exportTo: string[] | undefined, ownNamespace: string): Set<string> | undefined {
  if (!exportTo || exportTo.length === 0 || exportTo.includes('*')) return undefined;
  const scopes = new Set<string>();
  for (const e of exportTo) {
    if (e === '~') continue;
    scopes.add(e === '.' ? ownNamespace : e);
  }
  return scopes;
}

export function visibleIn(scopes: Set<string> | undefined, namespaceName: string): boolean {
  return scopes === undefined || scopes.has(namespaceName);
}

const EXPORTED = new WeakMap<object, Set<string> | null>();

/** Whether an object with `spec.exportTo` (VirtualService, DestinationRule, ServiceEntry) is visible in `namespaceName`. */
export function exportedTo(res: { readonly spec: any; readonly ns: string }, namespaceName: string): boolean {
  let scopes = EXPORTED.get(res);
  if (scopes === undefined) {
    const exportTo = Array.isArray(res.spec.exportTo) ? res.spec.exportTo.map(String) : undefined;
    scopes = exportScopes(exportTo, res.ns) ?? null;
    EXPORTED.set(res, scopes);
  }
  return scopes === null || scopes.has(namespaceName);
}
