// Kiali's validations that need no cluster (kiali/kiali models/checks.go), as CMA codes: references
// to namespaces, workloads, hosts and ports the manifests do not have, objects that overlap, and
// identity rules where mTLS cannot provide an identity.
import { hostCoveredBy, isWildcard, toFqdn } from '../hosts';
import { Res } from '../manifests';
import { fullName, MeshIndex, push, Workload } from '../model';
import { Check, CheckContext, list } from './check';
import { closest } from '../../validation/validator';
import { targetPortOf } from '../simulator/destination';
import { SimulatorEngine } from '../simulator/engine';
import { GATEWAY_NAME_LABEL } from '../simulator/kube-gateway';

/** Kinds whose `spec.selector.matchLabels` (or `workloadSelector.labels`) picks the workloads they apply to. */
const SELECTING: Array<{ kind: string; labels: (r: Res) => Record<string, string> | undefined; field: string }> = [
  { kind: 'AuthorizationPolicy', labels: (r) => r.spec.selector?.matchLabels, field: 'spec.selector.matchLabels' },
  { kind: 'PeerAuthentication', labels: (r) => r.spec.selector?.matchLabels, field: 'spec.selector.matchLabels' },
  { kind: 'RequestAuthentication', labels: (r) => r.spec.selector?.matchLabels, field: 'spec.selector.matchLabels' },
  { kind: 'Telemetry', labels: (r) => r.spec.selector?.matchLabels, field: 'spec.selector.matchLabels' },
  { kind: 'WasmPlugin', labels: (r) => r.spec.selector?.matchLabels, field: 'spec.selector.matchLabels' },
  { kind: 'Sidecar', labels: (r) => r.spec.workloadSelector?.labels, field: 'spec.workloadSelector.labels' },
  { kind: 'EnvoyFilter', labels: (r) => r.spec.workloadSelector?.labels, field: 'spec.workloadSelector.labels' },
  { kind: 'Gateway', labels: (r) => r.spec.selector, field: 'spec.selector' },
];

function nonEmpty(labels: Record<string, string> | undefined): Record<string, string> | undefined {
  return labels && typeof labels === 'object' && Object.keys(labels).length > 0 ? labels : undefined;
}

/**
 * A namespace the manifests do not have but which is a near miss (edit distance 2 at most) of one
 * they have: a typo. Other unknown namespaces may well exist in the cluster (a monitoring
 * namespace managed elsewhere), which manifests alone cannot tell.
 */
function misspelled(ns: unknown, known: Set<string>): string | undefined {
  if (typeof ns !== 'string' || ns.includes('*') || known.has(ns)) return undefined;
  return closest(ns, [...known]);
}

/**
 * Namespaces the manifests know: a Namespace object or any object in it. Only decidable when the
 * manifests declare Namespaces at all (a folder of policies alone says nothing about the cluster).
 */
function knownNamespaces(index: MeshIndex): Set<string> | undefined {
  if (index.of('Namespace').length === 0) return undefined;
  return new Set([...index.of('Namespace').map((n) => n.name), ...index.namespaces(), index.options.rootNamespace]);
}

/** CMA115 (Kiali KIA0101): an AuthorizationPolicy source namespace that does not exist. */
export const sourceNamespaces: Check = {
  analyzer: 'cdk8s-mesh.ReferenceAnalyzer',
  run(ctx) {
    const known = knownNamespaces(ctx.index);
    if (!known) return;
    for (const ap of ctx.index.of('AuthorizationPolicy')) {
      forEachSource(ap, (source, path) => {
        for (const field of ['namespaces', 'notNamespaces']) {
          arrayOf(source[field]).forEach((ns, i) => {
            const near = misspelled(ns, known);
            if (!near) return;
            ctx.report('CMA115', ap, `${path}.${field}[${i}]`,
              `Namespace "${ns}" does not exist in the manifests, which define "${near}": the rule ${field === 'namespaces' ? 'never matches a caller from it' : 'excludes nobody'}.`,
              `Did you mean "${near}"? Fix the namespace name, or create the Namespace.`);
          });
        }
      });
    }
  },
};

function arrayOf(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function forEachSource(ap: Res, fn: (source: any, path: string) => void): void {
  arrayOf(ap.spec.rules).forEach((rule: any, i) => {
    arrayOf(rule?.from).forEach((from: any, j) => {
      if (from?.source && typeof from.source === 'object') fn(from.source, `spec.rules[${i}].from[${j}].source`);
    });
  });
}

/**
 * CMA116 (Kiali KIA0004, KIA0302 for Gateways): a workload selector that selects no workload of the
 * manifests. Decided only where the manifests have workloads (for a Gateway, anywhere: its selector
 * spans namespaces), so a folder of policies alone is not flagged.
 */
export const selectorsWithoutWorkloads: Check = {
  analyzer: 'cdk8s-mesh.ReferenceAnalyzer',
  run(ctx) {
    const { index } = ctx;
    const root = index.options.rootNamespace;
    for (const { kind, labels, field } of SELECTING) {
      for (const r of index.of(kind)) {
        const selector = nonEmpty(labels(r));
        if (!selector) continue;
        // Istio's own gateways (installed with Istio, not part of the manifests).
        if (kind === 'Gateway' && Object.keys(selector).length === 1 && ['ingressgateway', 'egressgateway'].includes(selector.istio)) continue;
        // The pods Istio deploys for a Gateway API Gateway of the namespace (labelled with its name; not in the manifests).
        const gatewayName = selector[GATEWAY_NAME_LABEL];
        if (gatewayName && Object.keys(selector).length === 1 && index.get('Gateway.gateway.networking.k8s.io', r.ns, gatewayName)) continue;
        // A selector in the root namespace (or on a Gateway) selects in every namespace.
        const anywhere = kind === 'Gateway' || (r.ns === root && kind !== 'PeerAuthentication');
        const candidates = index.workloadsMatching(undefined, anywhere ? undefined : r.ns);
        if (candidates.length === 0) continue;
        if (index.workloadsMatching(selector, anywhere ? undefined : r.ns).length > 0) continue;
        const labelText = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(', ');
        ctx.report('CMA116', r, field,
          `No workload ${anywhere ? 'of the manifests' : `in namespace ${r.ns}`} has the labels ${labelText}: this ${kind} applies to nothing.`,
          `Use the labels of the pods it should apply to${kind === 'Gateway' ? ' (the gateway deployment, e.g. istio=ingressgateway)' : ''}, or remove the selector to apply it namespace-wide.`);
      }
    }
  },
};

/** IST0110 (Kiali KIA0003): two Sidecars with workload selectors select the same workload. */
export const conflictingSidecars: Check = {
  analyzer: 'sidecar.SelectorAnalyzer',
  run(ctx) {
    const byWorkload = new Map<Workload, Res[]>();
    for (const s of ctx.index.of('Sidecar')) {
      const selector = nonEmpty(s.spec.workloadSelector?.labels);
      if (!selector) continue;
      for (const w of ctx.index.workloadsMatching(selector, s.ns)) push(byWorkload, w, s);
    }
    const reported = new Set<string>();
    for (const [w, sidecars] of byWorkload) {
      if (sidecars.length < 2) continue;
      for (const s of sidecars) {
        const key = `${fullName(s)}|${fullName(w.res)}`;
        if (reported.has(key)) continue;
        reported.add(key);
        ctx.report('IST0110', s, 'spec.workloadSelector',
          `${w.res.kind} ${fullName(w.res)} is selected by ${sidecars.length} Sidecars (${list(sidecars.map(fullName))}): which one applies is undefined.`,
          'Make the selectors disjoint, or merge the Sidecars.');
      }
    }
  },
};

/** CMA117 (Kiali KIA0201): two DestinationRules for one host in overlapping scopes. */
export const duplicateDestinationRules: Check = {
  analyzer: 'cdk8s-mesh.ReferenceAnalyzer',
  run(ctx) {
    const byHost = new Map<string, Res[]>();
    for (const dr of ctx.index.of('DestinationRule')) {
      if (typeof dr.spec.host !== 'string' || dr.spec.workloadSelector) continue;
      push(byHost, `${dr.ns}|${toFqdn(dr.spec.host, dr.ns)}`, dr);
    }
    for (const [key, drs] of byHost) {
      if (drs.length < 2) continue;
      const host = key.split('|')[1];
      for (const dr of drs) {
        const others = drs.filter((d) => d !== dr).map(fullName);
        const subsets = (d: Res) => new Set(arrayOf(d.spec.subsets).map((s: any) => s?.name));
        const shared = [...subsets(dr)].filter((s) => drs.some((d) => d !== dr && subsets(d).has(s)));
        ctx.report('CMA117', dr, 'spec.host',
          `DestinationRule ${list(others)} also configures host ${host}${shared.length ? `, with the same subsets (${list(shared)})` : ''}: Istio merges only their subsets, and only the first rule's traffic policy applies.`,
          'Keep one DestinationRule per host, with all its subsets and its traffic policy.');
      }
    }
  },
};

/** CMA118: two ServiceEntries define the same host and port in overlapping scopes. */
export const duplicateServiceEntries: Check = {
  analyzer: 'cdk8s-mesh.ReferenceAnalyzer',
  run(ctx) {
    const byHostPort = new Map<string, Res[]>();
    for (const se of ctx.index.of('ServiceEntry')) {
      const scope = arrayOf(se.spec.exportTo).length ? arrayOf(se.spec.exportTo).map((e) => (e === '.' ? se.ns : e)).sort().join(',') : '*';
      for (const h of arrayOf(se.spec.hosts)) {
        if (typeof h !== 'string') continue;
        for (const p of arrayOf(se.spec.ports)) {
          const number = (p as any)?.number;
          if (typeof number === 'number') push(byHostPort, `${scope}|${toFqdn(h, se.ns)}|${number}`, se);
        }
      }
    }
    const reported = new Set<string>();
    for (const [key, entries] of byHostPort) {
      const unique = [...new Set(entries)];
      if (unique.length < 2) continue;
      const [, host, port] = key.split('|');
      for (const se of unique) {
        if (reported.has(`${fullName(se)}|${host}|${port}`)) continue;
        reported.add(`${fullName(se)}|${host}|${port}`);
        ctx.report('CMA118', se, 'spec.hosts',
          `ServiceEntry ${list(unique.filter((e) => e !== se).map(fullName))} also defines ${host}:${port}: which entry's resolution, endpoints and ports apply is undefined.`,
          'Define each host and port in one ServiceEntry.');
      }
    }
  },
};

/** CMA119 (Kiali KIA1004): a Sidecar egress host that no Service or ServiceEntry defines. */
export const sidecarEgressHosts: Check = {
  analyzer: 'cdk8s-mesh.ReferenceAnalyzer',
  run(ctx) {
    const { index } = ctx;
    const namespacesWithHosts = new Set([...index.of('Service'), ...index.of('ServiceEntry')].map((r) => r.ns));
    for (const sidecar of index.of('Sidecar')) {
      arrayOf(sidecar.spec.egress).forEach((listener: any, i) => {
        arrayOf(listener?.hosts).forEach((entry, j) => {
          if (typeof entry !== 'string' || !entry.includes('/')) return;
          const [ns, host] = entry.split('/', 2);
          if (isWildcard(host) || host === '*' || ns === '*' || ns === '~') return;
          const owner = ns === '.' ? sidecar.ns : ns;
          // Only namespaces whose hosts the manifests hold can be decided.
          if (!namespacesWithHosts.has(owner)) return;
          const fqdn = toFqdn(host, owner);
          const defined = index.registry.lookup(owner, fqdn) !== undefined;
          if (!defined) {
            ctx.report('CMA119', sidecar, `spec.egress[${i}].hosts[${j}]`,
              `No Service or ServiceEntry in namespace ${owner} defines ${fqdn}: the egress entry imports nothing.`,
              'Fix the host (a typo?), or declare the service (a ServiceEntry for an external host).');
          }
        });
      });
    }
  },
};

/** CMA120 (Kiali KIA0701): a Service targetPort that no container of its workloads exposes. */
export const serviceTargetPorts: Check = {
  analyzer: 'cdk8s-mesh.ReferenceAnalyzer',
  run(ctx) {
    for (const svc of ctx.index.of('Service')) {
      const workloads = ctx.index.serviceWorkloads(svc);
      if (workloads.length === 0) continue;
      arrayOf(svc.spec.ports).forEach((port: any, i) => {
        if (!port || typeof port !== 'object') return;
        const target = port.targetPort ?? port.port;
        const exposing = workloads.filter((w) => arrayOf(w.podSpec?.containers).some((c: any) => arrayOf(c?.ports).some((p: any) =>
          (typeof target === 'number' ? p?.containerPort === target : p?.name === target))));
        if (exposing.length > 0) return;
        // A numeric port is reachable without being declared; a named one must be declared.
        const declaresPorts = workloads.some((w) => arrayOf(w.podSpec?.containers).some((c: any) => arrayOf(c?.ports).length > 0));
        if (typeof target === 'number' && !declaresPorts) return;
        ctx.report('CMA120', svc, `spec.ports[${i}]${port.targetPort !== undefined ? '.targetPort' : ''}`,
          typeof target === 'string'
            ? `No container of ${list(workloads.map((w) => `${w.res.kind} ${fullName(w.res)}`))} has a port named "${target}": the Service has no endpoints for port ${port.port}.`
            : `No container of ${list(workloads.map((w) => `${w.res.kind} ${fullName(w.res)}`))} exposes port ${target}: requests to port ${port.port} reach nothing listening.`,
          'Use the containerPort (or its name) the workload listens on.');
      });
    }
  },
};

/** IST0101 (Kiali KIA1102): a gateway named in `http[].match[].gateways` that does not exist. */
export const matchGateways: Check = {
  analyzer: 'cdk8s-mesh.ReferenceAnalyzer',
  run(ctx) {
    for (const vs of ctx.index.of('VirtualService')) {
      arrayOf(vs.spec.http).forEach((rule: any, i) => {
        arrayOf(rule?.match).forEach((m: any, j) => {
          arrayOf(m?.gateways).forEach((gw, k) => {
            if (typeof gw !== 'string' || gw === 'mesh') return;
            const [ns, name] = gw.includes('/') ? gw.split('/', 2) : [vs.ns, gw];
            if (ctx.index.get('Gateway', ns, name) || ctx.index.get('Gateway.gateway.networking.k8s.io', ns, name)) return;
            ctx.report('IST0101', vs, `spec.http[${i}].match[${j}].gateways[${k}]`, `Referenced gateway not found: "${gw}" (no Gateway ${ns}/${name}); the match never applies.`,
              `Create Gateway ${ns}/${name}, or name an existing one as <namespace>/<name>.`);
          });
        });
      });
    }
  },
};

/** CMA122 (Kiali KIA0005): an `exportTo` naming a namespace that does not exist. */
export const exportToNamespaces: Check = {
  analyzer: 'cdk8s-mesh.ReferenceAnalyzer',
  run(ctx) {
    const known = knownNamespaces(ctx.index);
    if (!known) return;
    const check = (r: Res, values: unknown[], path: string) => values.forEach((ns, i) => {
      const near = ns === '.' || ns === '~' ? undefined : misspelled(ns, known);
      if (!near) return;
      ctx.report('CMA122', r, `${path}[${i}]`, `exportTo names namespace "${ns}", which does not exist in the manifests (they define "${near}"): nothing there sees this ${r.kind}.`,
        `Did you mean "${near}"? Fix the namespace, use "." (this namespace) or "*", or create the Namespace.`);
    });
    for (const kind of ['VirtualService', 'DestinationRule', 'ServiceEntry', 'Sidecar']) {
      for (const r of ctx.index.of(kind)) check(r, arrayOf(r.spec.exportTo), 'spec.exportTo');
    }
    for (const svc of ctx.index.of('Service')) {
      const anno = svc.annotations['networking.istio.io/exportTo'];
      if (typeof anno === 'string') check(svc, anno.split(',').map((s) => s.trim()), 'metadata.annotations[networking.istio.io/exportTo]');
    }
  },
};

const IDENTITY_FIELDS = ['principals', 'notPrincipals', 'namespaces', 'notNamespaces', 'serviceAccounts', 'notServiceAccounts'];

/**
 * CMA124 (Kiali KIA0105): identity rules (principals, namespaces, service accounts) on workloads
 * whose inbound mTLS is off: plaintext carries no identity. CMA125 (ISTIO-SECURITY-2021-004): a
 * DENY by `namespaces` on PERMISSIVE workloads, which plaintext callers (no namespace) pass.
 */
export const identityWithoutMtls: Check = {
  analyzer: 'cdk8s-mesh.ReferenceAnalyzer',
  run(ctx) {
    const engine = SimulatorEngine.of(ctx.index);
    const policiesOf = new Map<Res, Workload[]>();
    for (const w of ctx.index.workloads) {
      if (w.dataplane === 'none') continue;
      for (const p of engine.authorizationPoliciesFor(w)) push(policiesOf, p, w);
    }
    for (const [ap, workloads] of policiesOf) reportIdentity(ctx, engine, ap, workloads);
  },
};

function reportIdentity(ctx: CheckContext, engine: SimulatorEngine, ap: Res, workloads: Workload[]): void {
  const ports = (w: Workload): number[] => {
    const declared = arrayOf(w.podSpec?.containers).flatMap((c: any) => arrayOf(c?.ports).map((p: any) => p?.containerPort)).filter((p): p is number => typeof p === 'number');
    return declared.length ? declared : [0];
  };
  const modes = workloads.flatMap((w) => ports(w).map((port) => ({ w, ...engine.mtlsMode(w, port) })));
  const disabled = modes.filter((m) => m.mode === 'DISABLE');
  const permissive = modes.filter((m) => m.mode === 'PERMISSIVE');
  const who = (ms: typeof modes) => list([...new Set(ms.map((m) => `${m.w.res.kind} ${fullName(m.w.res)}`))].slice(0, 3));
  const action = ap.spec.action ?? 'ALLOW';
  forEachSource(ap, (source, path) => {
    const fields = IDENTITY_FIELDS.filter((f) => arrayOf(source[f]).length > 0);
    if (fields.length && disabled.length) {
      ctx.report('CMA124', ap, `${path}.${fields[0]}`,
        `${list(fields)} need mTLS, but mTLS is disabled on ${who(disabled)}${disabled[0].policy ? ` (PeerAuthentication ${fullName(disabled[0].policy)})` : ''}: plaintext requests carry no identity, so this ${action} rule ${action === 'DENY' ? 'denies none of them' : 'matches none of them'}.`,
        'Enable mTLS (PERMISSIVE or STRICT) on those workloads, or match on something plaintext requests carry (ipBlocks).');
    }
    if (action === 'DENY' && arrayOf(source.namespaces).length && permissive.length) {
      ctx.report('CMA125', ap, `${path}.namespaces`,
        `A DENY by namespaces on ${who(permissive)}, whose mTLS is PERMISSIVE: plaintext callers have no namespace, so they pass this rule (ISTIO-SECURITY-2021-004).`,
        'Deny by notNamespaces in an ALLOW policy instead, or make mTLS STRICT on those workloads.');
    }
  });
}

/**
 * CMA123 (Kiali KIA0207, KIA0208, KIA0401, KIA0501): the TLS mode of a DestinationRule with a
 * wildcard host (`*.local`, `*.<ns>.svc.cluster.local`, mesh-wide in the root namespace) against the
 * PeerAuthentication (workload, namespace or mesh-wide) of the Services it covers: DISABLE towards
 * STRICT servers refuses the connections, ISTIO_MUTUAL towards servers with mTLS disabled too.
 * (Exact hosts are CMA102's.)
 */
export const wildcardTlsConflicts: Check = {
  analyzer: 'cdk8s-mesh.ReferenceAnalyzer',
  run(ctx) {
    const { index } = ctx;
    const engine = SimulatorEngine.of(index);
    for (const dr of index.of('DestinationRule')) {
      const host = dr.spec.host;
      const mode = dr.spec.trafficPolicy?.tls?.mode;
      if (typeof host !== 'string' || !isWildcard(host) || (mode !== 'DISABLE' && mode !== 'ISTIO_MUTUAL')) continue;
      const conflicts: string[] = [];
      let policy: Res | undefined;
      for (const svc of index.of('Service')) {
        if (!hostCoveredBy(toFqdn(svc.name, svc.ns), host)) continue;
        for (const w of index.serviceWorkloads(svc)) {
          if (w.dataplane !== 'sidecar') continue;
          for (const port of arrayOf(svc.spec.ports)) {
            if (!port || typeof port !== 'object') continue;
            const containerPort = targetPortOf(w, port);
            if (containerPort === undefined) continue;
            const server = engine.mtlsMode(w, containerPort);
            if ((mode === 'DISABLE' && server.mode === 'STRICT') || (mode === 'ISTIO_MUTUAL' && server.mode === 'DISABLE')) {
              conflicts.push(`${fullName(svc)}:${(port as any).port} (${server.mode})`);
              policy ??= server.policy;
            }
          }
        }
      }
      if (conflicts.length === 0) continue;
      const unique = [...new Set(conflicts)];
      ctx.report('CMA123', dr, 'spec.trafficPolicy.tls.mode',
        `tls mode ${mode} for every host of ${host} contradicts the servers' mTLS: ${list(unique.slice(0, 3))}${unique.length > 3 ? ` and ${unique.length - 3} more` : ''}${policy ? ` (PeerAuthentication ${fullName(policy)})` : ''}: ${mode === 'DISABLE' ? 'plaintext connections to STRICT servers are refused' : 'mTLS connections to servers with mTLS disabled fail'}.`,
        mode === 'DISABLE' ? 'Remove the tls block (auto mTLS follows the servers), or make the servers PERMISSIVE.' : 'Remove the tls block (auto mTLS follows the servers), or enable mTLS on those servers.');
    }
  },
};

export const REFERENCE_CHECKS: Check[] = [
  wildcardTlsConflicts,
  sourceNamespaces, selectorsWithoutWorkloads, conflictingSidecars, duplicateDestinationRules, duplicateServiceEntries,
  sidecarEgressHosts, serviceTargetPorts, matchGateways, exportToNamespaces, identityWithoutMtls,
];
