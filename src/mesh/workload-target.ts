/** The pods a policy applies to: label selector within one namespace. */
export interface WorkloadSelector {
  /** The namespace of the pods. */
  readonly namespaceName: string;
  /** Labels every selected pod carries. */
  readonly matchLabels: { [key: string]: string };
}

/**
 * Something a workload policy (mTLS, authentication, authorization, telemetry) can target:
 * a service (all its versions) or one version of it.
 */
export interface IWorkloadTarget {
  /** The pods this target stands for. */
  toWorkloadSelector(): WorkloadSelector;
}
