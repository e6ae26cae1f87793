// The ztunnel policy `allow-waypoint` of an ambient namespace with a waypoint. Sources: istio.io ambient "Use Layer 4
// security policy" ("Traffic arriving at the destination ztunnel will be coming from the waypoint's identity") and
// "Configure waypoint proxies" ("Istio enforces that all traffic coming into the resource goes through the waypoint,
// which then enforces all policies for that resource"): the library makes it so for clients that call a pod directly.
import { Chart, Testing } from 'cdk8s';
import { AuthorizationMode, Dataplane, GatewayListener, IngressGateway, Mesh, MeshService, PathMatch } from '../../src';
import { MeshSimulator, TraceOutcome } from '../../src/analysis';
import { Manifest, one } from '../support/manifests';

function shop(authorization?: AuthorizationMode) {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
  const mesh = new Mesh(chart, 'mesh', { dataplane: Dataplane.ambient({ waypoint: true }), authorization });
  const web = new MeshService(chart, 'web', { mesh, image: 'web:1', port: 8080 });
  const api = new MeshService(chart, 'api', { mesh, image: 'api:1', port: 8080 });
  api.allowFrom(web);
  web.callsTo(api);
  return { chart, mesh, web, api };
}

describe('allow-waypoint: pods of an ambient namespace with a waypoint accept connections from the waypoint only', () => {
  test('written for ztunnel (no selector, no targetRefs), admitting the waypoint only: gateways go through it too', () => {
    const s = shop();
    const gateway = new IngressGateway(s.chart, 'gateway', { mesh: s.mesh, hosts: ['shop.example.com'], listeners: [GatewayListener.http()] });
    s.web.exposeViaGateway(gateway, { paths: [PathMatch.prefix('/')] });
    const manifests = Testing.synth(s.chart) as Manifest[];
    const policy = one(manifests, 'AuthorizationPolicy', 'allow-waypoint');
    expect(policy.spec).toEqual({
      action: 'ALLOW',
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/waypoint'] } }] }],
    });
    expect(s.mesh.waypointOnlyPolicy?.name).toBe('allow-waypoint');
    // Istio's gateways skip a Service's waypoint unless the Service opts in (pilot EndpointBuilder.findServiceWaypoint:
    // "Ingress behaves differently, must explicitly opt in"): the exposed service does, the other one need not.
    expect(one(manifests, 'Service', 'web').metadata.labels).toMatchObject({ 'istio.io/ingress-use-waypoint': 'true' });
    expect(one(manifests, 'Service', 'api').metadata.labels?.['istio.io/ingress-use-waypoint']).toBeUndefined();
  });

  test('traced through the gateway: the gateway sends to the waypoint, whose L7 policy admits the gateway on the exposed paths', () => {
    const s = shop();
    const gateway = new IngressGateway(s.chart, 'gateway', { mesh: s.mesh, hosts: ['shop.example.com'], listeners: [GatewayListener.http()] });
    s.web.exposeViaGateway(gateway, { paths: [PathMatch.pathPrefix('/app')] });
    const sim = new MeshSimulator(Testing.synth(s.chart));
    const ok = sim.trace({ gateway: 'shop/gateway', host: 'shop.example.com', path: '/app/x' });
    expect(ok.outcome).toBe(TraceOutcome.REACHED);
    const summaries = ok.destinations[0].steps.map((st) => `${st.proxy}: ${st.summary}`).join('\n');
    expect(summaries).toMatch(/the gateway sends it \(HBONE, mTLS as cluster.local\/ns\/shop\/sa\/gateway-istio\) to waypoint shop\/waypoint \(Service shop\/web has istio.io\/ingress-use-waypoint/);
    // The waypoint runs the L7 policy that admits the gateway on /app only; ztunnel admits the waypoint.
    expect(summaries).toMatch(/waypoint shop\/waypoint: .*allowed by/);
    expect(summaries).toMatch(/allow-waypoint/);
    // Without the label the gateway calls the pods itself: ztunnel's allow-waypoint refuses it, at L4.
    const manifests = Testing.synth(s.chart) as Manifest[];
    delete one(manifests, 'Service', 'web').metadata.labels['istio.io/ingress-use-waypoint'];
    const skipped = new MeshSimulator(manifests).trace({ gateway: 'shop/gateway', host: 'shop.example.com', path: '/app/x' });
    expect(skipped.outcome).toBe(TraceOutcome.FORBIDDEN);
    expect(skipped.destinations[0].steps.map((st) => st.summary).join(' ')).not.toMatch(/waypoint shop\/waypoint/);
  });

  test('traced: through the Service (and the waypoint) web reaches api; calling the pod directly skips the waypoint and is refused', () => {
    const s = shop();
    const sim = new MeshSimulator(Testing.synth(s.chart));
    expect(sim.trace({ source: 'shop/web-v1', host: 'api.shop.svc.cluster.local:8080' }).outcome).toBe(TraceOutcome.REACHED);
    const direct = sim.trace({ source: 'shop/web-v1', destination: 'shop/api-v1', port: 8080 });
    expect(direct.outcome).toBe(TraceOutcome.FORBIDDEN);
    expect(direct.destinations[0].steps.map((st) => st.summary).join(' ')).toMatch(/allow-waypoint/);
  });

  test('not written without default-deny (Istio then admits everyone until a service has an ALLOW policy)', () => {
    expect(shop(AuthorizationMode.NONE).mesh.waypointOnlyPolicy).toBeUndefined();
  });
});
