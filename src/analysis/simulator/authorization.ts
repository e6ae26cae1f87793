// AuthorizationPolicy semantics (security/v1 authorization_policy.proto; Istio's pilot/pkg/security/authz): which
// policies apply to a proxy, how a rule matches the request's attributes, and the CUSTOM → DENY → ALLOW decision.
import { ipMatches, pathMatches, valueMatches } from './string-match';
import { Res } from '../manifests';
import { compareRes, fullName, matchesSelector, push, Workload } from '../model';

/** The attributes of a request as the enforcing proxy sees them. */
export interface RequestAttributes {
  /** mTLS peer identity without `spiffe://`; undefined for plaintext. */
  readonly principal?: string;
  readonly sourceIp?: string;
  readonly remoteIp?: string;
  /** `<issuer>/<subject>` of a JWT a RequestAuthentication validated on this proxy. */
  readonly requestPrincipal?: string;
  /** Claims of that JWT (space-delimited claims already split into lists). */
  readonly claims?: Record<string, unknown>;
  readonly audiences?: string[];
  readonly presenter?: string;
  /** The Host header, lower case, without port. */
  readonly host: string;
  /** Workload (target) port. */
  readonly port: number;
  readonly method: string;
  /** Normalized path without the query string. */
  readonly path: string;
  /** Lower-case header names, duplicates merged. */
  readonly headers: Record<string, string>;
  readonly sni?: string;
  /** False for TCP traffic (and for ztunnel, which enforces L4 only). */
  readonly http: boolean;
}

/** A list field as protobuf reads it: an empty (or absent, or mistyped) list is "not set". */
function setList(v: unknown): string[] | undefined {
  if (!Array.isArray(v) || v.length === 0) return undefined;
  // Lists of strings (the schema's type) are used as they are; anything else is read as strings.
  for (const x of v) if (typeof x !== 'string') return v.map(String);
  return v as string[];
}

/** Fields and `when` keys Istio can only evaluate on HTTP traffic. */
const HTTP_ONLY_SOURCE = ['requestPrincipals', 'notRequestPrincipals'];
const HTTP_ONLY_OPERATION = ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'];

export function isHttpOnlyKey(key: string): boolean {
  return key.startsWith('request.');
}

const objects = (v: unknown): any[] => (Array.isArray(v) ? v.filter((x) => x && typeof x === 'object') : []);

/** True when a rule uses an attribute only HTTP traffic has (empty lists do not count: they are not set). */
export function ruleUsesHttpOnly(rule: any): boolean {
  for (const f of objects(rule?.from)) if (HTTP_ONLY_SOURCE.some((k) => setList(f.source?.[k]))) return true;
  for (const t of objects(rule?.to)) if (HTTP_ONLY_OPERATION.some((k) => setList(t.operation?.[k]))) return true;
  for (const c of objects(rule?.when)) if (isHttpOnlyKey(String(c.key ?? ''))) return true;
  return false;
}

/** `values` matches when any value matches; `notValues` when none does (so an absent attribute passes `notValues`). */
function anyNone(values: unknown, notValues: unknown, test: (v: string) => boolean): boolean {
  const yes = setList(values);
  const no = setList(notValues);
  if (yes && !yes.some(test)) return false;
  if (no && no.some(test)) return false;
  return true;
}

const stripSpiffe = (p: string) => p.replace(/^spiffe:\/\//, '');
const PRINCIPAL = /^([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/;

/** Namespace, service account and trust domain of a SPIFFE identity `<td>/ns/<ns>/sa/<sa>`. */
export function principalParts(principal: string | undefined): { trustDomain: string; namespaceName: string; serviceAccount: string } | undefined {
  const m = principal ? PRINCIPAL.exec(principal) : null;
  return m ? { trustDomain: m[1], namespaceName: m[2], serviceAccount: m[3] } : undefined;
}

/**
 * Whether `source` matches. On TCP traffic the HTTP-only fields count as matching: that is Istio's rule for DENY
 * policies; ALLOW rules that use them are discarded before (see `ruleUsesHttpOnly`).
 */
export function sourceMatches(source: any, req: RequestAttributes, policyNs: string): boolean {
  const s = source && typeof source === 'object' ? source : {};
  const p = req.principal;
  const parts = principalParts(p);
  const saMatch = (entry: string) => {
    if (!parts) return false;
    const [ns, name] = entry.includes('/') ? entry.split('/', 2) : [policyNs, entry];
    return parts.namespaceName === ns && parts.serviceAccount === name;
  };
  return anyNone(s.principals, s.notPrincipals, (v) => valueMatches(stripSpiffe(v), p))
    && (!req.http || anyNone(s.requestPrincipals, s.notRequestPrincipals, (v) => valueMatches(v, req.requestPrincipal)))
    && anyNone(s.namespaces, s.notNamespaces, (v) => valueMatches(v, parts?.namespaceName))
    && anyNone(s.ipBlocks, s.notIpBlocks, (v) => ipMatches(v, req.sourceIp))
    && anyNone(s.remoteIpBlocks, s.notRemoteIpBlocks, (v) => ipMatches(v, req.remoteIp ?? req.sourceIp))
    && anyNone(s.serviceAccounts, s.notServiceAccounts, saMatch)
    && anyNone(s.trustDomains, s.notTrustDomains, (v) => valueMatches(v, parts?.trustDomain));
}

export function operationMatches(operation: any, req: RequestAttributes): boolean {
  const op = operation && typeof operation === 'object' ? operation : {};
  const portOk = anyNone(op.ports, op.notPorts, (v) => Number(v) === req.port);
  if (!req.http) return portOk;
  const hostOk = (v: string) => {
    const pattern = v.toLowerCase();
    return valueMatches(pattern, req.host) || valueMatches(pattern, `${req.host}:${req.port}`);
  };
  return portOk
    && anyNone(op.hosts, op.notHosts, hostOk)
    && anyNone(op.methods, op.notMethods, (v) => valueMatches(v, req.method))
    && anyNone(op.paths, op.notPaths, (v) => pathMatches(v, req.path));
}

/** The value of a `when` key, or undefined when the request does not have it. */
function attribute(key: string, req: RequestAttributes): unknown {
  const header = /^request\.headers\[(.+)\]$/.exec(key);
  if (header) return req.headers[header[1].toLowerCase()];
  const claim = /^request\.auth\.claims((?:\[[^\]]+\])+)$/.exec(key);
  if (claim) {
    const names = claim[1].slice(1, -1).split('][');
    return names.reduce<unknown>((o, n) => (o && typeof o === 'object' && !Array.isArray(o) ? (o as any)[n] : undefined), req.claims);
  }
  const parts = principalParts(req.principal);
  switch (key) {
    case 'source.ip': return req.sourceIp;
    case 'remote.ip': return req.remoteIp ?? req.sourceIp;
    case 'source.namespace': return parts?.namespaceName;
    case 'source.principal': return req.principal;
    case 'source.serviceAccount': return parts ? `${parts.namespaceName}/${parts.serviceAccount}` : undefined;
    case 'source.trustDomain': return parts?.trustDomain;
    case 'request.auth.principal': return req.requestPrincipal;
    case 'request.auth.audiences': return req.audiences;
    case 'request.auth.presenter': return req.presenter;
    case 'destination.port': return String(req.port);
    case 'connection.sni': return req.sni;
    default: return undefined;
  }
}

export function conditionMatches(cond: any, req: RequestAttributes): boolean {
  const key = String(cond?.key ?? '');
  if (!req.http && isHttpOnlyKey(key)) return true;
  const value = attribute(key, req);
  const values = value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)];
  const ipKey = key === 'source.ip' || key === 'remote.ip' || key === 'destination.ip';
  const test = (pattern: string) => values.some((v) => (ipKey ? ipMatches(pattern, v) : valueMatches(pattern, v)));
  return anyNone(cond?.values, cond?.notValues, test);
}

/** Every part of a rule holds: some source (sources ORed), some operation (ORed), every condition (ANDed). */
export function ruleMatches(rule: any, req: RequestAttributes, policyNs: string): boolean {
  const from = objects(rule?.from);
  const to = objects(rule?.to);
  return (from.length === 0 || from.some((f) => sourceMatches(f.source, req, policyNs)))
    && (to.length === 0 || to.some((t) => operationMatches(t.operation, req)))
    && objects(rule?.when).every((c) => conditionMatches(c, req));
}

export const actionOf = (p: Res): string => (typeof p.spec.action === 'string' ? p.spec.action : 'ALLOW');
export const isDryRun = (p: Res) => p.annotations['istio.io/dry-run'] === 'true';
export const isTargeted = (p: Res) => p.spec.targetRef !== undefined || p.spec.targetRefs !== undefined;
export const describeRes = (p: Res) => `${p.kind} ${fullName(p)}`;

const DRY_RUN = new WeakMap<Res[], { enforced: Res[]; dryRuns: Res[] }>();
function splitDryRun(policies: Res[]): { enforced: Res[]; dryRuns: Res[] } {
  let split = DRY_RUN.get(policies);
  if (!split) {
    const dryRuns = policies.filter(isDryRun);
    split = { enforced: dryRuns.length ? policies.filter((p) => !isDryRun(p)) : policies, dryRuns };
    DRY_RUN.set(policies, split);
  }
  return split;
}

/** The result of authorization on one proxy. */
export interface AuthorizationResult {
  readonly allowed: boolean;
  /** The deciding policy and rule. */
  readonly policy?: Res;
  readonly ruleIndex?: number;
  readonly summary: string;
}

/** How a proxy enforces policies: Envoy (sidecar, gateway, waypoint) at L7, or ztunnel at L4 only. */
export type Enforcer = 'envoy' | 'ztunnel';

/**
 * CUSTOM, then DENY, then ALLOW (istio.io "Authorization policy precedence"): a CUSTOM match asks the external
 * authorizer; any DENY match denies; when ALLOW policies apply, one of their rules must match; otherwise allowed.
 * Dry-run policies are evaluated for their shadow effect only; AUDIT policies never decide.
 */
export function authorize(policies: Res[], req: RequestAttributes, enforcer: Enforcer, externalAuthorizerAllows: boolean): AuthorizationResult {
  const { enforced, dryRuns } = splitDryRun(policies);
  const result = decide(enforced, req, enforcer, externalAuthorizerAllows, []);
  if (dryRuns.length > 0) {
    const shadow = decide(policies, req, enforcer, externalAuthorizerAllows, []);
    if (shadow.allowed !== result.allowed) {
      return { ...result, summary: `${result.summary}; dry-run ${dryRuns.map(describeRes).join(', ')} would ${shadow.allowed ? 'allow' : 'deny'} it (a shadow result only: not enforced)` };
    }
  }
  return result;
}

/** Policies by action, worked out once per (cached) policy list. */
interface ByAction { readonly audit: Res[]; readonly custom: Res[]; readonly deny: Res[]; readonly allow: Res[] }
const BY_ACTION = new WeakMap<Res[], ByAction>();
function byAction(policies: Res[]): ByAction {
  let grouped = BY_ACTION.get(policies);
  if (!grouped) {
    grouped = { audit: [], custom: [], deny: [], allow: [] };
    for (const p of policies) {
      const action = actionOf(p);
      (action === 'AUDIT' ? grouped.audit : action === 'CUSTOM' ? grouped.custom : action === 'DENY' ? grouped.deny : grouped.allow).push(p);
    }
    BY_ACTION.set(policies, grouped);
  }
  return grouped;
}

function decide(policies: Res[], req: RequestAttributes, enforcer: Enforcer, externalAuthorizerAllows: boolean,
  notes: string[]): AuthorizationResult {
  const match = (p: Res): number => {
    const action = actionOf(p);
    const rules = objects(p.spec.rules);
    if (enforcer === 'ztunnel' && action === 'ALLOW' && rules.some(ruleUsesHttpOnly)) return -2;
    return rules.findIndex((rule) => {
      // On TCP an ALLOW (or CUSTOM) rule with HTTP-only fields never matches; DENY ignores those fields.
      if (!req.http && action !== 'DENY' && ruleUsesHttpOnly(rule)) return false;
      return ruleMatches(rule, req, p.ns);
    });
  };
  const { audit, custom, deny, allow: allows } = byAction(policies);
  for (const p of audit) {
    const i = match(p);
    if (i >= 0) notes.push(`rule ${i} of ${describeRes(p)} (AUDIT) marks it for audit logging`);
  }
  for (const p of custom) {
    const i = match(p);
    if (i < 0) continue;
    const sent = `rule ${i} of ${describeRes(p)} (CUSTOM) sends it to ${p.spec.provider?.name ?? 'the external authorizer'}`;
    if (!externalAuthorizerAllows) return { allowed: false, policy: p, ruleIndex: i, summary: `${sent}, which denies it` };
    notes.push(`${sent}, assumed to allow it`);
  }
  for (const p of deny) {
    const i = match(p);
    if (i >= 0) return { allowed: false, policy: p, ruleIndex: i, summary: withNotes(`denied by rule ${i} of ${describeRes(p)} (DENY)`, notes) };
  }
  if (allows.length === 0) return { allowed: true, summary: withNotes('no ALLOW policy applies, so it is allowed', notes) };
  for (const p of allows) {
    const i = match(p);
    if (i === -2) {
      // "If an AuthorizationPolicy has been configured that requires any traffic processing beyond L4, and if no
      // waypoint proxies are configured for the destination of the traffic, then ztunnel proxy will simply drop all
      // traffic" (istio.io, ambient "Use Layer 4 security policy").
      return { allowed: false, policy: p, summary: withNotes(`${describeRes(p)} has HTTP (L7) rules and is enforced by ztunnel, which drops all traffic for such a policy`, notes) };
    }
    if (i >= 0) return { allowed: true, policy: p, ruleIndex: i, summary: withNotes(`allowed by rule ${i} of ${describeRes(p)}`, notes) };
  }
  return {
    allowed: false,
    // The most specific one (workload before namespace before mesh) says the most about the refusal.
    policy: allows[allows.length - 1],
    summary: withNotes(`ALLOW policies apply (${allows.map(describeRes).join(', ')}) and none of their rules matches${req.http ? '' : ' (TCP: rules with HTTP-only fields never match)'}`
      // Principals and namespaces come from the peer's mTLS certificate: a plaintext connection has neither.
      + (req.principal === undefined ? '; the connection is plaintext, so rules on principals or namespaces cannot match it' : ''), notes),
  };
}

const withNotes = (text: string, notes: string[]) => (notes.length ? `${notes.join('; ')}; ${text}` : text);

/**
 * Policies of one kind grouped by where they apply: mesh-wide (root namespace), per namespace, and by workload
 * selector (indexed by one label pair, so finding a workload's policies does not scan a namespace's policies).
 * `rootSelectors` says whether a selector in the root namespace selects workloads in every namespace.
 */
export class PolicyScopes {
  private readonly meshWide: Res[] = [];
  private readonly namespaceWide = new Map<string, Res[]>();
  /** `<namespace or *>\0<key>=<value>` of the first selector pair → policies. */
  private readonly selected = new Map<string, Res[]>();

  constructor(policies: Res[], private readonly rootNamespace: string, rootSelectors: boolean) {
    for (const p of policies) {
      const selector = selectorOf(p);
      if (!selector) {
        if (p.ns === rootNamespace) this.meshWide.push(p);
        else push(this.namespaceWide, p.ns, p);
        continue;
      }
      // "PeerAuthentication policies with workload selectors are ignored when deployed in the root namespace."
      if (p.ns === rootNamespace && !rootSelectors) continue;
      const [k, v] = Object.entries(selector).sort()[0];
      const key = `${p.ns === rootNamespace ? '*' : p.ns}\u0000${k}=${v}`;
      push(this.selected, key, p);
    }
  }

  /** Policies that apply to `w`: mesh (root namespace, with selectors matching it), namespace, workload. */
  forWorkload(w: Workload): { mesh: Res[]; namespace: Res[]; workload: Res[] } {
    let mesh = this.meshWide;
    const workload: Res[] = [];
    for (const k of Object.keys(w.labels)) {
      const pair = `${k}=${w.labels[k]}`;
      const meshSelected = this.selected.get(`*\u0000${pair}`);
      if (meshSelected) {
        for (const p of meshSelected) {
          if (!matchesSelector(w.labels, selectorOf(p)!)) continue;
          if (mesh === this.meshWide) mesh = [...this.meshWide];
          if (!mesh.includes(p)) mesh.push(p);
        }
      }
      if (w.ns === this.rootNamespace) continue;
      const selected = this.selected.get(`${w.ns}\u0000${pair}`);
      if (selected) for (const p of selected) if (!workload.includes(p) && matchesSelector(w.labels, selectorOf(p)!)) workload.push(p);
    }
    return {
      mesh: mesh === this.meshWide ? mesh : mesh.sort(compareRes),
      namespace: w.ns === this.rootNamespace ? [] : this.namespaceWide.get(w.ns) ?? [],
      workload: workload.length > 1 ? workload.sort(compareRes) : workload,
    };
  }
}

/** The policy's `selector.matchLabels`; undefined when it selects the whole namespace (no selector, or an empty one). */
export function selectorOf(p: Res): Record<string, string> | undefined {
  const labels = p.spec.selector?.matchLabels;
  return labels && typeof labels === 'object' && Object.keys(labels).length > 0 ? labels : undefined;
}
