import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct, IConstruct } from 'constructs';
import { meshError } from '../errors';
import { PeerAuthentication, PeerAuthenticationSpecMtlsMode } from '../imports/security.istio.io';
import { isDnsSubdomain, requireDnsLabel } from '../internal/names';
import { MtlsMode } from '../security/mtls-mode';
import { Dataplane } from './dataplane';
import type { MeshService } from './mesh-service';

/** Properties of a {@link Mesh}. */
export interface MeshProps {
  /**
   * The Kubernetes namespace the mesh's services live in.
   *
   * @default - the namespace of the enclosing Chart
   */
  readonly namespaceName?: string;

  /**
   * Create the Namespace object. Set to false to adopt a namespace created elsewhere
   * (it must then carry the dataplane label itself: see {@link Mesh.namespaceLabels}).
   *
   * @default true
   */
  readonly createNamespace?: boolean;

  /**
   * Extra labels for the Namespace object (ignored when `createNamespace` is false).
   *
   * @default - only the dataplane labels
   */
  readonly namespaceLabels?: { [key: string]: string };

  /**
   * Sidecar or ambient mode.
   *
   * @default Dataplane.sidecar()
   */
  readonly dataplane?: Dataplane;

  /**
   * The namespace-wide mutual TLS mode, written as the PeerAuthentication `default` of the
   * namespace. `MtlsMode.UNSET` writes none, so the mesh-wide policy applies.
   *
   * @default MtlsMode.STRICT
   */
  readonly mtlsMode?: MtlsMode;

  /**
   * The mesh's trust domain: the first part of every workload identity
   * (`<trustDomain>/ns/<namespace>/sa/<serviceAccount>`).
   *
   * @default 'cluster.local'
   */
  readonly trustDomain?: string;

  /**
   * Istio's root namespace, where mesh-wide policies live.
   *
   * @default 'istio-system'
   */
  readonly rootNamespace?: string;
}

/** Meshes by namespace, per construct tree, to reject two meshes for one namespace. */
const MESHES = new WeakMap<IConstruct, Map<string, Mesh>>();

/**
 * One Istio mesh namespace: the Namespace with its dataplane label, the namespace-wide
 * mutual TLS policy, and the registry every service, route and policy of the namespace
 * contributes to.
 *
 * @example
 * const mesh = new Mesh(chart, 'mesh', { namespaceName: 'bookinfo' });
 */
export class Mesh extends Construct {
  /** The namespace the mesh's services live in. */
  public readonly namespaceName: string;
  /** The trust domain of workload identities. */
  public readonly trustDomain: string;
  /** Istio's root namespace (mesh-wide policies). */
  public readonly rootNamespace: string;
  /** Sidecar or ambient mode. */
  public readonly dataplane: Dataplane;
  /** The namespace-wide mutual TLS mode. */
  public readonly mtlsMode: MtlsMode;
  /** The Namespace object, unless an existing namespace was adopted. */
  public readonly namespace?: kplus.Namespace;
  /** The namespace-wide PeerAuthentication `default`, unless the mode is UNSET. */
  public readonly peerAuthentication?: ApiObject;
  /** The namespace waypoint (Gateway API `Gateway`), in ambient mode with a waypoint. */
  public readonly waypoint?: ApiObject;

  private readonly _services = new Map<string, MeshService>();

  public constructor(scope: Construct, id: string, props: MeshProps = {}) {
    super(scope, id);
    const chartNamespace = Chart.of(this).namespace;
    const namespaceName = props.namespaceName ?? chartNamespace;
    if (!namespaceName) {
      throw meshError(this, 'CM102', 'the mesh has no namespaceName and its Chart has no namespace',
        "pass namespaceName (e.g. new Mesh(chart, 'mesh', { namespaceName: 'shop' })) or give the Chart a namespace");
    }
    requireDnsLabel(this, 'namespace name', namespaceName);
    if (chartNamespace && chartNamespace !== namespaceName) {
      throw meshError(this, 'CM103', `the mesh is for namespace "${namespaceName}" but its Chart writes to namespace "${chartNamespace}"`,
        `create the mesh in a Chart for namespace "${namespaceName}" or in a Chart without a namespace`);
    }
    this.namespaceName = namespaceName;
    this.rootNamespace = props.rootNamespace ?? 'istio-system';
    requireDnsLabel(this, 'root namespace', this.rootNamespace);
    this.trustDomain = props.trustDomain ?? 'cluster.local';
    if (!isDnsSubdomain(this.trustDomain)) {
      throw meshError(this, 'CM111', `trust domain "${this.trustDomain}" is not a DNS name`,
        "use the trust domain Istio was installed with (meshConfig.trustDomain), e.g. 'cluster.local'");
    }
    this.dataplane = props.dataplane ?? Dataplane.sidecar();
    this.mtlsMode = props.mtlsMode ?? MtlsMode.STRICT;
    if (this.dataplane.isAmbient && this.mtlsMode === MtlsMode.DISABLE) {
      throw meshError(this, 'CM301', 'mTLS mode DISABLE is not supported in ambient mode',
        'use PERMISSIVE to accept plaintext clients, or the sidecar dataplane');
    }
    this.registerNamespace(namespaceName);

    if (props.createNamespace ?? true) {
      this.namespace = new kplus.Namespace(this, 'Namespace', {
        metadata: { name: namespaceName, labels: { ...props.namespaceLabels, ...this.namespaceLabels } },
      });
      // A Namespace is cluster-scoped: drop the namespace a namespaced Chart stamps on everything.
      if (chartNamespace) ApiObject.of(this.namespace).addJsonPatch(JsonPatch.remove('/metadata/namespace'));
    }

    if (this.mtlsMode !== MtlsMode.UNSET) {
      this.peerAuthentication = new PeerAuthentication(this, 'PeerAuthentication', {
        metadata: { name: 'default', namespace: namespaceName },
        spec: { mtls: { mode: this.mtlsMode as string as PeerAuthenticationSpecMtlsMode } },
      });
    }

    if (this.dataplane.waypoint) {
      // What `istioctl waypoint generate --for service` writes.
      this.waypoint = new ApiObject(this, 'Waypoint', {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: 'waypoint', namespace: namespaceName, labels: { 'istio.io/waypoint-for': 'service' } },
        spec: {
          gatewayClassName: 'istio-waypoint',
          listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }],
        },
      });
    }
  }

  /** The labels that put the namespace's workloads in the mesh (dataplane mode and revision). */
  public get namespaceLabels(): { [key: string]: string } {
    return this.dataplane._namespaceLabels();
  }

  /** Every service of the mesh, in the order they were declared. */
  public get services(): MeshService[] {
    return [...this._services.values()];
  }

  /**
   * Registers a service; service names are unique per namespace.
   * @internal
   */
  public _registerService(service: MeshService): void {
    const existing = this._services.get(service.name);
    if (existing) {
      throw meshError(service, 'CM113', `namespace "${this.namespaceName}" already has a service "${service.name}" (${existing.node.path})`,
        'give one of the services another name');
    }
    this._services.set(service.name, service);
  }

  private registerNamespace(namespaceName: string): void {
    const root = this.node.root;
    const meshes = MESHES.get(root) ?? new Map<string, Mesh>();
    MESHES.set(root, meshes);
    const existing = meshes.get(namespaceName);
    if (existing) {
      throw meshError(this, 'CM104', `namespace "${namespaceName}" already has a Mesh (${existing.node.path})`,
        'declare one Mesh per namespace and pass it to every service of that namespace');
    }
    meshes.set(namespaceName, this);
  }
}
