import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { IngressGateway } from '../edge/ingress-gateway';
import { meshError } from '../errors';
import { Mesh } from '../mesh/mesh';

/**
 * The Argo CD sync wave of each tier. Argo CD applies lower waves first and waits until the
 * objects of a wave are healthy (a Deployment: rolled out) before it starts the next one.
 *
 * Waves are whole numbers and must not decrease from `namespaces` to `gateways` (equal waves are
 * allowed: they merge two tiers).
 */
export interface SyncWavesOptions {
  /**
   * The Namespace, so its injection or dataplane label is there before any pod is created.
   * @default -2
   */
  readonly namespaces?: number;

  /**
   * Mesh-wide and namespace-wide policy: PeerAuthentication, RequestAuthentication,
   * AuthorizationPolicy (default-deny and every ALLOW rule together, so no caller is ever
   * denied between the two), Sidecar, Telemetry, ServiceEntry, EnvoyFilter, WasmPlugin, and an
   * ambient mesh's waypoint. Workloads start under the policy they are meant to run with.
   * @default -1
   */
  readonly policies?: number;

  /**
   * Everything else: ServiceAccounts, Services, Deployments, autoscalers, monitors, alert rules,
   * dashboards.
   * @default 0
   */
  readonly workloads?: number;

  /**
   * DestinationRules and VirtualServices (and Gateway API routes). They follow the workloads, so
   * a route moves traffic to a new version only once its Deployment has rolled out.
   * @default 1
   */
  readonly routes?: number;

  /**
   * Ingress gateways: the Istio or Gateway API `Gateway` and everything an `IngressGateway`
   * writes (its Envoy Deployment, Service, autoscaler, RBAC and its VirtualService), so outside
   * traffic arrives only once the mesh behind the gateway is ready.
   * @default 2
   */
  readonly gateways?: number;
}

/** The tiers, in apply order. */
const TIERS = ['namespaces', 'policies', 'workloads', 'routes', 'gateways'] as const;
type Tier = typeof TIERS[number];

const DEFAULT_WAVES: Record<Tier, number> = { namespaces: -2, policies: -1, workloads: 0, routes: 1, gateways: 2 };

/** `<group>/<kind>` of the policy tier (core group: empty). */
const POLICY_KINDS = new Set([
  'security.istio.io/PeerAuthentication', 'security.istio.io/RequestAuthentication', 'security.istio.io/AuthorizationPolicy',
  'networking.istio.io/Sidecar', 'networking.istio.io/ServiceEntry', 'networking.istio.io/EnvoyFilter',
  'networking.istio.io/WorkloadEntry', 'networking.istio.io/WorkloadGroup', 'networking.istio.io/ProxyConfig',
  'telemetry.istio.io/Telemetry', 'extensions.istio.io/WasmPlugin',
]);
const ROUTE_KINDS = new Set([
  'networking.istio.io/VirtualService', 'networking.istio.io/DestinationRule',
  'gateway.networking.k8s.io/HTTPRoute', 'gateway.networking.k8s.io/GRPCRoute', 'gateway.networking.k8s.io/TCPRoute',
  'gateway.networking.k8s.io/TLSRoute', 'gateway.networking.k8s.io/UDPRoute',
]);
const GATEWAY_KINDS = new Set(['networking.istio.io/Gateway', 'gateway.networking.k8s.io/Gateway']);

/** The waves applied to a scope, and the annotation value written on each object (to tell ours from the user's). */
const APPLIED = new WeakMap<IConstruct, Record<Tier, number>>();
const WRITTEN = new WeakMap<ApiObject, string>();
/** Construct trees whose root annotates at synthesis. */
const ROOTS = new WeakSet<IConstruct>();

/**
 * Orders an Argo CD sync with the `argocd.argoproj.io/sync-wave` annotation: the Namespace
 * first, then mesh-wide and namespace-wide policy, then workloads, then routes, and ingress
 * gateways last (see {@link SyncWavesOptions} for what each wave holds and why).
 *
 * Combine with the Application sync option `PruneLast=true` (which `ArgoCdApplication` sets):
 * removed objects are then deleted only after every wave is applied, so a route stops sending
 * traffic to a version before its Deployment goes away.
 *
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/sync-waves/
 */
export class SyncWaves {
  /** The annotation Argo CD reads. */
  public static readonly ANNOTATION = 'argocd.argoproj.io/sync-wave';

  /**
   * Annotates every Kubernetes object under `scope` (an App, a Chart or any construct) with its
   * wave. The objects are classified at synthesis, so objects added after this call are
   * included. An object that already carries the annotation keeps it; where scopes nest, the
   * options of the innermost scope apply.
   */
  public static apply(scope: IConstruct, options: SyncWavesOptions = {}): void {
    const waves = { ...DEFAULT_WAVES };
    for (const tier of TIERS) {
      const wave = options[tier];
      if (wave === undefined) continue;
      if (!Number.isSafeInteger(wave)) {
        throw meshError(scope, 'CM901', `the sync wave of ${tier} is ${wave}`, 'use a whole number (Argo CD parses the annotation as an integer)');
      }
      waves[tier] = wave;
    }
    TIERS.slice(1).forEach((tier, i) => {
      const before = TIERS[i];
      if (waves[tier] < waves[before]) {
        throw meshError(scope, 'CM902', `${tier} (wave ${waves[tier]}) would be applied before ${before} (wave ${waves[before]})`,
          `give ${tier} a wave of at least ${waves[before]}: the order namespaces ≤ policies ≤ workloads ≤ routes ≤ gateways is what makes a sync safe`);
      }
    });
    APPLIED.set(scope, waves);
    // Validations run at synthesis, when the whole tree exists, root first: the root's runs
    // before any other construct's validation may render the objects (the mesh analysis does,
    // and its renderings are what `app.synth()` writes).
    const root = scope.node.root;
    if (!ROOTS.has(root)) {
      ROOTS.add(root);
      root.node.addValidation({ validate: () => annotate(root) });
    }
  }

  private constructor() {}
}

function annotate(root: IConstruct): string[] {
  const objects = root.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject);
  const special = specialObjects(root);
  for (const obj of objects) {
    const waves = nearestWaves(obj);
    if (!waves) continue;
    const existing = obj.metadata.toJson().annotations?.[SyncWaves.ANNOTATION];
    if (existing !== undefined && existing !== WRITTEN.get(obj)) continue;
    const value = String(waves[tierOf(obj, special)]);
    obj.metadata.addAnnotation(SyncWaves.ANNOTATION, value);
    WRITTEN.set(obj, value);
  }
  return [];
}

/** The waves of the innermost scope `obj` is in that has waves. */
function nearestWaves(obj: ApiObject): Record<Tier, number> | undefined {
  for (const scope of [...obj.node.scopes].reverse()) {
    const waves = APPLIED.get(scope);
    if (waves) return waves;
  }
  return undefined;
}

interface SpecialObjects {
  /** Objects an IngressGateway wrote. */
  readonly gateway: Set<IConstruct>;
  /** Meshes' waypoints: namespace infrastructure, not an ingress. */
  readonly waypoints: Set<IConstruct>;
}

function specialObjects(root: IConstruct): SpecialObjects {
  const gateway = new Set<IConstruct>();
  const waypoints = new Set<IConstruct>();
  for (const c of root.node.findAll()) {
    if (c instanceof IngressGateway) c.node.findAll().forEach((o) => gateway.add(o));
    if (c instanceof Mesh && c.waypoint) waypoints.add(c.waypoint);
  }
  return { gateway, waypoints };
}

function tierOf(obj: ApiObject, special: SpecialObjects): Tier {
  const key = `${obj.apiGroup === 'core' ? '' : obj.apiGroup}/${obj.kind}`;
  if (key === '/Namespace') return 'namespaces';
  if (POLICY_KINDS.has(key) || special.waypoints.has(obj)) return 'policies';
  if (special.gateway.has(obj) || GATEWAY_KINDS.has(key)) return 'gateways';
  if (ROUTE_KINDS.has(key)) return 'routes';
  return 'workloads';
}
