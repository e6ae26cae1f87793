import { AdmissionFinding, ValidationCache, admit, indexKind } from './admission';
import { gatewayPodsOf } from './gateway-pods';
import { exportScopes, hostCoveredBy, isWildcard, toFqdn } from './hosts';
import { Res } from './manifests';
import { GATEWAY_NAME_LABEL, kubeGatewayServiceAccount } from './simulator/kube-gateway';
import { compareText } from '../internal/order';

export interface ResolvedOptions {
  readonly defaultNamespace: string;
  readonly rootNamespace: string;
  readonly trustDomain: string;
  readonly meshConfig: any;
  readonly analyzeRefusedObjects?: boolean;
}

export type Dataplane = 'sidecar' | 'ambient' | 'none';

/** A pod template (or Pod) and what the mesh sees of it. */
export interface Workload {
  readonly res: Res;
  readonly ns: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly podSpec: any;
  /** Field path of the pod spec inside `res`, e.g. `spec.template.spec`. */
  readonly podSpecPath: string;
  readonly serviceAccount: string;
  readonly dataplane: Dataplane;
}

/** A Service or ServiceEntry as a destination registry entry (Istio converts Services to ServiceEntries for this). */
export interface RegistryEntry {
  readonly res: Res;
  /** Port numbers (the Service ports, not target ports). */
  readonly ports: number[];
  readonly workloadSelector?: Record<string, string>;
}

/** Pod-template locations of the workload kinds that carry one. */
const POD_TEMPLATES: Record<string, string> = {
  Deployment: 'spec.template',
  StatefulSet: 'spec.template',
  DaemonSet: 'spec.template',
  ReplicaSet: 'spec.template',
  Job: 'spec.template',
  Rollout: 'spec.template',
  CronJob: 'spec.jobTemplate.spec.template',
};

function getPath(obj: any, dotted: string): any {
  return dotted.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

/** A Kubernetes equality-based selector: every pair must be present. */
export function matchesSelector(labels: Record<string, string>, selector: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

export function fullName(res: Res): string {
  return res.ns ? `${res.ns}/${res.name}` : res.name;
}

/**
 * Kubernetes Gateway API kinds are keyed `Gateway.gateway.networking.k8s.io` (and so on), so `Gateway` alone
 * means Istio's networking.istio.io Gateway.
 */
export function kindKey(res: Res): string {
  return indexKind(res);
}

/** Namespace, then name, by code units: the order of `of(kind)` lists. */
export const compareRes = (a: Res, b: Res) => compareText(a.ns, b.ns) || compareText(a.name, b.name);

/**
 * Every object indexed once: by kind, by kind/namespace/name, workloads by label, Services by FQDN and
 * the destination registry by scoped FQDN, so checks never scan all objects per object.
 */
export class MeshIndex {
  readonly workloads: Workload[] = [];
  readonly registry: ServiceRegistry;
  private readonly byKind = new Map<string, Res[]>();
  private readonly byKey = new Map<string, Res>();
  private readonly workloadsByLabel = new Map<string, Workload[]>();
  private readonly workloadsByNs = new Map<string, Workload[]>();
  private readonly servicesByLabel = new Map<string, Res[]>();
  private readonly namespacesInUse = new Set<string>();
  private drsByHost?: Map<string, Res[]>;
  private wildcardDrs?: Res[];

  /** What admission said about the manifests (refused objects, pruned fields, duplicates), for the admission check. */
  readonly admissionFindings: AdmissionFinding[];

  constructor(manifests: any[], readonly options: ResolvedOptions, validationCache?: ValidationCache) {
    // Only what a cluster would admit is indexed: the checks see well-typed objects.
    const { resources, findings } = admit(manifests, options.defaultNamespace, validationCache, options.analyzeRefusedObjects);
    this.admissionFindings = findings;
    for (const r of resources) {
      const kind = kindKey(r);
      push(this.byKind, kind, r);
      this.byKey.set(`${kind}/${r.ns}/${r.name}`, r);
      if (r.ns) this.namespacesInUse.add(r.ns);
    }
    for (const list of this.byKind.values()) list.sort(compareRes);
    for (const r of resources) {
      const kind = kindKey(r);
      const templatePath = kind === 'Pod' ? '' : POD_TEMPLATES[kind];
      if (templatePath === undefined) continue;
      this.addWorkload(r, templatePath);
    }
    for (const svc of this.of('Service')) {
      const selector = svc.spec.selector;
      if (!selector || Object.keys(selector).length === 0) continue;
      const [k, v] = Object.entries(selector).sort()[0];
      push(this.servicesByLabel, `${svc.ns}\u0000${k}=${v}`, svc);
    }
    this.registry = new ServiceRegistry(this);
  }

  /** Objects of one kind (see `kindKey`), sorted by namespace and name. */
  of(kind: string): Res[] {
    return this.byKind.get(kind) ?? [];
  }

  get(kind: string, ns: string, name: string): Res | undefined {
    return this.byKey.get(`${kind}/${ns}/${name}`);
  }

  namespace(name: string): Res | undefined {
    return this.get('Namespace', '', name);
  }

  /** Namespaces any object in the manifests lives in, sorted. */
  namespaces(): string[] {
    return [...this.namespacesInUse].sort();
  }

  /** Workloads whose pod labels match `selector`, in `ns` (or in every namespace when `ns` is undefined). */
  workloadsMatching(selector: Record<string, string> | undefined, ns?: string): Workload[] {
    const pairs = Object.entries(selector ?? {});
    if (pairs.length === 0) return ns === undefined ? this.workloads : (this.workloadsByNs.get(ns) ?? []);
    let candidates: Workload[] | undefined;
    for (const [k, v] of pairs) {
      const list = this.workloadsByLabel.get(`${k}=${v}`) ?? [];
      if (!candidates || list.length < candidates.length) candidates = list;
    }
    return candidates!.filter((w) => (ns === undefined || w.ns === ns) && matchesSelector(w.labels, selector!));
  }

  /** Services in the workload's namespace whose selector matches its pod labels. */
  servicesSelecting(w: Workload): Res[] {
    const found = new Set<Res>();
    for (const [k, v] of Object.entries(w.labels)) {
      for (const svc of this.servicesByLabel.get(`${w.ns}\u0000${k}=${v}`) ?? []) {
        if (matchesSelector(w.labels, svc.spec.selector)) found.add(svc);
      }
    }
    return [...found].sort(compareRes);
  }

  /** Workloads behind a Service (none when it has no selector). */
  serviceWorkloads(svc: Res): Workload[] {
    const selector = svc.spec.selector;
    if (!selector || Object.keys(selector).length === 0) return [];
    return this.workloadsMatching(selector, svc.ns);
  }

  /** DestinationRules whose `host` (made an FQDN in the rule's namespace) is exactly `fqdn`. */
  destinationRulesFor(fqdn: string): Res[] {
    if (!this.drsByHost) {
      this.drsByHost = new Map();
      for (const dr of this.of('DestinationRule')) push(this.drsByHost, toFqdn(dr.spec.host ?? '', dr.ns), dr);
    }
    return this.drsByHost.get(fqdn) ?? [];
  }

  /** DestinationRules whose host is `fqdn` or a wildcard covering it (`*.local`, `*.ns.svc.cluster.local`, `*`). */
  destinationRulesCovering(fqdn: string): Res[] {
    this.wildcardDrs ??= this.of('DestinationRule').filter((dr) => isWildcard(String(dr.spec.host ?? '')));
    const exact = this.destinationRulesFor(fqdn);
    const wild = this.wildcardDrs.filter((dr) => hostCoveredBy(fqdn, String(dr.spec.host)));
    return wild.length ? [...exact, ...wild] : exact;
  }

  /**
   * A workload-shaped stand-in for the pods `labels` select in the namespace of `res` (a Service or policy), for
   * when no workload in the manifests matches: policies still apply by those labels.
   */
  standIn(res: Res, labels: Record<string, string>): Workload {
    return { res, ns: res.ns, labels, annotations: {}, podSpec: {}, podSpecPath: 'spec', serviceAccount: 'default', dataplane: this.dataplaneOf(res.ns, labels, {}, {}) };
  }

  /**
   * A stand-in for the pods of a Gateway the manifests hold no workload for: in the namespace and with the
   * ServiceAccount its annotations name (see `gateway-pods.ts`).
   */
  gatewayStandIn(gateway: Res, selector: Record<string, string>): Workload {
    const pods = gatewayPodsOf(gateway.annotations, selector, gateway.ns, this.options.rootNamespace);
    return { ...this.standIn(gateway, selector), ns: pods.namespaceName, serviceAccount: pods.serviceAccountName };
  }

  /**
   * A stand-in for the pods Istio deploys for a Gateway API `Gateway` (automated deployment), when the manifests hold
   * none: in the Gateway's namespace, labelled with its name, running as ServiceAccount `<name>-<class>`.
   */
  kubeGatewayStandIn(gateway: Res): Workload {
    return { ...this.standIn(gateway, { [GATEWAY_NAME_LABEL]: gateway.name }), serviceAccount: kubeGatewayServiceAccount(gateway) };
  }

  /**
   * The identities of pods Istio deploys itself and the manifests do not hold: those of each Gateway API `Gateway`,
   * ingress or waypoint (automated deployment, `kubeGatewayServiceAccount`), as `{ ns, serviceAccount }`.
   */
  autoDeployedIdentities(): Array<{ ns: string; serviceAccount: string }> {
    return this.of('Gateway.gateway.networking.k8s.io')
      .filter((g) => this.workloadsMatching({ [GATEWAY_NAME_LABEL]: g.name }, g.ns).length === 0)
      .map((g) => ({ ns: g.ns, serviceAccount: kubeGatewayServiceAccount(g) }));
  }

  /** `cluster.local/ns/<ns>/sa/<sa>`: the SPIFFE identity (without `spiffe://`) a workload's mTLS certificate carries. */
  principalOf(ns: string, serviceAccount: string): string {
    return `${this.options.trustDomain}/ns/${ns}/sa/${serviceAccount}`;
  }

  private addWorkload(res: Res, templatePath: string): void {
    const template = templatePath ? getPath(res.raw, templatePath) ?? {} : res.raw;
    const meta = template.metadata ?? {};
    const podSpec = template.spec ?? {};
    const labels: Record<string, string> = meta.labels ?? {};
    const annotations: Record<string, string> = meta.annotations ?? {};
    const w: Workload = {
      res,
      ns: res.ns,
      labels,
      annotations,
      podSpec,
      podSpecPath: templatePath ? `${templatePath}.spec` : 'spec',
      // An empty name is the namespace's `default` service account, as Kubernetes reads it.
      serviceAccount: (typeof podSpec.serviceAccountName === 'string' && podSpec.serviceAccountName) || (typeof podSpec.serviceAccount === 'string' && podSpec.serviceAccount) || 'default',
      dataplane: this.dataplaneOf(res.ns, labels, annotations, podSpec),
    };
    this.workloads.push(w);
    push(this.workloadsByNs, w.ns, w);
    for (const [k, v] of Object.entries(labels)) push(this.workloadsByLabel, `${k}=${v}`, w);
  }

  /**
   * How a pod joins the mesh. An injected `istio-proxy` container is a sidecar. Otherwise Istio's injection policy
   * (istio.io "Installing the sidecar", Controlling the injection policy): "If either label is disabled, the pod is
   * not injected"; if either is enabled it is; the pod's `sidecar.istio.io/inject` label is read before its
   * annotation, and a namespace `istio.io/rev` counts as enabled when `istio-injection` is absent. Pods that are not
   * injected join ambient mode by `istio.io/dataplane-mode` (pod, then namespace; `none` on the pod opts out).
   */
  dataplaneOf(ns: string, labels: Record<string, string>, annotations: Record<string, string>, podSpec: any): Dataplane {
    const containers = Array.isArray(podSpec?.containers) ? podSpec.containers : [];
    if (containers.some((c: any) => c?.name === 'istio-proxy' && c.image && c.image !== 'auto')) return 'sidecar';
    const nsLabels = this.namespace(ns)?.labels ?? {};
    const pod = labels['sidecar.istio.io/inject'] ?? annotations['sidecar.istio.io/inject'];
    const nsInjection = nsLabels['istio-injection'] ?? (nsLabels['istio.io/rev'] ? 'enabled' : undefined);
    const podDisabled = pod !== undefined && pod !== 'true';
    const nsDisabled = nsInjection !== undefined && nsInjection !== 'enabled';
    if (!podDisabled && !nsDisabled && (pod === 'true' || nsInjection === 'enabled')) return 'sidecar';
    const podMode = labels['istio.io/dataplane-mode'];
    if (podMode === 'none') return 'none';
    if (podMode === 'ambient' || nsLabels['istio.io/dataplane-mode'] === 'ambient') return 'ambient';
    return 'none';
  }
}

/** Appends `value` to the list of `key` (in place: no copy per append). */
export function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * The destination registry of Istio's analyzers (util.InitServiceEntryHostMap / GetDestinationHost):
 * ServiceEntry hosts scoped by `exportTo`, Services scoped by the `networking.istio.io/exportTo` annotation.
 */
export class ServiceRegistry {
  /** `scope/fqdn` → entry; scope `*` is every namespace. */
  private readonly exact = new Map<string, RegistryEntry>();
  private readonly wildcards: Array<{ scope: string; host: string; entry: RegistryEntry }> = [];
  /** Lookups without exportTo, remembered. */
  private readonly found = new Map<string, RegistryEntry | undefined>();

  constructor(index: MeshIndex) {
    for (const se of index.of('ServiceEntry')) {
      const entry: RegistryEntry = {
        res: se,
        ports: (Array.isArray(se.spec.ports) ? se.spec.ports : []).map((p: any) => p?.number),
        workloadSelector: se.spec.workloadSelector?.labels,
      };
      const scopes = exportScopes(se.spec.exportTo, se.ns);
      for (const h of se.spec.hosts ?? []) {
        for (const scope of scopes ? [...scopes] : ['*']) this.add(scope, toFqdn(h, se.ns), entry);
      }
    }
    for (const svc of index.of('Service')) {
      const fqdn = toFqdn(svc.name, svc.ns);
      const entry: RegistryEntry = { res: svc, ports: (Array.isArray(svc.spec.ports) ? svc.spec.ports : []).map((p: any) => p?.port) };
      const anno = svc.annotations['networking.istio.io/exportTo'];
      const scopes = anno ? anno.split(',').map((s) => (s.trim() === '.' ? svc.ns : s.trim())) : ['*'];
      for (const scope of scopes) this.add(scope, fqdn, entry);
    }
  }

  /**
   * The Service/ServiceEntry that `host`, written in an object of namespace `sourceNs` with `exportTo`, refers to.
   * Exact names first (exported everywhere, then to the object's own scopes), then wildcard ServiceEntry hosts.
   */
  lookup(sourceNs: string, host: string, exportTo?: string[]): RegistryEntry | undefined {
    if (exportTo !== undefined) return this.find(sourceNs, host, exportTo);
    // Lookups without exportTo (the request simulator's) repeat a lot: remembered.
    const key = `${sourceNs}\u0000${host}`;
    if (this.found.has(key)) return this.found.get(key);
    const entry = this.find(sourceNs, host, undefined);
    this.found.set(key, entry);
    return entry;
  }

  private find(sourceNs: string, host: string, exportTo?: string[]): RegistryEntry | undefined {
    const fqdn = toFqdn(host, sourceNs);
    const all = this.exact.get(`*/${fqdn}`);
    if (all) return all;
    const scopes = !exportTo || exportTo.length === 0 ? [sourceNs] : exportTo.map((e) => (e === '.' ? sourceNs : e));
    for (const scope of scopes) {
      const hit = this.exact.get(`${scope}/${fqdn}`);
      if (hit) return hit;
    }
    for (const w of this.wildcards) {
      if ((w.scope === '*' || w.scope === sourceNs) && hostCoveredBy(fqdn, w.host)) return w.entry;
    }
    return undefined;
  }

  private add(scope: string, fqdn: string, entry: RegistryEntry): void {
    if (isWildcard(fqdn)) this.wildcards.push({ scope, host: fqdn, entry });
    else if (!this.exact.has(`${scope}/${fqdn}`)) this.exact.set(`${scope}/${fqdn}`, entry);
  }
}
