// Every declaration is a promise the synthesized YAML must keep (issue 14, part 1): each test breaks one kind of
// declaration's promise with a JSON patch of the output, as a hand edit or an escape hatch would, and asserts the
// error names the code, the declaring construct's path, the request and the step of the trace that broke it.
import { ApiObject, Chart, JsonPatch, Testing } from 'cdk8s';
import {
  AuthorizationMode, ExternalPort, ExternalService, HttpMethod, IngressGateway, JwtAuth, Mesh, MeshService, MtlsMode, MtlsPolicy, PathMatch,
  RoutingApi,
} from '../../src';

const ISSUER = 'https://id.example.com';

function shop(props: { authorization?: AuthorizationMode; checkDeclarations?: boolean; routingApi?: RoutingApi } = {}) {
  const chart = Testing.chart();
  const mesh = new Mesh(chart, 'mesh', {
    namespaceName: 'shop', authorization: props.authorization ?? AuthorizationMode.DEFAULT_DENY, checkDeclarations: props.checkDeclarations, routingApi: props.routingApi,
  });
  const api = new MeshService(chart, 'api', { mesh, image: 'example/api:1', port: 8080 });
  const web = new MeshService(chart, 'web', { mesh, image: 'example/web:1', port: 8080 });
  return { chart, mesh, api, web };
}

const patch = (object: ApiObject | undefined, ...patches: JsonPatch[]) => ApiObject.of(object!).addJsonPatch(...patches);
const synth = (chart: Chart) => () => Testing.synth(chart);

describe('declarations are proven on the synthesized output', () => {
  test('routeTraffic (CM228): the declared weights are the weights traced', () => {
    const { chart, api } = shop({ authorization: AuthorizationMode.NONE });
    const v2 = api.addVersion('v2', { image: 'example/api:2' });
    api.routeTraffic({ destinations: [{ version: api.defaultVersion, weight: 90 }, { version: v2, weight: 10 }] });
    expect(synth(chart)).not.toThrow();
    patch(api.virtualService, JsonPatch.replace('/spec/http/0/route/0/weight', 50), JsonPatch.replace('/spec/http/0/route/1/weight', 50));
    expect(synth(chart)).toThrow(/\[test\/api\/Route1\] CM228 Route not kept by the output: the catch-all route of service "api" promises that GET \/ from cluster\.local\/ns\/shop\/sa\/default to api\.shop\.svc\.cluster\.local:8080 goes to v1 90%, v2 10%, but traced, rule spec\.http\[0\] of VirtualService api sends it to v1:50, v2:50 instead of v1:90, v2:10/);
  });

  test('allowFrom (CM332): the declared method is admitted, and under default-deny another one is refused', () => {
    const { chart, api, web } = shop();
    const policy = api.allowFrom(web, { methods: [HttpMethod.GET] });
    expect(synth(chart)).not.toThrow();
    // A widened rule: without `to`, every method gets through.
    patch(policy.apiObject, JsonPatch.remove('/spec/rules/0/to'));
    expect(synth(chart)).toThrow(/\[test\/api\/AllowFrom\] CM332 Permission not kept by the output: api\.allowFrom\(web, \{ methods: GET \}\) promises that DELETE \/ from shop\/web to shop\/api is refused \(DELETE is not declared\), but traced, it is admitted: rule 0 of AuthorizationPolicy shop\/api-allow matches it/);
  });

  test('allowFrom (CM332): a rule naming another identity refuses the declared caller', () => {
    const { chart, api, web } = shop();
    const policy = api.allowFrom(web, { methods: [HttpMethod.GET] });
    patch(policy.apiObject, JsonPatch.replace('/spec/rules/0/from/0/source/principals/0', 'cluster.local/ns/shop/sa/someone-else'));
    expect(synth(chart)).toThrow(/\[test\/api\/AllowFrom\] CM332 Permission not kept by the output: api\.allowFrom\(web, \{ methods: GET \}\) promises that GET \/ from shop\/web to shop\/api gets through and is admitted, but traced, it ends FORBIDDEN \(403\) at step AUTHORIZATION/);
  });

  test("allowFrom (CM332): the call gets through the caller's proxy too (what CM240 checks for callsTo alone)", () => {
    const { chart, api, web } = shop();
    api.allowFrom(web, { methods: [HttpMethod.GET] });
    patch(web.sidecar, JsonPatch.replace('/spec/egress/0/hosts', ['istio-system/*']));
    expect(synth(chart)).toThrow(/\[test\/api\/AllowFrom\] CM332 Permission not kept by the output: api\.allowFrom\(web, \{ methods: GET \}\) promises that GET \/ from shop\/web to shop\/api gets through and is admitted, but traced, it ends BAD_GATEWAY \(502\) at step EGRESS: sidecar of Deployment shop\/web-v1/);
  });

  test('JwtAuth.protect (CM333): a valid token of the issuer is not refused by the requirement', () => {
    const { chart, mesh, api, web } = shop();
    api.allowFrom(web);
    const jwt = new JwtAuth(chart, 'jwt', { mesh, issuers: [{ issuer: ISSUER, jwksUri: `${ISSUER}/jwks.json` }] });
    const policy = jwt.protect(api, { exceptPaths: ['/healthz'] });
    expect(synth(chart)).not.toThrow();
    // The DENY now refuses every token but another issuer's.
    patch(policy.apiObject, JsonPatch.replace('/spec/rules/0/from/0/source/notRequestPrincipals', ['https://other.example.com/*']));
    expect(synth(chart)).toThrow(/\[test\/jwt\/api-require-jwt\] CM333 Token requirement not kept by the output: the JWT requirement api-require-jwt promises that GET \/ from shop\/web to shop\/api with a token of https:\/\/id\.example\.com is not refused by the requirement, but traced, it ends FORBIDDEN \(403\) at step AUTHORIZATION: sidecar of Deployment shop\/api-v1: denied by rule 0 of AuthorizationPolicy shop\/api-require-jwt \(DENY\) \(a DENY or CUSTOM rule refuses it: the request must not match it\)/);
  });

  test('JwtAuth.protect (CM333): an open path stays open', () => {
    const { chart, mesh, api, web } = shop();
    api.allowFrom(web);
    const jwt = new JwtAuth(chart, 'jwt', { mesh, issuers: [{ issuer: ISSUER, jwksUri: `${ISSUER}/jwks.json` }] });
    const policy = jwt.protect(api, { exceptPaths: ['/healthz'] });
    patch(policy.apiObject, JsonPatch.remove('/spec/rules/0/to'));
    expect(synth(chart)).toThrow(/CM333 Token requirement not kept by the output: the JWT requirement api-require-jwt promises that GET \/healthz from shop\/web to shop\/api is not refused by the requirement \(the path is open\), but traced, it ends FORBIDDEN \(403\) at step AUTHORIZATION/);
  });

  test("the Mesh's mtlsMode (CM334): STRICT refuses a plaintext client", () => {
    const { chart, mesh } = shop({ authorization: AuthorizationMode.NONE });
    expect(synth(chart)).not.toThrow();
    patch(mesh.peerAuthentication, JsonPatch.replace('/spec/mtls/mode', 'PERMISSIVE'));
    expect(synth(chart)).toThrow(/\[test\/mesh\] CM334 Mutual TLS not kept by the output: the mesh's mtlsMode STRICT \(namespace "shop"\) promises that GET \/ from outside the mesh to shop\/api-v1:8080 is refused \(STRICT: plaintext is not accepted\), but traced, it is admitted with no mTLS step refusing plaintext/);
  });

  test('MtlsPolicy (CM334): a workload exception to PERMISSIVE accepts plaintext', () => {
    const { chart, mesh, api } = shop({ authorization: AuthorizationMode.NONE });
    const policy = new MtlsPolicy(chart, 'legacy', { mesh, target: api, mode: MtlsMode.PERMISSIVE });
    expect(synth(chart)).not.toThrow();
    patch(policy.peerAuthentication, JsonPatch.replace('/spec/selector/matchLabels/app', 'nothing'));
    expect(synth(chart)).toThrow(/\[test\/legacy\] CM334 Mutual TLS not kept by the output: the mTLS policy shop\/api \(PERMISSIVE\) promises that GET \/ from outside the mesh to shop\/api-v1:8080 gets past mutual TLS \(PERMISSIVE: plaintext is accepted\), but traced, it ends .* at step MTLS/);
  });

  test('exposeViaGateway (CM506): each exposed path reaches the service', () => {
    const { chart, mesh, api, web } = shop();
    const gateway = new IngressGateway(chart, 'gateway', { mesh, hosts: ['shop.example.com'] });
    web.exposeViaGateway(gateway);
    api.exposeViaGateway(gateway, { paths: [PathMatch.prefix('/api')] });
    expect(synth(chart)).not.toThrow();
    // The `/api` rule sent to web instead.
    patch(gateway.virtualServices[0], JsonPatch.replace('/spec/http/0/route/0/destination/host', 'web.shop.svc.cluster.local'));
    expect(synth(chart)).toThrow(/\[test\/api\] CM506 Gateway exposure not kept by the output: api\.exposeViaGateway\(gateway\) promises that GET shop\.example\.com\/api through gateway shop\/gateway reaches service "api", but traced, rule spec\.http\[0\]\.match\[0\] of VirtualService shop\/gateway sends it to web\.shop\.svc\.cluster\.local/);
  });

  test('exposeViaGateway (CM506) with the Gateway API: the HTTPRoute bound to the Gateway, and the gateway\'s -istio identity', () => {
    const { chart, mesh, api, web } = shop({ routingApi: RoutingApi.GATEWAY_API });
    const gateway = new IngressGateway(chart, 'gateway', { mesh, hosts: ['shop.example.com'] });
    web.exposeViaGateway(gateway);
    api.exposeViaGateway(gateway, { paths: [PathMatch.pathPrefix('/api')] });
    expect(synth(chart)).not.toThrow();
    // The `/api` rule sent to web instead.
    const route = gateway.gatewayApiRoutes[0];
    patch(route, JsonPatch.replace('/spec/rules/0/backendRefs/0/name', 'web'));
    expect(synth(chart)).toThrow(/\[test\/api\] CM506 Gateway exposure not kept by the output: api\.exposeViaGateway\(gateway\) promises that GET shop\.example\.com\/api through gateway shop\/gateway reaches service "api", but traced, rule spec\.rules\[0\]\.matches\[0\] of HTTPRoute shop\/gateway sends it to web\.shop\.svc\.cluster\.local/);

    // The admission of the gateway's identity (Istio deploys it as ServiceAccount gateway-istio) taken away.
    const second = shop({ routingApi: RoutingApi.GATEWAY_API });
    const gw2 = new IngressGateway(second.chart, 'gateway', { mesh: second.mesh, hosts: ['shop.example.com'] });
    second.api.exposeViaGateway(gw2);
    expect(synth(second.chart)).not.toThrow();
    const allow = second.chart.node.findAll().find((c) => ApiObject.isApiObject(c) && c.kind === 'AuthorizationPolicy' && c.name === 'api-allow') as ApiObject;
    patch(allow, JsonPatch.replace('/spec/rules/0/from/0/source/principals/0', 'cluster.local/ns/shop/sa/gateway'));
    expect(synth(second.chart)).toThrow(/\[test\/api\] CM506 .* through gateway shop\/gateway reaches service "api", but traced, it ends FORBIDDEN \(403\) at step AUTHORIZATION/);
  });

  test('ExternalService (CM517): a declared caller gets out, a service that declared no call does not', () => {
    const { chart, mesh, api, web } = shop({ authorization: AuthorizationMode.NONE });
    const payments = new ExternalService(chart, 'payments', { mesh, hosts: ['api.payments.example.com'], ports: [ExternalPort.https()] });
    api.callsTo(payments);
    expect(synth(chart)).not.toThrow();
    patch(api.sidecar, JsonPatch.replace('/spec/egress/0/hosts', ['istio-system/*']));
    expect(synth(chart)).toThrow(/\[test\/payments\] CM517 Egress not kept by the output: external service "payments" promises that GET \/ from shop\/api to api\.payments\.example\.com:443 reaches api\.payments\.example\.com \(api calls it\), but traced, it ends BAD_GATEWAY \(502\) at step EGRESS/);

    const second = shop({ authorization: AuthorizationMode.NONE });
    const ext = new ExternalService(second.chart, 'payments', { mesh: second.mesh, hosts: ['api.payments.example.com'], ports: [ExternalPort.https()] });
    second.api.callsTo(ext);
    patch(second.web.sidecar, JsonPatch.replace('/spec/egress/0/hosts', ['*/*']));
    expect(synth(second.chart)).toThrow(/\[test\/payments\] CM517 Egress not kept by the output: external service "payments" promises that GET \/ from shop\/web to api\.payments\.example\.com:443 is refused \(web declares no call to it\), but traced, the caller's proxy lets it out/);
    void web;
  });

  test('checkDeclarations: false turns the proofs off', () => {
    const { chart, mesh } = shop({ authorization: AuthorizationMode.NONE, checkDeclarations: false });
    patch(mesh.peerAuthentication, JsonPatch.replace('/spec/mtls/mode', 'PERMISSIVE'));
    expect(synth(chart)).not.toThrow();
  });
});
