import { Res } from '../manifests';
import { fullName, push } from '../model';
import { Check, list } from './check';

/** IST0157: an access-logging entry with no provider while the mesh config names no default access-log provider. */
export const telemetryProviders: Check = {
  analyzer: 'telemetry.ProviderAnalyzer',
  run(ctx) {
    if ((ctx.index.options.meshConfig?.defaultProviders?.accessLogging ?? []).length > 0) return;
    for (const t of ctx.index.of('Telemetry')) {
      const i = (t.spec.accessLogging ?? []).findIndex((l: any) => l?.disabled !== true && (l?.providers ?? []).length === 0);
      if (i < 0) continue;
      ctx.report('IST0157', t, `spec.accessLogging[${i}]`,
        'This access-logging entry names no provider and the mesh config sets no defaultProviders.accessLogging, so it is ignored.',
        'Add providers: [{name: envoy}] (or another extension provider), or set meshConfig.defaultProviders.accessLogging.');
    }
  },
};

/** IST0160: more than one Telemetry without a selector in one namespace; which one applies is undefined. */
export const telemetryDefaultSelector: Check = {
  analyzer: 'telemetry.DefaultSelectorAnalyzer',
  run(ctx) {
    reportNamespaceWideDuplicates(ctx.index.of('Telemetry'), (t) => !t.spec.selector && !t.spec.targetRef && !t.spec.targetRefs, (t, others) =>
      ctx.report('IST0160', t, 'spec.selector',
        `Telemetry ${list(others)} in namespace ${t.ns} also has no selector; only one namespace-wide Telemetry takes effect.`,
        'Merge them into one Telemetry, or give all but one a selector.'));
  },
};

/** IST0002: tracing through a Lightstep provider, which Istio deprecated (use OpenTelemetry). */
export const lightstepProvider: Check = {
  analyzer: 'telemetry.LightstepAnalyzer',
  run(ctx) {
    const lightstep = new Set((ctx.index.options.meshConfig?.extensionProviders ?? []).filter((p: any) => p?.lightstep).map((p: any) => p.name));
    if (lightstep.size === 0) return;
    for (const t of ctx.index.of('Telemetry')) {
      (t.spec.tracing ?? []).forEach((tr: any, i: number) => (tr?.providers ?? []).forEach((p: any, j: number) => {
        if (!lightstep.has(p?.name)) return;
        ctx.report('IST0002', t, `spec.tracing[${i}].providers[${j}].name`,
          `Deprecated: provider "${p.name}" is a Lightstep extension provider, which Istio no longer supports.`,
          'Send traces through an OpenTelemetry provider instead.');
      }));
    }
  },
};

/** Calls `report` for each object of a namespace that has more than one object passing `unscoped`. */
export function reportNamespaceWideDuplicates(objects: Res[], unscoped: (o: Res) => boolean, report: (o: Res, others: string[]) => void): void {
  const byNs = new Map<string, Res[]>();
  for (const o of objects.filter(unscoped)) push(byNs, o.ns, o);
  for (const group of byNs.values()) {
    if (group.length < 2) continue;
    for (const o of group) report(o, group.filter((x) => x !== o).map(fullName));
  }
}
