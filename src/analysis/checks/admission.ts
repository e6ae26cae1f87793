import { Check } from './check';

/**
 * IST0106 / IST0133 / CMA110–CMA114: what the API server and Istio's webhook say about each object
 * (collected when the index admits the manifests; see admission.ts).
 */
export const admission: Check = {
  analyzer: 'cdk8s-mesh.AdmissionAnalyzer',
  run(ctx) {
    for (const f of ctx.index.admissionFindings) ctx.report(f.code, f.res, f.path, f.message, f.fix, f.severity);
  },
};
