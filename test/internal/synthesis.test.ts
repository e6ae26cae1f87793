import { Chart, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { trackSynthesis, validateOncePerSynthesis } from '../../src/internal/synthesis';

/** An app with two charts (cdk8s validates once, then again per chart) and a counting validation. */
function appWithCountingValidation(errors: string[] = []) {
  const app = Testing.app();
  const first = new Chart(app, 'first');
  new Chart(app, 'second');
  const construct = new Construct(first, 'checked');
  let runs = 0;
  construct.node.addValidation(validateOncePerSynthesis(construct, () => { runs++; return errors; }));
  trackSynthesis(app);
  return { app, first, runs: () => runs };
}

describe('validateOncePerSynthesis', () => {
  test('runs once per tracked synthesis, however many validation passes cdk8s makes', () => {
    const { app, runs } = appWithCountingValidation();
    app.synthYaml();
    expect(runs()).toBe(1);
    app.synthYaml();
    expect(runs()).toBe(2);
  });

  test('outside a tracked synthesis it runs every time', () => {
    const { first, runs } = appWithCountingValidation();
    first.toJson();
    first.toJson();
    expect(runs()).toBe(2);
  });

  test('its errors fail every synthesis', () => {
    const { app } = appWithCountingValidation(['CM999 broken']);
    expect(() => app.synthYaml()).toThrow(/CM999 broken/);
    expect(() => app.synthYaml()).toThrow(/CM999 broken/);
  });
});
