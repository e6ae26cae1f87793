// The request simulator on Gateway API mesh routes (GAMMA: an HTTPRoute whose parentRef is a Service). Sources:
// Istio's samples/bookinfo/gateway-api/*.yaml and platform/kube/bookinfo-versions.yaml (read at test time), the
// HTTPRoute CRD of Gateway API v1.6.1 (`spec.rules[].matches` precedence, PathPrefix "matches full path elements",
// RequestRedirect statusCode default 302, backendRef weight default 1), and istio.io "Use Layer 7 features"
// (ambient: a waypoint applies the HTTPRoute; the destination sees the waypoint's identity).
import * as YAML from 'yaml';
import { deployment, docs, namespace, service } from './fixtures';
import { MeshAnalysis, MeshSimulator, TraceOutcome, TraceStepKind } from '../../src/analysis';
import { loadSample, sampleTest } from '../support/manifests';

const sim = (yaml: string) => new MeshSimulator(MeshAnalysis.parseYaml(yaml));
const sampleYaml = (file: string, ns: string) => loadSample(file)
  .map((m) => YAML.stringify({ ...m, metadata: { ...m.metadata, namespace: ns } })).join('---\n');
const weights = (t: ReturnType<MeshSimulator['trace']>) => t.destinations.map((d) => `${d.destination.host.split('.')[0]}:${Math.round(d.destination.weightPercent)}`).sort();

const WAYPOINT = 'apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: { name: waypoint, namespace: amb, labels: { istio.io/waypoint-for: service } }\n'
  + 'spec: { gatewayClassName: istio-waypoint, listeners: [{ name: mesh, port: 15008, protocol: HBONE }] }\n';

/** bookinfo's reviews (v1, v2, v3) with the Services of bookinfo-versions.yaml, and a caller. */
function reviews(ns: string, labels: string): string {
  return docs(
    namespace(ns, labels),
    service(ns, 'reviews', '[{ name: http, port: 9080 }]'),
    ...['v1', 'v2', 'v3'].flatMap((v) => [
      service(ns, `reviews-${v}`, '[{ name: http, port: 9080 }]', `{ app: reviews, version: ${v} }`),
      deployment(ns, `reviews-${v}`, { labels: `app: reviews, version: ${v}`, serviceAccount: 'bookinfo-reviews', containerPort: 9080 }),
    ]),
    service(ns, 'productpage', '[{ name: http, port: 9080 }]'),
    deployment(ns, 'productpage-v1', { labels: 'app: productpage, version: v1', serviceAccount: 'bookinfo-productpage', containerPort: 9080 }),
  );
}

describe("Istio's bookinfo Gateway API routes, traced", () => {
  sampleTest.each([
    ['route-reviews-v1.yaml', ['reviews-v1:100']],
    ['route-reviews-90-10.yaml', ['reviews-v1:90', 'reviews-v2:10']],
    ['route-reviews-50-v3.yaml', ['reviews-v1:50', 'reviews-v3:50']],
    ['route-reviews-v3.yaml', ['reviews-v3:100']],
  ])('%s: the weights of backendRefs, from a sidecar and through a waypoint', (file, expected) => {
    const route = (ns: string) => sampleYaml(`bookinfo/gateway-api/${file}`, ns);
    const sidecar = sim(docs(reviews('side', 'istio-injection: enabled'), route('side'))).trace({ source: 'side/productpage-v1', host: 'reviews:9080' });
    expect(sidecar).toMatchObject({ outcome: TraceOutcome.REACHED, route: { object: { kind: 'HTTPRoute', name: 'reviews' }, field: 'spec.rules[0]' } });
    expect(weights(sidecar)).toEqual(expected);
    const ambient = sim(docs(reviews('amb', 'istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint'), WAYPOINT, route('amb')))
      .trace({ source: 'amb/productpage-v1', host: 'reviews:9080' });
    expect(ambient.outcome).toBe(TraceOutcome.REACHED);
    expect(weights(ambient)).toEqual(expected);
    // The waypoint routes; the destination's ztunnel sees the waypoint's identity, not productpage's.
    expect(ambient.steps.find((s) => s.kind === TraceStepKind.ROUTING)?.proxy).toMatch(/waypoint amb\/waypoint/);
    expect(ambient.destinations[0].steps.find((s) => s.kind === TraceStepKind.MTLS)?.summary).toMatch(/sa\/waypoint/);
  });
});

describe('HTTPRoute semantics (Gateway API v1.6.1 HTTPRoute CRD)', () => {
  const route = (rules: string) => 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: reviews, namespace: side }\n'
    + `spec:\n  parentRefs: [{ group: "", kind: Service, name: reviews, port: 9080 }]\n  rules:\n${rules}`;
  const to = (v: string) => `backendRefs: [{ name: reviews-${v}, port: 9080 }]`;
  const base = reviews('side', 'istio-injection: enabled');
  const trace = (rules: string, req: { path?: string; headers?: Record<string, string>; method?: string }) =>
    sim(docs(base, route(rules))).trace({ source: 'side/productpage-v1', host: 'reviews:9080', ...req });

  test('precedence across rules, not list order: Exact path > longest PathPrefix > method > most headers > most query params', () => {
    // Listed least specific first: a first-match reading would send everything to v1.
    const rules = [
      `  - ${to('v1')}`,
      `  - matches: [{ headers: [{ name: end-user, value: jason }] }]\n    ${to('v2')}`,
      `  - matches: [{ path: { type: PathPrefix, value: /api } }]\n    ${to('v3')}`,
      `  - matches: [{ path: { type: Exact, value: /api/v1 } }]\n    ${to('v2')}`,
    ].join('\n') + '\n';
    expect(weights(trace(rules, { path: '/' }))).toEqual(['reviews-v1:100']);
    expect(weights(trace(rules, { path: '/', headers: { 'end-user': 'jason' } }))).toEqual(['reviews-v2:100']);
    // The longer PathPrefix wins over the header match (the header match's path is PathPrefix "/").
    expect(weights(trace(rules, { path: '/api/x', headers: { 'end-user': 'jason' } }))).toEqual(['reviews-v3:100']);
    const exact = trace(rules, { path: '/api/v1' });
    expect(weights(exact)).toEqual(['reviews-v2:100']);
    expect(exact.route?.field).toBe('spec.rules[3].matches[0]');
  });

  test('a PathPrefix matches whole path elements: /api takes /api and /api/x, not /apis', () => {
    const rules = `  - matches: [{ path: { type: PathPrefix, value: /api } }]\n    ${to('v2')}\n  - ${to('v1')}\n`;
    expect(weights(trace(rules, { path: '/api' }))).toEqual(['reviews-v2:100']);
    expect(weights(trace(rules, { path: '/api/x' }))).toEqual(['reviews-v2:100']);
    expect(weights(trace(rules, { path: '/apis' }))).toEqual(['reviews-v1:100']);
  });

  test('filters: RequestRedirect (302 by default), URLRewrite ReplacePrefixMatch, timeouts.request, a rule-level weight default of 1', () => {
    const redirect = trace('  - filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.com } }]\n', { path: '/x' });
    expect(redirect).toMatchObject({ outcome: TraceOutcome.REDIRECTED, status: 302 });
    const rewrite = trace(`  - matches: [{ path: { type: PathPrefix, value: /old } }]\n    filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /new } } }]\n    timeouts: { request: 2s }\n    ${to('v1')}\n`, { path: '/old/page' });
    expect(rewrite.route).toMatchObject({ rewrite: 'path /old/page → /new/page', timeout: '2s' });
    const split = trace('  - backendRefs: [{ name: reviews-v1, port: 9080 }, { name: reviews-v2, port: 9080, weight: 3 }]\n', {});
    expect(weights(split)).toEqual(['reviews-v1:25', 'reviews-v2:75']);
  });

  test('no rule matches: 404; an HTTPRoute beside a VirtualService for the host is said to be undefined', () => {
    const none = trace(`  - matches: [{ path: { type: Exact, value: /only } }]\n    ${to('v1')}\n`, { path: '/other' });
    expect(none).toMatchObject({ outcome: TraceOutcome.NOT_FOUND, status: 404 });
    const vs = 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: reviews, namespace: side }\nspec: { hosts: [reviews], http: [{ route: [{ destination: { host: reviews } }] }] }\n';
    const both = sim(docs(base, route(`  - ${to('v2')}\n`), vs)).trace({ source: 'side/productpage-v1', host: 'reviews:9080' });
    expect(weights(both)).toEqual(['reviews-v2:100']);
    expect(both.undecided.join()).toMatch(/mixing HTTPRoute and VirtualService for one workload is undefined/);
  });
});

describe('ingress through a Gateway API Gateway (class istio), traced', () => {
  // Gateway API v1.6.1: listeners pick routes by parentRef (sectionName), allowedRoutes (default: Same namespace) and
  // hostnames; the HTTPRoute precedence applies across every route bound to a listener. Istio deploys the gateway's
  // pods as ServiceAccount <name>-istio; policies on them attach with targetRefs (a selector is ignored: IST0166).
  const gateway = (listeners: string) => 'apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: { name: edge, namespace: edge }\n'
    + `spec:\n  gatewayClassName: istio\n  listeners:\n${listeners}`;
  const LISTENERS = '  - { name: open, port: 80, protocol: HTTP, allowedRoutes: { namespaces: { from: All } } }\n'
    + '  - { name: own, port: 8080, protocol: HTTP }\n';
  const httpRoute = (ns: string, name: string, spec: string) => `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: ${name}, namespace: ${ns} }\nspec:\n${spec}`;
  const base = docs(reviews('side', 'istio-injection: enabled'), namespace('edge', 'istio-injection: enabled'), gateway(LISTENERS));
  const grant = 'apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: { name: edge, namespace: side }\n'
    + 'spec: { from: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: edge }], to: [{ group: "", kind: Service }] }\n';
  const inEdge = httpRoute('edge', 'front', '  parentRefs: [{ name: edge }]\n  rules:\n  - matches: [{ path: { type: PathPrefix, value: /reviews } }]\n'
    + '    backendRefs: [{ name: reviews-v1, namespace: side, port: 9080 }]\n');
  const inSide = httpRoute('side', 'exact', '  parentRefs: [{ name: edge, namespace: edge, sectionName: open }]\n  hostnames: [shop.example.com]\n  rules:\n'
    + '  - matches: [{ path: { type: Exact, value: /reviews/top } }]\n    backendRefs: [{ name: reviews-v3, port: 9080 }]\n');
  const enter = (yaml: string, path: string, port = 80, host = 'shop.example.com') => sim(yaml).trace({ gateway: 'edge/edge', host, path, port });

  test('precedence across the routes bound to a listener: an Exact path of another namespace\'s route beats a PathPrefix', () => {
    const yaml = docs(base, grant, inEdge, inSide);
    expect(weights(enter(yaml, '/reviews/top'))).toEqual(['reviews-v3:100']);
    expect(enter(yaml, '/reviews/top').route).toMatchObject({ object: { kind: 'HTTPRoute', namespaceName: 'side', name: 'exact' }, field: 'spec.rules[0].matches[0]' });
    expect(weights(enter(yaml, '/reviews/1'))).toEqual(['reviews-v1:100']);
    // The route's hostnames: another host does not take the Exact route.
    expect(weights(enter(yaml, '/reviews/top', 80, 'other.example.com'))).toEqual(['reviews-v1:100']);
    // The destination sees the gateway's identity.
    expect(enter(yaml, '/reviews/1').destinations[0].steps.find((s) => s.kind === TraceStepKind.MTLS)?.summary).toMatch(/cluster\.local\/ns\/edge\/sa\/edge-istio/);
  });

  test('allowedRoutes: the listener of its own namespace only does not take another namespace\'s route; sectionName binds to one listener', () => {
    const other = httpRoute('side', 'other', '  parentRefs: [{ name: edge, namespace: edge }]\n  rules:\n  - backendRefs: [{ name: reviews-v2, port: 9080 }]\n');
    const open = enter(docs(base, other), '/', 80);
    expect(weights(open)).toEqual(['reviews-v2:100']);
    const own = enter(docs(base, other), '/', 8080);
    expect(own).toMatchObject({ outcome: TraceOutcome.NOT_FOUND, status: 404 });
    expect(own.undecided).toEqual(expect.arrayContaining([expect.stringMatching(/HTTPRoute side\/other: listener "own" admits routes of its own namespace only/)]));
    // inSide names the listener "open": on port 8080 only inEdge applies.
    expect(weights(enter(docs(base, grant, inEdge, inSide), '/reviews/top', 8080))).toEqual(['reviews-v1:100']);
  });

  test('a backend of another namespace needs a ReferenceGrant there (else 500); policies on the gateway attach with targetRefs', () => {
    expect(enter(docs(base, inEdge), '/reviews/1')).toMatchObject({ outcome: TraceOutcome.DIRECT_RESPONSE, status: 500 });
    const policy = (attach: string) => `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: no-admin, namespace: edge }\nspec:\n${attach}\n`
      + '  action: DENY\n  rules: [{ to: [{ operation: { paths: [/reviews/*] } }] }]\n';
    const bySelector = policy('  selector: { matchLabels: { gateway.networking.k8s.io/gateway-name: edge } }');
    const byRef = policy('  targetRefs: [{ group: gateway.networking.k8s.io, kind: Gateway, name: edge }]');
    expect(enter(docs(base, grant, inEdge, bySelector), '/reviews/1').outcome).toBe(TraceOutcome.REACHED);
    expect(enter(docs(base, grant, inEdge, byRef), '/reviews/1')).toMatchObject({ outcome: TraceOutcome.FORBIDDEN, status: 403 });
  });
});
