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
