// Argo Rollouts' Istio subset-level traffic splitting example (argoproj/argo-rollouts docs/features/traffic-management/
// istio.md, "Subset-level Traffic Splitting": Rollout rollout-example, Service rollout-example, VirtualService rollout-vsvc
// with route `primary` 100% to subset stable and 0% to canary, DestinationRule rollout-destrule whose subsets both
// select `app: rollout-example` until the controller injects each ReplicaSet's rollouts-pod-template-hash), read by the
// request simulator and the analysis as written to git: the initial state, 100% stable.
import { MeshAnalysis, MeshSimulator, TraceOutcome } from '../../src/analysis';

const EXAMPLE = `
apiVersion: v1
kind: Namespace
metadata: { name: default, labels: { istio-injection: enabled } }
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: { name: rollout-example, namespace: default }
spec:
  replicas: 2
  selector: { matchLabels: { app: rollout-example } }
  template:
    metadata: { labels: { app: rollout-example } }
    spec: { containers: [{ name: rollout-example, image: argoproj/rollouts-demo:blue, ports: [{ name: http, containerPort: 8080 }] }] }
  strategy:
    canary:
      trafficRouting:
        istio:
          virtualService: { name: rollout-vsvc, routes: [primary] }
          destinationRule: { name: rollout-destrule, canarySubsetName: canary, stableSubsetName: stable }
      steps:
      - setWeight: 5
      - pause: { duration: 10m }
---
apiVersion: v1
kind: Service
metadata: { name: rollout-example, namespace: default }
spec:
  ports: [{ port: 80, targetPort: http, protocol: TCP, name: http }]
  selector: { app: rollout-example }
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: { name: rollout-vsvc, namespace: default }
spec:
  hosts: [rollout-example]
  http:
  - name: primary
    route:
    - destination: { host: rollout-example, subset: stable }
      weight: 100
    - destination: { host: rollout-example, subset: canary }
      weight: 0
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: { name: rollout-destrule, namespace: default }
spec:
  host: rollout-example
  subsets:
  - name: canary
    labels: { app: rollout-example }
  - name: stable
    labels: { app: rollout-example }
`;

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
