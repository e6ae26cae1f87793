import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { meshError } from '../errors';
import { requireDnsLabel, requireDnsSubdomain } from '../internal/names';
import { HostRouting } from '../render/host-routing';
import { Mesh } from './mesh';
import { Protocol } from './protocol';
import { ServiceVersion, ServiceVersionOptions, WorkloadOptions } from './service-version';
import { IWorkloadTarget, WorkloadSelector } from './workload-target';

/** Options of a {@link MeshService}. */
export interface MeshServiceOptions extends WorkloadOptions {
  /**
   * The service name: the Kubernetes Service other services call, and the `app` label.
   * A DNS label starting with a letter.
   *
   * @default - the construct id
   */
  readonly name?: string;

  /** Container image of the first version. */
  readonly image: string;

  /** The Service port clients call. */
  readonly port: number;

  /**
   * The container port the application listens on.
   *
   * @default - the same as `port`
   */
  readonly targetPort?: number;

  /**
   * The application protocol, written as the port name prefix and `appProtocol`.
   *
   * @default Protocol.HTTP
   */
  readonly protocol?: Protocol;

  /**
   * Suffix of the port name (`<protocol>-<suffix>`), for services that name their ports.
   *
   * @default - the port is named after the protocol alone, e.g. `http`
   */
  readonly portNameSuffix?: string;

  /**
   * Name of the ServiceAccount: the service's mesh identity
   * (`<trustDomain>/ns/<namespace>/sa/<serviceAccountName>`).
   *
   * @default - the service name
   */
  readonly serviceAccountName?: string;

  /**
   * Name of the first version.
   *
   * @default 'v1'
   */
  readonly version?: string;

  /**
   * Extra labels of the Service object.
   *
   * @default - `app` and `service`, both the service name
   */
  readonly serviceLabels?: { [key: string]: string };
}

/** Properties of a {@link MeshService}. */
export interface MeshServiceProps extends MeshServiceOptions {
  /** The mesh (namespace) the service belongs to. */
  readonly mesh: Mesh;
}

/**
 * One logical service of the mesh: its identity (a ServiceAccount), its name (a Service),
 * one Deployment per version, and exactly ONE DestinationRule (a subset per version) and ONE
 * VirtualService (the routes) for its host.
 *
 * Routing, resilience and security constructs extend those two objects rather than writing
 * their own, because Istio does not merge several VirtualServices for one host (IST0109).
 *
 * @example
 * const reviews = new MeshService(chart, 'reviews', { mesh, image: 'reviews:1', port: 9080 });
 * const v2 = reviews.addVersion('v2', { image: 'reviews:2' });
 */
export class MeshService extends Construct implements IWorkloadTarget {
  /** The mesh the service belongs to. */
  public readonly mesh: Mesh;
  /** The service name (Kubernetes Service name and `app` label). */
  public readonly name: string;
  /** The fully qualified host other services call: `<name>.<namespace>.svc.cluster.local`. */
  public readonly host: string;
  /** The Service port. */
  public readonly port: number;
  /** The container port. */
  public readonly targetPort: number;
  /** The application protocol of the port. */
  public readonly protocol: Protocol;
  /** The Service port name (`<protocol>[-suffix]`). */
  public readonly portName: string;
  /** The service's mesh identity: `<trustDomain>/ns/<namespace>/sa/<serviceAccount>`. */
  public readonly principal: string;
  /** The ServiceAccount (the mesh identity of every version's pods). */
  public readonly serviceAccount: kplus.ServiceAccount;
  /** The Kubernetes Service. */
  public readonly service: kplus.Service;
  /** The first version, the target of the default route. */
  public readonly defaultVersion: ServiceVersion;
  /** The host's one DestinationRule (a subset per version, traffic policies). */
  public readonly destinationRule: ApiObject;
  /** The host's one VirtualService (the routes of all traffic constructs). */
  public readonly virtualService: ApiObject;

  /**
   * Settings every version inherits.
   * @internal
   */
  public readonly _workloadDefaults: ServiceVersionOptions;
  /**
   * The routes and policies of this host, rendered into its VirtualService and DestinationRule.
   * @internal
   */
  public readonly _routing: HostRouting;

  private readonly _versions = new Map<string, ServiceVersion>();

  public constructor(scope: Construct, id: string, props: MeshServiceProps) {
    super(scope, id);
    const mesh = props.mesh;
    this.mesh = mesh;
    const chartNamespace = Chart.of(this).namespace;
    if (chartNamespace && chartNamespace !== mesh.namespaceName) {
      throw meshError(this, 'CM103', `the service is in a Chart for namespace "${chartNamespace}" but its mesh is namespace "${mesh.namespaceName}"`,
        `create the service in a Chart for namespace "${mesh.namespaceName}" (or one without a namespace), or pass the Mesh of "${chartNamespace}"`);
    }
    this.name = props.name ?? id;
    requireDnsLabel(this, 'service name', this.name, true);
    this.port = requirePort(this, 'port', props.port);
    this.targetPort = requirePort(this, 'targetPort', props.targetPort ?? props.port);
    this.protocol = props.protocol ?? Protocol.HTTP;
    if (props.portNameSuffix !== undefined) requireDnsLabel(this, 'port name suffix', props.portNameSuffix);
    this.portName = props.portNameSuffix ? `${this.protocol}-${props.portNameSuffix}` : this.protocol;
    const namespace = mesh.namespaceName;
    this.host = `${this.name}.${namespace}.svc.cluster.local`;
    const serviceAccountName = props.serviceAccountName ?? this.name;
    requireDnsSubdomain(this, 'service account name', serviceAccountName);
    this.principal = `${mesh.trustDomain}/ns/${namespace}/sa/${serviceAccountName}`;
    mesh._registerService(this);

    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: { name: serviceAccountName, namespace },
    });

    this.service = new kplus.Service(this, 'Service', {
      metadata: {
        name: this.name,
        namespace,
        labels: { ...props.serviceLabels, app: this.name, service: this.name },
      },
      ports: [{ name: this.portName, port: this.port, targetPort: this.targetPort }],
    });
    this.service.selectLabel('app', this.name);
    // cdk8s-plus has no appProtocol; Istio reads it before the port name.
    ApiObject.of(this.service).addJsonPatch(JsonPatch.add('/spec/ports/0/appProtocol', this.protocol));

    // Everything that is not about the Service itself is a workload setting versions inherit.
    const { mesh: _m, name: _n, port: _p, targetPort: _t, protocol: _pr, portNameSuffix: _s,
      serviceAccountName: _a, version: _v, serviceLabels: _l, ...workload } = props;
    this._workloadDefaults = workload;
    this._routing = new HostRouting(this);
    this.defaultVersion = this.addVersion(props.version ?? 'v1');
    const objects = this._routing.createObjects(this);
    this.destinationRule = objects.destinationRule;
    this.virtualService = objects.virtualService;
  }

  /** Every version, in the order they were added; the first is the default version. */
  public get versions(): ServiceVersion[] {
    return [...this._versions.values()];
  }

  /**
   * Adds a version: a Deployment `<service>-<name>` and a DestinationRule subset `<name>`.
   * Settings not given are inherited from the service.
   *
   * @param name the version name, e.g. `v2`
   */
  public addVersion(name: string, options: ServiceVersionOptions = {}): ServiceVersion {
    this.checkNewVersion(this, name);
    return new ServiceVersion(this, name, { ...options, service: this, name });
  }

  /** Selects the pods of every version of this service (label `app`). */
  public toWorkloadSelector(): WorkloadSelector {
    return { namespaceName: this.mesh.namespaceName, matchLabels: { app: this.name } };
  }

  /**
   * Registers a version created for this service.
   * @internal
   */
  public _registerVersion(version: ServiceVersion): void {
    this.checkNewVersion(version, version.name);
    this._versions.set(version.name, version);
  }

  private checkNewVersion(scope: Construct, name: string): void {
    const existing = this._versions.get(name);
    if (existing) {
      throw meshError(scope, 'CM105', `service "${this.name}" already has a version "${name}" (${existing.node.path})`,
        'give each version a distinct name, e.g. v1, v2, v3');
    }
  }
}

function requirePort(scope: Construct, what: string, port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw meshError(scope, 'CM106', `${what} ${port} is not a TCP port number`, 'use a whole number from 1 to 65535');
  }
  return port;
}
