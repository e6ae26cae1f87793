import { ApiObject } from 'cdk8s';
import type { Mesh } from './mesh';
import { synthesisSnapshot } from './synth-analysis';
import { ValidationCache, registerValidationCache, registeredValidationCache, validateCached } from '../analysis/admission';
import { CLUSTER_SCOPED } from '../analysis/manifests';
import { ErrorCode, formatMessage } from '../errors';
import { currentSynthesis } from '../internal/synthesis';
import { Violation, ViolationKind } from '../validation/validator';

/** The memo key of the validation of a synthesis. */
const RESULTS = 'validation|results';

interface Refusal {
  readonly object: ApiObject;
  readonly manifest: any;
  readonly violation: Violation;
}

/** Webhook warnings already printed, per construct tree. */
const PRINTED = new WeakMap<object, Set<string>>();

/**
 * Validates every object the app synthesizes as the Kubernetes API server (and Istio's webhook)
 * would, as a cdk8s validation of `mesh`: an object that would be refused, or that has a field the
 * API server would prune, fails synthesis with the object's construct path and the rule. Each
 * object is validated once per synthesis; a mesh reports the objects of its namespace, the first
 * mesh of the app also the others.
 */
export function validateOnSynth(mesh: Mesh): string[] {
  const snapshot = synthesisSnapshot(mesh);
  const memo = currentSynthesis(mesh)?.memo;
  let refusals = memo?.get(RESULTS) as Refusal[] | undefined;
  if (!refusals) {
    // Shared with the synth-time analysis and the request simulator, which read the same (unchanging) snapshot:
    // whichever runs first validates an object, the others reuse the result.
    const cache = snapshotValidationCache(snapshot.manifests);
    refusals = [];
    snapshot.manifests.forEach((manifest, i) => {
      for (const violation of validateCached(manifest, cache).violations) refusals!.push({ object: snapshot.objects[i], manifest, violation });
    });
    memo?.set(RESULTS, refusals);
  }

  const namespaces = new Set(snapshot.meshes.map((m) => m.namespaceName));
  const first = snapshot.meshes[0] === mesh;
  const namespaceOf = (m: any) => (CLUSTER_SCOPED.has(m?.kind) ? undefined : m?.metadata?.namespace ?? mesh.namespaceName);
  const mine = (r: Refusal) => {
    const ns = namespaceOf(r.manifest);
    return ns === mesh.namespaceName || (first && (ns === undefined || !namespaces.has(ns)));
  };
  const errors: string[] = [];
  const printed = PRINTED.get(mesh.node.root) ?? new Set<string>();
  PRINTED.set(mesh.node.root, printed);
  for (const r of refusals.filter(mine)) {
    const m = r.manifest;
    const what = `${m?.kind ?? '<no kind>'} ${namespaceOf(m) ? `${namespaceOf(m)}/` : ''}${m?.metadata?.name ?? '<no name>'} (${r.object.node.path})`;
    const v = r.violation;
    const problem = `${what}${v.path ? ` ${v.path}` : ''}: ${v.message}${v.rule && !v.message.includes(v.rule) ? ` (rule: ${v.rule.replace(/\s+/g, ' ').trim()})` : ''}`;
    if (v.severity !== 'error') {
      const text = `cdk8s-mesh validation warning: ${problem}. Fix: ${v.fix}`;
      if (!printed.has(text)) {
        printed.add(text);
        console.warn(text);
      }
      continue;
    }
    errors.push(formatMessage(codeOf(v), problem, v.fix.replace(/\.$/, '')));
  }
  return errors;
}

function codeOf(v: Violation): ErrorCode {
  switch (v.kind) {
    case ViolationKind.UNKNOWN_FIELD: return 'CM602';
    case ViolationKind.WEBHOOK: return 'CM603';
    default: return 'CM601';
  }
}

/** The validation cache of a synthesis snapshot's manifests, registered for every analysis of them. */
export function snapshotValidationCache(manifests: any[]): ValidationCache {
  let cache = registeredValidationCache(manifests);
  if (!cache) {
    cache = new WeakMap();
    registerValidationCache(manifests, cache);
  }
  return cache;
}
