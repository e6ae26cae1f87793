/** What a workload calls, as its proxy must know it. */
export interface CallTarget {
  /**
   * Sidecar egress entries `<namespace>/<host>`: each host the caller's proxy needs, with the
   * namespace whose configuration (Service, ServiceEntry) defines it (`*` for any).
   */
  readonly egressHosts: string[];
  /** How to name the target in messages, e.g. `service "ratings"`. */
  readonly description: string;
}

/**
 * Something a mesh workload can call: a MeshService, an ExternalService, or any host
 * (`Dependency.host`). Declared with `MeshService.callsTo()`, it scopes the caller's proxy.
 */
export interface ICallable {
  /** The hosts this dependency stands for. */
  toCallTarget(): CallTarget;
}

/** Dependencies that are not constructs of this app. */
export class Dependency {
  /**
   * A host defined elsewhere: a Service of another app (`api.billing.svc.cluster.local` in
   * `billing`) or a ServiceEntry managed outside this app.
   *
   * @param host the fully qualified host name
   * @param namespaceName the namespace of the Service or ServiceEntry that defines it
   */
  public static host(host: string, namespaceName: string): ICallable {
    return { toCallTarget: () => ({ egressHosts: [`${namespaceName}/${host}`], description: `host "${host}"` }) };
  }

  private constructor() {}
}
