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
}
