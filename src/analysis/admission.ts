import { Severity } from './finding';
import { Res, toResources } from './manifests';
import { ValidationResult, Violation, ViolationKind, validateObject } from '../validation/validator';
import { istioWebhookViolations } from '../validation/webhook';

/** A finding about admission, reported by the admission check (the index is built before any reporter exists). */
export interface AdmissionFinding {
  readonly code: string;
  readonly res: Res;
  readonly path: string;
  readonly message: string;
  readonly fix: string;
  readonly severity?: Severity;
}

/**
 * The API group the analysis expects for each kind it reads. An object of such a kind from another
 * group (`example.com/v1 Service`) is indexed under `<Kind>.<group>`, so no check mistakes it for one.
 */
const EXPECTED_GROUP: Record<string, string> = {
  Service: '',
  Pod: '',
  Namespace: '',
  ServiceAccount: '',
  ConfigMap: '',
  Secret: '',
  Endpoints: '',
  Deployment: 'apps',
  StatefulSet: 'apps',
  DaemonSet: 'apps',
  ReplicaSet: 'apps',
  Job: 'batch',
  CronJob: 'batch',
  Rollout: 'argoproj.io',
  Application: 'argoproj.io',
  AppProject: 'argoproj.io',
  VirtualService: 'networking.istio.io',
  DestinationRule: 'networking.istio.io',
  ServiceEntry: 'networking.istio.io',
  Sidecar: 'networking.istio.io',
  WorkloadEntry: 'networking.istio.io',
  WorkloadGroup: 'networking.istio.io',
  EnvoyFilter: 'networking.istio.io',
  ProxyConfig: 'networking.istio.io',
  AuthorizationPolicy: 'security.istio.io',
  PeerAuthentication: 'security.istio.io',
  RequestAuthentication: 'security.istio.io',
  Telemetry: 'telemetry.istio.io',
  WasmPlugin: 'extensions.istio.io',
  TrafficExtension: 'extensions.istio.io',
};

/**
 * The key a resource is indexed by: its kind, or `<Kind>.<group>` for Kubernetes Gateway API kinds (so `Gateway`
 * alone is Istio's networking.istio.io Gateway) and for objects of a known kind name from an unexpected group.
 */
export function indexKind(res: Pick<Res, 'kind' | 'group'>): string {
  if (res.group === 'gateway.networking.k8s.io') return `${res.kind}.${res.group}`;
  if (res.kind === 'Gateway') return res.group === 'networking.istio.io' ? 'Gateway' : `Gateway.${res.group}`;
  const expected = EXPECTED_GROUP[res.kind];
  return expected === undefined || expected === res.group ? res.kind : `${res.kind}.${res.group}`;
}

/** What the API server admits of the manifests, and what it says about the rest. */
export interface Admission {
  readonly resources: Res[];
  readonly findings: AdmissionFinding[];
}

/** Validation results of objects, per object identity, for one run (objects are not changed during it). */
export type ValidationCache = WeakMap<object, ValidationResult>;

/**
 * Caches registered for a manifests array that does not change while it is analyzed (the
 * snapshot of one synthesis, which the synth-time validation has validated already).
 */
const REGISTERED = new WeakMap<any[], ValidationCache>();

/** Lets every analysis of `manifests` reuse `cache` (only for arrays no user code can change). */
export function registerValidationCache(manifests: any[], cache: ValidationCache): void {
  REGISTERED.set(manifests, cache);
}

/** The cache registered for `manifests`, if any. */
export function registeredValidationCache(manifests: any[]): ValidationCache | undefined {
  return REGISTERED.get(manifests);
}

/** The validation of one object, through `cache` when given. */
export function validateCached(object: any, cache?: ValidationCache): ValidationResult {
  let result = cache?.get(object);
  if (!result) {
    result = validateObject(object);
    if (result.known && !result.refused) result = withWebhook(result, object);
    cache?.set(object, result);
  }
  return result;
}

/**
 * Admits the manifests as a cluster would: each object is validated like the API server (and
 * Istio's webhook) validates it. A refused object is reported (IST0106) and left out, so the checks
 * only see what could exist in a cluster; unknown fields are pruned (CMA110); the same
 * kind/namespace/name defined more than once is one object, the last one (`kubectl apply`), with
 * an Info finding naming every place (CMA113).
 */
export function admit(manifests: any[], defaultNamespace: string, validationCache?: ValidationCache, keepRefused = false): Admission {
  const cache = validationCache ?? REGISTERED.get(manifests);
  const findings: AdmissionFinding[] = [];
  const byKey = new Map<string, Res[]>();
  for (const raw of toResources(manifests, { defaultNamespace, keepInvalid: true })) {
    if (!raw.raw || typeof raw.raw !== 'object' || Array.isArray(raw.raw)) continue;
    if (raw.raw.apiVersion === undefined && raw.raw.kind === undefined) {
      findings.push({
        code: 'CMA111',
        res: raw,
        path: '',
        message: 'not a manifest: the document has neither apiVersion nor kind, so it is no Kubernetes object; it was not analyzed',
        fix: 'Remove the file from the analyzed folders, or give the object its apiVersion and kind.',
      });
      continue;
    }
    const result = validateCached(raw.raw, cache);
    for (const v of result.violations) findings.push(toFinding(v, raw));
    if (result.refused && !keepRefused) continue;
    const pruned = !result.refused && result.violations.some((v) => v.kind === ViolationKind.UNKNOWN_FIELD);
    const res = pruned ? { ...raw, raw: result.admitted, spec: result.admitted.spec ?? {} } : raw;
    const key = `${res.group}/${res.kind}/${res.ns}/${res.name}`;
    const list = byKey.get(key);
    if (list) list.push(res);
    else byKey.set(key, [res]);
  }
  const resources: Res[] = [];
  for (const list of byKey.values()) {
    const last = list[list.length - 1];
    resources.push(last);
    if (list.length > 1) {
      const places = list.map((r, i) => `${r.source ?? `manifest ${i + 1}`}`);
      findings.push({
        code: 'CMA113',
        res: last,
        path: '',
        message: `${last.kind} ${last.ns ? `${last.ns}/` : ''}${last.name} is defined ${list.length} times (${places.join(', ')}): applied together they are one object, the last one (${places[places.length - 1]}), as kubectl apply would leave it.`,
        fix: 'Keep one definition, or check that the last one is the one you mean.',
      });
    }
  }
  return { resources, findings };
}

function withWebhook(result: ValidationResult, object: any): ValidationResult {
  const webhook = istioWebhookViolations(result.admitted ?? object);
  if (webhook.length === 0) return result;
  return { ...result, violations: [...result.violations, ...webhook], refused: result.refused || webhook.some((v) => v.severity === 'error') };
}

function toFinding(v: Violation, res: Res): AdmissionFinding {
  switch (v.kind) {
    case ViolationKind.UNKNOWN_FIELD:
      return {
        code: 'CMA110',
        res,
        path: v.path,
        message: `Unknown field "${v.path}": the API server prunes it (the object is stored without it), and kubectl apply, which validates strictly by default, refuses the object.`,
        fix: v.fix,
      };
    case ViolationKind.DEPRECATED:
      return { code: 'CMA114', res, path: v.path, message: `Deprecated API version: ${v.message}`, fix: v.fix };
    case ViolationKind.WEBHOOK:
      return v.severity === 'error'
        ? { code: 'IST0106', res, path: v.path, message: `Istio's validating webhook refuses the object: ${v.message}`, fix: v.fix }
        : { code: 'IST0133', res, path: v.path, message: `Istio's validating webhook warns: ${v.message}`, fix: v.fix };
    default:
      return {
        code: 'IST0106',
        res,
        path: v.path,
        message: `The API server refuses the object: ${v.message}${v.rule && !v.message.includes(v.rule) ? ` (rule: ${v.rule.replace(/\s+/g, ' ').trim()})` : ''}`,
        fix: v.fix,
      };
  }
}
