/** A synthetic mesh of `services` services over `namespaces` namespaces, eleven objects per service. */
export function syntheticMesh(services: number, namespaces = 20): any[] {
  const out: any[] = [];
  for (let n = 0; n < namespaces; n++) {
    const ns = `team-${n}`;
    out.push(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'istio-injection': 'enabled' } } },
      { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: ns }, spec: { mtls: { mode: 'STRICT' } } },
      { apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'default', namespace: ns }, spec: { egress: [{ hosts: ['./*', 'istio-system/*', '*/*.svc.cluster.local'] }] } },
    );
  }
  for (let i = 0; i < services; i++) {
    const ns = `team-${i % namespaces}`;
    const name = `svc-${i}`;
    const caller = `svc-${(i + 1) % services}`;
    const callerNs = `team-${((i + 1) % services) % namespaces}`;
    const callee = `svc-${(i + services - 1) % services}`;
    const calleeNs = `team-${((i + services - 1) % services) % namespaces}`;
    const host = `${name}.${ns}.svc.cluster.local`;
    out.push(
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 8080 }] } },
      // Per-version Services, as bookinfo-versions.yaml has them.
      ...['v1', 'v2'].map((version) => ({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `${name}-${version}`, namespace: ns },
        spec: { selector: { app: name, version }, ports: [{ name: 'http', port: 8080 }] },
      })),
      ...['v1', 'v2'].map((version) => ({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: `${name}-${version}`, namespace: ns },
        spec: {
          selector: { matchLabels: { app: name, version } },
          template: { metadata: { labels: { app: name, version } }, spec: { serviceAccountName: name, containers: [{ name, image: `${name}:${version}`, ports: [{ containerPort: 8080 }] }] } },
        },
      })),
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name, namespace: ns },
        spec: { host, subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] },
      },
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name, namespace: ns },
        spec: {
          hosts: [host],
          http: [
            { match: [{ headers: { 'end-user': { exact: 'tester' } } }], route: [{ destination: { host, subset: 'v2' } }] },
            { timeout: '2s', retries: { attempts: 3, perTryTimeout: '0.5s' }, route: [{ destination: { host, subset: 'v1' }, weight: 90 }, { destination: { host, subset: 'v2' }, weight: 10 }] },
          ],
        },
      },
      {
        // Scoped to what the service calls, as MeshService.callsTo renders it.
        apiVersion: 'networking.istio.io/v1',
        kind: 'Sidecar',
        metadata: { name, namespace: ns },
        spec: { workloadSelector: { labels: { app: name } }, egress: [{ hosts: [`${calleeNs}/${callee}.${calleeNs}.svc.cluster.local`, 'istio-system/*'] }] },
      },
      {
        apiVersion: 'security.istio.io/v1',
        kind: 'AuthorizationPolicy',
        metadata: { name, namespace: ns },
        spec: { selector: { matchLabels: { app: name } }, rules: [{ from: [{ source: { principals: [`cluster.local/ns/${callerNs}/sa/${caller}`] } }], to: [{ operation: { methods: ['GET'] } }] }] },
      },
    );
  }
  return out;
}
