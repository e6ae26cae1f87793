/** Options of the analysis, the request simulator and the topology graph. */
export interface AnalysisOptions {
  /**
   * Namespace of objects that name none (what `kubectl apply -n` would give them).
   * `''` leaves them namespace-less, as Istio's analyzer test harness does.
   * @default 'default'
   */
  readonly defaultNamespace?: string;
  /**
   * Istio's root namespace: policies there without a selector apply mesh-wide.
   * @default 'istio-system'
   */
  readonly rootNamespace?: string;
  /**
   * Trust domain of the workloads' identities (`<trustDomain>/ns/<ns>/sa/<sa>`).
   * @default 'cluster.local'
   */
  readonly trustDomain?: string;
  /**
   * The mesh config (a MeshConfig document: `defaultProviders`, `extensionProviders`, `defaultConfig`...),
   * for the checks that depend on it.
   * @default - Istio's defaults
   */
  readonly meshConfig?: any;

  /**
   * Analyze also the objects the API server (or Istio's webhook) would refuse, as
   * `istioctl analyze` does with files. They are reported (IST0106) either way; by default they
   * are left out of the other checks, as they could not exist in a cluster.
   * @default false
   */
  readonly analyzeRefusedObjects?: boolean;
}
