// Argo Rollouts' Istio subset-level traffic splitting example (argoproj/argo-rollouts docs/features/traffic-management/
// istio.md, "Subset-level Traffic Splitting": Rollout rollout-example, Service rollout-example, VirtualService rollout-vsvc
// with route `primary` 100% to subset stable and 0% to canary, DestinationRule rollout-destrule whose subsets both
// select `app: rollout-example` until the controller injects each ReplicaSet's rollouts-pod-template-hash), read by the
// request simulator and the analysis as written to git: the initial state, 100% stable. Written by hand from the docs page
// (test/analysis/argo-rollouts.test.ts reads it as YAML; test/traffic/canary.test.ts reproduces it with the constructs).
export const ARGO_ROLLOUTS_ISTIO_SUBSET_EXAMPLE = `
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
