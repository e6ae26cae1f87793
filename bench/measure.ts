// What the benchmark measures, one function per figure, so the test suite can check each on a
// small mesh without timing anything.
import { ApiObject, App, Chart, Yaml } from 'cdk8s';
import { BENCH_NAMESPACE, BenchMesh, buildBenchMesh } from './mesh';
import { Finding, MeshAnalysis, MeshService, MeshSimulator } from '../src';

/** The library's output: the YAML `app.synthYaml()` returns and the objects in it. */
export interface LibraryOutput {
  readonly yaml: string;
  readonly manifests: any[];
  readonly bench: BenchMesh;
}

/** Builds the mesh and synthesizes it, as a user's app does (synth-time analysis included). */
export function synthLibrary(n: number, options: { analyzeOnSynth?: boolean } = {}): string {
  return buildBenchMesh(n, options).app.synthYaml();
}

/** {@link synthLibrary}, keeping the app and its objects (outside the timed runs). */
export function libraryOutput(n: number): LibraryOutput {
  const bench = buildBenchMesh(n);
  const yaml = bench.app.synthYaml();
  // The objects synthYaml serialized, in its order (charts resolve Lazy values again; they are pure).
  const manifests = bench.app.charts.flatMap((chart) => chart.toJson());
  return { yaml, manifests, bench };
}

/**
 * The floor cdk8s imposes: the same objects as plain `ApiObject`s in a fresh App, synthesized
 * the same way (construct tree, validation pass, resolution, key sorting, YAML).
 */
export function bareApp(manifests: any[]): App {
  const app = new App();
  const chart = new Chart(app, 'bare');
  manifests.forEach((manifest, i) => new ApiObject(chart, `o${i}`, manifest));
  return app;
}

/** {@link bareApp} synthesized to YAML. */
export function synthBare(manifests: any[]): string {
  return bareApp(manifests).synthYaml();
}

/** Serializing the objects with the YAML library (and settings) cdk8s uses, and nothing else. */
export function yamlFloor(manifests: any[]): string {
  return Yaml.stringify(...manifests);
}

/** `MeshAnalysis.analyze` of the synthesized objects, with the mesh's settings. */
export function analyze(manifests: any[]): Finding[] {
  return MeshAnalysis.analyze(manifests, { defaultNamespace: BENCH_NAMESPACE, rootNamespace: 'istio-system', trustDomain: 'cluster.local' });
}

/** How many hosts the proxies are configured for, with the output's Sidecars and without any. */
export interface FanOut {
  /** Workloads (a service's pods: every version shares its service's Sidecar). */
  readonly workloads: number;
  /** Hosts of the output's registry (Services, ServiceEntry hosts). */
  readonly hosts: number;
  /** Σ over Sidecars of the output's hosts each egress entry covers, plus the control-plane entries. */
  readonly scoped: number;
  /** `<ns>/*` entries of namespaces the output does not define (the control plane's): one each. */
  readonly controlPlaneEntries: number;
  /** Istio's default without Sidecars: every host to every proxy (workloads × hosts). */
  readonly unscoped: number;
}

/**
 * The proxy-configuration fan-out. A Sidecar egress entry `<ns>/<host>` counts the hosts of the
 * output it covers (`*` for any namespace or, as a leading `*.`, any host suffix; `.` for the
 * Sidecar's own namespace). An entry for a namespace the output defines no host in is the
 * control plane's (`istio-system/*`): it counts as one entry, whatever Istio installs there.
 */
export function fanOut(manifests: any[]): FanOut {
  const hosts: { ns: string; host: string }[] = [];
  for (const m of manifests) {
    const ns = m.metadata?.namespace ?? BENCH_NAMESPACE;
    if (m.kind === 'Service') hosts.push({ ns, host: `${m.metadata.name}.${ns}.svc.cluster.local` });
    if (m.kind === 'ServiceEntry') for (const host of m.spec?.hosts ?? []) hosts.push({ ns, host });
  }
  const namespacesWithHosts = new Set(hosts.map((h) => h.ns));
  const byNsHost = new Map<string, number>();
  for (const h of hosts) byNsHost.set(`${h.ns}/${h.host}`, (byNsHost.get(`${h.ns}/${h.host}`) ?? 0) + 1);
  const hostMatches = (pattern: string, host: string) => pattern === '*' || pattern === host
    || (pattern.startsWith('*.') && host.endsWith(pattern.slice(1)));

  const workloads = new Set<string>();
  for (const m of manifests) {
    if (m.kind === 'Deployment') workloads.add(`${m.metadata.namespace}/${m.spec.template.metadata.labels.app}`);
  }
  let scoped = 0;
  let controlPlaneEntries = 0;
  for (const sidecar of manifests.filter((m) => m.kind === 'Sidecar' && m.spec?.workloadSelector)) {
    const own = sidecar.metadata.namespace;
    for (const entry of (sidecar.spec.egress ?? []).flatMap((e: any) => e.hosts ?? []) as string[]) {
      const [nsPart, hostPart] = entry.split('/');
      const ns = nsPart === '.' ? own : nsPart;
      if (ns !== '*' && !namespacesWithHosts.has(ns)) {
        controlPlaneEntries++;
        continue;
      }
      const exact = !hostPart.includes('*');
      scoped += exact && ns !== '*' ? (byNsHost.get(`${ns}/${hostPart}`) ?? 0)
        : hosts.filter((h) => (ns === '*' || h.ns === ns) && hostMatches(hostPart, h.host)).length;
    }
  }
  return {
    workloads: workloads.size,
    hosts: hosts.length,
    scoped: scoped + controlPlaneEntries,
    controlPlaneEntries,
    unscoped: workloads.size * hosts.length,
  };
}

/**
 * Every declared call of the bench mesh traced on its output, as the synth-time check does (CM240): the requests the
 * callee's policies describe, with and without a token, until one gets through. Returns how many got through.
 */
export function traceDeclaredCalls(bench: BenchMesh, manifests: any[]): { calls: number; delivered: number } {
  const sim = new MeshSimulator(manifests, { defaultNamespace: BENCH_NAMESPACE });
  let calls = 0;
  let delivered = 0;
  for (const service of bench.services) {
    for (const callee of service.dependencies) {
      if (!(callee instanceof MeshService)) continue;
      calls++;
      if (!sim._declaredCall(`${BENCH_NAMESPACE}/${service.name}`, `${BENCH_NAMESPACE}/${callee.name}`)) delivered++;
    }
  }
  return { calls, delivered };
}

/** The full service × service access matrix (`GET /`, traced end to end), and how many cells allow the call. */
export function accessMatrix(manifests: any[]): { services: number; cells: number; allowed: number } {
  const m = new MeshSimulator(manifests, { defaultNamespace: BENCH_NAMESPACE }).accessMatrix();
  return { services: m.services.length, cells: m.services.length ** 2, allowed: m.allowed.flat().filter((a) => a).length };
}
