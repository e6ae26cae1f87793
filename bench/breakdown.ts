// Where one synthesis spends its time: an instrumented run (not a timed measure) that charges
// every millisecond to the innermost phase running, for the library and for the bare baseline.
import { ApiObject, App, Yaml } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { bareApp } from './measure';
import { buildBenchMesh } from './mesh';
import * as run from '../src/analysis/run';
import { MeshSimulator } from '../src/analysis/simulator';
import { _proofs } from '../src/mesh/promises';
import * as synthValidation from '../src/mesh/synth-validation';

/** Milliseconds of one synthesis by phase; `cdk8s_rest` is what is left (tree walks, validations, dependency graphs). */
export interface Breakdown {
  /** Building the constructs (`new MeshService(...)`, or the bare ApiObjects). */
  readonly build: number;
  /** Rendering (`toJson()`) the cdk8s-plus objects: Deployments, Services, ServiceAccounts, the Namespace. */
  readonly render_cdk8s_plus: number;
  /** Rendering every other object (the Istio objects; every object for the bare baseline). */
  readonly render_other: number;
  /** The checks of the analysis at synth (its rendering of the objects is counted as rendering). */
  readonly analysis: number;
  /** Tracing the declarations' promises at synth (CM228, CM240, CM332-CM334, CM506, CM517). */
  readonly promises: number;
  /**
   * The synth-time validation (`validateOnSynth`: every object against the API server's schemas,
   * CEL rules and Istio's webhook; the analysis then reuses its results).
   */
  readonly validation: number;
  /** `Yaml.stringify`. */
  readonly yaml: number;
  /** The rest of `synthYaml()`: validation passes, dependency graphs, tree walks. */
  readonly cdk8s_rest: number;
  readonly total: number;
}

type Phase = Exclude<keyof Breakdown, 'cdk8s_rest' | 'total' | 'build'>;

const KPLUS_CLASSES = new Set<unknown>(Object.values(kplus.k8s));

/**
 * Runs `synth` with the phases timed: each wrapped function charges its time to its phase,
 * minus the time of wrapped functions it calls (so a render inside the analysis is a render).
 */
function timed(app: App, synth: () => void): Omit<Breakdown, 'build' | 'total'> & { synth: number } {
  const spent: Record<Phase, number> = { render_cdk8s_plus: 0, render_other: 0, analysis: 0, promises: 0, validation: 0, yaml: 0 };
  const stack: { phase: Phase; start: number; inner: number }[] = [];
  const wrap = <T extends (...args: any[]) => any>(original: T, phaseOf: (self: any) => Phase): T => function (this: any, ...args: any[]) {
    // A render calling its superclass's toJson is the same render.
    if (stack.length > 0 && stack[stack.length - 1].phase.startsWith('render') && phaseOf(this).startsWith('render')) return original.apply(this, args);
    const frame = { phase: phaseOf(this), start: performance.now(), inner: 0 };
    stack.push(frame);
    try {
      return original.apply(this, args);
    } finally {
      stack.pop();
      const elapsed = performance.now() - frame.start;
      spent[frame.phase] += elapsed - frame.inner;
      if (stack.length > 0) stack[stack.length - 1].inner += elapsed;
    }
  } as T;

  const restore: (() => void)[] = [];
  const patch = (target: any, key: string, phaseOf: (self: any) => Phase) => {
    const original = target[key];
    target[key] = wrap(original, phaseOf);
    restore.push(() => { target[key] = original; });
  };
  const renderPhase = (self: any): Phase => (KPLUS_CLASSES.has(self.constructor) ? 'render_cdk8s_plus' : 'render_other');
  const prototypes = new Set<any>();
  for (const c of app.node.findAll()) {
    if (!(c instanceof ApiObject)) continue;
    for (let proto = Object.getPrototypeOf(c); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      if (Object.prototype.hasOwnProperty.call(proto, 'toJson')) prototypes.add(proto);
    }
  }
  for (const proto of prototypes) patch(proto, 'toJson', renderPhase);
  patch(Yaml, 'stringify', () => 'yaml');
  patch(run, 'runChecksOn', () => 'analysis');
  patch(MeshSimulator.prototype, '_declaredCall', () => 'promises');
  patch(_proofs, 'prove', () => 'promises');
  patch(synthValidation, 'validateOnSynth', () => 'validation');
  try {
    const start = performance.now();
    synth();
    const total = performance.now() - start;
    const phases = spent.render_cdk8s_plus + spent.render_other + spent.analysis + spent.promises + spent.validation + spent.yaml;
    return { ...spent, cdk8s_rest: total - phases, synth: total };
  } finally {
    restore.reverse().forEach((undo) => undo());
  }
}

// Microseconds: a warm validation of a small mesh takes about 0.1 ms, which tenths of a millisecond round to 0.
const round = (figures: Breakdown): Breakdown =>
  Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Number(v.toFixed(3))])) as unknown as Breakdown;

/** The library: build the bench mesh, then `synthYaml()` with every phase timed. */
export function libraryBreakdown(n: number): Breakdown {
  const start = performance.now();
  const { app } = buildBenchMesh(n);
  const build = performance.now() - start;
  const { synth, ...phases } = timed(app, () => app.synthYaml());
  return round({ build, ...phases, total: build + synth });
}

/** The bare baseline: the same objects as plain ApiObjects, `synthYaml()` with every phase timed. */
export function bareBreakdown(manifests: any[]): Breakdown {
  const start = performance.now();
  const app = bareApp(manifests);
  const build = performance.now() - start;
  const { synth, ...phases } = timed(app, () => app.synthYaml());
  return round({ build, ...phases, total: build + synth });
}
