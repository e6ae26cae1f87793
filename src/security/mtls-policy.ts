import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { formatMessage, meshError } from '../errors';
import { claimName, podLabelsOf, registerMtlsPolicy, mtlsPoliciesOf, selects, serviceOf, targetLabel } from './internal';
import { MtlsMode } from './mtls-mode';
import { mtlsDeclaration } from './mtls-promises';
import {
  PeerAuthentication, PeerAuthenticationSpecMtlsMode, PeerAuthenticationSpecPortLevelMtls, PeerAuthenticationSpecPortLevelMtlsMode,
} from '../imports/security.istio.io';
import { requireDnsSubdomain } from '../internal/names';
import { validateOncePerSynthesis } from '../internal/synthesis';
import type { Mesh } from '../mesh/mesh';
import { declare } from '../mesh/promises';
import { describePorts } from '../mesh/service-port';
import { IWorkloadTarget } from '../mesh/workload-target';

/** A per-port exception of a workload {@link MtlsPolicy}. */
export interface PortMtls {
  /**
   * The port. For a MeshService (or version) target, give the Service port or the container
   * port: the policy is written with the container port, which is what Istio matches.
   */
  readonly port: number;
  /** The mode on this port. */
  readonly mode: MtlsMode;
}

/** Properties of an {@link MtlsPolicy}. */
export interface MtlsPolicyProps {
  /** The mesh the policy belongs to. */
  readonly mesh: Mesh;
  /** How the selected workloads accept inbound connections. */
  readonly mode: MtlsMode;
  /**
   * Apply to every workload of the mesh: the policy `default` in Istio's root namespace
   * (`mesh.rootNamespace`), without a selector.
   * @default false
   */
  readonly meshWide?: boolean;
  /**
   * The workloads: a service, one version, or a gateway.
   * @default - the whole namespace (only when the Mesh's own mtlsMode is UNSET: a namespace has
   * one namespace-wide mode, and the Mesh writes it)
   */
  readonly target?: IWorkloadTarget;
  /**
   * Per-port exceptions (Istio's `portLevelMtls`); only for a workload target.
   * @default - none
   */
  readonly portOverrides?: PortMtls[];
  /**
   * The object name.
   * @default - `default` for the mesh and namespace scopes, the target's name for a workload
   */
  readonly name?: string;
}

/**
 * Mutual TLS for inbound connections: an Istio PeerAuthentication for the whole mesh, the
 * namespace, or some workloads, with optional per-port exceptions.
 *
 * mTLS is declared once: the modes declared here (and by `Mesh.mtlsMode`) are the server side,
 * and any client-side TLS the library writes into DestinationRules is derived from them, so the
 * two cannot contradict each other (the classic 503 of a DestinationRule DISABLE against a STRICT
 * workload).
 *
 * @example
 * new MtlsPolicy(chart, 'details', { mesh, target: details, mode: MtlsMode.STRICT,
 *   portOverrides: [{ port: 9080, mode: MtlsMode.DISABLE }] });
 * @see https://istio.io/latest/docs/reference/config/security/peer_authentication/
 */
export class MtlsPolicy extends Construct {
  /** The object name. */
  public readonly name: string;
  /** The namespace the policy is written in (the root namespace for a mesh-wide policy). */
  public readonly namespaceName: string;
  /** The mode of the selected workloads. */
  public readonly mode: MtlsMode;
  /** Whether the policy applies to the whole mesh. */
  public readonly meshWide: boolean;
  /** The selected workloads (undefined for the mesh and namespace scopes). */
  public readonly target?: IWorkloadTarget;
  /** The mesh the policy belongs to. */
  public readonly mesh: Mesh;
  /** The generated PeerAuthentication (escape hatch). */
  public readonly peerAuthentication: ApiObject;

  /**
   * Modes per container port.
   * @internal
   */
  public readonly _portModes = new Map<number, MtlsMode>();

  public constructor(scope: Construct, id: string, props: MtlsPolicyProps) {
    super(scope, id);
    const mesh = props.mesh;
    this.mesh = mesh;
    this.mode = props.mode;
    this.meshWide = props.meshWide ?? false;
    this.target = props.target;
    const overrides = props.portOverrides ?? [];
    const dataplane = (serviceOf(this.target)?.mesh ?? mesh).dataplane;
    for (const mode of [this.mode, ...overrides.map((o) => o.mode)]) {
      if (dataplane.isAmbient && mode === MtlsMode.DISABLE) {
        throw meshError(this, 'CM301', 'mTLS mode DISABLE is not supported in ambient mode',
          'use PERMISSIVE to accept plaintext clients, or the sidecar dataplane');
      }
    }
    if (this.meshWide && this.target) {
      throw meshError(this, 'CM330', 'the policy is meshWide and has a target; Istio ignores selectors of policies in the root namespace',
        'remove target for a mesh-wide policy, or remove meshWide for a workload policy');
    }
    if (overrides.length > 0 && !this.target) {
      throw meshError(this, 'CM302', `portOverrides are set on a ${this.meshWide ? 'mesh-wide' : 'namespace-wide'} policy; Istio only allows port-level mTLS for selected workloads`,
        'set target to the service (or version) whose ports differ, e.g. { target: details, portOverrides: [...] }');
    }
    this.namespaceName = this.meshWide ? mesh.rootNamespace : (this.target?.toWorkloadSelector().namespaceName ?? mesh.namespaceName);
    this.name = props.name ?? (this.target ? targetLabel(this.target) : 'default');
    requireDnsSubdomain(this, 'policy name', this.name);
    this.checkScope(mesh);

    const service = serviceOf(this.target);
    for (const override of overrides) {
      const { port } = override;
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw meshError(this, 'CM106', `portOverrides has port ${port}, which is not a TCP port number`, 'use a whole number from 1 to 65535');
      }
      const found = service?.findPort(port);
      if (service && !found) {
        throw meshError(this, 'CM304', `port ${port} is not a port of service "${service.name}" (${describePorts(service)})`,
          `use ${service.ports.map((p) => p.port).join(' or ')}`);
      }
      // PeerAuthentication names the container port: the one the sidecar's inbound listener is on.
      const containerPort = found ? found.targetPort : port;
      if (this._portModes.has(containerPort)) {
        throw meshError(this, 'CM305', `portOverrides sets container port ${containerPort} twice`, 'give each port one mode');
      }
      this._portModes.set(containerPort, override.mode);
    }

    const portLevelMtls: { [port: string]: PeerAuthenticationSpecPortLevelMtls } = {};
    for (const [port, mode] of [...this._portModes].sort(([a], [b]) => a - b)) {
      portLevelMtls[String(port)] = { mode: mode as string as PeerAuthenticationSpecPortLevelMtlsMode };
    }
    this.peerAuthentication = new PeerAuthentication(this, 'Resource', {
      metadata: { name: this.name, namespace: this.namespaceName },
      spec: {
        selector: this.target ? { matchLabels: { ...this.target.toWorkloadSelector().matchLabels } } : undefined,
        mtls: { mode: this.mode as string as PeerAuthenticationSpecMtlsMode },
        portLevelMtls: this._portModes.size > 0 ? portLevelMtls : undefined,
      },
    });
    registerMtlsPolicy(this);
    declare(this, mesh, mtlsDeclaration(this, mesh, `the mTLS policy ${this.namespaceName}/${this.name} (${this.mode})`));
    this.node.addValidation(validateOncePerSynthesis(this, () => this.checkOverlaps()));
  }

  /** One mesh-wide policy per root namespace, one namespace-wide policy per namespace (the Mesh's, if it writes one). */
  private checkScope(mesh: Mesh): void {
    if (!this.target) {
      const scope = this.meshWide ? `mesh-wide (root namespace "${this.namespaceName}")` : `namespace-wide (namespace "${this.namespaceName}")`;
      if (!this.meshWide && mesh.mtlsMode !== MtlsMode.UNSET) {
        throw meshError(this, 'CM303', `namespace "${this.namespaceName}" already has its namespace-wide mTLS mode ${mesh.mtlsMode} from the Mesh (${mesh.node.path}, mtlsMode)`,
          `set the mode with the Mesh's mtlsMode instead (e.g. new Mesh(chart, 'mesh', { mtlsMode: MtlsMode.${this.mode} })), or set the Mesh's mtlsMode to MtlsMode.UNSET to declare it here`);
      }
      const existing = mtlsPoliciesOf(this).find((p) => !p.target && p.meshWide === this.meshWide && p.namespaceName === this.namespaceName);
      if (existing) {
        throw meshError(this, 'CM303', `there already is a ${scope} mTLS policy (${existing.node.path}); Istio applies only the oldest`,
          'declare one policy per scope and use workload policies for exceptions');
      }
    }
    if (this.namespaceName === mesh.namespaceName && this.name === 'default' && mesh.peerAuthentication) {
      throw meshError(this, 'CM324', `namespace "${this.namespaceName}" already has a PeerAuthentication "default" (${mesh.node.path}); the second would replace the first when applied`,
        'give this policy another name (the `name` property)');
    }
    claimName(this, 'PeerAuthentication', this.namespaceName, this.name);
  }

  /** Two workload policies selecting one pod: Istio applies only the oldest. */
  private checkOverlaps(): string[] {
    if (!this.target) return [];
    const mine = this.target.toWorkloadSelector();
    const errors: string[] = [];
    let declared: { [key: string]: string }[] | undefined;
    for (const other of mtlsPoliciesOf(this)) {
      if (other === this || !other.target) continue;
      const theirs = other.target.toWorkloadSelector();
      if (theirs.namespaceName !== mine.namespaceName) continue;
      // Selectors that require different values of one label select no pod in common.
      if (Object.entries(mine.matchLabels).some(([k, v]) => theirs.matchLabels[k] !== undefined && theirs.matchLabels[k] !== v)) continue;
      declared ??= this.mesh.services.flatMap((s) => s.versions).map(podLabelsOf);
      const pods = declared.filter((labels) => selects(mine.matchLabels, labels) && selects(theirs.matchLabels, labels));
      if (pods.length > 0 && this.node.path < other.node.path) {
        errors.push(formatMessage('CM328', `this policy and ${other.node.path} both select the pods of ${pods.map((l) => `${l.app}-${l.version}`).join(', ')}; Istio applies only the oldest`,
          'use one workload policy per pod: target the service and use portOverrides, or target versions only'));
      }
    }
    return errors;
  }
}
