import { Severity } from '../finding';
import { toFqdn } from '../hosts';
import { Res } from '../manifests';
import { fullName, MeshIndex, push, Workload } from '../model';
import { isHttpPort } from '../protocols';
import { Check, list } from './check';
import { isHttpOnlyKey, ruleUsesHttpOnly, sourceMatches } from '../simulator/authorization';
import { targetPortOf } from '../simulator/destination';
import { SimulatorEngine } from '../simulator/engine';

const PRINCIPAL = /^([^/*]+)\/ns\/([^/*]+)\/sa\/([^/*]+)$/;

/** Workloads a policy with `selector.matchLabels` (or none) in `ns` applies to; the root namespace spans all. */
function scopedWorkloads(index: MeshIndex, policy: Res): Workload[] {
  const selector = policy.spec.selector?.matchLabels;
  return index.workloadsMatching(selector, policy.ns === index.options.rootNamespace ? undefined : policy.ns);
}

const looksAtRequestPrincipal = (p: Res) => (p.spec.rules ?? []).some((rule: any) =>
  (rule?.from ?? []).some((f: any) => f?.source?.requestPrincipals || f?.source?.notRequestPrincipals)
  || (rule?.when ?? []).some((c: any) => (c?.key ?? '').startsWith('request.auth.')));

/**
 * CMA101: a RequestAuthentication rejects invalid tokens but lets requests without a token through; unless an
 * AuthorizationPolicy on the same workloads requires a request principal, the JWT protects nothing.
 */
export const unenforcedJwt: Check = {
  analyzer: 'cdk8s-mesh.RequestAuthenticationAnalyzer',
  run(ctx) {
    const engine = SimulatorEngine.of(ctx.index);
    for (const ra of ctx.index.of('RequestAuthentication')) {
      if (ra.spec.targetRef || ra.spec.targetRefs) continue;
      const matched = scopedWorkloads(ctx.index, ra);
      const workloads = matched.length > 0 ? matched : [ctx.index.standIn(ra, ra.spec.selector?.matchLabels ?? {})];
      const open = workloads.filter((w) => !engine.authorizationPoliciesFor(w).some(looksAtRequestPrincipal));
      if (open.length === 0) continue;
      const who = matched.length > 0 ? `${list(open.slice(0, 5).map((w) => `${w.res.kind} ${fullName(w.res)}`))}${open.length > 5 ? ` and ${open.length - 5} more` : ''}` : 'the workloads it selects';
      ctx.report('CMA101', ra, 'spec.jwtRules',
        `No AuthorizationPolicy on ${who} requires a request principal: requests without a token are accepted, only invalid tokens are rejected.`,
        'Add an AuthorizationPolicy for the same workloads that requires a token: action ALLOW with from.source.requestPrincipals ["*"] (or DENY with notRequestPrincipals ["*"]).');
    }
  },
};

/**
 * CMA102: DestinationRule client TLS that contradicts the server's PeerAuthentication: plaintext (DISABLE) to a
 * STRICT port, Istio mTLS (ISTIO_MUTUAL) to a port with mTLS disabled, or the client's own TLS (SIMPLE/MUTUAL)
 * to an in-mesh workload, whose proxy expects Istio mTLS.
 */
export const tlsConflicts: Check = {
  analyzer: 'cdk8s-mesh.TlsConflictAnalyzer',
  run(ctx) {
    const { index } = ctx;
    const engine = SimulatorEngine.of(index);
    for (const dr of index.of('DestinationRule')) {
      const entry = index.registry.lookup(dr.ns, dr.spec.host ?? '', dr.spec.exportTo);
      if (!entry || entry.res.kind !== 'Service') continue;
      const svc = entry.res;
      const meshed = index.serviceWorkloads(svc).filter((w) => w.dataplane !== 'none');
      if (meshed.length === 0) continue;
      const portLevel: any[] = dr.spec.trafficPolicy?.portLevelSettings ?? [];
      const settings: Array<[string, any, any[]]> = [];
      const overridden = new Set(portLevel.filter((p) => p?.tls).map((p) => p.port?.number));
      const svcPorts: any[] = svc.spec.ports ?? [];
      if (dr.spec.trafficPolicy?.tls?.mode) settings.push(['spec.trafficPolicy.tls.mode', dr.spec.trafficPolicy.tls.mode, svcPorts.filter((p) => !overridden.has(p.port))]);
      portLevel.forEach((p, i) => {
        if (p?.tls?.mode) settings.push([`spec.trafficPolicy.portLevelSettings[${i}].tls.mode`, p.tls.mode, svcPorts.filter((sp) => sp.port === p.port?.number)]);
      });
      for (const [path, mode, ports] of settings) {
        const found = firstConflict(engine, meshed, ports, mode);
        if (!found) continue;
        const { w, port, server } = found;
        const where = `${w.res.kind} ${fullName(w.res)} port ${port}`;
        const by = server.policy ? ` (${server.policy.kind} ${fullName(server.policy)})` : '';
        if (mode === 'DISABLE') {
          ctx.report('CMA102', dr, path, `TLS is disabled towards ${toFqdn(svc.name, svc.ns)}, but ${where} requires STRICT mTLS${by}: every connection is refused.`,
            'Remove the tls block (Istio then uses mTLS automatically), or set mode ISTIO_MUTUAL.');
        } else if (mode === 'ISTIO_MUTUAL') {
          ctx.report('CMA102', dr, path, `Istio mTLS is forced towards ${toFqdn(svc.name, svc.ns)}, but ${where} has mTLS disabled${by}: the server cannot terminate it.`,
            'Remove the tls block (auto mTLS then sends plaintext to it), or stop disabling mTLS on that port.');
        } else {
          ctx.report('CMA102', dr, path,
            `${mode} TLS originates the caller's own TLS to ${toFqdn(svc.name, svc.ns)}, an in-mesh service whose proxy expects Istio mTLS (${where} is ${server.mode}${by}).`,
            'Remove the tls block (or use ISTIO_MUTUAL): the mesh encrypts in-mesh traffic itself; SIMPLE/MUTUAL is for services outside the mesh.',
            server.mode === 'STRICT' ? Severity.ERROR : Severity.WARNING);
        }
      }
    }
  },
};

function firstConflict(engine: SimulatorEngine, workloads: Workload[], ports: any[], mode: string) {
  for (const w of workloads) {
    for (const p of ports) {
      const port = targetPortOf(w, p);
      if (port === undefined) continue;
      const server = engine.mtlsMode(w, port);
      const conflict = mode === 'DISABLE' ? server.mode === 'STRICT'
        : mode === 'ISTIO_MUTUAL' ? server.mode === 'DISABLE'
          : mode === 'SIMPLE' || mode === 'MUTUAL';
      if (conflict) return { w, port, server };
    }
  }
  return undefined;
}

/**
 * CMA105: an AuthorizationPolicy principal (or serviceAccounts entry) in the manifests' trust domain and one of
 * their namespaces naming a service account that no workload runs as: the rule can never match (often a typo).
 */
export const unknownPrincipals: Check = {
  analyzer: 'cdk8s-mesh.PrincipalAnalyzer',
  run(ctx) {
    const { index } = ctx;
    const namespaces = new Set(index.workloads.map((w) => w.ns));
    const used = new Set([...index.workloads, ...index.autoDeployedIdentities()].map((w) => `${w.ns}/${w.serviceAccount}`));
    for (const ap of index.of('AuthorizationPolicy')) {
      (ap.spec.rules ?? []).forEach((rule: any, i: number) => (rule?.from ?? []).forEach((f: any, j: number) => {
        const check = (field: string, value: string, k: number, ns: string | undefined, sa: string | undefined) => {
          if (!ns || !sa || !namespaces.has(ns) || used.has(`${ns}/${sa}`)) return;
          const users = [...used].filter((u) => u.startsWith(`${ns}/`)).map((u) => u.split('/')[1]).sort();
          ctx.report('CMA105', ap, `spec.rules[${i}].from[${j}].source.${field}[${k}]`,
            `"${value}" names service account ${sa} in namespace ${ns}, which no workload in the manifests runs as, so this source never matches.`,
            `Use the service account of the intended caller (workloads in ${ns} run as ${list(users)}), or give that workload serviceAccountName ${sa}.`);
        };
        (f?.source?.principals ?? []).forEach((p: string, k: number) => {
          const m = PRINCIPAL.exec(p.replace(/^spiffe:\/\//, ''));
          if (m && m[1] === index.options.trustDomain) check('principals', p, k, m[2], m[3]);
        });
        (f?.source?.serviceAccounts ?? []).forEach((s: string, k: number) => {
          const [ns, sa] = s.includes('/') ? s.split('/', 2) : [ap.ns, s];
          check('serviceAccounts', s, k, ns, sa);
        });
      }));
    }
  },
};

/**
 * CMA106: a Service whose workloads are under default-deny (ALLOW policies apply) where no caller can satisfy the
 * sources of any ALLOW rule: not a workload of the manifests, not an unauthenticated client, not an identity outside
 * the manifests that a rule names. Operations and conditions are assumed satisfiable (some request matches them).
 */
export const uncallableServices: Check = {
  analyzer: 'cdk8s-mesh.ReachabilityAnalyzer',
  run(ctx) {
    const { index } = ctx;
    const engine = SimulatorEngine.of(index);
    const callers = new Callers(index);
    for (const svc of index.of('Service')) {
      const workloads = index.serviceWorkloads(svc).filter((w) => w.dataplane !== 'none');
      if (workloads.length === 0) continue;
      const http = (svc.spec.ports ?? []).some(isHttpPort);
      const reasons = workloads.map((w) => unreachableBecause(engine.authorizationPoliciesFor(w), http, callers));
      if (reasons.some((r) => r === undefined)) continue;
      ctx.report('CMA106', svc, 'metadata.name',
        `Nothing may call ${toFqdn(svc.name, svc.ns)}: ${reasons[0]}.`,
        'Add an ALLOW rule whose source matches the intended callers (principals of their service accounts, or their namespaces), or remove the allow-nothing policy.');
    }
  },
};

/** Why no caller can pass `policies`, or undefined when one can. */
function unreachableBecause(policies: Res[], http: boolean, callers: Callers): string | undefined {
  const denyAll = policies.find((p) => p.spec.action === 'DENY' && (p.spec.rules ?? []).some((r: any) => !r?.from && !r?.to && !r?.when));
  if (denyAll) return `${denyAll.kind} ${fullName(denyAll)} denies every request`;
  const allows = policies.filter((p) => (p.spec.action ?? 'ALLOW') === 'ALLOW');
  if (allows.length === 0) return undefined;
  for (const p of allows) {
    for (const rule of p.spec.rules ?? []) {
      if (!http && ruleUsesHttpOnly(rule)) continue;
      if (!rule?.from) return undefined;
      if (rule.from.some((f: any) => callers.canMatch(f?.source ?? {}, p.ns))) return undefined;
    }
  }
  const names = allows.map((p) => `${p.kind} ${fullName(p)}`);
  return allows.every((p) => (p.spec.rules ?? []).length === 0)
    ? `${list(names)} allow${allows.length === 1 ? 's' : ''} nothing (no rules)`
    : `no source of any rule of ${list(names)} matches a workload of the manifests, an unauthenticated client or another identity${http ? '' : ' (TCP port: rules with HTTP-only fields never match)'}`;
}

const IDENTITY_FIELDS = ['principals', 'namespaces', 'serviceAccounts'];
const SOURCE_IDENTITY_FIELDS = [...IDENTITY_FIELDS, 'notPrincipals', 'notNamespaces', 'notServiceAccounts', 'trustDomains', 'notTrustDomains'];

/** Every possible caller: the manifests' in-mesh identities, a plaintext client, and identities outside the manifests. */
class Callers {
  private readonly principals: Set<string>;
  private readonly byNs = new Map<string, string[]>();
  private readonly namespaces: Set<string>;
  private readonly trustDomain: string;

  constructor(index: MeshIndex) {
    this.trustDomain = index.options.trustDomain;
    this.principals = new Set([...index.workloads.filter((w) => w.dataplane !== 'none'), ...index.autoDeployedIdentities()]
      .map((w) => index.principalOf(w.ns, w.serviceAccount)));
    for (const p of this.principals) {
      const ns = PRINCIPAL.exec(p)![2];
      push(this.byNs, ns, p);
    }
    this.namespaces = new Set(index.workloads.map((w) => w.ns));
  }

  /**
   * Some caller matches the identity fields of `source` (request principals, IPs, operations and conditions are
   * assumed satisfiable). Candidates come from the positive fields, so this does not scan every caller.
   */
  canMatch(source: any, policyNs: string): boolean {
    const identityOnly = Object.fromEntries(Object.entries(source).filter(([k]) => SOURCE_IDENTITY_FIELDS.includes(k)));
    const attrs = (principal?: string) => ({ principal, host: '', port: 0, method: '', path: '', headers: {}, http: false });
    if ([...this.candidates(source, policyNs), undefined].some((p) => sourceMatches(identityOnly, attrs(p), policyNs))) return true;
    // An identity outside the manifests can match when every identity field present names something outside them.
    return IDENTITY_FIELDS.every((field) => !source[field] || source[field].some((v: string) => this.outside(v, field, policyNs)));
  }

  private candidates(source: any, policyNs: string): string[] {
    const all = () => [...this.principals];
    if (source.principals) {
      return source.principals.flatMap((v: string) => {
        const p = v.replace(/^spiffe:\/\//, '');
        return p.includes('*') ? all() : this.principals.has(p) ? [p] : [];
      });
    }
    if (source.serviceAccounts) {
      return source.serviceAccounts.map((v: string) => {
        const [ns, sa] = v.includes('/') ? v.split('/', 2) : [policyNs, v];
        return `${this.trustDomain}/ns/${ns}/sa/${sa}`;
      }).filter((p: string) => this.principals.has(p));
    }
    if (source.namespaces) return source.namespaces.flatMap((ns: string) => (ns.includes('*') ? all() : this.byNs.get(ns) ?? []));
    return all();
  }

  private outside(value: string, field: string, policyNs: string): boolean {
    if (field === 'namespaces') return value.includes('*') || !this.namespaces.has(value);
    if (field === 'serviceAccounts') return !this.namespaces.has(value.includes('/') ? value.split('/')[0] : policyNs);
    const m = PRINCIPAL.exec(value.replace(/^spiffe:\/\//, ''));
    return !m || m[1] !== this.trustDomain || !this.namespaces.has(m[2]);
  }
}

/**
 * CMA107: an AuthorizationPolicy with HTTP (L7) attributes bound by selector in ambient mode, where ztunnel only
 * enforces L4 (an ALLOW rule with L7 fields never matches, a DENY rule drops them), or attached with targetRefs to
 * a Service without a waypoint (nothing enforces it).
 */
export const ambientL7Policies: Check = {
  analyzer: 'cdk8s-mesh.AmbientPolicyAnalyzer',
  run(ctx) {
    const { index } = ctx;
    const engine = SimulatorEngine.of(index);
    const fix = 'Deploy a waypoint (a Gateway with gatewayClassName istio-waypoint, and the istio.io/use-waypoint label on the namespace or Service) and attach this policy to it with targetRefs (kind Service or Gateway) instead of a selector.';
    for (const ap of index.of('AuthorizationPolicy')) {
      const refs: any[] = [ap.spec.targetRef, ...(ap.spec.targetRefs ?? [])].filter((r) => r);
      if (refs.length > 0) {
        refs.forEach((ref, i) => {
          if (ref.kind !== 'Service') return;
          const svc = index.get('Service', ap.ns, ref.name);
          if (!svc || index.dataplaneOf(svc.ns, svc.spec.selector ?? {}, {}, {}) !== 'ambient' || engine.waypointFor(svc)) return;
          ctx.report('CMA107', ap, ap.spec.targetRef ? 'spec.targetRef' : `spec.targetRefs[${i}]`,
            `The policy is attached to Service ${fullName(svc)}, which is in ambient mode without a waypoint: nothing enforces it.`, fix);
        });
        continue;
      }
      const l7 = (ap.spec.rules ?? []).findIndex((r: any) => ruleUsesHttpOnly(r));
      if (l7 < 0) continue;
      const workloads = scopedWorkloads(index, ap);
      const ambient = workloads.length > 0 ? workloads.some((w) => w.dataplane === 'ambient') : index.standIn(ap, ap.spec.selector?.matchLabels ?? {}).dataplane === 'ambient';
      if (!ambient) continue;
      const fields = l7Fields(ap.spec.rules[l7]);
      ctx.report('CMA107', ap, `spec.rules[${l7}]`,
        `This ${ap.spec.action ?? 'ALLOW'} policy uses HTTP attributes (${list(fields)}) on ambient workloads, where ztunnel enforces only L4: ${(ap.spec.action ?? 'ALLOW') === 'DENY' ? 'it denies everything its other fields match' : 'the rule never matches, so the traffic it should allow is denied'}.`, fix);
    }
  },
};

function l7Fields(rule: any): string[] {
  const keys = new Set<string>();
  for (const f of rule?.from ?? []) for (const k of ['requestPrincipals', 'notRequestPrincipals']) if (f?.source?.[k]) keys.add(`from.source.${k}`);
  for (const t of rule?.to ?? []) for (const k of Object.keys(t?.operation ?? {})) if (!['ports', 'notPorts'].includes(k)) keys.add(`to.operation.${k}`);
  for (const c of rule?.when ?? []) if (isHttpOnlyKey(c?.key ?? '')) keys.add(`when ${c.key}`);
  return [...keys].sort();
}
