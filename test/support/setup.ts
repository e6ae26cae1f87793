/**
 * Loaded by jest (setupFilesAfterEnv) before every test file: every chart a test synthesizes is
 * schema-checked (test/support/schema.ts), and a synth that yields an invalid object throws,
 * failing the test with the full error list. The library's warnings are captured (see
 * test/support/warnings.ts).
 *
 * The choke point is `Chart.prototype.toJson`: `Testing.synth(chart)`, `app.synthYaml()` and
 * `app.synth()` all go through it, except `app.synth()` with
 * YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE, which serializes each ApiObject itself;
 * there the charts are checked first. A bare `apiObject.toJson()` is not checked: the L1 classes
 * (KubeDeployment, the Istio imports) override it and rename fields after the base method
 * returns, so the base method never sees the final object.
 */
import { App, Chart, YamlOutputType } from 'cdk8s';
import { expectSchemaValid } from './schema';
import { installWarningCapture } from './warnings';

// Library warnings: asserted by the tests that expect them, one summary line for the rest
// (test/support/warnings.ts).
installWarningCapture();

let hookDisabled = 0;

/**
 * Runs `fn` with the synth hook off, for a test that deliberately synthesizes invalid objects
 * and then checks them with `schemaErrors` itself.
 */
export function withoutSchemaHook<T>(fn: () => T): T {
  hookDisabled++;
  try {
    return fn();
  } finally {
    hookDisabled--;
  }
}

const chartToJson = Chart.prototype.toJson;
Chart.prototype.toJson = function toJson(this: Chart): any[] {
  const manifests = chartToJson.call(this);
  if (!hookDisabled) expectSchemaValid(manifests, `chart "${this.node.path}"`);
  return manifests;
};

const appSynth = App.prototype.synth;
App.prototype.synth = function synth(this: App): void {
  if (this.yamlOutputType === YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE) {
    for (const chart of this.charts) chart.toJson();
  }
  appSynth.call(this);
};
