import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct, IConstruct } from 'constructs';
import { meshError } from '../errors';
import { Dataplane } from './dataplane';
import type { MeshService } from './mesh-service';
import { declare } from './promises';
import { RoutingApi } from './routing-api';
import { analyzeOnSynth, writeTopologyOnSynth } from './synth-analysis';
import { validateOnSynth } from './synth-validation';
import { Sidecar, SidecarSpecOutboundTrafficPolicyMode } from '../imports/networking.istio.io';
import {
  AuthorizationPolicy as AuthorizationPolicyL1, AuthorizationPolicySpec, PeerAuthentication, PeerAuthenticationSpecMtlsMode,
} from '../imports/security.istio.io';
import { isDnsSubdomain, requireDnsLabel } from '../internal/names';
import { trackSynthesis } from '../internal/synthesis';
import { MeshTelemetryConfig } from '../observability/mesh-telemetry';
import { DefaultTelemetryProviders, TelemetryProvider } from '../observability/telemetry-provider';
import { AuthorizationMode, AuthorizationPolicy } from '../security/authorization-policy';
import { MtlsMode } from '../security/mtls-mode';
import { mtlsDeclaration } from '../security/mtls-promises';
import { IPeer, PeerConfig } from '../security/peer';

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
   * How the routes of the mesh's services are written: VirtualServices, or Kubernetes Gateway API mesh routes
   * (HTTPRoute/TCPRoute attached to each Service, a Service per version where a route needs one). A route the chosen
   * API cannot express fails at construction (CM246) with the reason, never silently changed.
   *
   * @default - RoutingApi.GATEWAY_API in ambient mode (a waypoint is configured with the Gateway API);
   * RoutingApi.ISTIO with sidecars
   */
  readonly routingApi?: RoutingApi;

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

  /**
   * Analyze everything the app synthesizes when it is synthesized (the checks of
   * `istioctl analyze` that manifests can decide, and cdk8s-mesh's own): an error finding fails
   * `cdk8s synth` with the object's construct path, a warning is printed.
   *
   * @default true
   */
  readonly analyzeOnSynth?: boolean;

  /**
   * Prove each declaration on the synthesized output, with the request simulator: what a route, `allowFrom`,
   * `callsTo`, `JwtAuth.protect`, an mTLS mode, `exposeViaGateway` or an `ExternalService` promises about requests
   * (CM228, CM240, CM332-CM334, CM506, CM517) must hold when traced, or `cdk8s synth` fails with the declaration's
   * construct path, the request and the step of its trace that broke.
   *
   * @default true
   */
  readonly checkDeclarations?: boolean;

  /**
   * Validate every object the app synthesizes as the Kubernetes API server and Istio's webhook
   * would (the CRD schemas and CEL rules, the Kubernetes types, ObjectMeta): an object they would
   * refuse, or a field the API server would prune, fails `cdk8s synth` with the object's
   * construct path and the rule (CM601–CM603). Turning it off also drops those findings from the
   * synth-time analysis.
   *
   * @default true
   */
  readonly validateOnSynth?: boolean;

  /**
   * When the app is synthesized to files (`app.synth()`, `cdk8s synth`), write the topology of
   * every mesh of the app beside the YAML: `mesh-topology.mmd` (Mermaid) and
   * `mesh-topology.dot` (Graphviz): services, versions, weighted routes, gateways, external
   * services and allowed calls.
   *
   * @default true
   */
  readonly writeTopology?: boolean;

  /**
   * What workloads may call outside the service registry. REGISTRY_ONLY blocks calls to hosts
   * no Service or ServiceEntry declares (egress must be declared with an ExternalService).
   * Sidecar mode only: written on the namespace's Sidecar resources.
   *
   * @default OutboundTrafficPolicy.REGISTRY_ONLY
   */
  readonly outboundTrafficPolicy?: OutboundTrafficPolicy;

  /**
   * Give each service a Sidecar resource whose egress hosts are exactly its declared
   * dependencies (`callsTo`, `allowFrom`) plus the control plane, so each proxy receives the
   * configuration of what it calls instead of the whole mesh. Sidecar mode only.
   *
   * @default true in sidecar mode
   */
  readonly scopeSidecars?: boolean;

  /**
   * The namespace-wide authorization stance. DEFAULT_DENY writes the AuthorizationPolicy
   * `allow-nothing`, so a service is reachable only by the callers declared with `allowFrom`
   * (or other ALLOW policies); NONE writes nothing (Istio's default: allow all until a service
   * has an ALLOW policy).
   *
   * @default AuthorizationMode.DEFAULT_DENY
   */
  readonly authorization?: AuthorizationMode;

  /**
   * Telemetry providers (MeshConfig `extensionProviders`) the mesh's Telemetry objects may use,
   * besides Istio's built-in `TelemetryProvider.PROMETHEUS` and `TelemetryProvider.ENVOY`.
   * Istio must be installed with them: see {@link Mesh.meshConfig}.
   *
   * @default - only Istio's built-in providers
   */
  readonly telemetryProviders?: TelemetryProvider[];

  /**
   * The providers a Telemetry section uses when it names none (MeshConfig `defaultProviders`).
   * They are declared by being listed here.
   *
   * @default - metrics go to TelemetryProvider.PROMETHEUS; tracing and access logs have no default
   */
  readonly defaultTelemetryProviders?: DefaultTelemetryProviders;

  /**
   * Labels on every prometheus-operator object written for the mesh (the PodMonitor and
   * ServiceMonitors of `PrometheusScraping`, the PrometheusRules of objectives), so one
   * Prometheus loads its monitors and its alerts alike: its `podMonitorSelector`,
   * `serviceMonitorSelector` and `ruleSelector` must match them (kube-prometheus-stack selects
   * all three by `release: <its Helm release>`).
   *
   * @default { release: 'istio' } (the label of Istio's prometheus-operator sample)
   */
  readonly prometheusLabels?: { [key: string]: string };
}

/** What workloads may call outside the service registry (Istio's `outboundTrafficPolicy.mode`). */
export enum OutboundTrafficPolicy {
  /** Only hosts of the registry (Services, ServiceEntries); anything else gets a 502. */
  REGISTRY_ONLY = 'REGISTRY_ONLY',
  /** Unknown hosts are passed through (Istio's install default). */
  ALLOW_ANY = 'ALLOW_ANY',
}

/** Meshes by namespace, per construct tree, to reject two meshes for one namespace. */
const MESHES = new WeakMap<IConstruct, Map<string, Mesh>>();

/**
 * Every Mesh of the construct tree `scope` belongs to, in declaration order.
 * @internal
 */
export function _meshesOf(scope: IConstruct): Mesh[] {
  return [...(MESHES.get(scope.node.root)?.values() ?? [])];
}

/**
 * One Istio mesh namespace: the Namespace with its dataplane label, the namespace-wide
 * mutual TLS policy, and the registry every service, route and policy of the namespace
 * contributes to.
 *
 * @example
 * const mesh = new Mesh(chart, 'mesh', { namespaceName: 'bookinfo' });
 */
export class Mesh extends Construct implements IPeer {
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
  /** How the routes of the mesh's services are written. */
  public readonly routingApi: RoutingApi;
  /** The Namespace object, unless an existing namespace was adopted. */
  public readonly namespaceObject?: kplus.Namespace;
  /** The namespace-wide PeerAuthentication `default`, unless the mode is UNSET. */
  public readonly peerAuthentication?: ApiObject;
  /** The namespace waypoint (Gateway API `Gateway`), in ambient mode with a waypoint. */
  public readonly waypoint?: ApiObject;
  /** What workloads may call outside the service registry (sidecar mode). */
  public readonly outboundTrafficPolicy?: OutboundTrafficPolicy;
  /** Whether each service's proxy is scoped to its declared dependencies (sidecar mode). */
  public readonly scopeSidecars: boolean;
  /** The namespace's default Sidecar, when the outbound policy is set without per-service scoping. */
  public readonly defaultSidecar?: ApiObject;
  /** The namespace-wide authorization stance. */
  public readonly authorization: AuthorizationMode;
  /** Whether the declarations of the mesh's services are proven on the synthesized output. */
  public readonly checkDeclarations: boolean;
  /** The namespace's `allow-nothing` AuthorizationPolicy, with AuthorizationMode.DEFAULT_DENY. */
  public readonly defaultDenyPolicy?: AuthorizationPolicy;
  /**
   * With a waypoint and AuthorizationMode.DEFAULT_DENY: the ztunnel policy `allow-waypoint` that makes every pod of
   * the namespace accept connections only from the waypoint, so no client skips the waypoint's policies by calling a
   * pod directly (ingress gateways go through the waypoint too: the services they expose carry
   * `istio.io/ingress-use-waypoint: "true"`).
   */
  public readonly waypointOnlyPolicy?: ApiObject;
  /** The labels of the prometheus-operator objects (monitors and rules) written for the mesh. */
  public readonly prometheusLabels: { [key: string]: string };

  /**
   * The declared telemetry providers and the MeshConfig they require.
   * @internal
   */
  public readonly _telemetry: MeshTelemetryConfig;

  private readonly _services = new Map<string, MeshService>();
  private readonly _serviceListeners: ((service: MeshService) => void)[] = [];

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
    this.routingApi = props.routingApi ?? (this.dataplane.isAmbient ? RoutingApi.GATEWAY_API : RoutingApi.ISTIO);
    if (this.dataplane.isAmbient && this.mtlsMode === MtlsMode.DISABLE) {
      throw meshError(this, 'CM301', 'mTLS mode DISABLE is not supported in ambient mode',
        'use PERMISSIVE to accept plaintext clients, or the sidecar dataplane');
    }
    this.registerNamespace(namespaceName);
    this.prometheusLabels = { ...(props.prometheusLabels ?? { release: 'istio' }) };
    this._telemetry = new MeshTelemetryConfig(this, props.telemetryProviders, props.defaultTelemetryProviders);

    if (props.createNamespace ?? true) {
      this.namespaceObject = new kplus.Namespace(this, 'Namespace', {
        metadata: { name: namespaceName, labels: { ...props.namespaceLabels, ...this.namespaceLabels } },
      });
      // A Namespace is cluster-scoped: drop the namespace a namespaced Chart stamps on everything.
      if (chartNamespace) ApiObject.of(this.namespaceObject).addJsonPatch(JsonPatch.remove('/metadata/namespace'));
    }

    if (this.mtlsMode !== MtlsMode.UNSET) {
      this.peerAuthentication = new PeerAuthentication(this, 'PeerAuthentication', {
        metadata: { name: 'default', namespace: namespaceName },
        spec: { mtls: { mode: this.mtlsMode as string as PeerAuthenticationSpecMtlsMode } },
      });
      declare(this, this, mtlsDeclaration(this, this, `the mesh's mtlsMode ${this.mtlsMode} (namespace "${namespaceName}")`));
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

    if (this.dataplane.isAmbient) {
      const sidecarOnly = props.scopeSidecars ? 'scopeSidecars' : props.outboundTrafficPolicy ? 'outboundTrafficPolicy' : undefined;
      if (sidecarOnly) {
        throw meshError(this, 'CM109', `${sidecarOnly} configures sidecars, but the mesh is in ambient mode, which has none`,
          'remove the option (in ambient mode, control egress with an egress gateway or waypoint), or use Dataplane.sidecar()');
      }
      this.scopeSidecars = false;
    } else {
      this.outboundTrafficPolicy = props.outboundTrafficPolicy ?? OutboundTrafficPolicy.REGISTRY_ONLY;
      this.scopeSidecars = props.scopeSidecars ?? true;
      if (!this.scopeSidecars && this.outboundTrafficPolicy === OutboundTrafficPolicy.REGISTRY_ONLY) {
        this.defaultSidecar = new Sidecar(this, 'Sidecar', {
          metadata: { name: 'default', namespace: namespaceName },
          spec: {
            egress: [{ hosts: ['*/*'] }],
            outboundTrafficPolicy: { mode: this.outboundTrafficPolicy as string as SidecarSpecOutboundTrafficPolicyMode },
          },
        });
      }
    }

    // Validations (the analysis, CM240) share what they render within one synthesis.
    trackSynthesis(this.node.root);
    if (props.validateOnSynth ?? true) this.node.addValidation({ validate: () => validateOnSynth(this) });
    if (props.analyzeOnSynth ?? true) this.node.addValidation({ validate: () => analyzeOnSynth(this) });
    this.checkDeclarations = props.checkDeclarations ?? true;
    if (props.writeTopology ?? true) this.node.addValidation({ validate: () => writeTopologyOnSynth(this) });

    this.authorization = props.authorization ?? AuthorizationMode.DEFAULT_DENY;
    if (this.authorization === AuthorizationMode.DEFAULT_DENY) {
      this.defaultDenyPolicy = AuthorizationPolicy.allowNothing(this, 'AllowNothing', { mesh: this, name: 'allow-nothing' });
      if (this.waypoint) this.waypointOnlyPolicy = this.renderWaypointOnly(namespaceName);
    }
  }

  /** As a caller: any workload of the mesh namespace. */
  public toPeerConfig(): PeerConfig {
    return { namespaces: [this.namespaceName] };
  }

  /** The labels that put the namespace's workloads in the mesh (dataplane mode and revision). */
  public get namespaceLabels(): { [key: string]: string } {
    return this.dataplane._namespaceLabels();
  }

  /** The declared telemetry providers (besides Istio's built-in ones), in declaration order. */
  public get telemetryProviders(): TelemetryProvider[] {
    return this._telemetry.all;
  }

  /** Declares a telemetry provider the mesh's Telemetry objects may use. */
  public addTelemetryProvider(provider: TelemetryProvider): void {
    this._telemetry.add(provider);
  }

  /**
   * The MeshConfig this mesh's telemetry requires, as JSON: `defaultProviders` and
   * `extensionProviders`. Istio ignores a Telemetry whose provider its MeshConfig lacks
   * (IST0157), so install Istio with it: Helm values `meshConfig`, or `spec.meshConfig` of an
   * IstioOperator. {@link Mesh.meshConfigValues} writes it as a Helm values file.
   */
  public meshConfig(): any {
    return this._telemetry.toMeshConfig();
  }

  /**
   * {@link Mesh.meshConfig} as a Helm values file for the `istiod` chart (YAML with a
   * `meshConfig:` block), e.g. for `helm upgrade istiod istio/istiod -f <file>`.
   */
  public meshConfigValues(): string {
    return this._telemetry.toHelmValues(this.namespaceName);
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
    for (const listener of this._serviceListeners) listener(service);
  }

  /**
   * Calls `listener` for every service of the mesh: those declared so far, and each one
   * declared later, when it registers (its name, port and protocol are set; its versions and
   * routes are not yet).
   * @internal
   */
  public _onService(listener: (service: MeshService) => void): void {
    for (const service of this._services.values()) listener(service);
    this._serviceListeners.push(listener);
  }

  /**
   * "Traffic arriving at the destination ztunnel will be coming from the waypoint's identity" (istio.io ambient, Use
   * Layer 4 security policy): an L4 ALLOW policy for ztunnel (no selector, no targetRefs) admitting the waypoint.
   */
  private renderWaypointOnly(namespaceName: string): ApiObject {
    return new AuthorizationPolicyL1(this, 'AllowWaypoint', {
      metadata: { name: 'allow-waypoint', namespace: namespaceName },
      spec: {
        action: 'ALLOW',
        rules: [{ from: [{ source: { principals: [`${this.trustDomain}/ns/${namespaceName}/sa/${this.waypoint!.name}`] } }] }],
      } as AuthorizationPolicySpec,
    });
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
