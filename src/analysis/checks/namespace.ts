import { Check, list } from './check';

/**
 * IST0123: a Namespace with more than one injection label (`istio-injection`, and `istio.io/rev` or
 * `istio.io/dataplane-mode` unless injection is disabled). IST0102: a non-ambient Namespace with no injection label.
 */
export const namespaceInjection: Check = {
  analyzer: 'injection.Analyzer',
  run(ctx) {
    for (const ns of ctx.index.of('Namespace')) {
      if (ns.name === ctx.index.options.rootNamespace) continue;
      const injection = ns.labels['istio-injection'];
      const labels = injection !== undefined ? [`istio-injection=${injection}`] : [];
      for (const l of ['istio.io/rev', 'istio.io/dataplane-mode']) {
        if (l in ns.labels && (injection === undefined || injection === 'enabled')) labels.push(`${l}=${ns.labels[l]}`);
      }
      if (labels.length > 1) {
        ctx.report('IST0123', ns, 'metadata.labels',
          `The namespace has more than one injection label (${list(labels)}); which data plane its pods get is undefined.`,
          'Keep exactly one of istio-injection, istio.io/rev or istio.io/dataplane-mode.');
      }
      if (ns.labels['istio.io/dataplane-mode'] === 'ambient') continue;
      if (!injection && !('istio.io/rev' in ns.labels)) {
        ctx.report('IST0102', ns, 'metadata.labels',
          `Namespace ${ns.name} is not enabled for sidecar injection: its pods join the mesh only if they opt in.`,
          'Label it istio-injection=enabled (or istio.io/rev=<revision>, or istio.io/dataplane-mode=ambient); label it istio-injection=disabled to say it stays out of the mesh.');
      }
    }
  },
};
