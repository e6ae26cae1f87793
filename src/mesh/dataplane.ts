/** The two ways Istio puts a workload in the mesh. */
export enum DataplaneMode {
  /** An Envoy sidecar injected into each pod. */
  SIDECAR = 'sidecar',
  /** Ambient mode: a per-node ztunnel for L4, optional waypoint proxies for L7. */
  AMBIENT = 'ambient',
}

/** Options for {@link Dataplane.sidecar}. */
export interface SidecarDataplaneOptions {
  /**
   * The Istio control-plane revision that injects the sidecars (canary upgrades).
   * Rendered as the `istio.io/rev` namespace label instead of `istio-injection: enabled`;
   * never both (istioctl IST0123).
   *
   * @default - the default revision (`istio-injection: enabled`)
   */
  readonly revision?: string;
}

/** Options for {@link Dataplane.ambient}. */
export interface AmbientDataplaneOptions {
  /**
   * Deploy a namespace waypoint proxy (a Gateway API `Gateway` of class `istio-waypoint`
   * named `waypoint`) and enroll the namespace's services in it, so L7 features
   * (HTTP routing, L7 authorization) are enforced.
   *
   * @default false - L4 only (ztunnel)
   */
  readonly waypoint?: boolean;
  /**
   * The Istio control-plane revision (`istio.io/rev` namespace label).
   *
   * @default - the default revision
   */
  readonly revision?: string;
}

/**
 * How workloads of a mesh namespace join the mesh: with sidecars or in ambient mode.
 *
 * @see https://istio.io/latest/docs/overview/dataplane-modes/
 */
export class Dataplane {
  /** Sidecar mode: an Envoy proxy is injected into every pod of the namespace. */
  public static sidecar(options: SidecarDataplaneOptions = {}): Dataplane {
    return new Dataplane(DataplaneMode.SIDECAR, options.revision, false);
  }

  /** Ambient mode: pods stay unchanged; ztunnel (and optionally a waypoint) carries their traffic. */
  public static ambient(options: AmbientDataplaneOptions = {}): Dataplane {
    return new Dataplane(DataplaneMode.AMBIENT, options.revision, options.waypoint ?? false);
  }

  /** Sidecar or ambient. */
  public readonly mode: DataplaneMode;
  /** The control-plane revision, if one was given. */
  public readonly revision?: string;
  /** Whether an ambient namespace gets a waypoint proxy for L7 features. */
  public readonly waypoint: boolean;

  private constructor(mode: DataplaneMode, revision: string | undefined, waypoint: boolean) {
    this.mode = mode;
    this.revision = revision;
    this.waypoint = waypoint;
  }

  /** True in ambient mode. */
  public get isAmbient(): boolean {
    return this.mode === DataplaneMode.AMBIENT;
  }

  /**
   * The namespace labels that enroll workloads in the mesh.
   * @internal
   */
  public _namespaceLabels(): { [key: string]: string } {
    const labels: { [key: string]: string } = {};
    if (this.isAmbient) {
      labels['istio.io/dataplane-mode'] = 'ambient';
      if (this.waypoint) labels['istio.io/use-waypoint'] = 'waypoint';
    }
    if (this.revision) {
      labels['istio.io/rev'] = this.revision;
    } else if (!this.isAmbient) {
      labels['istio-injection'] = 'enabled';
    }
    return labels;
  }
}
