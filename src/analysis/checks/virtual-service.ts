import { exportScopes, hostsOverlap, isWildcard, toFqdn } from '../hosts';
import { Res } from '../manifests';
import { fullName, MeshIndex, push, RegistryEntry } from '../model';
import { isMeshBound, RouteDestination, routeDestinations } from '../routes';
import { Check, CheckContext, list } from './check';
import { shadowedMatches } from '../simulator/route-match';

/** IST0101 (host, mirror host, host:port), IST0112 and IST0140: do route destinations exist? */
export const destinationHosts: Check = {
  analyzer: 'virtualservice.DestinationHostAnalyzer',
  run(ctx) {
    const subsetRoutes = meshSubsetRoutes(ctx.index);
    for (const vs of ctx.index.of('VirtualService')) {
      for (const d of routeDestinations(vs)) {
        const host: string = d.destination.host ?? '';
        const entry = ctx.index.registry.lookup(vs.ns, host, vs.spec.exportTo);
        if (!entry) {
          ctx.report('IST0101', vs, `${d.path}.host`,
            `Referenced ${d.mirror ? 'mirror host' : 'host'} not found: "${host}". No Service or ServiceEntry visible from namespace "${vs.ns}" defines ${toFqdn(host, vs.ns)}.`,
            'Fix the host name, create the Service or ServiceEntry, or export it to this namespace (exportTo / networking.istio.io/exportTo).');
          continue;
        }
        checkPort(ctx, vs, d, entry);
      }
      ingressRouteSubsets(ctx, vs, subsetRoutes);
    }
  },
};

function checkPort(ctx: CheckContext, vs: Res, d: RouteDestination, entry: RegistryEntry): void {
  const host: string = d.destination.host;
  const { ports } = entry;
  const port = d.destination.port?.number;
  if (port === undefined) {
    if (ports.length > 1) {
      ctx.report('IST0112', vs, d.path,
        `This route sends traffic to "${host}", which exposes several ports (${list(ports)}), without saying which one.`,
        `Set ${d.path}.port.number to one of ${list(ports)}.`);
    }
    return;
  }
  if (!ports.includes(port)) {
    ctx.report('IST0101', vs, `${d.path}.port.number`,
      `Referenced host:port not found: "${host}:${port}". ${entry.res.kind} ${fullName(entry.res)} exposes ${ports.length ? `ports ${list(ports)}` : 'no ports'}.`,
      ports.length ? `Use one of the ports ${list(ports)}, or add port ${port} to the ${entry.res.kind}.` : `Add port ${port} to the ${entry.res.kind}.`);
  }
}

/** FQDN → VirtualServices that route a host they define by subset (routing that ingress traffic bypasses). */
function meshSubsetRoutes(index: MeshIndex): Map<string, Res[]> {
  const out = new Map<string, Res[]>();
  for (const vs of index.of('VirtualService')) {
    const hosts = new Set((vs.spec.hosts ?? []).map((h: string) => toFqdn(h, vs.ns)));
    for (const d of routeDestinations(vs)) {
      const fqdn = toFqdn(d.destination.host ?? '', vs.ns);
      if (d.protocol !== 'http' || d.mirror || !d.destination.subset || !hosts.has(fqdn)) continue;
      const routes = out.get(fqdn) ?? [];
      if (!routes.includes(vs)) routes.push(vs);
      out.set(fqdn, routes);
    }
  }
  return out;
}

/** IST0140: a gateway route without subset to a host whose mesh routing is by subset. */
function ingressRouteSubsets(ctx: CheckContext, vs: Res, subsetRoutes: Map<string, Res[]>): void {
  if ((vs.spec.gateways ?? []).length === 0) return;
  for (const d of routeDestinations(vs)) {
    if (d.protocol !== 'http' || d.mirror || d.destination.subset) continue;
    const fqdn = toFqdn(d.destination.host ?? '', vs.ns);
    for (const other of subsetRoutes.get(fqdn) ?? []) {
      ctx.report('IST0140', vs, d.path,
        `VirtualService ${fullName(other)} routes ${fqdn} by subset, but this gateway route sends to it without a subset: the subset routing has no effect on requests entering through the gateway.`,
        `Route to the subsets here too (set ${d.path}.subset), or merge the routing into one VirtualService bound to both the gateway and mesh.`);
    }
  }
}

/** IST0101: a destination subset that no DestinationRule for the host defines. */
export const destinationSubsets: Check = {
  analyzer: 'virtualservice.DestinationRuleAnalyzer',
  run(ctx) {
    for (const vs of ctx.index.of('VirtualService')) {
      for (const d of routeDestinations(vs)) {
        const subset: string | undefined = d.destination.subset;
        if (!subset) continue;
        const fqdn = toFqdn(d.destination.host ?? '', vs.ns);
        const defined = ctx.index.destinationRulesFor(fqdn).flatMap((dr) => (dr.spec.subsets ?? []).map((s: any) => s.name as string));
        if (defined.includes(subset)) continue;
        ctx.report('IST0101', vs, `${d.path}.subset`,
          `Referenced ${d.mirror ? 'mirror ' : ''}subset not found: "${subset}" of host ${fqdn}: ${defined.length ? `its DestinationRules define ${list([...new Set(defined)].sort())}` : 'no DestinationRule defines subsets for this host'}.`,
          defined.length ? `Route to one of ${list([...new Set(defined)].sort())}, or add subset "${subset}" to the DestinationRule for ${fqdn}.`
            : `Create a DestinationRule for ${fqdn} with a subset "${subset}" (labels of the version's pods), or remove the subset.`);
      }
    }
  },
};

interface ScopedHost { readonly scope: string; readonly fqdn: string; readonly vs: Res; readonly hostIndex: number }

/**
 * IST0109: mesh-bound VirtualServices that define the same host in overlapping exportTo scopes. Istio does not
 * merge them, so which one applies is undefined. A VirtualService exported everywhere also overlaps a host of a
 * namespace-scoped one when the names match (wildcards included); each VirtualService is reported once.
 */
export const conflictingMeshHosts: Check = {
  analyzer: 'virtualservice.ConflictingMeshGatewayHostsAnalyzer',
  run(ctx) {
    const groups = new Map<string, ScopedHost[]>();
    const everywhere: ScopedHost[] = [];
    for (const vs of ctx.index.of('VirtualService')) {
      if (!isMeshBound(vs)) continue;
      const scopes = exportScopes(vs.spec.exportTo, vs.ns);
      (vs.spec.hosts ?? []).forEach((h: string, hostIndex: number) => {
        for (const scope of scopes ? [...scopes].sort() : ['*']) {
          const entry = { scope, fqdn: toFqdn(h, vs.ns), vs, hostIndex };
          const key = `${scope}/${entry.fqdn}`;
          push(groups, key, entry);
          if (scope === '*') everywhere.push(entry);
        }
      });
    }
    const everywhereWildcards = everywhere.filter((e) => isWildcard(e.fqdn));
    const reported = new Set<Res>();
    for (const key of [...groups.keys()].sort()) {
      const members = [...groups.get(key)!];
      const { scope, fqdn } = members[0];
      if (scope !== '*') {
        // Exported everywhere and the same name, or overlapping through a wildcard (rare, so scanned).
        const candidates = isWildcard(fqdn) ? everywhere : everywhereWildcards;
        members.push(...(groups.get(`*/${fqdn}`) ?? []), ...candidates.filter((e) => e.fqdn !== fqdn && hostsOverlap(fqdn, e.fqdn)));
      }
      const vss = [...new Set(members.map((m) => m.vs))];
      if (vss.length < 2) continue;
      for (const m of members) {
        if (reported.has(m.vs)) continue;
        reported.add(m.vs);
        const others = vss.filter((v) => v !== m.vs).map(fullName).sort();
        ctx.report('IST0109', m.vs, `spec.hosts[${m.hostIndex}]`,
          `Host ${fqdn} (exported to ${scope === '*' ? 'all namespaces' : `namespace ${scope}`}) is also defined by the mesh VirtualService${others.length > 1 ? 's' : ''} ${list(others)}; Istio does not merge them, so which routes apply is undefined.`,
          'Merge the routes for this host into one VirtualService, or give them exportTo scopes that do not overlap.');
      }
    }
  },
};

/** Gateway names Istio generates for Kubernetes Gateways; VirtualServices must not reference them. */
const INTERNAL_GATEWAY_MARKER = '~istio-autogenerated-k8s-gateway~';

/** IST0101 (gateway), IST0132 and IST0165: do the gateways exist and serve the VirtualService's hosts? */
export const gatewayReferences: Check = {
  analyzer: 'virtualservice.GatewayAnalyzer',
  run(ctx) {
    for (const vs of ctx.index.of('VirtualService')) {
      const hosts: string[] = vs.spec.hosts ?? [];
      (vs.spec.gateways ?? []).forEach((gw: string, i: number) => {
        if (gw === 'mesh') return;
        const path = `spec.gateways[${i}]`;
        if (gw.includes(INTERNAL_GATEWAY_MARKER)) {
          ctx.report('IST0165', vs, path,
            `"${gw}" is a Gateway Istio generates internally from a Kubernetes Gateway; referencing it is unsupported and may break when Istio renames it.`,
            'Attach routes to the Kubernetes Gateway with an HTTPRoute (parentRefs), or reference an Istio Gateway you define.');
          return;
        }
        const [ns, name] = gw.includes('/') ? gw.split('/', 2) : [vs.ns, gw];
        const istioGw = ctx.index.get('Gateway', ns, name);
        const kubeGw = istioGw ? undefined : ctx.index.get('Gateway.gateway.networking.k8s.io', ns, name);
        if (!istioGw && !kubeGw) {
          ctx.report('IST0101', vs, path, `Referenced gateway not found: "${gw}" (no Gateway ${ns}/${name}).`,
            `Create Gateway ${ns}/${name}, or reference an existing one as <namespace>/<name>.`);
        }
        const served = kubeGw ? kubeGatewayHosts(kubeGw) : istioGatewayHosts(istioGw, vs.ns);
        if (served !== undefined && !served.some((g) => hosts.some((h) => hostsOverlap(g, h)))) {
          ctx.report('IST0132', vs, path,
            `None of the hosts [${list(hosts)}] of this VirtualService is served by Gateway ${ns}/${name}${served.length ? ` (it accepts ${list(served)} for namespace ${vs.ns})` : ' (it has no server hosts)'}.`,
            'Add the host to a server of the Gateway (as <namespace>/<host> or */<host>), or use a host the Gateway serves.');
        }
      });
    }
  },
};

/** Server hosts of an Istio Gateway that a VirtualService in `vsNs` may bind to (`ns/host` limits the namespace). */
function istioGatewayHosts(gw: Res | undefined, vsNs: string): string[] {
  const out: string[] = [];
  for (const server of gw?.spec.servers ?? []) {
    for (const h of server?.hosts ?? []) {
      if (!h.includes('/')) {
        out.push(h);
        continue;
      }
      const [ns, host] = h.split('/', 2);
      const owner = ns === '.' ? gw!.ns : ns;
      if (owner === '*' || owner === vsNs) out.push(host);
    }
  }
  return out;
}

/** Listener host names of a Kubernetes Gateway; undefined when a listener accepts any host. */
function kubeGatewayHosts(gw: Res): string[] | undefined {
  const listeners: any[] = gw.spec.listeners ?? [];
  if (listeners.some((l) => !l?.hostname)) return undefined;
  return listeners.map((l) => l.hostname);
}

/**
 * IST0130 / IST0131 (Istio reports them from VirtualService validation): rules that can never match because earlier
 * rules take all their requests, and matches an earlier match takes every request of. Whether one match takes
 * another's requests is the request simulator's question (`shadowedMatches`), so a rule after a catch-all, a
 * duplicate, a longer prefix after a shorter one and an exact path after a prefix covering it are all found.
 */
export const unreachableRules: Check = {
  analyzer: 'schema.ValidationAnalyzer.VirtualService',
  run(ctx) {
    for (const vs of ctx.index.of('VirtualService')) {
      const http: any[] = Array.isArray(vs.spec.http) ? vs.spec.http : [];
      const shadows = shadowsOf(vs);
      for (const m of shadows.matches) {
        const match = http[m.rule]?.match?.[m.match!];
        const earlier = http[m.by]?.match?.[m.byMatch!];
        const same = sameMatch(match, earlier);
        // Istio's own validation reports duplicates and longer prefixes after shorter ones (coveredValidation); the
        // other covered matches the simulator finds are CMA150 (shadowedRoutes), so IST0131 means what istioctl means.
        if (!same && !istioCoveredPrefix(earlier, match)) continue;
        ctx.report('IST0131', vs, `spec.http[${m.rule}].match[${m.match}]`,
          `Match ${matchName(match, m.match!)} of http rule ${ruleName(http[m.rule], m.rule)} is never used: ${same ? `rule ${ruleName(http[m.by], m.by)} has the same match earlier` : `match ${matchName(earlier, m.byMatch!)} of ${m.by === m.rule ? 'the same rule' : `rule ${ruleName(http[m.by], m.by)}`} comes first and covers it (it takes every request the later match matches)`}.`,
          same ? 'Remove the duplicate match, or make it different from the earlier one.' : 'Put the more specific match first, or remove the covered match.');
      }
      for (const r of shadows.rules) {
        // Istio calls a rule unreachable (IST0130) after a catch-all, or when every match repeats an earlier one;
        // a rule whose matches are only covered gets IST0131 on each match (above), which says the same thing.
        const repeats = r.byMatch === undefined || (http[r.rule]?.match ?? []).every((m: any, k: number) => {
          const s = shadows.matches.find((x) => x.rule === r.rule && x.match === k);
          return s !== undefined && s.by !== r.rule && sameMatch(m, http[s.by]?.match?.[s.byMatch!]);
        });
        if (!repeats) continue;
        ctx.report('IST0130', vs, `spec.http[${r.rule}]`,
          r.byMatch === undefined
            ? `http rule ${ruleName(http[r.rule], r.rule)} is never used: rule ${ruleName(http[r.by], r.by)} before it has no match and takes all traffic (only the last rule may have no match).`
            : `http rule ${ruleName(http[r.rule], r.rule)} is never used: all its matches are used by earlier rules.`,
          r.byMatch === undefined ? 'Remove this rule, or give the earlier rule a match so the catch-all comes last.' : 'Remove this rule, or change its matches.');
      }
      for (const protocol of ['tcp', 'tls']) duplicateMatches(ctx, vs, protocol, Array.isArray(vs.spec[protocol]) ? vs.spec[protocol] : []);
    }
  },
};

/**
 * CMA150: a match that an earlier match takes every request of, where Istio's own validation (IST0131) does not
 * look: an exact path after a prefix covering it, a match with extra conditions after one without them, a regex
 * after a prefix it implies.
 */
export const shadowedRoutes: Check = {
  analyzer: 'cdk8s-mesh.ShadowedRouteAnalyzer',
  run(ctx) {
    for (const vs of ctx.index.of('VirtualService')) {
      const http: any[] = Array.isArray(vs.spec.http) ? vs.spec.http : [];
      for (const m of shadowsOf(vs).matches) {
        const match = http[m.rule]?.match?.[m.match!];
        const earlier = http[m.by]?.match?.[m.byMatch!];
        if (sameMatch(match, earlier) || istioCoveredPrefix(earlier, match)) continue;
        ctx.report('CMA150', vs, `spec.http[${m.rule}].match[${m.match}]`,
          `Match ${matchName(match, m.match!)} of http rule ${ruleName(http[m.rule], m.rule)} is never used: match ${matchName(earlier, m.byMatch!)} of ${m.by === m.rule ? 'the same rule' : `rule ${ruleName(http[m.by], m.by)}`} comes first and takes every request it matches (first match wins).`,
          'Put the more specific match first, or remove the covered match.');
      }
    }
  },
};

const SHADOWS = new WeakMap<Res, ReturnType<typeof shadowedMatches>>();
function shadowsOf(vs: Res): ReturnType<typeof shadowedMatches> {
  let s = SHADOWS.get(vs);
  if (!s) SHADOWS.set(vs, (s = shadowedMatches(Array.isArray(vs.spec.http) ? vs.spec.http : [])));
  return s;
}

const ruleName = (rule: any, i: number) => (rule?.name ? `"${rule.name}"` : `#${i}`);

/** Two matches that are the same but for their names. */
const sameMatch = (a: any, b: any) => canonicalJson({ ...a, name: undefined }) === canonicalJson({ ...b, name: undefined });

/** `#1 (prefix /api, GET)`: a match's name or index, and its path and method. */
function matchName(m: any, i: number): string {
  const uri = m?.uri && typeof m.uri === 'object' ? Object.entries(m.uri).map(([k, v]) => `${k} ${v}`)[0] : undefined;
  const method = m?.method && typeof m.method === 'object' ? Object.values(m.method)[0] : undefined;
  const what = [uri, method].filter((x) => x !== undefined).join(', ');
  return `${m?.name ? `"${m.name}"` : `#${i}`}${what ? ` (${what})` : ''}`;
}

/** The shape of Istio's coveredValidation: both URI prefixes, on the same port, conditioning the same header, query and exclusion names. */
function istioCoveredPrefix(a: any, b: any): boolean {
  const keys = (o: any) => Object.keys(o && typeof o === 'object' ? o : {}).sort().join('\u0000');
  return typeof a?.uri?.prefix === 'string' && typeof b?.uri?.prefix === 'string' && (a.port ?? 0) === (b.port ?? 0)
    && keys(a.headers) === keys(b.headers) && keys(a.queryParams) === keys(b.queryParams) && keys(a.withoutHeaders) === keys(b.withoutHeaders);
}

/** TCP and TLS rules: a rule after one without matches, and identical matches, are never used. */
function duplicateMatches(ctx: CheckContext, vs: Res, protocol: string, rules: any[]): void {
  const seen = new Map<string, number>();
  let catchAll = -1;
  rules.forEach((rule, i) => {
    if (!rule) return;
    const matches: any[] = Array.isArray(rule.match) ? rule.match : [];
    if (matches.length === 0) {
      if (catchAll >= 0) {
        ctx.report('IST0130', vs, `spec.${protocol}[${i}]`,
          `${protocol} rule ${ruleName(rule, i)} is never used: rule ${ruleName(rules[catchAll], catchAll)} before it has no match and takes all traffic (only the last rule may have no match).`,
          'Remove this rule, or give the earlier rule a match so the catch-all comes last.');
      }
      catchAll = i;
      return;
    }
    let duplicates = 0;
    matches.forEach((match, j) => {
      const key = canonicalJson(match);
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, i);
        return;
      }
      duplicates++;
      ctx.report('IST0131', vs, `spec.${protocol}[${i}].match[${j}]`,
        `Match #${j} of ${protocol} rule ${ruleName(rule, i)} is never used: rule ${ruleName(rules[first], first)} has the same match earlier.`,
        'Remove the duplicate match, or make it different from the earlier one.');
    });
    if (duplicates === matches.length) {
      ctx.report('IST0130', vs, `spec.${protocol}[${i}]`,
        `${protocol} rule ${ruleName(rule, i)} is never used: all its matches are used by earlier rules.`,
        'Remove this rule, or change its matches.');
    }
  });
}

/** JSON with sorted keys and undefined members dropped: equal matches give equal text. */
export function canonicalJson(value: any): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).filter((k) => value[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
