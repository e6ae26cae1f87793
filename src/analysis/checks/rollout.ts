// Argo Rollouts' Istio traffic routing, checked on manifests: what the Rollouts controller needs to find before it can
// move a canary's weights. From Argo Rollouts' docs, "Istio" (https://argoproj.github.io/argo-rollouts/features/
// traffic-management/istio/): the Rollout names VirtualServices (`virtualService` or `virtualServices`) and their HTTP
// routes (`routes`, "optional if there is a single HTTP route in the VirtualService, otherwise required"), each route
// has the two destinations the controller moves, and with subset-level splitting the DestinationRule defines the stable
// and canary subsets. This is reference integrity, not routing: which rule a request takes is the simulator's.
import { toFqdn } from '../hosts';
import { Res } from '../manifests';
import { fullName } from '../model';
import { Check, CheckContext } from './check';

const asList = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const BASE = 'spec.strategy.canary.trafficRouting.istio';

/**
 * CMA140: a VirtualService or DestinationRule the Rollout names that the manifests do not have (in the Rollout's
 * namespace); CMA141: a stable or canary subset the DestinationRule does not define; CMA142: a named route the
 * VirtualService does not have (or no route named where it has several HTTP routes), or a route without a destination
 * to each of the stable and canary subsets of the DestinationRule's host.
 */
export const rolloutTrafficRouting: Check = {
  analyzer: 'cdk8s-mesh.RolloutTrafficRoutingAnalyzer',
  run(ctx) {
    for (const ro of ctx.index.of('Rollout')) {
      const istio = ro.group === 'argoproj.io' ? ro.spec?.strategy?.canary?.trafficRouting?.istio : undefined;
      if (!istio) continue;
      const subsets = checkDestinationRule(ctx, ro, istio.destinationRule);
      const refs: Array<[any, string]> = [
        ...(istio.virtualService ? [[istio.virtualService, `${BASE}.virtualService`] as [any, string]] : []),
        ...asList(istio.virtualServices).map((v, i) => [v, `${BASE}.virtualServices[${i}]`] as [any, string]),
      ];
      for (const [ref, path] of refs) checkVirtualService(ctx, ro, ref, path, subsets);
    }
  },
};

/** The stable and canary subsets as `{ host, stable, canary }`, when the DestinationRule defines both. */
function checkDestinationRule(ctx: CheckContext, ro: Res, ref: any): RolloutSubsets | undefined {
  if (!ref?.name) return undefined;
  const dr = ctx.index.get('DestinationRule', ro.ns, String(ref.name));
  if (!dr) {
    ctx.report('CMA140', ro, `${BASE}.destinationRule.name`,
      `The Rollout names DestinationRule ${ro.ns}/${ref.name}, which the manifests do not have: the Rollouts controller cannot point the stable and canary subsets at their ReplicaSets, and the rollout does not progress.`,
      'Fix the name, or add the DestinationRule.');
    return undefined;
  }
  const defined = asList(dr.spec?.subsets).map((s) => s?.name);
  let complete = true;
  for (const [role, name] of [['stableSubsetName', ref.stableSubsetName], ['canarySubsetName', ref.canarySubsetName]]) {
    if (defined.includes(name)) continue;
    complete = false;
    ctx.report('CMA141', ro, `${BASE}.destinationRule.${role}`,
      `The Rollout's ${role} is "${name}", but DestinationRule ${fullName(dr)} defines ${defined.length ? `only the subsets ${defined.join(', ')}` : 'no subsets'}.`,
      `Add the subset "${name}" to the DestinationRule (labels selecting the Rollout's pods), or fix the name.`);
  }
  return complete ? { host: toFqdn(String(dr.spec?.host ?? ''), dr.ns), stable: ref.stableSubsetName, canary: ref.canarySubsetName } : undefined;
}

interface RolloutSubsets {
  readonly host: string;
  readonly stable: string;
  readonly canary: string;
}

function checkVirtualService(ctx: CheckContext, ro: Res, ref: any, path: string, subsets: RolloutSubsets | undefined): void {
  if (!ref?.name) return;
  const vs = ctx.index.get('VirtualService', ro.ns, String(ref.name));
  if (!vs) {
    ctx.report('CMA140', ro, `${path}.name`,
      `The Rollout names VirtualService ${ro.ns}/${ref.name}, which the manifests do not have: the Rollouts controller has no route to move, and the rollout does not progress.`,
      'Fix the name, or add the VirtualService.');
    return;
  }
  const http = asList(vs.spec?.http);
  const routes = asList(ref.routes).map(String);
  if (routes.length === 0 && http.length !== 1) {
    ctx.report('CMA142', ro, `${path}.routes`,
      `The Rollout names no route of VirtualService ${fullName(vs)}, which has ${http.length} HTTP routes: Argo Rollouts needs the route names unless there is exactly one.`,
      `List the routes to move, e.g. routes: [${http.map((r) => r?.name).filter((n) => n).join(', ') || '<route name>'}].`);
  }
  const byName = (name: string) => [name, http.findIndex((r) => r?.name === name)] as const;
  const named = routes.length ? routes.map(byName) : http.length === 1 ? [[http[0]?.name, 0] as const] : [];
  named.forEach(([name, index], i) => {
    if (index < 0) {
      ctx.report('CMA142', ro, `${path}.routes[${i}]`,
        `The Rollout moves route "${name}" of VirtualService ${fullName(vs)}, which has no HTTP route of that name (it has ${http.map((r) => r?.name ?? '(unnamed)').join(', ') || 'none'}).`,
        'Name the route in the VirtualService, or fix the name in the Rollout.');
      return;
    }
    if (!subsets) return;
    const destinations = asList(http[index]?.route).map((d) => d?.destination ?? {});
    const has = (subset: string) => destinations.some((d) => toFqdn(String(d.host ?? ''), vs.ns) === subsets.host && d.subset === subset);
    const missing = [subsets.stable, subsets.canary].filter((s) => !has(s));
    if (missing.length) {
      ctx.report('CMA142', vs, `spec.http[${index}].route`,
        `Rollout ${fullName(ro)} moves the weights of this route between subsets ${subsets.stable} (stable) and ${subsets.canary} (canary) of ${subsets.host}, but the route has no destination to ${missing.join(' or ')}.`,
        `Give the route the two destinations, stable 100 and canary 0 (the Rollout's initial state), e.g. { destination: { host: ${subsets.host}, subset: ${missing[0]} }, weight: ${missing[0] === subsets.stable ? 100 : 0} }.`);
    }
  });
}
