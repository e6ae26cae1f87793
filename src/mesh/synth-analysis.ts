import { ApiObject, App } from 'cdk8s';
import { IConstruct } from 'constructs';
import type { Mesh } from './mesh';
import { MeshAnalysis } from '../analysis/analysis';
import { Finding, Severity } from '../analysis/finding';

/**
 * Codes the constructs report themselves, with the route's construct path and an
 * acknowledgement option (CM250 / CM251): the analysis of the output would only repeat them.
 */
const REPORTED_BY_CONSTRUCTS = new Set(['CMA103', 'CMA104']);

/** Warnings already printed, per construct tree, so repeated synths do not repeat them. */
const PRINTED = new WeakMap<IConstruct, Set<string>>();

/**
 * Runs the manifest analysis on everything the app synthesizes, as a cdk8s validation of
 * `mesh`: error findings fail synthesis (each names the object's construct path), warnings are
 * printed once. A mesh reports the findings about objects of its namespace; the first mesh of
 * the app also those of other namespaces (mesh-wide policies in the root namespace, …).
 */
export function analyzeOnSynth(mesh: Mesh): string[] {
  const app = App.of(mesh);
  const objects = app.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject);
  const manifests = objects.map((o) => o.toJson());
  const paths = new Map<string, string>();
  manifests.forEach((m, i) => paths.set(key(m.kind, m.metadata?.namespace, m.metadata?.name), objects[i].node.path));

  const meshes = app.node.findAll().filter((c) => c.constructor === mesh.constructor) as Mesh[];
  const namespaces = new Set(meshes.map((m) => m.namespaceName));
  const mine = (f: Finding) => f.namespaceName === mesh.namespaceName
    || (meshes[0] === mesh && (f.namespaceName === undefined || !namespaces.has(f.namespaceName)));
  const options = { rootNamespace: mesh.rootNamespace, trustDomain: mesh.trustDomain, defaultNamespace: mesh.namespaceName };
  const findings = MeshAnalysis.analyze(manifests, options).filter((f) => mine(f) && !REPORTED_BY_CONSTRUCTS.has(f.code));

  const describe = (f: Finding) => {
    const path = paths.get(key(f.kind, f.namespaceName, f.name));
    return `${f.code} ${f.kind} ${f.namespaceName ? `${f.namespaceName}/` : ''}${f.name}${path ? ` (${path})` : ''} ${f.path}: ${f.message} Fix: ${f.fix}`;
  };
  const printed = PRINTED.get(app) ?? new Set<string>();
  PRINTED.set(app, printed);
  for (const warning of findings.filter((f) => f.severity === Severity.WARNING).map(describe)) {
    if (printed.has(warning)) continue;
    printed.add(warning);
    console.warn(`cdk8s-mesh analysis warning: ${warning}`);
  }
  return findings.filter((f) => f.severity === Severity.ERROR).map(describe);
}

function key(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}|${namespace ?? ''}|${name}`;
}
