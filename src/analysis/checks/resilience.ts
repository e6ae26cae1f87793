import { durationMillis } from '../routes';
import { Check } from './check';

/**
 * CMA103: `(attempts + 1) × perTryTimeout` beyond the route `timeout` — the first try and the retries each get up
 * to perTryTimeout, so the route times out before the last retries can run.
 * CMA104: fault injection with retries on one route — Istio does not enable retries (or the timeout) on a route
 * that injects faults at the client side, so the retries configured there never happen.
 */
export const retriesAndFaults: Check = {
  analyzer: 'cdk8s-mesh.ResilienceAnalyzer',
  run(ctx) {
    for (const vs of ctx.index.of('VirtualService')) {
      (vs.spec.http ?? []).forEach((rule: any, i: number) => {
        const retries = rule?.retries;
        if (!retries || !(retries.attempts > 0)) return;
        const path = `spec.http[${i}].retries`;
        if (rule.fault) {
          ctx.report('CMA104', vs, path,
            `This route injects faults (${Object.keys(rule.fault).join(' and ')}) and also sets ${retries.attempts} retries: Istio does not apply retries or the timeout on a route with client-side fault injection.`,
            'Inject faults in a separate route (for example one matching a test header), or remove the retries from this route.');
        }
        const timeout = durationMillis(rule.timeout);
        const perTry = durationMillis(retries.perTryTimeout);
        const budget = (retries.attempts + 1) * perTry!;
        if (timeout === undefined || perTry === undefined || budget <= timeout) return;
        ctx.report('CMA103', vs, path,
          `The first try and ${retries.attempts} retries of up to perTryTimeout ${retries.perTryTimeout} take up to ${format(budget)}, more than the route timeout ${rule.timeout}: the route times out before the last retries can run.`,
          `Raise the timeout to at least ${format(budget)}, or lower attempts or perTryTimeout.`);
      });
    }
  },
};

function format(ms: number): string {
  return ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`;
}
