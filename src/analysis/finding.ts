/** How bad a finding is; the same three levels `istioctl analyze` uses. */
export enum Severity {
  /** The configuration is broken: traffic fails or is routed/authorized differently than written. */
  ERROR = 'Error',
  /** Probably a mistake, or a configuration that breaks under conditions. */
  WARNING = 'Warning',
  /** Worth knowing; nothing is broken. */
  INFO = 'Info',
}

/** One problem found in the manifests. */
export interface Finding {
  /** `IST0xxx` where Istio has a code for the problem, `CMA1xx` for the checks only cdk8s-mesh makes. */
  readonly code: string;
  readonly severity: Severity;
  /** Kind of the object the finding is about. */
  readonly kind: string;
  /** Namespace of the object; undefined for cluster-scoped (or namespace-less) objects. */
  readonly namespaceName?: string;
  readonly name: string;
  /** Field path inside the object, e.g. `spec.http[0].route[1].destination.subset`. */
  readonly path: string;
  readonly message: string;
  /** What to change to fix it. */
  readonly fix: string;
  /** `file:line` of the object when it was read from a file. */
  readonly source?: string;
}
