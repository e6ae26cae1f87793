import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, App } from 'cdk8s';
import { IConstruct } from 'constructs';
import type { Mesh } from './mesh';
import { snapshotValidationCache } from './synth-validation';
import { Finding, Severity } from '../analysis/finding';
import { TopologyGraph } from '../analysis/graph';
import { CLUSTER_SCOPED } from '../analysis/manifests';
import { MeshIndex } from '../analysis/model';
import { AnalysisOptions } from '../analysis/options';
import { resolveOptions, runChecksOn } from '../analysis/run';
import { MeshSimulator } from '../analysis/simulator';
import { currentSynthesis, renderOnce } from '../internal/synthesis';

/**
 * Codes the constructs report themselves, with the route's construct path and an
 * acknowledgement option (CM250 / CM251): the analysis of the output would only repeat them.
 */
const REPORTED_BY_CONSTRUCTS = new Set(['CMA103', 'CMA104',
  // What the API server and Istio's webhook say about each object: the synth-time validation
  // (synth-validation.ts, CM6xx) reports it with the object's construct path, or is turned off.
  'IST0106', 'IST0133', 'CMA110', 'CMA113', 'CMA114']);

/** Warnings already printed, per construct tree, so repeated synths do not repeat them. */
const PRINTED = new WeakMap<IConstruct, Set<string>>();

/** The memo key of the {@link AppSnapshot} of a synthesis. */
const SNAPSHOT = 'analysis|snapshot';

/** What the analysis of one validation pass needs from the construct tree, walked once. */
export interface AppSnapshot {
  readonly objects: ApiObject[];
  readonly manifests: any[];
  /** Construct path of each object, by kind, namespace and name (built when a finding needs one). */
  paths?: Map<string, string>;
  /** The app's meshes, in construct-tree order. */
  readonly meshes: Mesh[];
  /** True when some namespaced object names no namespace (the analysis then gives it the mesh's). */
  readonly unnamespaced: boolean;
}

/**
 * Runs the manifest analysis on everything the app synthesizes, as a cdk8s validation of
 * `mesh`: error findings fail synthesis (each names the object's construct path), warnings are
 * printed once. A mesh reports the findings about objects of its namespace; the first mesh of
 * the app also those of other namespaces (mesh-wide policies in the root namespace, …).
 */
export function analyzeOnSynth(mesh: Mesh): string[] {
  const app = mesh.node.root;
  const memo = currentSynthesis(app)?.memo;
  const snapshot = snapshotOf(mesh);

  const { index, key } = indexOf(mesh, snapshot);
  let all = memo?.get(`analysis|${key}`) as Finding[] | undefined;
  if (!all) {
    all = runChecksOn(index);
    memo?.set(`analysis|${key}`, all);
  }

  const namespaces = new Set(snapshot.meshes.map((m) => m.namespaceName));
  const first = snapshot.meshes[0] === mesh;
  const mine = (f: Finding) => f.namespaceName === mesh.namespaceName
    || (first && (f.namespaceName === undefined || !namespaces.has(f.namespaceName)));
  const findings = all.filter((f) => mine(f) && !REPORTED_BY_CONSTRUCTS.has(f.code));

  const describe = (f: Finding) => {
    const constructPath = pathsOf(snapshot).get(key3(f.kind, f.namespaceName, f.name));
    return `${f.code} ${f.kind} ${f.namespaceName ? `${f.namespaceName}/` : ''}${f.name}${constructPath ? ` (${constructPath})` : ''} ${f.path}: ${f.message} Fix: ${f.fix}`;
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

/**
 * The index of everything the app synthesizes, as `mesh` sees it (its root namespace and trust domain), built once per
 * synthesis and shared by the analysis and the request simulator.
 */
function indexOf(mesh: Mesh, snapshot: AppSnapshot): { index: MeshIndex; key: string } {
  const memo = currentSynthesis(mesh)?.memo;
  const options: AnalysisOptions = { rootNamespace: mesh.rootNamespace, trustDomain: mesh.trustDomain, defaultNamespace: mesh.namespaceName };
  // The default namespace only places objects that name none: without such objects, meshes
  // with the same root namespace and trust domain share one index.
  const key = `${options.rootNamespace}|${options.trustDomain}|${snapshot.unnamespaced ? options.defaultNamespace : ''}`;
  let index = memo?.get(`index|${key}`) as MeshIndex | undefined;
  if (!index) {
    index = new MeshIndex(snapshot.manifests, resolveOptions(options), snapshotValidationCache(snapshot.manifests));
    memo?.set(`index|${key}`, index);
  }
  return { index, key };
}

/**
 * The request simulator over everything the app synthesizes (shared within one synthesis). A Mesh that adopts an
 * existing namespace writes no Namespace object, but declares how the namespace joins the mesh: the simulator sees
 * that namespace with the Mesh's labels, as the cluster will have them.
 */
export function synthesisSimulator(mesh: Mesh): MeshSimulator {
  const snapshot = snapshotOf(mesh);
  const { index, key } = indexOf(mesh, snapshot);
  // Asked once per declaring construct: the simulator is built once per synthesis (and index).
  const memo = currentSynthesis(mesh)?.memo;
  let sim = memo?.get(`simulator|${key}`) as MeshSimulator | undefined;
  if (sim) return sim;
  const written = new Set(snapshot.manifests.filter((m) => m.kind === 'Namespace').map((m) => m.metadata?.name));
  const adopted = snapshot.meshes.filter((m) => !written.has(m.namespaceName));
  if (adopted.length === 0) {
    sim = MeshSimulator._of(index);
  } else {
    const namespaces = adopted.map((m) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: m.namespaceName, labels: m.namespaceLabels } }));
    // The stand-in namespaces are added to a copy of the manifests: the validation at synth already checked the rest.
    sim = MeshSimulator._of(new MeshIndex([...namespaces, ...snapshot.manifests], index.options, snapshotValidationCache(snapshot.manifests)));
  }
  memo?.set(`simulator|${key}`, sim);
  return sim;
}

/** The app's snapshot for this synthesis (taken once). */
function snapshotOf(mesh: Mesh): AppSnapshot {
  const memo = currentSynthesis(mesh)?.memo;
  const snapshot = (memo?.get(SNAPSHOT) as AppSnapshot | undefined) ?? takeSnapshot(mesh.node.root, mesh);
  memo?.set(SNAPSHOT, snapshot);
  return snapshot;
}

/**
 * Writes the mesh topology (Mermaid and Graphviz DOT) beside the YAML when the app is
 * synthesized to files: `<outdir>/mesh-topology.mmd` and `.dot`, once per synthesis.
 */
export function writeTopologyOnSynth(mesh: Mesh): string[] {
  const synthesis = currentSynthesis(mesh);
  if (!synthesis?.writesFiles || synthesis.memo.has(TOPOLOGY)) return [];
  synthesis.memo.set(TOPOLOGY, true);
  const snapshot = (synthesis.memo.get(SNAPSHOT) as AppSnapshot | undefined) ?? takeSnapshot(mesh.node.root, mesh);
  synthesis.memo.set(SNAPSHOT, snapshot);
  const options = { rootNamespace: mesh.rootNamespace, trustDomain: mesh.trustDomain, defaultNamespace: mesh.namespaceName };
  const outdir = (mesh.node.root as App).outdir;
  fs.mkdirSync(outdir, { recursive: true });
  fs.writeFileSync(path.join(outdir, 'mesh-topology.mmd'), TopologyGraph.mermaid(snapshot.manifests, options));
  fs.writeFileSync(path.join(outdir, 'mesh-topology.dot'), TopologyGraph.dot(snapshot.manifests, options));
  return [];
}

/**
 * The app's objects, rendered once per synthesis, and its meshes: the snapshot the synth-time
 * analysis and validation share (taken at the first of them).
 */
export function synthesisSnapshot(mesh: Mesh): AppSnapshot {
  const app = mesh.node.root;
  const memo = currentSynthesis(app)?.memo;
  const snapshot = (memo?.get(SNAPSHOT) as AppSnapshot | undefined) ?? takeSnapshot(app, mesh);
  memo?.set(SNAPSHOT, snapshot);
  return snapshot;
}

/** The memo key that marks the topology as written. */
const TOPOLOGY = 'topology|written';

/** Walks the tree once: the objects, rendered (once per synthesis), and the meshes. */
function takeSnapshot(app: IConstruct, mesh: Mesh): AppSnapshot {
  const objects: ApiObject[] = [];
  const meshes: Mesh[] = [];
  for (const c of app.node.findAll()) {
    if (c instanceof ApiObject) objects.push(c);
    else if (c.constructor === mesh.constructor) meshes.push(c as Mesh);
  }
  const manifests = objects.map(renderOnce);
  const unnamespaced = manifests.some((m) => Array.isArray(m.items) || (m.metadata?.namespace === undefined && !CLUSTER_SCOPED.has(m.kind)));
  return { objects, manifests, meshes, unnamespaced };
}

function pathsOf(snapshot: AppSnapshot): Map<string, string> {
  if (!snapshot.paths) {
    snapshot.paths = new Map();
    snapshot.manifests.forEach((m, i) => snapshot.paths!.set(key3(m.kind, m.metadata?.namespace, m.metadata?.name), snapshot.objects[i].node.path));
  }
  return snapshot.paths;
}

function key3(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}|${namespace ?? ''}|${name}`;
}
