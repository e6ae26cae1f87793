import { ApiObject, Chart, JsonPatch, Testing } from 'cdk8s';
import { ExternalPort, ExternalService, IngressGateway, Mesh, MeshService, Resolution, istio } from '../../src';
import { withoutSchemaHook } from '../support/setup';

function setup(validateOnSynth?: boolean) {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
  const mesh = new Mesh(chart, 'mesh', { validateOnSynth });
  const reviews = new MeshService(chart, 'reviews', { mesh, image: 'reviews:1', port: 9080 });
  return { chart, mesh, reviews };
}

/** Synthesizes without the tests' own schema hook, so what fails is the library's validation. */
const synth = (chart: Chart) => withoutSchemaHook(() => Testing.synth(chart));

describe('validation at synth (Mesh validateOnSynth)', () => {
  test('the library output itself validates clean', () => {
    expect(() => synth(setup().chart)).not.toThrow();
  });

  test('CM601: a ServiceEntry with CIDR addresses and DNS resolution is refused by the CRD rule, naming the construct path and the rule', () => {
    // The API server's rule (Istio's ServiceEntry CRD): CIDRs only with NONE or STATIC resolution. ExternalService
    // refuses it itself (CM515); written through the escape hatch, the validation still catches it.
    const { chart, mesh } = setup();
    const db = new ExternalService(chart, 'db', { mesh, hosts: ['db.example.com'], addresses: ['10.0.0.1'], ports: [ExternalPort.tcp(5432)] });
    ApiObject.of(db.serviceEntry).addJsonPatch(JsonPatch.replace('/spec/addresses', ['10.0.0.0/24']));
    expect(() => synth(chart)).toThrow(
      /\[shop\/mesh\] CM601 Object the API server would refuse: ServiceEntry shop\/db \(shop\/db\/ServiceEntry\) spec: .*CIDR addresses are allowed only for NONE\/STATIC resolution types \(rule: .*resolution.*\)\. Fix: Change the value so that the CRD's rule holds/);
  });

  test('CM601: DNS_ROUND_ROBIN with more than one endpoint is refused', () => {
    // ExternalService refuses it itself (CM516); written through the escape hatch, the validation still catches it.
    const { chart, mesh } = setup();
    const api = new ExternalService(chart, 'api', {
      mesh, hosts: ['api.example.com'], resolution: Resolution.DNS_ROUND_ROBIN, endpoints: ['a.example.com'], ports: [ExternalPort.https()],
    });
    ApiObject.of(api.serviceEntry).addJsonPatch(JsonPatch.replace('/spec/endpoints', [{ address: 'a.example.com' }, { address: 'b.example.com' }]));
    expect(() => synth(chart)).toThrow(/CM601 .*ServiceEntry shop\/api .*DNS_ROUND_ROBIN mode cannot have multiple endpoints/);
  });

  test('CM602: a field the API server would prune (a typo in a plain ApiObject) names the field and the likely spelling', () => {
    const { chart } = setup();
    new ApiObject(chart, 'canary', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'reviews-canary' },
      spec: { hosts: ['reviews-canary'], http: [{ route: [{ destination: { host: 'reviews' }, wieght: 100 }] }] },
    });
    expect(() => synth(chart)).toThrow(
      /CM602 Field the API server would prune: VirtualService shop\/reviews-canary \(shop\/canary\) spec\.http\[0\]\.route\[0\]\.wieght: unknown field .* Fix: Did you mean "weight"\?/);
  });

  test('the typed Istio classes drop what they do not know: a JSON patch with a typo is not written', () => {
    const { chart, reviews } = setup();
    ApiObject.of(reviews.virtualService!).addJsonPatch(JsonPatch.add('/spec/http/0/route/0/wieght', 100));
    const vs = synth(chart).find((m: any) => m.kind === 'VirtualService');
    expect(vs.spec.http[0].route[0]).not.toHaveProperty('wieght');
  });

  test("CM603: an object Istio's webhook refuses (an HTTPS Gateway server without tls, written by hand)", () => {
    const { chart } = setup();
    new istio.Gateway(chart, 'gw', {
      metadata: { name: 'edge' },
      spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['shop.example.com'] }] },
    });
    expect(() => synth(chart)).toThrow(/CM603 Object Istio's webhook would refuse: Gateway shop\/edge \(shop\/gw\) spec\.servers\[0\]\.tls: server must have TLS settings for HTTPS\/TLS protocols\. Fix: Add tls/);
  });

  test('a gateway written by the library validates clean', () => {
    const { chart, mesh, reviews } = setup();
    reviews.exposeViaGateway(new IngressGateway(chart, 'gateway', { mesh, hosts: ['shop.example.com'] }));
    expect(() => synth(chart)).not.toThrow();
  });

  test('validateOnSynth: false turns it off (and drops those findings from the synth-time analysis)', () => {
    const { chart, mesh } = setup(false);
    const db = new ExternalService(chart, 'db', { mesh, hosts: ['db.example.com'], addresses: ['10.0.0.1'], ports: [ExternalPort.tcp(5432)] });
    ApiObject.of(db.serviceEntry).addJsonPatch(JsonPatch.replace('/spec/addresses', ['10.0.0.0/24']));
    expect(() => synth(chart)).not.toThrow();
  });

  test('each object is validated once per synthesis, however many meshes and charts', () => {
    const app = Testing.app();
    for (const ns of ['a', 'b']) {
      const chart = new Chart(app, ns, { namespace: ns });
      const mesh = new Mesh(chart, 'mesh');
      new MeshService(chart, 'svc', { mesh, image: 'svc:1', port: 8080 });
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const validator = require('../../src/validation/validator');
    const spy = jest.spyOn(validator, 'validateObject');
    try {
      withoutSchemaHook(() => app.synthYaml());
      const objects = app.charts.flatMap((c) => c.node.findAll().filter((x) => x instanceof ApiObject)).length;
      expect(spy.mock.calls.length).toBe(objects);
    } finally {
      spy.mockRestore();
    }
  });
});
