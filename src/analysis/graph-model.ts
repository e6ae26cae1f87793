import { toFqdn } from './hosts';
import { Res } from './manifests';
import { MeshIndex, push, RegistryEntry } from './model';
import { isMeshBound, routeDestinations } from './routes';
import { admitted } from './simulator';
import { SimulatorEngine } from './simulator/engine';
import { exampleRequests, PROBE_METHODS } from './simulator/examples';
import { isIngressGateway, parentRefIsGateway } from './simulator/kube-gateway';
import { compareText } from '../internal/order';

export type NodeKind = 'service' | 'version' | 'gateway' | 'external';
export type EdgeKind = 'route' | 'mirror' | 'version' | 'access' | 'egress';

export interface GraphNode {
  readonly id: string;
  readonly label: string;
  readonly kind: NodeKind;
  /** Namespace the node is drawn in ('' for external hosts). */
  readonly ns: string;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  readonly label?: string;
}

export interface Topology {
  readonly nodes: GraphNode[];
  readonly edges: GraphEdge[];
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9]/g, '_');

/**
 * Services with their versions (DestinationRule subsets), the routes of VirtualServices between them (with weights),
 * Gateways, external hosts (ServiceEntries) and, for Services whose workloads have AuthorizationPolicies, the
 * Services allowed to call them (traced by the request simulator with the requests their policies describe).
 */
export function buildTopology(index: MeshIndex, includeAccess: boolean): Topology {
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, GraphEdge>();
  const addEdge = (e: GraphEdge) => edges.set(`${e.from}|${e.to}|${e.kind}|${e.label ?? ''}`, e);

  const entryNode = (entry: RegistryEntry, host: string): string => {
    if (entry.res.kind === 'Service') {
      const id = `svc_${safe(entry.res.ns)}__${safe(entry.res.name)}`;
      nodes.set(id, { id, label: entry.res.name, kind: 'service', ns: entry.res.ns });
      return id;
    }
    const external = entry.res.spec.location !== 'MESH_INTERNAL';
    const id = `${external ? 'ext' : 'svc'}_${safe(host)}`;
    nodes.set(id, { id, label: host, kind: external ? 'external' : 'service', ns: external ? '' : entry.res.ns });
    return id;
  };
  const versionNode = (service: string, ns: string, subset: string): string => {
    const id = `${service}__v_${safe(subset)}`;
    nodes.set(id, { id, label: `${nodes.get(service)!.label} ${subset}`, kind: 'version', ns });
    addEdge({ from: service, to: id, kind: 'version' });
    return id;
  };

  // The Service in front of a gateway's own pods is part of the gateway node.
  const gatewayPods = new Set(index.of('Gateway').flatMap((gw) => index.workloadsMatching(gw.spec.selector)));
  const frontsGateway = (svc: Res) => index.serviceWorkloads(svc).some((w) => gatewayPods.has(w));
  for (const svc of index.of('Service')) {
    if (!frontsGateway(svc)) entryNode(index.registry.lookup(svc.ns, svc.name)!, toFqdn(svc.name, svc.ns));
  }
  for (const se of index.of('ServiceEntry')) {
    for (const host of se.spec.hosts ?? []) {
      const entry = index.registry.lookup(se.ns, host, se.spec.exportTo);
      if (entry) entryNode(entry, toFqdn(host, se.ns));
    }
  }
  for (const dr of index.of('DestinationRule')) {
    const entry = index.registry.lookup(dr.ns, dr.spec.host ?? '', dr.spec.exportTo);
    if (!entry) continue;
    const service = entryNode(entry, toFqdn(dr.spec.host, dr.ns));
    for (const subset of dr.spec.subsets ?? []) if (subset?.name) versionNode(service, dr.ns, subset.name);
  }
  for (const gw of index.of('Gateway')) {
    const id = gatewayId(gw);
    nodes.set(id, { id, label: `gateway ${gw.name}`, kind: 'gateway', ns: gw.ns });
  }

  for (const vs of index.of('VirtualService')) {
    const sources: string[] = [];
    if (isMeshBound(vs)) {
      for (const host of vs.spec.hosts ?? []) {
        const entry = index.registry.lookup(vs.ns, host, vs.spec.exportTo);
        if (entry) sources.push(entryNode(entry, toFqdn(host, vs.ns)));
      }
    }
    for (const g of vs.spec.gateways ?? []) {
      if (g === 'mesh') continue;
      const [ns, name] = g.includes('/') ? g.split('/', 2) : [vs.ns, g];
      const gw = index.get('Gateway', ns, name);
      if (gw) sources.push(gatewayId(gw));
    }
    for (const d of routeDestinations(vs)) {
      const host = d.destination.host ?? '';
      const entry = index.registry.lookup(vs.ns, host, vs.spec.exportTo);
      if (!entry) continue;
      let target = entryNode(entry, toFqdn(host, vs.ns));
      if (d.destination.subset) target = versionNode(target, nodes.get(target)!.ns, d.destination.subset);
      const label = d.mirror ? 'mirror' : d.weight !== undefined ? `${d.weight}%` : undefined;
      for (const from of sources) if (from !== target) addEdge({ from, to: target, kind: d.mirror ? 'mirror' : 'route', label });
    }
  }

  // Gateway API ingress Gateways (class istio): their routes' backends.
  for (const gw of index.of('Gateway.gateway.networking.k8s.io').filter(isIngressGateway)) {
    const id = gatewayId(gw);
    nodes.set(id, { id, label: `gateway ${gw.name}`, kind: 'gateway', ns: gw.ns });
    for (const kind of ['HTTPRoute', 'TCPRoute', 'TLSRoute']) {
      for (const route of index.of(`${kind}.gateway.networking.k8s.io`)) {
        if (!(route.spec?.parentRefs ?? []).some((ref: any) => parentRefIsGateway(ref, route, gw))) continue;
        for (const rule of route.spec?.rules ?? []) {
          const refs = (rule?.backendRefs ?? []).filter((b: any) => (b?.kind ?? 'Service') === 'Service');
          // "Weight ... defaults to 1": proportional shares.
          const total = refs.reduce((n: number, b: any) => n + Number(b?.weight ?? 1), 0);
          for (const b of refs) {
            const host = toFqdn(String(b?.name ?? ''), String(b?.namespace ?? route.ns));
            const entry = index.registry.lookup(route.ns, host);
            if (!entry) continue;
            const share = total > 0 ? Math.round((Number(b?.weight ?? 1) / total) * 100) : 0;
            addEdge({ from: id, to: entryNode(entry, host), kind: 'route', label: refs.length > 1 ? `${share}%` : undefined });
          }
        }
      }
    }
  }

  addEgressEdges(index, nodes, addEdge);
  if (includeAccess) {
    // A gateway's own Service is drawn as the gateway: its calls start from the gateway node.
    const gatewayOf = (svc: Res) => index.of('Gateway').find((gw) => index.serviceWorkloads(svc).some((w) => index.workloadsMatching(gw.spec.selector).includes(w)));
    addAccessEdges(index, addEdge, (svc) => {
      const gw = frontsGateway(svc) ? gatewayOf(svc) : undefined;
      return gw ? gatewayId(gw) : `svc_${safe(svc.ns)}__${safe(svc.name)}`;
    });
  }
  // A version reached by a route needs no separate membership line.
  const routed = new Set([...edges.values()].filter((e) => e.kind === 'route').map((e) => `${e.from}|${e.to}`));
  for (const [key, e] of edges) if (e.kind === 'version' && routed.has(`${e.from}|${e.to}`)) edges.delete(key);
  const sortedNodes = [...nodes.values()].sort((a, b) => compareText(a.ns, b.ns) || compareText(a.id, b.id));
  const sortedEdges = [...edges.values()].sort((a, b) => compareText(a.from, b.from) || compareText(a.to, b.to) || compareText(a.kind, b.kind) || compareText(a.label ?? '', b.label ?? ''));
  return { nodes: sortedNodes, edges: sortedEdges };
}

/**
 * Calls to external hosts, as scoped Sidecars declare them: a workload whose Sidecar lists a
 * ServiceEntry host among its egress hosts calls it.
 */
function addEgressEdges(index: MeshIndex, nodes: Map<string, GraphNode>, addEdge: (e: GraphEdge) => void): void {
  for (const sidecar of index.of('Sidecar')) {
    const labels = sidecar.spec.workloadSelector?.labels;
    if (!labels) continue;
    const callers = new Set(index.workloadsMatching(labels, sidecar.ns).flatMap((w) => index.servicesSelecting(w)));
    for (const entry of (sidecar.spec.egress ?? []).flatMap((e: any) => e.hosts ?? [])) {
      const host = String(entry).split('/')[1] ?? '';
      const target = `ext_${safe(host)}`;
      if (!nodes.has(target)) continue;
      for (const caller of callers) addEdge({ from: `svc_${safe(caller.ns)}__${safe(caller.name)}`, to: target, kind: 'egress', label: 'egress' });
    }
  }
}

function gatewayId(gw: Res): string {
  return `gw_${safe(gw.ns)}__${safe(gw.name)}`;
}

/**
 * Allowed calls into Services whose workloads have AuthorizationPolicies (others accept every caller), each decided
 * by tracing it: `GET /` and the requests the ALLOW rules that could name the caller describe (their methods, paths
 * and ports), so a caller admitted only for `POST /orders` is drawn too. The arrow is labelled with the methods
 * that get through.
 */
function addAccessEdges(index: MeshIndex, addEdge: (e: GraphEdge) => void, nodeOf: (svc: Res) => string): void {
  const engine = SimulatorEngine.of(index);
  const services = index.of('Service').filter((s) => engine.serviceWorkloads(s).length > 0);
  const callers = new CallerIndex(index, services);
  for (const to of services) {
    const policies = [...new Set(engine.serviceWorkloads(to).flatMap((w) => engine.authorizationPoliciesFor(w)))];
    if (policies.length === 0) continue;
    const requests = exampleRequests(policies, to);
    const host = toFqdn(to.name, to.ns);
    for (const from of callers.couldPass(policies)) {
      if (from === to) continue;
      const froms = engine.distinctCallers(engine.serviceWorkloads(from).map((w) => engine.callerOf(w)));
      const methods = new Set<string>();
      const probesByPath = new Map<string, number>();
      for (const r of requests) {
        const flight = { method: r.method, rawPath: r.path, headers: {}, port: r.port, externalAuthorizerAllows: true };
        if (!froms.every((c) => admitted(engine.trace(c, flight, { host })))) continue;
        methods.add(r.method);
        if (r.probe) probesByPath.set(`${r.path} ${r.port ?? ''}`, (probesByPath.get(`${r.path} ${r.port ?? ''}`) ?? 0) + 1);
      }
      if (methods.size > 0) {
        // GET, POST and DELETE all admitted on one path: any method; otherwise the methods that get through.
        const anyMethod = [...probesByPath.values()].some((n) => n === PROBE_METHODS.length);
        const label = anyMethod ? 'allowed' : [...methods].sort().join(', ');
        addEdge({ from: nodeOf(from), to: nodeOf(to), kind: 'access', label });
      }
    }
  }
}

/**
 * Which Services could pass a set of policies, from the identities the ALLOW rules name: the simulator then decides
 * only for those, instead of for every Service (which would be quadratic in a large mesh).
 */
class CallerIndex {
  private readonly byPrincipal = new Map<string, Res[]>();
  private readonly byNs = new Map<string, Res[]>();

  constructor(private readonly index: MeshIndex, private readonly services: Res[]) {
    for (const svc of services) {
      push(this.byNs, svc.ns, svc);
      for (const w of index.serviceWorkloads(svc)) {
        const p = index.principalOf(w.ns, w.serviceAccount);
        push(this.byPrincipal, p, svc);
      }
    }
  }

  couldPass(policies: Res[]): Res[] {
    const allows = policies.filter((p) => (p.spec.action ?? 'ALLOW') === 'ALLOW');
    if (allows.length === 0) return this.services;
    const found = new Set<Res>();
    for (const p of allows) {
      for (const rule of p.spec.rules ?? []) {
        for (const source of rule?.from ? rule.from.map((f: any) => f?.source ?? {}) : [{}]) {
          const named = this.named(source, p.ns);
          if (!named) return this.services;
          named.forEach((s) => found.add(s));
        }
      }
    }
    return [...found];
  }

  /** The Services a source names by principal, service account or namespace; undefined when it could be anyone. */
  private named(source: any, policyNs: string): Res[] | undefined {
    const exact = (values: string[] | undefined, lookup: (v: string) => Res[] | undefined) =>
      values && !values.some((v) => v.includes('*')) ? values.flatMap((v) => lookup(v) ?? []) : undefined;
    return exact(source.principals, (v) => this.byPrincipal.get(v.replace(/^spiffe:\/\//, '')))
      ?? exact(source.serviceAccounts, (v) => {
        const [ns, sa] = v.includes('/') ? v.split('/', 2) : [policyNs, v];
        return this.byPrincipal.get(this.index.principalOf(ns, sa));
      })
      ?? exact(source.namespaces, (v) => this.byNs.get(v));
  }
}
