import { App, Chart } from 'cdk8s';
import {
  AuthorizationAction, AuthorizationMode, AuthorizationPolicy, Condition, HttpMethod, Mesh, MeshService, Operation, Peer,
} from 'cdk8s-mesh';

const app = new App();
const chart = new Chart(app, 'foo', { namespace: 'foo' });
// No namespace-wide policy: Istio's default (allow until a workload has an ALLOW policy).
const mesh = new Mesh(chart, 'mesh', { authorization: AuthorizationMode.NONE });
const httpbin = new MeshService(chart, 'httpbin', { mesh, image: 'docker.io/kong/httpbin:0.1.0', port: 8000, targetPort: 8080 });

// Refuse GET unless the caller presents `x-token: admin`.
new AuthorizationPolicy(chart, 'deny-method-get', {
  mesh,
  target: httpbin,
  action: AuthorizationAction.DENY,
  rules: [{
    operations: [Operation.of({ methods: [HttpMethod.GET] })],
    conditions: [Condition.requestHeader('x-token').noneOf('admin')],
  }],
});

// Anything from outside namespaces foo and istio-system, but only logged for now (dry run).
new AuthorizationPolicy(chart, 'deny-foreign', {
  mesh,
  target: httpbin,
  action: AuthorizationAction.DENY,
  dryRun: true,
  rules: [{ sources: [Peer.noneOf(Peer.namespace('foo', 'istio-system'))] }],
});

// Reads of the API for one team's workloads, from the office network.
new AuthorizationPolicy(chart, 'team-read', {
  mesh,
  target: httpbin,
  rules: [{
    sources: [Peer.allOf(Peer.namespace('team-a'), Peer.noneOf(Peer.principal('cluster.local/ns/team-a/sa/batch')))],
    operations: [Operation.of({ methods: [HttpMethod.GET], paths: ['/api/{**}'], ports: [8000] })],
    conditions: [Condition.remoteIp().oneOf('203.0.113.0/24')],
  }],
});

app.synth();
