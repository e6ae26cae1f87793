import { Check } from './check';

/** IST0002: deprecated fields Istio ignores or replaced (VirtualService `fault.delay.percent`, Sidecar `egressProxy`). */
export const deprecatedFields: Check = {
  analyzer: 'deprecation.DeprecationAnalyzer',
  run(ctx) {
    for (const vs of ctx.index.of('VirtualService')) {
      (vs.spec.http ?? []).forEach((rule: any, i: number) => {
        const percent = rule?.fault?.delay?.percent;
        if (!(percent > 0)) return;
        ctx.report('IST0002', vs, `spec.http[${i}].fault.delay.percent`,
          'Deprecated: HTTPRoute.fault.delay.percent is deprecated; use HTTPRoute.fault.delay.percentage.',
          `Replace "percent: ${percent}" with "percentage: {value: ${percent}}".`);
      });
    }
    for (const sc of ctx.index.of('Sidecar')) {
      if (!sc.spec.outboundTrafficPolicy?.egressProxy) continue;
      ctx.report('IST0002', sc, 'spec.outboundTrafficPolicy.egressProxy',
        'Deprecated: Sidecar outboundTrafficPolicy.egressProxy is ignored.',
        'Remove egressProxy; route egress traffic through an egress gateway with a VirtualService instead.');
    }
  },
};
