import { App, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { BuiltMesh, buildMesh, MeshSpec, meshSpec } from './mesh-spec';
import { BookinfoChart } from '../../examples/bookinfo/bookinfo';
import { Dataplane, RoutingApi } from '../../src';
import { MeshSimulator, RequestTrace, TraceOutcome, TraceRequest } from '../../src/analysis';
import { _declarationsOf, describeRequest } from '../../src/mesh/promises';

/**
 * The migration from sidecars to ambient, proven: the same program built with `Dataplane.sidecar()` and with
 * `Dataplane.ambient({ waypoint: true })` (which routes with the Gateway API by default) keeps what every declaration
 * promises: each request the declarations trace (routes, allowFrom, callsTo, JwtAuth.protect, mTLS, gateways) has the
 * same outcome and reaches the same workloads with the same weights. Where ambient cannot provide a feature, the
 * ambient build fails with the library's error (CM246 for a route the Gateway API cannot express, CM301 for mTLS
 * DISABLE), never a silent change. Sources: istio.io "Migrating from sidecar to ambient" and "Use Layer 7 features"
 * (in ambient with a waypoint, L7 routing and policy happen at the waypoint).
 */
const numRuns = Number(process.env.FC_NUM_RUNS ?? 50);
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
const params = { numRuns, seed, path: process.env.FC_PATH, endOnFailure: process.env.FC_SHRINK === '0', interruptAfterTimeLimit: 90_000 + numRuns * 1500, markInterruptAsFailure: true };
const TIMEOUT = Math.max(180_000, numRuns * 3000);

/**
 * The codes of features ambient mode (or the Gateway API) cannot provide: a route the Gateway API cannot express
 * (CM246), mTLS DISABLE (CM301), a JWT requirement on a service exposed through an ingress gateway, which sends to the
 * pods and not through the waypoint (CM333, with that reason).
 */
const CANNOT_PROVIDE = /CM246 |CM301 |CM333 .*in ambient mode the gateway sends it to the pods directly/;

let warn: jest.SpyInstance;
beforeAll(() => { warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined); });
afterAll(() => warn.mockRestore());

/**
 * What a trace ends in and which workloads receive it, with what share. Where a refused request ends is left out: in
 * ambient mode the waypoint refuses it before routing, a sidecar at the destination; the caller sees the same.
 */
function outcome(t: RequestTrace): string {
  const status = `${t.outcome}${t.status !== undefined ? ` ${t.status}` : ''}`;
  if (t.destinations.every((d) => d.outcome === t.outcome && d.outcome !== TraceOutcome.REACHED)) return status;
  const reached = t.destinations
    .filter((d) => d.destination.weightPercent > 0)
    .map((d) => `${d.workload?.name ?? d.destination.host}:${Math.round(d.destination.weightPercent)}:${d.outcome}`)
    .sort();
  return `${status} → ${reached.join(', ') || '-'}`;
}

/** The requests a program's declarations promise something about, with what they promise, by key. */
function promisedRequests(built: BuiltMesh): Map<string, TraceRequest> {
  const manifests = Testing.synth(built.chart);
  const sim = new MeshSimulator(manifests, { defaultNamespace: 'shop' });
  const out = new Map<string, TraceRequest>();
  for (const { declaredBy, declaration } of _declarationsOf(built.chart)) {
    for (const p of declaration.requests(sim)) out.set(`${declaredBy.node.path}: ${declaration.what}: ${describeRequest(p.request)}`, p.request);
  }
  return out;
}

/** Both outputs of one program, and the outcome of every request either one's declarations promise, on each. */
export function compareDataplanes(build: (dataplane: Dataplane) => BuiltMesh): { sidecar: Record<string, string>; ambient: Record<string, string> } {
  const sidecarMesh = build(Dataplane.sidecar());
  const ambientMesh = build(Dataplane.ambient({ waypoint: true }));
  const requests = new Map([...promisedRequests(sidecarMesh), ...promisedRequests(ambientMesh)]);
  const traceAll = (built: BuiltMesh) => {
    const sim = new MeshSimulator(Testing.synth(built.chart), { defaultNamespace: 'shop' });
    return Object.fromEntries([...requests].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, r]) => [key, outcome(sim.trace(r))]));
  };
  return { sidecar: traceAll(sidecarMesh), ambient: traceAll(ambientMesh) };
}

/**
 * The spec without what ambient mode with the Gateway API cannot provide: faults, retries, string path prefixes
 * (header matches instead), mTLS DISABLE, and JWT requirements on a service exposed through the ingress gateway (the
 * gateway sends to the pods, not through the waypoint: this property found it, and the JwtAuth promise, CM333, now
 * refuses it at synth).
 */
function expressible(spec: MeshSpec): MeshSpec {
  return {
    ...spec,
    jwt: spec.jwt && { protect: spec.jwt.protect.filter((i) => !(spec.gateway && spec.services[i].exposed)) },
    services: spec.services.map((s) => ({
      ...s,
      fault: undefined,
      mtls: s.mtls === 'DISABLE' ? undefined : s.mtls,
      route: s.route && { ...s.route, kind: s.route.kind === 'path' ? 'header' : s.route.kind, retry: undefined },
    })),
  };
}

/**
 * The one difference ambient mode has by design and the library cannot remove: a sidecar with REGISTRY_ONLY (the
 * library's default, Sidecar `outboundTrafficPolicy`) answers 502 to a call to an external host its workload did not
 * declare; ambient has no sidecar, so without an egress gateway the call leaves (istio.io "Migrating from sidecar to
 * ambient": egress control needs an egress gateway). docs/ambient.md says so. And ztunnel refuses at L4 (a closed
 * connection) a request that skips the waypoint, where a sidecar answers 403. Everything else must be equal.
 */
function expectSameBehaviour(result: { sidecar: Record<string, string>; ambient: Record<string, string> }): void {
  const ambient = { ...result.ambient };
  for (const [key, expected] of Object.entries(result.sidecar)) {
    if (expected === 'BAD_GATEWAY 502' && /^REACHED /.test(ambient[key])) ambient[key] = expected;
    // ztunnel refuses a connection that skips the waypoint at L4: it closes it where a sidecar answers 403.
    if (expected === 'FORBIDDEN 403' && ambient[key] === 'FORBIDDEN') ambient[key] = expected;
  }
  expect(ambient).toEqual(result.sidecar);
}

function compareOrRefuse(spec: MeshSpec): { sidecar: Record<string, string>; ambient: Record<string, string> } | Error {
  try {
    // The ambient build alone may fail, at construction or synth (a feature it cannot provide); the sidecar build must not.
    Testing.synth(buildMesh(spec, { dataplane: Dataplane.ambient({ waypoint: true }) }).chart);
  } catch (e) {
    return e as Error;
  }
  return compareDataplanes((dataplane) => buildMesh(spec, { dataplane }));
}

describe('sidecar → ambient with a waypoint keeps every promise', () => {
  test('random meshes the Gateway API can express: the same outcome for every declared request', () => {
    fc.assert(fc.property(meshSpec(8).map(expressible), (spec) => {
      const result = compareOrRefuse(spec);
      if (result instanceof Error) throw result;
      expectSameBehaviour(result);
    }), params);
  }, TIMEOUT);

  test('any random mesh: the ambient build keeps every promise, or fails with a code of a feature ambient cannot provide', () => {
    let refused = 0;
    fc.assert(fc.property(meshSpec(8), (spec) => {
      const result = compareOrRefuse(spec);
      if (result instanceof Error) {
        expect(result.message).toMatch(CANNOT_PROVIDE);
        refused++;
        return;
      }
      expectSameBehaviour(result);
    }), params);
    // The generator produces faults, retries and path prefixes: some builds must be refused.
    expect(refused).toBeGreaterThan(0);
  }, TIMEOUT);
});

describe('bookinfo (examples/bookinfo), moved to ambient', () => {
  const bookinfo = (props: { dataplane: Dataplane; routingApi?: RoutingApi }) => {
    const app = new App();
    return { app, chart: new BookinfoChart(app, 'bookinfo', { namespaceName: 'shop', ...props }), services: [] };
  };

  test('with the Gateway API, what bookinfo writes that HTTPRoutes cannot express is refused, with what to do', () => {
    // The first refusal: the ingress gateway is a Gateway API Gateway, and `/static` is a string prefix (Istio's
    // gateway-api/bookinfo-gateway.yaml matches the path elements, PathPrefix). Then the retry policy of reviews'
    // catch-all route (CM246).
    expect(() => bookinfo({ dataplane: Dataplane.ambient({ waypoint: true }) }))
      .toThrow(/\[bookinfo\/gateway\] CM521 Gateway route the Gateway API cannot express: .*the path prefix "\/static" is a string prefix .*Fix: match whole path elements with PathMatch\.pathPrefix\('\/static'\)/);
  });

  test("with VirtualServices on the waypoint (RoutingApi.ISTIO): productpage's JWT requirement would not apply to ingress traffic, refused at synth", () => {
    const ambient = bookinfo({ dataplane: Dataplane.ambient({ waypoint: true }), routingApi: RoutingApi.ISTIO });
    expect(() => Testing.synth(ambient.chart)).toThrow(
      /CM333 .*GET any\.example\.com\/api\/v1\/products through gateway shop\/bookinfo-gateway is refused \(no token\), but traced, it is admitted: in ambient mode the gateway sends it to the pods directly/);
  });
});
