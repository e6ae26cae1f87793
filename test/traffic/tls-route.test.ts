// Mesh routes of TLS services in a Gateway API mesh are TLSRoutes. Sources: the TLSRoute CRD of Gateway API v1.6.1
// (../shared/crds/gateway-api: `hostnames` (required) "should match against the SNI attribute of TLS ClientHello",
// exactly one rule of weighted `backendRefs`); Istio routes them by SNI as a VirtualService's `tls` rules.
import { Chart, JsonPatch, Testing } from 'cdk8s';
import { Dataplane, Mesh, MeshService, Protocol } from '../../src';
import { MeshSimulator, TraceOutcome } from '../../src/analysis';
import { Manifest, ofKind, one } from '../support/manifests';
import { expectSchemaValid } from '../support/schema';

function ledger() {
  const chart = new Chart(Testing.app(), 'bank', { namespace: 'bank' });
  const mesh = new Mesh(chart, 'mesh', { dataplane: Dataplane.ambient({ waypoint: true }) });
  const web = new MeshService(chart, 'web', { mesh, image: 'web:1', port: 8080 });
  const db = new MeshService(chart, 'ledger', { mesh, image: 'ledger:1', port: 8443, protocol: Protocol.TLS });
  const v2 = db.addVersion('v2', { image: 'ledger:2' });
  db.allowFrom(web);
  web.callsTo(db);
  return { chart, db, v2 };
}

describe('TLSRoute for TLS services (RoutingApi.GATEWAY_API)', () => {
  test('a version split is one TLSRoute rule for the service\'s SNI, attached to its Service', () => {
    const { chart, db, v2 } = ledger();
    db.routeTraffic({ destinations: [{ version: db.defaultVersion, weight: 70 }, { version: v2, weight: 30 }] });
    const manifests = Testing.synth(chart) as Manifest[];
    expectSchemaValid(manifests);
    expect(ofKind(manifests, 'VirtualService')).toHaveLength(0);
    const route = one(manifests, 'TLSRoute', 'ledger');
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route.spec).toEqual({
      parentRefs: [{ group: '', kind: 'Service', name: 'ledger', port: 8443 }],
      hostnames: ['ledger.bank.svc.cluster.local'],
      rules: [{ backendRefs: [{ name: 'ledger-v1', port: 8443, weight: 70 }, { name: 'ledger-v2', port: 8443, weight: 30 }] }],
    });
  });

  test('traced by SNI at the waypoint: the service\'s name is split 70/30; another SNI matches no rule', () => {
    const { chart, db, v2 } = ledger();
    db.routeTraffic({ destinations: [{ version: db.defaultVersion, weight: 70 }, { version: v2, weight: 30 }] });
    const sim = new MeshSimulator(Testing.synth(chart));
    const call = (sni: string) => sim.trace({ source: 'bank/web-v1', host: 'ledger.bank.svc.cluster.local:8443', tcp: true, sni });
    const t = call('ledger.bank.svc.cluster.local');
    expect(t.outcome).toBe(TraceOutcome.REACHED);
    expect(t.route?.field).toBe('spec.rules[0]');
    expect(t.destinations.map((d) => [d.workload?.name, d.destination.weightPercent])).toEqual([['ledger-v1', 70], ['ledger-v2', 30]]);
    expect(call('other.example.com').outcome).toBe(TraceOutcome.CONNECTION_RESET);
  });

  test('the route promise (CM228) is proven on the TLSRoute: kept as written, broken when the TLSRoute is patched', () => {
    const { chart, db, v2 } = ledger();
    db.routeTraffic({ destinations: [{ version: v2 }] });
    expect(() => Testing.synth(chart)).not.toThrow();
    db.gatewayRoute!.addJsonPatch(JsonPatch.replace('/spec/hostnames', ['ledger.example.com']));
    expect(() => Testing.synth(chart)).toThrow(/\[bank\/ledger\/Route1\] CM228 Route not kept by the output: the catch-all route of service "ledger" promises that .* goes to v2/);
  });
});
