// Every check: a manifest that has the problem (asserting the code, object and field path) and its good twin
// (asserting the check stays silent).
import { deployment, docs, namespace, service } from './fixtures';
import { Finding, MeshAnalysis, Severity } from '../../src/analysis';

/** Namespace shop (sidecar-injected): Service reviews (port 9080) with version v1 and subset v1, and a caller web. */
const BASE = docs(
  namespace('shop'),
  service('shop', 'reviews', '[{ name: http, port: 9080 }]'),
  deployment('shop', 'reviews-v1', { labels: 'app: reviews, version: v1', serviceAccount: 'reviews', containerPort: 9080 }),
  deployment('shop', 'web', { serviceAccount: 'web' }),
  'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: reviews, namespace: shop }\nspec: { host: reviews.shop.svc.cluster.local, subsets: [{ name: v1, labels: { version: v1 } }] }\n',
);

const vs = (spec: string, name = 'reviews', extra = '') => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name}, namespace: shop${extra} }
spec:
${spec}`;

const route = (destination: string, more = '') => vs(`  hosts: [reviews]\n  http:\n  - route:\n    - destination: ${destination}\n${more}`);

const RA = 'apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: { name: jwt, namespace: shop }\nspec: { selector: { matchLabels: { app: reviews } }, jwtRules: [{ issuer: https://id.example.com, jwksUri: https://id.example.com/jwks.json }] }\n';
const STRICT = 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: { name: default, namespace: shop }\nspec: { mtls: { mode: STRICT } }\n';
const drTls = (mode: string) => `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: reviews-tls, namespace: shop }\nspec: { host: reviews, trafficPolicy: { tls: { mode: ${mode} } } }\n`;
const viewer = (principal: string) => `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: reviews-viewer, namespace: shop }\nspec: { selector: { matchLabels: { app: reviews } }, rules: [{ from: [{ source: { principals: ["${principal}"] } }] }] }\n`;
const AMBIENT = docs(namespace('mall', 'istio.io/dataplane-mode: ambient'), deployment('mall', 'cart'));
const cartPolicy = (rule: string) => `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: cart, namespace: mall }\nspec: { selector: { matchLabels: { app: cart } }, rules: [${rule}] }\n`;
const RATINGS = `${service('other', 'ratings', '[{ name: http, port: 9080 }]')}---${route('{ host: ratings.other.svc.cluster.local }')}\n`;
const sidecar = (hosts: string) => `apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: { name: default, namespace: shop }\nspec: { egress: [{ hosts: ${hosts} }] }\n`;

interface Case {
  readonly code: string;
  readonly title: string;
  readonly bad: string;
  readonly good: string;
  /** `Kind namespace/name path` of the expected finding. */
  readonly at: string;
  readonly message?: RegExp;
  readonly severity?: Severity;
  /** Mesh config for the good twin. */
  readonly goodMeshConfig?: any;
}

const CASES: Case[] = [
  {
    code: 'IST0101',
    title: 'destination host not found',
    bad: route('{ host: reviews-bogus }'),
    good: route('{ host: reviews }'),
    at: 'VirtualService shop/reviews spec.http[0].route[0].destination.host',
    message: /Referenced host not found: "reviews-bogus"/,
  },
  {
    code: 'IST0101',
    title: 'destination host:port not found',
    bad: route('{ host: reviews, port: { number: 9999 } }'),
    good: route('{ host: reviews.shop.svc.cluster.local, port: { number: 9080 } }'),
    at: 'VirtualService shop/reviews spec.http[0].route[0].destination.port.number',
    message: /exposes ports 9080/,
  },
  {
    code: 'IST0101',
    title: 'destination subset not found',
    bad: route('{ host: reviews, subset: v2 }'),
    good: route('{ host: reviews, subset: v1 }'),
    at: 'VirtualService shop/reviews spec.http[0].route[0].destination.subset',
    message: /its DestinationRules define v1/,
  },
  {
    code: 'IST0101',
    title: 'mirror host not found',
    bad: route('{ host: reviews }', '    mirror: { host: reviews-shadow }\n'),
    good: route('{ host: reviews }', '    mirror: { host: reviews, subset: v1 }\n'),
    at: 'VirtualService shop/reviews spec.http[0].mirror.host',
    message: /mirror host not found/,
  },
  {
    code: 'IST0101',
    title: 'gateway not found',
    bad: vs('  hosts: [shop.example.com]\n  gateways: [edge]\n  http: [{ route: [{ destination: { host: reviews } }] }]\n'),
    good: vs('  hosts: [shop.example.com]\n  gateways: [edge]\n  http: [{ route: [{ destination: { host: reviews } }] }]\n')
      + '---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: { name: edge, namespace: shop }\nspec: { selector: { istio: ingressgateway }, servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*.example.com"] }] }\n',
    at: 'VirtualService shop/reviews spec.gateways[0]',
    message: /Referenced gateway not found: "edge"/,
  },
  {
    code: 'IST0112',
    title: 'multi-port destination without a port',
    bad: route('{ host: ratings }') + '---\napiVersion: v1\nkind: Service\nmetadata: { name: ratings, namespace: shop }\nspec: { ports: [{ name: http, port: 80 }, { name: grpc, port: 81 }] }\n',
    good: route('{ host: ratings, port: { number: 81 } }') + '---\napiVersion: v1\nkind: Service\nmetadata: { name: ratings, namespace: shop }\nspec: { ports: [{ name: http, port: 80 }, { name: grpc, port: 81 }] }\n',
    at: 'VirtualService shop/reviews spec.http[0].route[0].destination',
    message: /several ports \(80, 81\)/,
  },
  {
    code: 'IST0109',
    title: 'two mesh VirtualServices for one host',
    bad: route('{ host: reviews }') + vs('  hosts: [reviews.shop.svc.cluster.local]\n  http: [{ route: [{ destination: { host: reviews } }] }]\n', 'reviews-timeout').replace(/^/, '---'),
    good: route('{ host: reviews }') + vs('  hosts: [reviews.shop.svc.cluster.local]\n  gateways: [edge]\n  http: [{ route: [{ destination: { host: reviews } }] }]\n', 'reviews-edge').replace(/^/, '---'),
    at: 'VirtualService shop/reviews spec.hosts[0]',
    message: /also defined by the mesh VirtualService shop\/reviews-timeout/,
  },
  {
    code: 'IST0130',
    title: 'a rule after a catch-all rule',
    bad: vs('  hosts: [reviews]\n  http:\n  - route: [{ destination: { host: reviews } }]\n  - match: [{ headers: { end-user: { exact: jason } } }]\n    route: [{ destination: { host: reviews } }]\n  - route: [{ destination: { host: reviews } }]\n'),
    good: vs('  hosts: [reviews]\n  http:\n  - match: [{ headers: { end-user: { exact: jason } } }]\n    route: [{ destination: { host: reviews } }]\n  - route: [{ destination: { host: reviews } }]\n'),
    at: 'VirtualService shop/reviews spec.http[2]',
    message: /only the last rule may have no match/,
  },
  {
    code: 'IST0131',
    title: 'a match covered by an earlier prefix',
    bad: vs('  hosts: [reviews]\n  http:\n  - match: [{ uri: { prefix: /api } }]\n    route: [{ destination: { host: reviews } }]\n  - match: [{ uri: { prefix: /api/v1 } }]\n    route: [{ destination: { host: reviews } }]\n'),
    good: vs('  hosts: [reviews]\n  http:\n  - match: [{ uri: { prefix: /api/v1 } }]\n    route: [{ destination: { host: reviews } }]\n  - match: [{ uri: { prefix: /api } }]\n    route: [{ destination: { host: reviews } }]\n'),
    at: 'VirtualService shop/reviews spec.http[1].match[0]',
    message: /prefix \/api\) of rule #0 comes first and covers it/,
  },
  {
    code: 'IST0132',
    title: 'VirtualService host not served by its Gateway',
    bad: vs('  hosts: [shop.example.org]\n  gateways: [edge]\n  http: [{ route: [{ destination: { host: reviews } }] }]\n')
      + '---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: { name: edge, namespace: shop }\nspec: { selector: { istio: ingressgateway }, servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*.example.com"] }] }\n',
    good: vs('  hosts: [shop.example.com]\n  gateways: [edge]\n  http: [{ route: [{ destination: { host: reviews } }] }]\n')
      + '---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: { name: edge, namespace: shop }\nspec: { selector: { istio: ingressgateway }, servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["shop/*.example.com"] }] }\n',
    at: 'VirtualService shop/reviews spec.gateways[0]',
    message: /None of the hosts \[shop\.example\.org\] .* served by Gateway shop\/edge \(it accepts \*\.example\.com/,
  },
  {
    code: 'IST0165',
    title: 'reference to a generated internal Gateway',
    bad: vs('  hosts: [shop.example.com]\n  gateways: ["istio-ingress/gateway~istio-autogenerated-k8s-gateway~http"]\n  http: [{ route: [{ destination: { host: reviews } }] }]\n'),
    good: vs('  hosts: [reviews]\n  gateways: [mesh]\n  http: [{ route: [{ destination: { host: reviews } }] }]\n'),
    at: 'VirtualService shop/reviews spec.gateways[0]',
  },
  {
    code: 'IST0140',
    title: 'gateway route without subset to a host routed by subset',
    bad: route('{ host: reviews, subset: v1 }') + vs('  hosts: [shop.example.com]\n  gateways: [edge]\n  http: [{ route: [{ destination: { host: reviews } }] }]\n', 'edge').replace(/^/, '---'),
    good: route('{ host: reviews, subset: v1 }') + vs('  hosts: [shop.example.com]\n  gateways: [edge]\n  http: [{ route: [{ destination: { host: reviews, subset: v1 } }] }]\n', 'edge').replace(/^/, '---'),
    at: 'VirtualService shop/edge spec.http[0].route[0].destination',
    message: /routes reviews\.shop\.svc\.cluster\.local by subset/,
  },
  {
    code: 'IST0002',
    title: 'deprecated fault.delay.percent',
    bad: route('{ host: reviews }', '    fault: { delay: { percent: 50, fixedDelay: 7s } }\n'),
    good: route('{ host: reviews }', '    fault: { delay: { percentage: { value: 50 }, fixedDelay: 7s } }\n'),
    at: 'VirtualService shop/reviews spec.http[0].fault.delay.percent',
  },
  {
    code: 'IST0128',
    title: 'SIMPLE TLS without caCertificates',
    bad: 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: db, namespace: shop }\nspec: { host: db.example.com, trafficPolicy: { tls: { mode: SIMPLE } } }\n',
    good: 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: db, namespace: shop }\nspec: { host: db.example.com, trafficPolicy: { tls: { mode: SIMPLE, caCertificates: /etc/ca.pem } } }\n',
    at: 'DestinationRule shop/db spec.trafficPolicy.tls',
  },
  {
    code: 'IST0129',
    title: 'port-level MUTUAL TLS without caCertificates',
    bad: 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: db, namespace: shop }\nspec: { host: db.example.com, trafficPolicy: { portLevelSettings: [{ port: { number: 443 }, tls: { mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem } }] } }\n',
    good: 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: db, namespace: shop }\nspec: { host: db.example.com, workloadSelector: { matchLabels: { app: egress } }, trafficPolicy: { portLevelSettings: [{ port: { number: 443 }, tls: { mode: MUTUAL, credentialName: db-cert } }] } }\n',
    at: 'DestinationRule shop/db spec.trafficPolicy.portLevelSettings[0].tls',
  },
  {
    code: 'IST0174',
    title: 'DestinationRule for an unknown host',
    bad: 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: ratings, namespace: shop }\nspec: { host: ratings }\n',
    good: 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: reviews-lb, namespace: shop }\nspec: { host: reviews, trafficPolicy: { loadBalancer: { simple: LEAST_REQUEST } } }\n',
    at: 'DestinationRule shop/ratings spec.host',
  },
  {
    code: 'IST0173',
    title: 'subset selecting no pod template',
    bad: 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: reviews-v2, namespace: shop }\nspec: { host: reviews, subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }] }\n',
    good: 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: reviews-v2, namespace: shop }\nspec: { host: reviews, subsets: [{ name: v1, labels: { version: v1 } }] }\n',
    at: 'DestinationRule shop/reviews-v2 spec.subsets[1]',
    message: /Subset "v2" .* selects no pod of Service shop\/reviews/,
  },
  {
    code: 'IST0145',
    title: 'Gateways with the same workload, port and host',
    bad: ['a', 'b'].map((n) => `apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: { name: ${n}, namespace: shop }\nspec: { selector: { istio: ingressgateway }, servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: [shop.example.com] }] }\n`).join('---\n'),
    good: ['a', 'b'].map((n) => `apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: { name: ${n}, namespace: shop }\nspec: { selector: { istio: ingressgateway }, servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: [${n}.example.com] }] }\n`).join('---\n'),
    at: 'Gateway shop/a spec.servers[0]',
    message: /Conflicts with Gateway shop\/b/,
  },
  {
    code: 'IST0138',
    title: 'one certificate on two Gateways',
    bad: ['a', 'b'].map((n) => `apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: { name: ${n}, namespace: shop }\nspec: { selector: { istio: ingressgateway }, servers: [{ port: { number: 443, name: https, protocol: HTTPS }, tls: { mode: SIMPLE, credentialName: wildcard }, hosts: [${n}.example.com] }] }\n`).join('---\n'),
    good: ['a', 'b'].map((n) => `apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: { name: ${n}, namespace: shop }\nspec: { selector: { istio: ingressgateway }, servers: [{ port: { number: 443, name: https, protocol: HTTPS }, tls: { mode: SIMPLE, credentialName: ${n}-cert }, hosts: [${n}.example.com] }] }\n`).join('---\n'),
    at: 'Gateway shop/a spec.servers[0].tls',
  },
  {
    code: 'IST0118',
    title: 'Service port without a protocol in its name',
    bad: 'apiVersion: v1\nkind: Service\nmetadata: { name: ratings, namespace: shop }\nspec: { ports: [{ name: web, port: 8080 }] }\n',
    good: 'apiVersion: v1\nkind: Service\nmetadata: { name: ratings, namespace: shop }\nspec: { ports: [{ name: web, port: 8080, appProtocol: http }, { name: http-admin, port: 8081 }, { port: 3306 }] }\n',
    at: 'Service shop/ratings spec.ports[0]',
  },
  {
    code: 'IST0150',
    title: 'ExternalName Service port named tcp',
    bad: 'apiVersion: v1\nkind: Service\nmetadata: { name: db, namespace: shop }\nspec: { type: ExternalName, externalName: db.example.com, ports: [{ name: tcp, port: 5432 }] }\n',
    good: 'apiVersion: v1\nkind: Service\nmetadata: { name: db, namespace: shop }\nspec: { type: ExternalName, externalName: db.example.com, ports: [{ name: tcp-postgres, port: 5432 }] }\n',
    at: 'Service shop/db spec.ports[0]',
  },
  {
    code: 'IST0116',
    title: 'one port with two protocols on one workload',
    bad: 'apiVersion: v1\nkind: Service\nmetadata: { name: reviews-udp, namespace: shop }\nspec: { selector: { app: reviews }, ports: [{ name: udp, port: 9080, protocol: UDP }] }\n',
    good: 'apiVersion: v1\nkind: Service\nmetadata: { name: reviews-udp, namespace: shop }\nspec: { selector: { app: reviews }, ports: [{ name: udp, port: 9081, protocol: UDP }] }\n',
    at: 'Deployment shop/reviews-v1 spec.template.metadata.labels',
    message: /shop\/reviews \(TCP\), shop\/reviews-udp \(UDP\)/,
  },
  {
    code: 'IST0137',
    title: 'one targetPort behind two ports',
    bad: 'apiVersion: v1\nkind: Service\nmetadata: { name: reviews-alt, namespace: shop }\nspec: { selector: { app: reviews }, ports: [{ name: http, port: 80, targetPort: 9080 }] }\n',
    good: 'apiVersion: v1\nkind: Service\nmetadata: { name: reviews-alt, namespace: shop }\nspec: { selector: { app: reviews }, ports: [{ name: http, port: 9080, targetPort: 9080 }] }\n',
    at: 'Deployment shop/reviews-v1 spec.template.metadata.labels',
    message: /targetPort 9080 from different ports/,
  },
  {
    code: 'IST0144',
    title: 'application running as UID 1337',
    bad: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: batch, namespace: shop }\nspec: { selector: { matchLabels: { app: batch } }, template: { metadata: { labels: { app: batch } }, spec: { containers: [{ name: batch, image: b, securityContext: { runAsUser: 1337 } }] } } }\n',
    good: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: batch, namespace: shop }\nspec: { selector: { matchLabels: { app: batch } }, template: { metadata: { labels: { app: batch } }, spec: { containers: [{ name: batch, image: b, securityContext: { runAsUser: 1000 } }] } } }\n',
    at: 'Deployment shop/batch spec.template.spec.containers[0].securityContext.runAsUser',
  },
  {
    code: 'IST0134',
    title: 'TCP ServiceEntry without addresses',
    bad: 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: { name: db, namespace: shop }\nspec: { hosts: [db.example.com], ports: [{ number: 5432, name: tcp, protocol: TCP }], resolution: DNS }\n',
    good: 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: { name: db, namespace: shop }\nspec: { hosts: [db.example.com], addresses: [240.0.0.10], ports: [{ number: 5432, name: tcp, protocol: TCP }], resolution: DNS }\n',
    at: 'ServiceEntry shop/db spec.ports[0]',
  },
  {
    code: 'IST0151',
    title: 'relative EnvoyFilter patch without priority',
    bad: 'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: { name: lua, namespace: shop }\nspec: { configPatches: [{ applyTo: HTTP_FILTER, patch: { operation: INSERT_BEFORE, value: { name: envoy.lua } } }] }\n',
    good: 'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: { name: lua, namespace: shop }\nspec: { priority: 10, configPatches: [{ applyTo: HTTP_FILTER, patch: { operation: INSERT_BEFORE, value: { name: envoy.lua } } }] }\n',
    at: 'EnvoyFilter shop/lua spec.configPatches[0]',
  },
  {
    code: 'IST0152',
    title: 'REPLACE on a CLUSTER',
    bad: 'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: { name: c, namespace: shop }\nspec: { priority: 1, configPatches: [{ applyTo: CLUSTER, patch: { operation: REPLACE, value: { name: c } } }] }\n',
    good: 'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: { name: c, namespace: shop }\nspec: { priority: 1, configPatches: [{ applyTo: CLUSTER, patch: { operation: MERGE, value: { name: c } } }] }\n',
    at: 'EnvoyFilter shop/c spec.configPatches[0]',
  },
  {
    code: 'IST0153',
    title: 'ADD on ROUTE_CONFIGURATION',
    bad: 'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: { name: r, namespace: shop }\nspec: { configPatches: [{ applyTo: ROUTE_CONFIGURATION, patch: { operation: ADD, value: { name: r } } }] }\n',
    good: 'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: { name: r, namespace: shop }\nspec: { configPatches: [{ applyTo: ROUTE_CONFIGURATION, patch: { operation: MERGE, value: { name: r } } }] }\n',
    at: 'EnvoyFilter shop/r spec.configPatches[0]',
  },
  {
    code: 'IST0154',
    title: 'REMOVE on HTTP_ROUTE',
    bad: 'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: { name: r, namespace: shop }\nspec: { configPatches: [{ applyTo: HTTP_ROUTE, patch: { operation: REMOVE } }] }\n',
    good: 'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: { name: r, namespace: shop }\nspec: { priority: 5, configPatches: [{ applyTo: NETWORK_FILTER, patch: { operation: REMOVE } }] }\n',
    at: 'EnvoyFilter shop/r spec.configPatches[0]',
  },
  {
    code: 'IST0155',
    title: 'relative patch on a filter a proxyVersion patch names',
    bad: 'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: { name: v, namespace: shop }\nspec: { configPatches: [{ applyTo: HTTP_FILTER, match: { proxy: { proxyVersion: "^1\\\\.30.*" } }, patch: { operation: INSERT_AFTER, value: { name: envoy.lua } } }, { applyTo: HTTP_FILTER, patch: { operation: REPLACE, value: { name: envoy.lua } } }] }\n',
    good: 'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: { name: v, namespace: shop }\nspec: { priority: 1, configPatches: [{ applyTo: HTTP_FILTER, match: { proxy: { proxyVersion: "^1\\\\.30.*" } }, patch: { operation: INSERT_AFTER, value: { name: envoy.lua } } }, { applyTo: HTTP_FILTER, patch: { operation: REPLACE, value: { name: envoy.lua } } }] }\n',
    at: 'EnvoyFilter shop/v spec.configPatches[1]',
  },
  {
    code: 'IST0157',
    title: 'access logging without a provider',
    bad: 'apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: { name: logs, namespace: shop }\nspec: { accessLogging: [{ filter: { expression: "response.code >= 400" } }] }\n',
    good: 'apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: { name: logs, namespace: shop }\nspec: { accessLogging: [{ filter: { expression: "response.code >= 400" } }] }\n',
    goodMeshConfig: { defaultProviders: { accessLogging: ['envoy'] } },
    at: 'Telemetry shop/logs spec.accessLogging[0]',
  },
  {
    code: 'IST0160',
    title: 'two namespace-wide Telemetries',
    bad: ['a', 'b'].map((n) => `apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: { name: ${n}, namespace: shop }\nspec: { tracing: [{ randomSamplingPercentage: 10 }] }\n`).join('---\n'),
    good: ['a', 'b'].map((n) => `apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: { name: ${n}, namespace: shop }\nspec: { ${n === 'b' ? 'selector: { matchLabels: { app: web } }, ' : ''}tracing: [{ randomSamplingPercentage: 10 }] }\n`).join('---\n'),
    at: 'Telemetry shop/a spec.selector',
  },
  {
    code: 'IST0111',
    title: 'two namespace-wide Sidecars',
    bad: ['a', 'b'].map((n) => `apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: { name: ${n}, namespace: shop }\nspec: { egress: [{ hosts: ["./*", "istio-system/*"] }] }\n`).join('---\n'),
    good: ['a', 'b'].map((n) => `apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: { name: ${n}, namespace: shop }\nspec: { ${n === 'b' ? 'workloadSelector: { labels: { app: web } }, ' : ''}egress: [{ hosts: ["./*", "istio-system/*"] }] }\n`).join('---\n'),
    at: 'Sidecar shop/a spec.workloadSelector',
  },
  {
    code: 'IST0123',
    title: 'two injection labels on a Namespace',
    bad: 'apiVersion: v1\nkind: Namespace\nmetadata: { name: legacy, labels: { istio-injection: enabled, istio.io/rev: canary } }\n',
    good: 'apiVersion: v1\nkind: Namespace\nmetadata: { name: legacy, labels: { istio.io/rev: canary } }\n',
    at: 'Namespace legacy metadata.labels',
  },
  {
    code: 'IST0102',
    title: 'Namespace not enabled for injection',
    bad: 'apiVersion: v1\nkind: Namespace\nmetadata: { name: legacy }\n',
    good: 'apiVersion: v1\nkind: Namespace\nmetadata: { name: legacy, labels: { istio.io/dataplane-mode: ambient } }\n',
    at: 'Namespace legacy metadata.labels',
  },
  {
    code: 'IST0175',
    title: 'RequestAuthentication with an unrestricted istiod',
    bad: 'apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: { name: jwt, namespace: shop }\nspec: { jwtRules: [{ issuer: https://id.example.com }] }\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: { name: istiod, namespace: istio-system, labels: { app: istiod } }\nspec: { selector: { matchLabels: { app: istiod } }, template: { metadata: { labels: { app: istiod } }, spec: { containers: [{ name: discovery, image: pilot }] } } }\n',
    good: 'apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: { name: jwt, namespace: shop }\nspec: { jwtRules: [{ issuer: https://id.example.com }] }\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: { name: istiod, namespace: istio-system, labels: { app: istiod } }\nspec: { selector: { matchLabels: { app: istiod } }, template: { metadata: { labels: { app: istiod } }, spec: { containers: [{ name: discovery, image: pilot, env: [{ name: BLOCKED_CIDRS_IN_JWKS_URIS, value: 10.0.0.0/8 }] }] } } }\n',
    at: 'Deployment istio-system/istiod spec.template.spec.containers[0].env',
  },
  {
    code: 'CMA101',
    title: 'RequestAuthentication without a policy that requires a token',
    bad: RA,
    good: `${RA}---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: require-jwt, namespace: shop }\nspec: { selector: { matchLabels: { app: reviews } }, rules: [{ from: [{ source: { requestPrincipals: ["*"] } }] }] }\n`,
    at: 'RequestAuthentication shop/jwt spec.jwtRules',
    message: /Deployment shop\/reviews-v1 requires a request principal/,
  },
  {
    code: 'CMA102',
    title: 'TLS disabled towards a STRICT mTLS workload',
    bad: `${STRICT}---\n${drTls('DISABLE')}`,
    good: `${STRICT}---\n${drTls('ISTIO_MUTUAL')}`,
    at: 'DestinationRule shop/reviews-tls spec.trafficPolicy.tls.mode',
    severity: Severity.ERROR,
    message: /requires STRICT mTLS \(PeerAuthentication shop\/default\)/,
  },
  {
    code: 'CMA102',
    title: 'the caller\'s own TLS towards an in-mesh workload',
    bad: drTls('SIMPLE'),
    good: 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: db, namespace: shop }\nspec: { host: db.example.com, trafficPolicy: { tls: { mode: SIMPLE, caCertificates: /ca.pem } } }\n',
    at: 'DestinationRule shop/reviews-tls spec.trafficPolicy.tls.mode',
    severity: Severity.WARNING,
    message: /is PERMISSIVE/,
  },
  {
    code: 'CMA103',
    title: 'retries beyond the route timeout',
    bad: route('{ host: reviews }', '    timeout: 1s\n    retries: { attempts: 2, perTryTimeout: 500ms }\n'),
    good: route('{ host: reviews }', '    timeout: 1.5s\n    retries: { attempts: 2, perTryTimeout: 0.5s }\n'),
    at: 'VirtualService shop/reviews spec.http[0].retries',
    message: /The first try and 2 retries of up to perTryTimeout 500ms take up to 1\.5s, more than the route timeout 1s/,
  },
  {
    code: 'CMA104',
    title: 'fault injection and retries on one route',
    bad: route('{ host: reviews }', '    fault: { abort: { httpStatus: 500, percentage: { value: 10 } } }\n    retries: { attempts: 2 }\n'),
    good: route('{ host: reviews }', '    fault: { abort: { httpStatus: 500, percentage: { value: 10 } } }\n'),
    at: 'VirtualService shop/reviews spec.http[0].retries',
  },
  {
    code: 'CMA105',
    title: 'a principal naming a service account no workload uses',
    bad: viewer('cluster.local/ns/shop/sa/webb'),
    good: viewer('spiffe://cluster.local/ns/shop/sa/web'),
    at: 'AuthorizationPolicy shop/reviews-viewer spec.rules[0].from[0].source.principals[0]',
    message: /names service account webb in namespace shop, which no workload in the manifests runs as/,
  },
  {
    code: 'CMA106',
    title: 'a Service nothing may call',
    bad: 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: allow-nothing, namespace: shop }\nspec: { selector: { matchLabels: { app: reviews } } }\n',
    good: viewer('cluster.local/ns/shop/sa/web'),
    at: 'Service shop/reviews metadata.name',
    message: /AuthorizationPolicy shop\/allow-nothing allows nothing/,
  },
  {
    code: 'CMA107',
    title: 'an L7 policy on ambient workloads without a waypoint',
    bad: `${AMBIENT}---\n${cartPolicy('{ to: [{ operation: { methods: ["GET"] } }] }')}`,
    good: `${AMBIENT}---\n${cartPolicy('{ from: [{ source: { namespaces: ["mall"] } }], to: [{ operation: { ports: ["80"] } }] }')}`,
    at: 'AuthorizationPolicy mall/cart spec.rules[0]',
    message: /HTTP attributes \(to\.operation\.methods\) on ambient workloads/,
  },
  {
    code: 'CMA108',
    title: 'a Sidecar that does not import a routed host',
    bad: `${RATINGS}---\n${sidecar('["./*"]')}`,
    good: `${RATINGS}---\n${sidecar('["./*", "other/*"]')}`,
    at: 'Sidecar shop/default spec.egress',
    message: /do not import other\/ratings\.other\.svc\.cluster\.local, which VirtualService shop\/reviews \(for reviews\.shop\.svc\.cluster\.local\) uses/,
  },
];

const analyze = (yaml: string, meshConfig?: any) => MeshAnalysis.analyze(MeshAnalysis.parseYaml(`${BASE}---\n${yaml}`), { meshConfig });
const where = (f: Finding) => `${f.kind} ${f.namespaceName ? `${f.namespaceName}/` : ''}${f.name} ${f.path}`;

describe.each(CASES)('$code $title', (c) => {
  test('reports the problem at its field', () => {
    const found = analyze(c.bad).filter((f) => f.code === c.code);
    expect(found.map(where)).toContain(c.at);
    const f = found.find((x) => where(x) === c.at)!;
    if (c.message) expect(f.message).toMatch(c.message);
    if (c.severity) expect(f.severity).toBe(c.severity);
    expect(f.fix.length).toBeGreaterThan(10);
  });
  test('is silent on the good twin', () => {
    expect(analyze(c.good, c.goodMeshConfig).filter((f) => f.code === c.code).map(where)).toEqual([]);
  });
});

test('IST0002: a Lightstep tracing provider of the mesh config is deprecated', () => {
  const telemetry = 'apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: { name: tracing, namespace: istio-system }\nspec: { tracing: [{ providers: [{ name: ls }] }] }\n';
  expect(analyze(telemetry, { extensionProviders: [{ name: 'ls', lightstep: { service: 'l', port: 443 } }] }).filter((f) => f.code === 'IST0002').map(where))
    .toEqual(['Telemetry istio-system/tracing spec.tracing[0].providers[0].name']);
  expect(analyze(telemetry, { extensionProviders: [{ name: 'ls', opentelemetry: { service: 'o', port: 4317 } }] }).filter((f) => f.code === 'IST0002')).toEqual([]);
});
