import { Check } from './check';

const ROUTE_LEVEL = new Set(['ROUTE_CONFIGURATION', 'HTTP_ROUTE']);
/** What REPLACE can target (Istio 1.30's analyzer accepts VIRTUAL_HOST too: see the Istio grid case EnvoyFilterUsesReplaceOperation). */
const REPLACEABLE = new Set(['HTTP_FILTER', 'NETWORK_FILTER', 'VIRTUAL_HOST']);
const RELATIVE = new Set(['INSERT_BEFORE', 'INSERT_AFTER', 'REPLACE', 'REMOVE']);

const MESSAGES: Record<string, [string, string]> = {
  IST0151: ['uses a relative patch operation without a priority: it applies only if the filter it is relative to is already there, which depends on the order EnvoyFilters are applied.',
    'Set spec.priority, or use an absolute operation (INSERT_FIRST, ADD).'],
  IST0152: ['uses REPLACE on an applyTo that REPLACE does not support (HTTP_FILTER, NETWORK_FILTER or VIRTUAL_HOST), so the patch is ignored.',
    'Use MERGE, or REPLACE on an HTTP_FILTER or NETWORK_FILTER.'],
  IST0153: ['uses ADD on ROUTE_CONFIGURATION or HTTP_ROUTE, which ignores it.', 'Use MERGE for ROUTE_CONFIGURATION / HTTP_ROUTE patches.'],
  IST0154: ['uses REMOVE on ROUTE_CONFIGURATION or HTTP_ROUTE, which ignores it.', 'Remove the patch; route configuration cannot be removed this way.'],
  IST0155: ['uses a relative patch operation without a priority on a filter that a patch matching a proxyVersion also names: after an upgrade the order changes.',
    'Set spec.priority, or use an absolute operation (INSERT_FIRST, ADD).'],
};

/**
 * IST0151-IST0155: EnvoyFilter patches that are ignored or depend on application order. Reported once per
 * EnvoyFilter and code (at the first patch), as istioctl does. Filter names that a proxyVersion-scoped patch
 * names are remembered across EnvoyFilters, in namespace/name order.
 */
export const envoyFilterPatches: Check = {
  analyzer: 'envoyfilter.EnvoyPatchAnalyzer',
  run(ctx) {
    const versionScopedNames = new Set<string>();
    for (const ef of ctx.index.of('EnvoyFilter')) {
      const first = new Map<string, number>();
      const flag = (code: string, i: number) => { if (!first.has(code)) first.set(code, i); };
      for (const [i, cp] of (ef.spec.configPatches ?? []).entries()) {
        const patch = cp?.patch;
        if (!patch) break;
        const name: string = patch.value ? patch.value.name ?? cp.match?.listener?.filterChain?.filter?.name ?? '' : '';
        const op = patch.operation;
        const applyTo = cp.applyTo;
        if (op === 'ADD' && ROUTE_LEVEL.has(applyTo)) flag('IST0153', i);
        else if (op === 'REMOVE' && ROUTE_LEVEL.has(applyTo)) flag('IST0154', i);
        else if (op === 'REPLACE' && !REPLACEABLE.has(applyTo)) flag('IST0152', i);
        else if (RELATIVE.has(op) && !ef.spec.priority) flag(versionScopedNames.has(name) ? 'IST0155' : 'IST0151', i);
        if (cp.match?.proxy?.proxyVersion) versionScopedNames.add(name);
      }
      for (const [code, i] of first) {
        const [what, fix] = MESSAGES[code];
        ctx.report(code, ef, `spec.configPatches[${i}]`, `Patch #${i} (${ef.spec.configPatches[i].applyTo} ${ef.spec.configPatches[i].patch.operation}) ${what}`, fix);
      }
    }
  },
};
