// Kiali's validations that need no cluster (kiali/kiali models/checks.go: the KIA code each CMA
// code stands for is in docs/analysis.md), and the admission findings of hand-written YAML.
import { deployment, docs, namespace, service } from './fixtures';
import { Finding, MeshAnalysis } from '../../src';

const analyze = (yaml: string) => MeshAnalysis.analyze(MeshAnalysis.parseYaml(yaml));
const only = (findings: Finding[], code: string) => findings.filter((f) => f.code === code);
const BASE = docs(namespace('shop'), service('shop', 'reviews', '[{ name: http, port: 9080 }]'),
  deployment('shop', 'reviews', { labels: 'app: reviews', serviceAccount: 'reviews', containerPort: 9080 }),
  deployment('shop', 'web', { serviceAccount: 'web' }));
const policy = (spec: string, name = 'p') => `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: ${name}, namespace: shop }\nspec: ${spec}\n`;

describe('admission of hand-written YAML', () => {
  test('IST0106: an object the API server refuses is reported with the field and the rule, and is not analyzed further', () => {
    const findings = analyze(docs(BASE, `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: db, namespace: shop }
spec: { hosts: [db.example.com], addresses: [10.0.0.0/24], ports: [{ number: 5432, name: tcp, protocol: TCP }], resolution: DNS }
`));
    const [refused] = only(findings, 'IST0106');
    expect(refused).toMatchObject({ kind: 'ServiceEntry', name: 'db', path: 'spec' });
    expect(refused.message).toMatch(/^The API server refuses the object: spec: Invalid value: "object": CIDR addresses are allowed only for NONE\/STATIC resolution types \(rule: .*STATIC.*\)$/);
    expect(refused.fix).toMatch(/^Change the value so that the CRD's rule holds: /);
    // The refused ServiceEntry is not in the index: no IST0134 (addresses) about it.
    expect(only(findings, 'IST0134')).toEqual([]);
  });

  test('CMA110: a misspelled field ("form" for "from") is pruned by the API server: reported with the likely spelling', () => {
    const findings = analyze(docs(BASE, policy('{ selector: { matchLabels: { app: reviews } }, rules: [{ form: [{ source: { principals: ["cluster.local/ns/shop/sa/web"] } }] }] }')));
    expect(only(findings, 'CMA110')).toEqual([expect.objectContaining({
      path: 'spec.rules[0].form',
      message: 'Unknown field "spec.rules[0].form": the API server prunes it (the object is stored without it), and kubectl apply, which validates strictly by default, refuses the object.',
      fix: 'Did you mean "from"? Fix the spelling, or remove the field.',
    })]);
  });

  test('CMA113: the same object in two files is one object, the last one, with every place named', () => {
    const vs = (subset: string) => `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: reviews, namespace: shop }\nspec: { hosts: [reviews], http: [{ route: [{ destination: { host: reviews, subset: ${subset} } }] }] }\n`;
    const manifests = [...MeshAnalysis.parseYaml(BASE), ...MeshAnalysis.parseYaml(vs('v1')), ...MeshAnalysis.parseYaml(vs('v2'))];
    const findings = MeshAnalysis.analyze(manifests);
    expect(only(findings, 'IST0109')).toEqual([]); // not a conflict with itself
    expect(only(findings, 'CMA113')).toEqual([expect.objectContaining({ name: 'reviews', message: expect.stringMatching(/is defined 2 times \(manifest 1, manifest 2\): .* the last one/) })]);
    // The last definition wins: its subset (v2) is the one reported missing.
    expect(only(findings, 'IST0101').map((f) => f.message)).toEqual([expect.stringContaining('"v2"')]);
  });

  test('a kind the analysis reads, from another API group, is not taken for it (nor validated: its group is unknown)', () => {
    const lookalike = 'apiVersion: example.com/v1\nkind: Service\nmetadata: { name: reviews, namespace: shop }\nspec: { ports: "not a list" }\n';
    const findings = MeshAnalysis.analyze(MeshAnalysis.parseYaml(lookalike));
    expect(findings.filter((f) => f.severity !== 'Info')).toEqual([]);
  });

  test('analyzeRefusedObjects analyzes refused objects too (as istioctl analyze does with files), still reporting them', () => {
    const vs = 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: r, namespace: shop }\nspec: { hosts: [reviews], http: [{ route: [{ destination: { host: missing } }], timeout: 0.5ms }] }\n';
    const manifests = MeshAnalysis.parseYaml(docs(BASE, vs));
    expect(only(MeshAnalysis.analyze(manifests), 'IST0101')).toEqual([]);
    const all = MeshAnalysis.analyze(manifests, { analyzeRefusedObjects: true });
    expect(only(all, 'IST0106')).toEqual([expect.objectContaining({ path: 'spec.http[0].timeout', message: expect.stringContaining('must be a valid duration greater than 1ms') })]);
    expect(only(all, 'IST0101')).toEqual([expect.objectContaining({ path: 'spec.http[0].route[0].destination.host' })]);
  });

  test("IST0106 from Istio's webhook: an AuthorizationPolicy path with * inside", () => {
    const findings = analyze(docs(BASE, policy('{ rules: [{ to: [{ operation: { paths: ["/api/*/items"] } }] }] }')));
    expect(only(findings, 'IST0106')).toEqual([expect.objectContaining({
      path: 'spec.rules[0].to[0].operation.paths[0]',
      message: expect.stringMatching(/^Istio's validating webhook refuses the object: path "\/api\/\*\/items" uses "\*" inside: only exact, prefix/),
    })]);
  });

  test('IST0133: a webhook warning (deprecated consecutiveErrors) admits the object', () => {
    const findings = analyze(docs(BASE, 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: reviews, namespace: shop }\nspec: { host: reviews, trafficPolicy: { outlierDetection: { consecutiveErrors: 5 } } }\n'));
    expect(only(findings, 'IST0133')).toEqual([expect.objectContaining({ path: 'spec.trafficPolicy.outlierDetection.consecutiveErrors', message: expect.stringContaining('deprecated, use consecutiveGatewayErrors or consecutive5xxErrors') })]);
  });
});

describe("Kiali's validations", () => {
  test('CMA115 (KIA0101): a source namespace that is a near miss of one the manifests define', () => {
    const findings = analyze(docs(BASE, policy('{ rules: [{ from: [{ source: { namespaces: ["shp", "monitoring"] } }] }] }')));
    expect(only(findings, 'CMA115')).toEqual([expect.objectContaining({
      path: 'spec.rules[0].from[0].source.namespaces[0]',
      message: 'Namespace "shp" does not exist in the manifests, which define "shop": the rule never matches a caller from it.',
      fix: 'Did you mean "shop"? Fix the namespace name, or create the Namespace.',
    })]);
  });

  test('CMA116 (KIA0004): a selector that selects no workload of its namespace', () => {
    const findings = analyze(docs(BASE, policy('{ selector: { matchLabels: { app: reveiws } }, rules: [{}] }')));
    expect(only(findings, 'CMA116')).toEqual([expect.objectContaining({
      path: 'spec.selector.matchLabels',
      message: 'No workload in namespace shop has the labels app=reveiws: this AuthorizationPolicy applies to nothing.',
    })]);
  });

  test('IST0110 (KIA0003): two Sidecars select the same workload', () => {
    const sidecar = (name: string, labels: string) => `apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: { name: ${name}, namespace: shop }\nspec: { workloadSelector: { labels: { ${labels} } }, egress: [{ hosts: ["./*"] }] }\n`;
    const findings = analyze(docs(BASE, sidecar('a', 'app: reviews'), sidecar('b', 'app: reviews')));
    expect(only(findings, 'IST0110').map((f) => [f.name, f.message])).toEqual([
      ['a', 'Deployment shop/reviews is selected by 2 Sidecars (shop/a, shop/b): which one applies is undefined.'],
      ['b', 'Deployment shop/reviews is selected by 2 Sidecars (shop/a, shop/b): which one applies is undefined.'],
    ]);
  });

  test('CMA117 (KIA0201): two DestinationRules for one host', () => {
    const dr = (name: string) => `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: ${name}, namespace: shop }\nspec: { host: reviews, subsets: [{ name: v1, labels: { app: reviews } }] }\n`;
    const findings = analyze(docs(BASE, dr('one'), dr('two')));
    expect(only(findings, 'CMA117').map((f) => f.message)).toEqual([
      'DestinationRule shop/two also configures host reviews.shop.svc.cluster.local, with the same subsets (v1): Istio merges only their subsets, and only the first rule\'s traffic policy applies.',
      'DestinationRule shop/one also configures host reviews.shop.svc.cluster.local, with the same subsets (v1): Istio merges only their subsets, and only the first rule\'s traffic policy applies.',
    ]);
  });

  test('CMA118: two ServiceEntries for one host and port', () => {
    const se = (name: string) => `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: { name: ${name}, namespace: shop }\nspec: { hosts: [api.example.com], ports: [{ number: 443, name: https, protocol: HTTPS }], resolution: DNS }\n`;
    const findings = analyze(docs(BASE, se('a'), se('b')));
    expect(only(findings, 'CMA118').map((f) => `${f.name}: ${f.message}`)).toEqual([
      'a: ServiceEntry shop/b also defines api.example.com:443: which entry\'s resolution, endpoints and ports apply is undefined.',
      'b: ServiceEntry shop/a also defines api.example.com:443: which entry\'s resolution, endpoints and ports apply is undefined.',
    ]);
  });

  test('CMA119 (KIA1004): a Sidecar egress host nothing defines', () => {
    const findings = analyze(docs(BASE, 'apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: { name: default, namespace: shop }\nspec: { egress: [{ hosts: ["./reviews", "./ratings", "istio-system/*"] }] }\n'));
    expect(only(findings, 'CMA119')).toEqual([expect.objectContaining({
      path: 'spec.egress[0].hosts[1]',
      message: 'No Service or ServiceEntry in namespace shop defines ratings.shop.svc.cluster.local: the egress entry imports nothing.',
    })]);
  });

  test('CMA120 (KIA0701): a Service targetPort no container exposes', () => {
    const findings = analyze(docs(namespace('shop'), service('shop', 'reviews', '[{ name: http, port: 80, targetPort: 8080 }, { name: grpc, port: 81, targetPort: grpc }]'),
      deployment('shop', 'reviews', { containerPort: 9080 })));
    expect(only(findings, 'CMA120').map((f) => [f.path, f.message])).toEqual([
      ['spec.ports[0].targetPort', 'No container of Deployment shop/reviews exposes port 8080: requests to port 80 reach nothing listening.'],
      ['spec.ports[1].targetPort', 'No container of Deployment shop/reviews has a port named "grpc": the Service has no endpoints for port 81.'],
    ]);
  });

  test('IST0101 (KIA1102): a gateway in http[].match[].gateways that does not exist', () => {
    const findings = analyze(docs(BASE, 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: reviews, namespace: shop }\nspec: { hosts: [reviews], http: [{ match: [{ gateways: [edge] }], route: [{ destination: { host: reviews } }] }] }\n'));
    expect(only(findings, 'IST0101')).toEqual([expect.objectContaining({ path: 'spec.http[0].match[0].gateways[0]', message: 'Referenced gateway not found: "edge" (no Gateway shop/edge); the match never applies.' })]);
  });

  test('CMA122 (KIA0005): exportTo naming a namespace that does not exist', () => {
    const findings = analyze(docs(BASE, 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: { name: api, namespace: shop }\nspec: { hosts: [api.example.com], exportTo: [".", "shpo"], ports: [{ number: 443, name: https, protocol: HTTPS }], resolution: DNS }\n'));
    expect(only(findings, 'CMA122')).toEqual([expect.objectContaining({ path: 'spec.exportTo[1]', fix: 'Did you mean "shop"? Fix the namespace, use "." (this namespace) or "*", or create the Namespace.' })]);
  });

  const peerAuth = (mode: string) => `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: { name: default, namespace: shop }\nspec: { mtls: { mode: ${mode} } }\n`;

  test('CMA123 (KIA0207): a mesh-wide DestinationRule (*.local) disabling TLS towards STRICT servers', () => {
    const dr = 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: plaintext, namespace: istio-system }\nspec: { host: "*.local", trafficPolicy: { tls: { mode: DISABLE } } }\n';
    const findings = analyze(docs(BASE, peerAuth('STRICT'), dr));
    expect(only(findings, 'CMA123')).toEqual([expect.objectContaining({
      name: 'plaintext',
      path: 'spec.trafficPolicy.tls.mode',
      message: 'tls mode DISABLE for every host of *.local contradicts the servers\' mTLS: shop/reviews:9080 (STRICT) (PeerAuthentication shop/default): plaintext connections to STRICT servers are refused.',
    })]);
    expect(only(analyze(docs(BASE, peerAuth('PERMISSIVE'), dr)), 'CMA123')).toEqual([]);
  });

  test('CMA124 (KIA0105): identity rules on workloads whose mTLS is disabled', () => {
    const findings = analyze(docs(BASE, peerAuth('DISABLE'), policy('{ selector: { matchLabels: { app: reviews } }, rules: [{ from: [{ source: { principals: ["cluster.local/ns/shop/sa/web"] } }] }] }')));
    expect(only(findings, 'CMA124')).toEqual([expect.objectContaining({
      path: 'spec.rules[0].from[0].source.principals',
      message: 'principals need mTLS, but mTLS is disabled on Deployment shop/reviews (PeerAuthentication shop/default): plaintext requests carry no identity, so this ALLOW rule matches none of them.',
    })]);
  });

  test('CMA125 (ISTIO-SECURITY-2021-004): a DENY by namespaces on PERMISSIVE workloads', () => {
    const findings = analyze(docs(BASE, peerAuth('PERMISSIVE'), policy('{ action: DENY, selector: { matchLabels: { app: reviews } }, rules: [{ from: [{ source: { namespaces: ["shop"] } }] }] }')));
    expect(only(findings, 'CMA125')).toEqual([expect.objectContaining({
      path: 'spec.rules[0].from[0].source.namespaces',
      message: expect.stringContaining('plaintext callers have no namespace, so they pass this rule (ISTIO-SECURITY-2021-004)'),
      fix: 'Deny by notNamespaces in an ALLOW policy instead, or make mTLS STRICT on those workloads.',
    })]);
    expect(only(analyze(docs(BASE, peerAuth('STRICT'), policy('{ action: DENY, selector: { matchLabels: { app: reviews } }, rules: [{ from: [{ source: { namespaces: ["shop"] } }] }] }'))), 'CMA125')).toEqual([]);
  });
});
