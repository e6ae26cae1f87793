// Argo Rollouts' Istio subset-level traffic splitting example (argoproj/argo-rollouts docs/features/traffic-management/
// istio.md, "Subset-level Traffic Splitting": Rollout rollout-example, Service rollout-example, VirtualService rollout-vsvc
// with route `primary` 100% to subset stable and 0% to canary, DestinationRule rollout-destrule whose subsets both
// select `app: rollout-example` until the controller injects each ReplicaSet's rollouts-pod-template-hash), read by the
// request simulator and the analysis as written to git: the initial state, 100% stable.
import { MeshAnalysis, MeshSimulator, TraceOutcome } from '../../src/analysis';
import { ARGO_ROLLOUTS_ISTIO_SUBSET_EXAMPLE as EXAMPLE } from '../support/argo-rollouts-example';

test('the simulator traces the Rollout\'s initial state: every request to the stable subset, on the Rollout\'s pods', () => {
  const objects = MeshAnalysis.parseYaml(EXAMPLE);
  const t = new MeshSimulator(objects).trace({ sourcePrincipal: 'cluster.local/ns/default/sa/default', host: 'rollout-example.default.svc.cluster.local:80' });
  expect(t.outcome).toBe(TraceOutcome.REACHED);
  expect(t.route).toMatchObject({ object: { kind: 'VirtualService', name: 'rollout-vsvc' }, field: 'spec.http[0]' });
  expect(t.destinations.map((d) => [d.destination.subset, d.destination.weightPercent, d.outcome, d.workload?.kind, d.workload?.name]))
    .toEqual([['stable', 100, TraceOutcome.REACHED, 'Rollout', 'rollout-example']]);
});

test('the analysis does not flag the split Rollouts owns (a 0% canary, two subsets selecting the same pods until the hash is injected)', () => {
  const findings = MeshAnalysis.analyze(MeshAnalysis.parseYaml(EXAMPLE));
  expect(findings.map((f) => `${f.code} ${f.kind}/${f.name} ${f.path}: ${f.message}`)).toEqual([]);
});

describe('CMA140-CMA142: what the Rollouts controller needs to find (Argo Rollouts docs, "Istio")', () => {
  const codes = (yaml: string) => MeshAnalysis.analyze(MeshAnalysis.parseYaml(yaml)).filter((f) => f.code.startsWith('CMA14'))
    .map((f) => `${f.code} ${f.kind}/${f.name} ${f.path}: ${f.message}`);

  test('CMA140: a VirtualService or DestinationRule name the manifests do not have', () => {
    expect(codes(EXAMPLE.replace('virtualService: { name: rollout-vsvc', 'virtualService: { name: rollout-vs').replace('destinationRule: { name: rollout-destrule', 'destinationRule: { name: rollout-dr'))).toEqual([
      'CMA140 Rollout/rollout-example spec.strategy.canary.trafficRouting.istio.destinationRule.name: The Rollout names DestinationRule default/rollout-dr, which the manifests do not have: the Rollouts controller cannot point the stable and canary subsets at their ReplicaSets, and the rollout does not progress.',
      'CMA140 Rollout/rollout-example spec.strategy.canary.trafficRouting.istio.virtualService.name: The Rollout names VirtualService default/rollout-vs, which the manifests do not have: the Rollouts controller has no route to move, and the rollout does not progress.',
    ]);
  });

  test('CMA141: a canary subset the DestinationRule does not define', () => {
    expect(codes(EXAMPLE.replace('canarySubsetName: canary', 'canarySubsetName: preview'))).toEqual([
      'CMA141 Rollout/rollout-example spec.strategy.canary.trafficRouting.istio.destinationRule.canarySubsetName: The Rollout\'s canarySubsetName is "preview", but DestinationRule default/rollout-destrule defines only the subsets canary, stable.',
    ]);
  });

  test('CMA142: a route name the VirtualService does not have; a route without the canary destination', () => {
    expect(codes(EXAMPLE.replace('routes: [primary]', 'routes: [main]'))).toEqual([
      'CMA142 Rollout/rollout-example spec.strategy.canary.trafficRouting.istio.virtualService.routes[0]: The Rollout moves route "main" of VirtualService default/rollout-vsvc, which has no HTTP route of that name (it has primary).',
    ]);
    const oneDestination = EXAMPLE.replace(/    - destination: \{ host: rollout-example, subset: canary \}\n      weight: 0\n/, '').replace('      weight: 100\n', '');
    expect(codes(oneDestination)).toEqual([
      'CMA142 VirtualService/rollout-vsvc spec.http[0].route: Rollout default/rollout-example moves the weights of this route between subsets stable (stable) and canary (canary) of rollout-example.default.svc.cluster.local, but the route has no destination to canary.',
    ]);
  });
});
