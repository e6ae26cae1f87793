// The pods behind a routed destination: the Service (or ServiceEntry) port, the subset's labels, the workloads that
// match, the port they receive on, and whether they ever become Ready (Kubernetes endpoints only list Ready pods).
import { Res } from '../manifests';
import { matchesSelector, Workload } from '../model';

/** The Service port a destination uses. */
export function servicePortOf(svc: Res, port: number | undefined): any | undefined {
  const ports: any[] = Array.isArray(svc.spec.ports) ? svc.spec.ports.filter((p: any) => p && typeof p === 'object') : [];
  if (port === undefined) return ports.length === 1 ? ports[0] : undefined;
  return ports.find((p) => Number(p.port) === port);
}

/** The container ports a pod template declares. */
export function containerPorts(w: Workload): any[] {
  const out: any[] = [];
  for (const c of Array.isArray(w.podSpec.containers) ? w.podSpec.containers : []) {
    if (c?.name === 'istio-proxy') continue;
    for (const p of Array.isArray(c?.ports) ? c.ports : []) if (p && typeof p === 'object') out.push(p);
  }
  return out;
}

/**
 * The workload port a Service port delivers to: a number, or a name looked up in the containers' ports
 * (undefined when no container has a port of that name: Kubernetes then creates no endpoint for the pod).
 */
export function targetPortOf(w: Workload, servicePort: any): number | undefined {
  const tp = servicePort?.targetPort ?? servicePort?.port;
  if (typeof tp === 'number') return tp;
  if (typeof tp === 'string' && /^\d+$/.test(tp)) return Number(tp);
  const named = containerPorts(w).find((p) => p.name === tp);
  return named ? Number(named.containerPort) : undefined;
}

/** Why the workload's pods never receive traffic on `port`, if they do not: no replicas, no such port, never Ready. */
export function unreadyReason(w: Workload, port: number): string | undefined {
  const replicas = w.res.kind === 'Deployment' || w.res.kind === 'StatefulSet' || w.res.kind === 'ReplicaSet' || w.res.kind === 'Rollout' ? w.res.spec.replicas : undefined;
  if (replicas === 0) return `${w.res.kind} ${w.ns}/${w.res.name} has 0 replicas`;
  const declared = containerPorts(w).map((p) => Number(p.containerPort));
  // Kubernetes does not require containerPort declarations; the simulator takes the declared ports as the ports the
  // application listens on whenever the pod declares any (this is said in the trace).
  if (declared.length > 0 && !declared.includes(port)) {
    return `no container of ${w.res.kind} ${w.ns}/${w.res.name} declares port ${port} (it declares ${declared.join(', ')}), so nothing is taken to listen there`;
  }
  for (const c of Array.isArray(w.podSpec.containers) ? w.podSpec.containers : []) {
    if (c?.name === 'istio-proxy') continue;
    const probe = c?.readinessProbe;
    if (!probe || typeof probe !== 'object') continue;
    const handler = probe.httpGet ?? probe.tcpSocket ?? probe.grpc;
    if (!handler || typeof handler !== 'object') continue;
    const p = handler.port;
    const own: any[] = Array.isArray(c.ports) ? c.ports : [];
    const resolved = typeof p === 'number' ? p : typeof p === 'string' ? (/^\d+$/.test(p) ? Number(p) : own.find((x: any) => x?.name === p)?.containerPort) : undefined;
    const field = probe.httpGet ? 'httpGet' : probe.tcpSocket ? 'tcpSocket' : 'grpc';
    if (resolved === undefined) return `the readiness probe of container "${c.name}" names port "${p}", which the container does not declare: the pods never become Ready`;
    const listening = own.map((x: any) => Number(x?.containerPort));
    if (listening.length > 0 && !listening.includes(Number(resolved))) {
      return `the readiness probe (${field}) of container "${c.name}" targets port ${resolved}, but the container listens on ${listening.join(', ')}: the pods never become Ready`;
    }
  }
  return undefined;
}

/** Workloads behind a Service (its selector) narrowed by a subset's labels (and a ServiceEntry's workloadSelector). */
export function endpointsOf(candidates: Workload[], subsetLabels: Record<string, string> | undefined): Workload[] {
  return subsetLabels ? candidates.filter((w) => matchesSelector(w.labels, subsetLabels)) : candidates;
}
