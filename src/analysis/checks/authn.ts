import { Check } from './check';

/**
 * IST0175: RequestAuthentications make istiod fetch `jwksUri`s; without BLOCKED_CIDRS_IN_JWKS_URIS on istiod a
 * policy author can make istiod call internal addresses. Decidable only when the istiod Deployment is in the input.
 */
export const blockedCidrs: Check = {
  analyzer: 'authn.BlockedCIDRsAnalyzer',
  run(ctx) {
    if (ctx.index.of('RequestAuthentication').length === 0) return;
    for (const w of ctx.index.workloads) {
      if (w.res.kind !== 'Deployment' || w.res.labels.app !== 'istiod') continue;
      const containers: any[] = w.podSpec.containers ?? [];
      const i = containers.findIndex((c) => c?.name === 'discovery');
      if (i < 0 || (containers[i].env ?? []).some((e: any) => e?.name === 'BLOCKED_CIDRS_IN_JWKS_URIS')) continue;
      ctx.report('IST0175', w.res, `${w.podSpecPath}.containers[${i}].env`,
        'RequestAuthentications exist but istiod does not restrict which addresses it fetches jwksUri from (BLOCKED_CIDRS_IN_JWKS_URIS is unset).',
        'Set BLOCKED_CIDRS_IN_JWKS_URIS on istiod (e.g. the cluster and metadata CIDRs) to block internal targets.');
    }
  },
};
