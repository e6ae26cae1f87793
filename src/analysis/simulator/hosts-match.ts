// Host names as the proxies match them: the domains Istio generates for a Service's virtual host, and the
// (possibly wildcarded, possibly short) hosts of VirtualServices, Gateway servers and ServiceEntries.
import { CLUSTER_DOMAIN, toFqdn } from '../hosts';

/**
 * The FQDN a request's Host header names, as Istio's virtual-host domains read it: `reviews` is the Service in the
 * caller's namespace, `reviews.bookinfo` and `reviews.bookinfo.svc` the Service in `bookinfo`; any other host is
 * taken as written. `known` says whether an FQDN is a registry host (to prefer `a.b` as `<name>.<namespace>`
 * only when such a Service exists).
 */
export function requestFqdn(host: string, callerNs: string, known: (fqdn: string) => boolean): string {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (!h.includes('.')) return `${h}.${callerNs}.${CLUSTER_DOMAIN}`;
  if (known(h)) return h;
  const parts = h.split('.');
  if (parts.length === 2 && known(`${h}.${CLUSTER_DOMAIN}`)) return `${h}.${CLUSTER_DOMAIN}`;
  if (parts.length === 3 && parts[2] === 'svc' && known(`${h}.cluster.local`)) return `${h}.cluster.local`;
  return h;
}

/** True when `host` (an FQDN) is matched by `pattern` written in an object of `patternNs` (`*`, `*.x`, short or full name). */
export function hostMatchesPattern(host: string, pattern: string, patternNs: string): boolean {
  const p = pattern.toLowerCase();
  if (p === '*') return true;
  if (p.startsWith('*')) return host.endsWith(p.slice(1));
  return host === toFqdn(p, patternNs);
}

/** How specific a host pattern is, for Envoy's virtual-host choice: exact names first, then the longest wildcard suffix. */
export function hostSpecificity(pattern: string): number {
  if (pattern === '*') return 0;
  if (pattern.startsWith('*')) return pattern.length;
  return 100_000 + pattern.length;
}
