import * as fc from 'fast-check';
import { MeshSimulator, RequestTrace, TraceOutcome, TraceRequest, TraceStepKind } from '../../src/analysis';

/**
 * Properties of the request simulator over random hand-written manifests (not only what the library writes):
 * namespaces in sidecar, ambient or no mesh, Services and versioned Deployments, VirtualServices with matches and
 * weights, DestinationRules, Sidecars, PeerAuthentications, RequestAuthentications and AuthorizationPolicies with
 * random rules, and random requests. FC_NUM_RUNS cases per property (200 in the test task, 10,000 in `npm run fuzz`).
 */
const numRuns = Number(process.env.FC_NUM_RUNS ?? 200);
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
const params = { numRuns, seed, path: process.env.FC_PATH, interruptAfterTimeLimit: 60_000 + numRuns * 300, markInterruptAsFailure: true };
const TIMEOUT = Math.max(120_000, numRuns * 400);

/** Namespace names are tokens that appear nowhere else, so renaming one is a plain word replacement. */
const NAMESPACES = ['alpha', 'bravo'];
const SERVICES = ['web', 'api', 'db'];
const METHODS = ['GET', 'POST', 'DELETE', 'get'];
const PATHS = ['/', '/api', '/api/v1/items', '/admin', '/admin?x=1', '/public/../admin', '/%61dmin', '/static/app.js'];
const ISSUER = 'https://id.example.com';

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const some = <T>(xs: readonly T[], max = 2) => fc.uniqueArray(pick(xs), { maxLength: max });

const principal = fc.tuple(pick(NAMESPACES), pick(SERVICES)).map(([ns, sa]) => `cluster.local/ns/${ns}/sa/${sa}`);
const source = fc.record({
  principals: fc.option(fc.array(fc.oneof(principal, fc.constant('*'), fc.constant('cluster.local/ns/alpha/*')), { maxLength: 2 }), { nil: undefined }),
  namespaces: fc.option(some(NAMESPACES), { nil: undefined }),
  notNamespaces: fc.option(some(NAMESPACES, 1), { nil: undefined }),
  requestPrincipals: fc.option(fc.constantFrom(['*'], [`${ISSUER}/*`], []), { nil: undefined }),
  ipBlocks: fc.option(fc.constantFrom(['10.0.0.0/8'], ['192.168.1.1']), { nil: undefined }),
}, { requiredKeys: [] });
const operation = fc.record({
  methods: fc.option(some(['GET', 'POST', 'DELETE']), { nil: undefined }),
  paths: fc.option(some(['/api*', '/admin', '*.js', '/api/{*}/items', '/']), { nil: undefined }),
  ports: fc.option(fc.constantFrom(['8080'], ['9090'], []), { nil: undefined }),
  notPaths: fc.option(some(['/admin'], 1), { nil: undefined }),
}, { requiredKeys: [] });
const condition = fc.oneof(
  fc.record({ key: fc.constant('request.headers[x-team]'), values: fc.constantFrom(['a'], ['a,b']) }),
  fc.record({ key: fc.constant('request.auth.claims[scope]'), values: fc.constant(['write']) }),
  fc.record({ key: fc.constant('source.namespace'), notValues: some(NAMESPACES, 1) }),
);
const rule = fc.record({
  from: fc.option(fc.array(fc.record({ source }), { maxLength: 2 }), { nil: undefined }),
  to: fc.option(fc.array(fc.record({ operation }), { maxLength: 2 }), { nil: undefined }),
  when: fc.option(fc.array(condition, { maxLength: 1 }), { nil: undefined }),
}, { requiredKeys: [] });

interface World { readonly manifests: any[]; readonly requests: TraceRequest[] }

const meta = (ns: string, name: string, extra: any = {}) => ({ name, namespace: ns, ...extra });

function authorizationPolicy(ns: string, name: string, action: string, app: string | undefined, rules: any[] | undefined, dryRun: boolean): any {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: meta(ns, name, dryRun ? { annotations: { 'istio.io/dry-run': 'true' } } : {}),
    spec: { ...(app ? { selector: { matchLabels: { app } } } : {}), ...(action === 'ALLOW' ? {} : { action }), ...(rules ? { rules } : {}) },
  };
}

const world: fc.Arbitrary<World> = fc.record({
  modes: fc.tuple(pick(['sidecar', 'ambient', 'none', 'disabled']), pick(['sidecar', 'ambient', 'none'])),
  services: fc.array(fc.record({
    ns: pick(NAMESPACES), name: pick(SERVICES), tcp: fc.boolean(), versions: fc.integer({ min: 1, max: 2 }), probe: fc.boolean(),
  }), { minLength: 1, maxLength: 5 }),
  routes: fc.array(fc.record({
    prefix: pick(['/', '/api', '/admin']),
    method: fc.option(pick(['GET', 'POST']), { nil: undefined }),
    header: fc.boolean(),
    weights: fc.constantFrom([100], [90, 10], [50, 50], [0, 100]),
    subset: pick(['v1', 'v2', 'v3']),
    fault: fc.boolean(),
  }), { maxLength: 3 }),
  policies: fc.array(fc.record({
    ns: pick([...NAMESPACES, 'istio-system']),
    action: pick(['ALLOW', 'DENY', 'AUDIT']),
    app: fc.option(pick(SERVICES), { nil: undefined }),
    rules: fc.option(fc.array(rule, { maxLength: 2 }), { nil: undefined, freq: 6 }),
    dryRun: fc.boolean(),
  }), { maxLength: 5 }),
  peer: fc.array(fc.record({ ns: pick([...NAMESPACES, 'istio-system']), mode: pick(['STRICT', 'PERMISSIVE', 'DISABLE', 'UNSET']) }), { maxLength: 2 }),
  jwt: fc.option(pick(NAMESPACES), { nil: undefined }),
  sidecar: fc.option(fc.record({ ns: pick(NAMESPACES), mode: pick(['REGISTRY_ONLY', 'ALLOW_ANY']), hosts: some(['./*', 'alpha/*', 'bravo/*', 'istio-system/*'], 2) }), { nil: undefined }),
  requests: fc.array(fc.record({
    // Callers and callees are mostly services of the world (an index into it), sometimes anything.
    from: fc.option(fc.oneof(fc.nat(), fc.tuple(pick(NAMESPACES), pick(SERVICES))), { nil: undefined, freq: 4 }),
    to: fc.oneof({ weight: 4, arbitrary: fc.nat() }, { weight: 1, arbitrary: fc.tuple(pick(NAMESPACES), pick(SERVICES)) }),
    method: pick(METHODS),
    path: pick(PATHS),
    team: fc.option(pick(['a', 'b']), { nil: undefined }),
    token: fc.option(fc.record({ scope: pick(['read write', 'read']), valid: fc.boolean(), issuer: pick([ISSUER, 'https://evil.example.com']) }), { nil: undefined }),
    ip: fc.option(pick(['10.1.2.3', '192.168.1.1']), { nil: undefined }),
  }), { minLength: 1, maxLength: 6 }),
}).map((w): World => {
  const manifests: any[] = [];
  NAMESPACES.forEach((ns, i) => {
    const mode = w.modes[i];
    const labels: Record<string, string> = mode === 'sidecar' ? { 'istio-injection': 'enabled' } : mode === 'ambient' ? { 'istio.io/dataplane-mode': 'ambient' } : mode === 'disabled' ? { 'istio-injection': 'disabled' } : {};
    manifests.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } });
  });
  const seen = new Set<string>();
  for (const s of w.services) {
    if (seen.has(`${s.ns}/${s.name}`)) continue;
    seen.add(`${s.ns}/${s.name}`);
    manifests.push({ apiVersion: 'v1', kind: 'Service', metadata: meta(s.ns, s.name), spec: { selector: { app: s.name }, ports: [{ name: s.tcp ? 'tcp' : 'http', port: 8080, targetPort: 9090 }] } });
    for (let v = 1; v <= s.versions; v++) {
      const container: any = { name: s.name, image: `${s.name}:${v}`, ports: [{ containerPort: 9090 }] };
      if (s.probe) container.readinessProbe = { httpGet: { path: '/healthz', port: v === 2 ? 80 : 9090 } };
      manifests.push({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: meta(s.ns, `${s.name}-v${v}`),
        spec: { selector: { matchLabels: { app: s.name, version: `v${v}` } }, template: { metadata: { labels: { app: s.name, version: `v${v}` } }, spec: { serviceAccountName: s.name, containers: [container] } } },
      });
    }
    manifests.push({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: meta(s.ns, s.name), spec: { host: s.name, subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] } });
  }
  const first = w.services[0];
  if (w.routes.length > 0) {
    manifests.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: meta(first.ns, first.name),
      spec: {
        hosts: [first.name],
        http: w.routes.map((r) => ({
          match: [{ uri: { prefix: r.prefix }, ...(r.method ? { method: { exact: r.method } } : {}), ...(r.header ? { headers: { 'x-team': { exact: 'a' } } } : {}) }],
          route: r.weights.map((weight, j) => ({ destination: { host: first.name, subset: j === 0 ? r.subset : 'v1' }, ...(r.weights.length > 1 ? { weight } : {}) })),
          ...(r.fault ? { fault: { abort: { httpStatus: 503, percentage: { value: 100 } } } } : {}),
        })),
      },
    });
  }
  w.policies.forEach((p, i) => manifests.push(authorizationPolicy(p.ns, `p${i}`, p.action, p.app, p.rules, p.dryRun)));
  w.peer.forEach((p, i) => manifests.push({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: meta(p.ns, `pa${i}`), spec: { mtls: { mode: p.mode } } }));
  if (w.jwt) manifests.push({ apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: meta(w.jwt, 'jwt'), spec: { jwtRules: [{ issuer: ISSUER, jwksUri: `${ISSUER}/jwks.json` }] } });
  if (w.sidecar) manifests.push({ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: meta(w.sidecar.ns, 'default'), spec: { egress: [{ hosts: w.sidecar.hosts.length ? w.sidecar.hosts : ['./*'] }], outboundTrafficPolicy: { mode: w.sidecar.mode } } });
  const at = (x: number | [string, string]): [string, string] => (typeof x === 'number' ? [w.services[x % w.services.length].ns, w.services[x % w.services.length].name] : x);
  const requests = w.requests.map((r): TraceRequest => ({
    source: r.from !== undefined ? `${at(r.from)[0]}/${at(r.from)[1]}-v1` : undefined,
    host: `${at(r.to)[1]}.${at(r.to)[0]}`,
    port: 8080,
    method: r.method,
    path: r.path,
    headers: r.team ? { 'X-Team': r.team } : undefined,
    token: r.token ? { issuer: r.token.issuer, subject: 'alice', claims: { scope: r.token.scope }, valid: r.token.valid } : undefined,
    sourceIp: r.ip,
  })).filter((r) => !r.source || manifests.some((m) => m.kind === 'Deployment' && `${m.metadata.namespace}/${m.metadata.name}` === r.source));
  return { manifests, requests };
});

const outcomes = (manifests: any[], requests: TraceRequest[]) => {
  const sim = new MeshSimulator(manifests);
  return requests.map((r) => sim.trace(r));
};
const summary = (t: RequestTrace) => ({ outcome: t.outcome, status: t.status, allowed: t.allowed, weights: t.destinations.map((d) => `${d.destination.weightPercent}:${d.outcome}`) });

describe('properties of the request simulator over random manifests', () => {
  test('trace never throws, and every trace is complete: an outcome, steps that name a proxy, destinations whose shares add up', () => {
    fc.assert(fc.property(world, ({ manifests, requests }) => {
      for (const t of outcomes(manifests, requests)) {
        expect(Object.values(TraceOutcome)).toContain(t.outcome);
        expect(t.allowed).toBe(t.outcome === TraceOutcome.REACHED);
        for (const s of [...t.steps, ...t.destinations.flatMap((d) => d.steps)]) expect(s.proxy.length * s.summary.length).toBeGreaterThan(0);
        const total = t.destinations.reduce((n, d) => n + d.destination.weightPercent, 0);
        if (t.destinations.length > 0) expect(Math.round(total)).toBe(100);
        expect(t.explanation.length).toBeGreaterThan(0);
      }
    }), params);
  }, TIMEOUT);

  test('adding a DENY policy never admits a request that was refused, and never changes where a request goes', () => {
    fc.assert(fc.property(world, pick([...NAMESPACES, 'istio-system']), fc.option(pick(SERVICES), { nil: undefined }), fc.array(rule, { minLength: 1, maxLength: 2 }),
      ({ manifests, requests }, ns, app, rules) => {
        const before = outcomes(manifests, requests);
        const after = outcomes([...manifests, authorizationPolicy(ns, 'added-deny', 'DENY', app, rules, false)], requests);
        before.forEach((b, i) => {
          if (!b.allowed) expect({ request: requests[i], allowed: after[i].allowed }).toEqual({ request: requests[i], allowed: false });
          expect(after[i].destinations.map((d) => d.destination)).toEqual(b.destinations.map((d) => d.destination));
        });
      }), params);
  }, TIMEOUT);

  test('removing every ALLOW policy: what an ALLOW refused is admitted unless a DENY (or CUSTOM) policy stops it', () => {
    fc.assert(fc.property(world, ({ manifests, requests }) => {
      const before = outcomes(manifests, requests);
      const isAllow = (m: any) => m.kind === 'AuthorizationPolicy' && (m.spec.action ?? 'ALLOW') === 'ALLOW';
      const after = outcomes(manifests.filter((m) => !isAllow(m)), requests);
      before.forEach((b, i) => {
        const refusal = [...b.steps, ...b.destinations.flatMap((d) => d.steps)].find((s) => !s.passed);
        const byAllow = refusal?.kind === TraceStepKind.AUTHORIZATION && /ALLOW policies apply|ztunnel, which drops all traffic/.test(refusal.summary);
        if (!byAllow) return;
        const again = [...after[i].steps, ...after[i].destinations.flatMap((d) => d.steps)].find((s) => !s.passed);
        if (again) expect({ request: requests[i], step: again.summary }).toEqual({ request: requests[i], step: expect.stringMatching(/\(DENY\)|CUSTOM/) });
      });
    }), params);
  }, TIMEOUT);

  test('renaming a namespace everywhere changes no outcome', () => {
    fc.assert(fc.property(world, pick(NAMESPACES), ({ manifests, requests }, from) => {
      const rename = (x: unknown) => JSON.parse(JSON.stringify(x).replace(new RegExp(`\\b${from}\\b`, 'g'), 'zulu'));
      const before = outcomes(manifests, requests).map(summary);
      const after = outcomes(rename(manifests), rename(requests)).map(summary);
      expect(after).toEqual(before);
    }), params);
  }, TIMEOUT);
});
