import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import type { Mesh } from './mesh';
import { MeshAnalysis } from '../analysis/analysis';
import { Finding, Severity } from '../analysis/finding';
import { CLUSTER_SCOPED } from '../analysis/manifests';
import { AnalysisOptions } from '../analysis/options';

/**
 * Codes the constructs report themselves, with the route's construct path and an
 * acknowledgement option (CM250 / CM251): the analysis of the output would only repeat them.
 */
const REPORTED_BY_CONSTRUCTS = new Set(['CMA103', 'CMA104']);

/** Warnings already printed, per construct tree, so repeated synths do not repeat them. */
const PRINTED = new WeakMap<IConstruct, Set<string>>();

/** What the analysis of one validation pass needs from the construct tree, walked once. */
interface AppSnapshot {
  readonly objects: ApiObject[];
  readonly manifests: any[];
  /** Construct path of each object, by kind, namespace and name. */
  readonly paths: Map<string, string>;
  /** The app's meshes, in construct-tree order. */
  readonly meshes: Mesh[];
  /** True when some namespaced object names no namespace (the analysis then gives it the mesh's). */
  readonly unnamespaced: boolean;
}

/**
 * One synthesis of an app (`app.synth()`, `app.synthYaml()`). cdk8s validates the whole app
 * once, and again for every chart it renders (`chart.toJson()`), with nothing but validations
 * and rendering in between: the analysis is done once per synthesis, and each object is rendered
 * once, for the analysis, and handed to cdk8s from there.
 */
interface SynthSession {
  snapshot?: AppSnapshot;
  /** Findings per analysis options (see {@link optionsKey}). */
  readonly findings: Map<string, Finding[]>;
}

const SESSIONS = new WeakMap<IConstruct, SynthSession>();
const TRACKED = new WeakSet<IConstruct>();

/**
 * Opens a {@link SynthSession} for the duration of every `synth()` and `synthYaml()` of the app
 * `root` (wrapping the two methods of this App instance; nothing else changes), and closes it
 * (forgetting everything it cached) when the call returns or throws.
 */
export function trackSynthesis(root: IConstruct): void {
  if (TRACKED.has(root)) return;
  TRACKED.add(root);
  for (const method of ['synth', 'synthYaml']) {
    const original = (root as any)[method];
    if (typeof original !== 'function') continue;
    Object.defineProperty(root, method, {
      configurable: true,
      writable: true,
      value: function synthesize(this: unknown, ...args: unknown[]) {
        if (SESSIONS.has(root)) return original.apply(this, args);
        const session: SynthSession = { findings: new Map() };
        SESSIONS.set(root, session);
        try {
          return original.apply(this, args);
        } finally {
          SESSIONS.delete(root);
          for (const object of session.snapshot?.objects ?? []) delete (object as any).toJson;
        }
      },
    });
  }
}

/**
 * Runs the manifest analysis on everything the app synthesizes, as a cdk8s validation of
 * `mesh`: error findings fail synthesis (each names the object's construct path), warnings are
 * printed once. A mesh reports the findings about objects of its namespace; the first mesh of
 * the app also those of other namespaces (mesh-wide policies in the root namespace, …).
 */
export function analyzeOnSynth(mesh: Mesh): string[] {
  const app = mesh.node.root;
  const session = SESSIONS.get(app);
  const snapshot = session?.snapshot ?? takeSnapshot(app, mesh, session !== undefined);
  if (session) session.snapshot = snapshot;

  const options: AnalysisOptions = { rootNamespace: mesh.rootNamespace, trustDomain: mesh.trustDomain, defaultNamespace: mesh.namespaceName };
  // The default namespace only places objects that name none: without such objects, meshes
  // with the same root namespace and trust domain share one analysis.
  const key = `${options.rootNamespace}|${options.trustDomain}|${snapshot.unnamespaced ? options.defaultNamespace : ''}`;
  let all = session?.findings.get(key);
  if (!all) {
    all = MeshAnalysis.analyze(snapshot.manifests, options);
    session?.findings.set(key, all);
  }

  const namespaces = new Set(snapshot.meshes.map((m) => m.namespaceName));
  const first = snapshot.meshes[0] === mesh;
  const mine = (f: Finding) => f.namespaceName === mesh.namespaceName
    || (first && (f.namespaceName === undefined || !namespaces.has(f.namespaceName)));
  const findings = all.filter((f) => mine(f) && !REPORTED_BY_CONSTRUCTS.has(f.code));

  const describe = (f: Finding) => {
    const path = snapshot.paths.get(key3(f.kind, f.namespaceName, f.name));
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

/**
 * Walks the tree once: the objects, rendered (and, during a synthesis, kept as what each
 * object's `toJson()` answers until the synthesis ends), and the meshes.
 */
function takeSnapshot(app: IConstruct, mesh: Mesh, keep: boolean): AppSnapshot {
  const objects: ApiObject[] = [];
  const meshes: Mesh[] = [];
  for (const c of app.node.findAll()) {
    if (c instanceof ApiObject) objects.push(c);
    else if (c.constructor === mesh.constructor) meshes.push(c as Mesh);
  }
  const manifests = objects.map((o) => o.toJson());
  if (keep) {
    objects.forEach((o, i) => Object.defineProperty(o, 'toJson', { configurable: true, writable: true, value: () => manifests[i] }));
  }
  const paths = new Map<string, string>();
  let unnamespaced = false;
  manifests.forEach((m, i) => {
    paths.set(key3(m.kind, m.metadata?.namespace, m.metadata?.name), objects[i].node.path);
    if (Array.isArray(m.items) || (m.metadata?.namespace === undefined && !CLUSTER_SCOPED.has(m.kind))) unnamespaced = true;
  });
  return { objects, manifests, paths, meshes, unnamespaced };
}

function key3(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}|${namespace ?? ''}|${name}`;
}
