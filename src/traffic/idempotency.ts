// Internal: which HTTP methods may reach a route, from the library's own model. Not exported from the package.
import { IConstruct } from 'constructs';
import type { HttpMatch } from './match';
import { currentSynthesis } from '../internal/synthesis';
import { HttpMethod } from '../mesh/http-method';
import type { MeshService } from '../mesh/mesh-service';
import { AuthorizationAction, AuthorizationPolicy } from '../security/authorization-policy';
import { podLabelsOf, selects } from '../security/internal';

/**
 * Methods that are not idempotent (RFC 9110 §9.2.2 names GET, HEAD, OPTIONS, TRACE, PUT and
 * DELETE idempotent): repeating one the upstream already processed may do the work twice.
 */
export const NON_IDEMPOTENT_METHODS: readonly HttpMethod[] = [HttpMethod.POST, HttpMethod.PATCH, HttpMethod.CONNECT];

const ALL_METHODS: readonly HttpMethod[] = Object.values(HttpMethod);

/** The methods requests on a route may have, and how the library knows. */
export interface RouteMethods {
  /** Every method a request on the route may have. */
  readonly methods: readonly HttpMethod[];
  /**
   * True when declarations narrow them (the route's method matches, or the methods the
   * service's ALLOW policies admit); false when nothing was declared and any method may arrive.
   */
  readonly declared: boolean;
  /** The declarations that let the non-idempotent methods through, for messages. */
  readonly admittedBy: readonly string[];
}

/**
 * The methods requests to `service` that `matches` select may have: those the matches name
 * (any, when a match names none), and of those only the ones the service's enforced ALLOW
 * policies admit (with default-deny, the methods of `allowFrom(..., { methods })`). A request
 * no ALLOW rule admits is refused by the callee's proxy before the application sees it, so a
 * retry cannot repeat it.
 */
export function routeMethods(service: MeshService, matches: readonly HttpMatch[] | undefined): RouteMethods {
  const matched = matches?.length && matches.every((m) => m.method !== undefined) ? matches.map((m) => m.method!) : undefined;
  // A service no rule admits (default-deny and no allowFrom yet) says nothing about the methods
  // it is meant to serve: its policies are not finished, so they are not relied upon.
  const policies = admittedMethods(service);
  const admitted = policies?.methods.length ? policies : undefined;
  const routed = ALL_METHODS.filter((m) => (matched ?? ALL_METHODS).includes(m));
  const both = routed.filter((m) => (admitted?.methods ?? ALL_METHODS).includes(m));
  // A route for methods no rule admits contradicts the policies; the route's own word stands.
  const methods = both.length ? both : routed;
  const unsafe = methods.filter((m) => NON_IDEMPOTENT_METHODS.includes(m));
  const admittedBy = admitted?.policies.filter((p) => unsafe.some((m) => p.methods.includes(m))).map((p) => p.name) ?? [];
  // Admission narrows the methods only when some method is refused by every ALLOW rule.
  const narrowed = admitted !== undefined && admitted.methods.length < ALL_METHODS.length && both.length > 0;
  return { methods, declared: matched !== undefined || narrowed, admittedBy };
}

/** True when a request on the route may use a method that is not idempotent. */
export function mayBeNonIdempotent(route: RouteMethods): boolean {
  return route.methods.some((m) => NON_IDEMPOTENT_METHODS.includes(m));
}

interface Admission {
  /** The union of the methods the rules admit. */
  readonly methods: readonly HttpMethod[];
  /** Each admitting policy (`namespace/name`) and the methods it admits. */
  readonly policies: { readonly name: string; readonly methods: readonly HttpMethod[] }[];
}

/**
 * The methods the enforced ALLOW policies of `service` admit, or undefined when no ALLOW policy
 * applies to it (Istio then admits every request). Istio admits a request that matches any rule
 * of any ALLOW policy of the workload; DENY policies are not subtracted (a superset is safe).
 */
function admittedMethods(service: MeshService): Admission | undefined {
  // Every route of the service asks, at render and at validation: once per service and synthesis.
  const memo = currentSynthesis(service)?.memo;
  let known = memo?.get(ADMITTED) as Map<MeshService, Admission | undefined> | undefined;
  if (!known) {
    known = new Map();
    memo?.set(ADMITTED, known);
  }
  if (known.has(service)) return known.get(service);
  const admission = computeAdmittedMethods(service);
  known.set(service, admission);
  return admission;
}

/** The memo key of {@link admittedMethods}. */
const ADMITTED = 'idempotency|admitted';

function computeAdmittedMethods(service: MeshService): Admission | undefined {
  const mesh = service.mesh;
  const pods = service.versions.map(podLabelsOf);
  const byNamespace = policiesByNamespace(service);
  const candidates = new Set([
    ...policiesFor(byNamespace.get(mesh.namespaceName), service.name),
    // A policy without a selector in the root namespace applies to the whole mesh.
    ...(byNamespace.get(mesh.rootNamespace)?.any ?? []).filter((p) => p.target === undefined),
  ]);
  const applicable = [...candidates].filter((p) => p.action === AuthorizationAction.ALLOW && !p.dryRun
    && (p.target === undefined || pods.some((labels) => selects(p.target!.toWorkloadSelector().matchLabels, labels))));
  if (applicable.length === 0) return undefined;
  const policies = applicable.map((p) => ({ name: `AuthorizationPolicy ${p.namespaceName}/${p.name}`, methods: policyMethods(p) }));
  return { methods: ALL_METHODS.filter((m) => policies.some((p) => p.methods.includes(m))), policies };
}

/** The memo key of {@link policiesByNamespace}. */
const POLICIES = 'idempotency|policies';

/** The policies of one namespace: those that select by `app` (indexed by its value), and the others. */
interface NamespacePolicies {
  readonly byApp: Map<string, AuthorizationPolicy[]>;
  readonly any: AuthorizationPolicy[];
}

/** The policies of a namespace that may select the pods of service `app` (the others select other `app` labels). */
function policiesFor(policies: NamespacePolicies | undefined, app: string): AuthorizationPolicy[] {
  if (!policies) return [];
  return [...policies.any, ...policies.byApp.get(app) ?? []];
}

/**
 * The AuthorizationPolicy constructs of the tree `scope` belongs to, by namespace and `app` selector: found with one
 * walk of the tree per synthesis (every route of every service asks, so a scan per route would be quadratic).
 */
function policiesByNamespace(scope: IConstruct): Map<string, NamespacePolicies> {
  const memo = currentSynthesis(scope)?.memo;
  const cached = memo?.get(POLICIES) as Map<string, NamespacePolicies> | undefined;
  if (cached) return cached;
  const byNamespace = new Map<string, NamespacePolicies>();
  for (const construct of scope.node.root.node.findAll()) {
    if (!(construct instanceof AuthorizationPolicy)) continue;
    let entry = byNamespace.get(construct.namespaceName);
    if (!entry) {
      entry = { byApp: new Map(), any: [] };
      byNamespace.set(construct.namespaceName, entry);
    }
    const app = construct.target?.toWorkloadSelector().matchLabels.app;
    if (app === undefined) entry.any.push(construct);
    else entry.byApp.set(app, [...entry.byApp.get(app) ?? [], construct]);
  }
  memo?.set(POLICIES, byNamespace);
  return byNamespace;
}

/** The methods one ALLOW policy admits: the union over its rules (none for allow-nothing). */
function policyMethods(policy: AuthorizationPolicy): HttpMethod[] {
  const rules = policy._specRules() ?? [];
  return ALL_METHODS.filter((method) => rules.some((rule) => rule.to === undefined || rule.to.some(({ operation }) =>
    (operation?.methods === undefined || operation.methods.includes(method)) && !operation?.notMethods?.includes(method))));
}
