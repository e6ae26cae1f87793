// Internal: what the validation passes of one synthesis share. Not exported from the package.
import { ApiObject, App, Chart } from 'cdk8s';
import { IConstruct, IValidation } from 'constructs';

/**
 * One synthesis of an app (`app.synth()` or `app.synthYaml()`). cdk8s validates the whole app
 * once, and again for every chart it renders (`chart.toJson()`), with nothing but validations
 * and rendering in between, so what one validation computes holds for the whole synthesis.
 */
export interface Synthesis {
  /** Values computed once per synthesis, by key. */
  readonly memo: Map<string, unknown>;
  /** True for `app.synth()`, which writes files to the app's output folder (not `synthYaml()`). */
  readonly writesFiles: boolean;
}

interface Session extends Synthesis {
  /** Objects rendered during the synthesis, with their JSON. */
  readonly rendered: Map<ApiObject, unknown>;
  /** Answers of the validations made with {@link validateOncePerSynthesis}. */
  readonly validated: Map<IValidation, string[]>;
}

const SESSIONS = new WeakMap<IConstruct, Session>();
const TRACKED = new WeakSet<IConstruct>();

/**
 * Opens a {@link Synthesis} for the duration of every `synth()` and `synthYaml()` of the app
 * `root` (wrapping these two methods of that App instance) and of every `chart.toJson()` of its
 * charts, and forgets it, with everything it cached, when the call returns or throws.
 */
export function trackSynthesis(root: IConstruct): void {
  if (TRACKED.has(root)) return;
  TRACKED.add(root);
  trackChartSynthesis();
  for (const method of ['synth', 'synthYaml']) {
    const original = (root as any)[method];
    if (typeof original !== 'function') continue;
    Object.defineProperty(root, method, {
      configurable: true,
      writable: true,
      value: function synthesize(this: unknown, ...args: unknown[]) {
        if (SESSIONS.has(root)) return original.apply(this, args);
        const session: Session = { memo: new Map(), rendered: new Map(), validated: new Map(), writesFiles: method === 'synth' };
        SESSIONS.set(root, session);
        try {
          return original.apply(this, args);
        } finally {
          SESSIONS.delete(root);
          for (const object of session.rendered.keys()) delete (object as any).toJson;
        }
      },
    });
  }
}

let chartsTracked = false;

/**
 * `chart.toJson()` (what `Testing.synth(chart)` calls) validates and renders the whole app too, through cdk8s's
 * `App._synthChart`: for apps this module tracks, that call is a synthesis as well, so validations share one
 * rendering of the app instead of rendering it once each. Other apps pass through unchanged.
 */
function trackChartSynthesis(): void {
  if (chartsTracked) return;
  chartsTracked = true;
  const app = App as unknown as { _synthChart?: (chart: Chart) => unknown };
  const original = app._synthChart;
  if (typeof original !== 'function') return;
  app._synthChart = function synthChart(this: unknown, chart: Chart) {
    const root = chart.node.root;
    if (!TRACKED.has(root) || SESSIONS.has(root)) return original.call(this, chart);
    const session: Session = { memo: new Map(), rendered: new Map(), validated: new Map(), writesFiles: false };
    SESSIONS.set(root, session);
    try {
      return original.call(this, chart);
    } finally {
      SESSIONS.delete(root);
      for (const object of session.rendered.keys()) delete (object as any).toJson;
    }
  };
}

/** The synthesis in progress for the app of `scope`, if it is tracked. */
export function currentSynthesis(scope: IConstruct): Synthesis | undefined {
  return SESSIONS.get(scope.node.root);
}

/**
 * `object.toJson()`, rendered once per synthesis: during a tracked synthesis the first call
 * renders it, and until the synthesis ends the object's `toJson()` (which cdk8s calls to write
 * it) answers that JSON instead of rendering it again.
 */
export function renderOnce(object: ApiObject): any {
  const session = SESSIONS.get(object.node.root);
  if (!session) return object.toJson();
  if (session.rendered.has(object)) return session.rendered.get(object);
  const json = object.toJson();
  session.rendered.set(object, json);
  Object.defineProperty(object, 'toJson', { configurable: true, writable: true, value: () => json });
  return json;
}

/**
 * A validation for `construct.node.addValidation` that runs once per synthesis: cdk8s validates
 * the whole app again for every chart it renders, with nothing changing in between, so the
 * repeats answer what the first run found. Outside a tracked synthesis it runs every time.
 */
export function validateOncePerSynthesis(construct: IConstruct, validate: () => string[]): IValidation {
  // Constructs are added below their scope, so the root is already the app's and never changes.
  const root = construct.node.root;
  const validation: IValidation = {
    validate: () => {
      const session = SESSIONS.get(root);
      if (!session) return validate();
      let errors = session.validated.get(validation);
      if (!errors) {
        errors = validate();
        session.validated.set(validation, errors);
      }
      return errors;
    },
  };
  return validation;
}
