import { matchesSelector } from '../model';
import { Check } from './check';

const VERIFYING_MODES = ['SIMPLE', 'MUTUAL'];

/**
 * IST0128 / IST0129: TLS origination (SIMPLE/MUTUAL) without `caCertificates` does not verify the server's
 * certificate. A `credentialName` counts only on a DestinationRule with a workloadSelector (a gateway's).
 */
export const caCertificates: Check = {
  analyzer: 'destinationrule.CaCertificateAnalyzer',
  run(ctx) {
    for (const dr of ctx.index.of('DestinationRule')) {
      const unverified = (tls: any) => VERIFYING_MODES.includes(tls?.mode) && !tls.caCertificates
        && !(tls.credentialName && dr.spec.workloadSelector);
      const fix = 'Set caCertificates to the CA bundle that signs the server certificate (or credentialName together with a workloadSelector).';
      const tls = dr.spec.trafficPolicy?.tls;
      if (unverified(tls)) {
        ctx.report('IST0128', dr, 'spec.trafficPolicy.tls',
          `TLS mode ${tls.mode} to ${dr.spec.host} sets no caCertificates, so the server's certificate is not verified.`, fix);
      }
      (dr.spec.trafficPolicy?.portLevelSettings ?? []).forEach((p: any, i: number) => {
        if (unverified(p?.tls)) {
          ctx.report('IST0129', dr, `spec.trafficPolicy.portLevelSettings[${i}].tls`,
            `TLS mode ${p.tls.mode} to ${dr.spec.host} port ${p.port?.number} sets no caCertificates, so the server's certificate is not verified.`, fix);
        }
      });
    }
  },
};

/**
 * IST0174: the DestinationRule's host is no Service or ServiceEntry. IST0173: a subset selects no pod of that
 * host (pod templates of the workloads stand in for Pods; skipped when the manifests contain no workload at all).
 */
export const subsetsSelectPods: Check = {
  analyzer: 'destinationrule.SubsetSelectPodAnalyzer',
  run(ctx) {
    const { index } = ctx;
    for (const dr of index.of('DestinationRule')) {
      const host: string = dr.spec.host ?? '';
      const entry = index.registry.lookup(dr.ns, host, dr.spec.exportTo);
      if (!entry) {
        ctx.report('IST0174', dr, 'spec.host',
          `No Service or ServiceEntry defines host "${host}", so this DestinationRule applies to nothing.`,
          'Fix the host name (a short name is relative to the DestinationRule\'s namespace), or create the Service or ServiceEntry.');
        continue;
      }
      if (index.workloads.length === 0) continue;
      const isService = entry.res.kind === 'Service';
      (dr.spec.subsets ?? []).forEach((subset: any, i: number) => {
        const labels: Record<string, string> = subset?.labels ?? {};
        const selected = isService
          ? index.serviceWorkloads(entry.res).some((w) => matchesSelector(w.labels, labels))
          : entry.workloadSelector
            ? index.workloadsMatching({ ...entry.workloadSelector, ...labels }, entry.res.ns).length > 0
            : true; // ServiceEntry endpoints are addresses, not pods
        if (!selected) {
          ctx.report('IST0173', dr, `spec.subsets[${i}]`,
            `Subset "${subset?.name}" (labels ${JSON.stringify(labels)}) selects no pod of ${entry.res.kind} ${entry.res.ns}/${entry.res.name}: traffic routed to it fails with "no healthy upstream".`,
            'Fix the subset labels to match the pod template labels of the version (e.g. version: v1), or deploy that version.');
        }
      });
    }
  },
};
