import { Testing } from 'cdk8s';
import { httpbin, meshChart, service, specOf, synth, workload } from './support';
import {
  AuthorizationAction, AuthorizationMode, AuthorizationPolicy, Condition, Dataplane, HttpMethod, Mesh, MeshService, MtlsMode, MtlsPolicy,
  Operation, Peer, Protocol,
} from '../../src';
import { one } from '../support/manifests';

describe('AuthorizationPolicy', () => {
  describe("reproduces Istio's documented policies (istio.md B7)", () => {
    test('allow-nothing: the Mesh default, spec {} for the whole namespace', () => {
      // GIVEN / WHEN: a mesh with the default authorization mode
      const { chart } = meshChart('default', { authorization: AuthorizationMode.DEFAULT_DENY });
      // THEN
      const manifests = synth(chart);
      const policy = one(manifests, 'AuthorizationPolicy', 'allow-nothing', 'default');
      expect(policy).toMatchObject({ apiVersion: 'security.istio.io/v1', spec: {} });
      expect(policy.spec).toEqual({});
      expect(manifests).toMatchSnapshot();
    });

    test('allow-nothing for a workload, and allowAll/denyAll say what they mean', () => {
      const { chart, mesh } = meshChart();
      const bin = httpbin(chart, mesh);
      AuthorizationPolicy.allowNothing(chart, 'nothing', { mesh, target: bin });
      AuthorizationPolicy.allowAll(chart, 'allow-all', { mesh });
      AuthorizationPolicy.denyAll(chart, 'deny-all', { mesh, target: bin });
      const manifests = synth(chart);
      expect(specOf(manifests, 'AuthorizationPolicy', 'nothing')).toEqual({ selector: { matchLabels: { app: 'httpbin' } } });
      expect(specOf(manifests, 'AuthorizationPolicy', 'allow-all')).toEqual({ action: 'ALLOW', rules: [{}] });
      expect(specOf(manifests, 'AuthorizationPolicy', 'deny-all')).toEqual({ action: 'DENY', selector: { matchLabels: { app: 'httpbin' } }, rules: [{}] });
      expect(manifests.filter((m) => m.kind === 'AuthorizationPolicy')).toMatchSnapshot();
    });

    test('productpage-viewer: GET from anyone', () => {
      // GIVEN
      const { chart, mesh } = meshChart('default');
      const productpage = service(chart, mesh, 'productpage', { serviceAccountName: 'bookinfo-productpage' });
      // WHEN
      new AuthorizationPolicy(chart, 'productpage-viewer', {
        mesh,
        target: productpage,
        action: AuthorizationAction.ALLOW,
        rules: [{ operations: [Operation.of({ methods: [HttpMethod.GET] })] }],
      });
      // THEN
      const policy = one(synth(chart), 'AuthorizationPolicy', 'productpage-viewer', 'default');
      expect(policy.spec).toEqual({
        selector: { matchLabels: { app: 'productpage' } },
        action: 'ALLOW',
        rules: [{ to: [{ operation: { methods: ['GET'] } }] }],
      });
      expect(policy).toMatchSnapshot();
    });

    test("details-viewer, reviews-viewer, ratings-viewer: GET from the caller's service account principal", () => {
      // GIVEN: bookinfo's services and accounts in namespace default
      const { chart, mesh } = meshChart('default');
      const [productpage, details, reviews, ratings] = ['productpage', 'details', 'reviews', 'ratings']
        .map((name) => service(chart, mesh, name, { serviceAccountName: `bookinfo-${name}` }));
      const get = [Operation.of({ methods: [HttpMethod.GET] })];
      // WHEN
      new AuthorizationPolicy(chart, 'details-viewer', { mesh, target: details, rules: [{ sources: [productpage], operations: get }] });
      new AuthorizationPolicy(chart, 'reviews-viewer', { mesh, target: reviews, rules: [{ sources: [productpage], operations: get }] });
      new AuthorizationPolicy(chart, 'ratings-viewer', { mesh, target: ratings, rules: [{ sources: [reviews], operations: get }] });
      // THEN
      const manifests = synth(chart);
      const viewer = (app: string, caller: string) => ({
        selector: { matchLabels: { app } },
        action: 'ALLOW',
        rules: [{
          from: [{ source: { principals: [`cluster.local/ns/default/sa/bookinfo-${caller}`] } }],
          to: [{ operation: { methods: ['GET'] } }],
        }],
      });
      expect(specOf(manifests, 'AuthorizationPolicy', 'details-viewer', 'default')).toEqual(viewer('details', 'productpage'));
      expect(specOf(manifests, 'AuthorizationPolicy', 'reviews-viewer', 'default')).toEqual(viewer('reviews', 'productpage'));
      expect(specOf(manifests, 'AuthorizationPolicy', 'ratings-viewer', 'default')).toEqual(viewer('ratings', 'reviews'));
      expect(manifests.filter((m) => m.kind === 'AuthorizationPolicy')).toMatchSnapshot();
    });

    test('deny-method-get, and its variant that spares x-token: admin', () => {
      // GIVEN
      const { chart, mesh } = meshChart('foo');
      const bin = httpbin(chart, mesh);
      const get = [Operation.of({ methods: [HttpMethod.GET] })];
      // WHEN
      new AuthorizationPolicy(chart, 'deny-method-get', { mesh, target: bin, action: AuthorizationAction.DENY, rules: [{ operations: get }] });
      new AuthorizationPolicy(chart, 'v2', {
        mesh,
        name: 'deny-method-get-v2',
        target: bin,
        action: AuthorizationAction.DENY,
        rules: [{ operations: get, conditions: [Condition.requestHeader('x-token').noneOf('admin')] }],
      });
      // THEN
      const manifests = synth(chart);
      expect(specOf(manifests, 'AuthorizationPolicy', 'deny-method-get', 'foo')).toEqual({
        selector: { matchLabels: { app: 'httpbin' } },
        action: 'DENY',
        rules: [{ to: [{ operation: { methods: ['GET'] } }] }],
      });
      expect(specOf(manifests, 'AuthorizationPolicy', 'deny-method-get-v2', 'foo').rules).toEqual([{
        to: [{ operation: { methods: ['GET'] } }],
        when: [{ key: 'request.headers[x-token]', notValues: ['admin'] }],
      }]);
      expect(manifests.filter((m) => m.kind === 'AuthorizationPolicy')).toMatchSnapshot();
    });

    test('allow-path-ip: ALLOW paths /ip', () => {
      const { chart, mesh } = meshChart('foo');
      const bin = httpbin(chart, mesh);
      new AuthorizationPolicy(chart, 'allow-path-ip', { mesh, target: bin, rules: [{ operations: [Operation.of({ paths: ['/ip'] })] }] });
      const policy = one(synth(chart), 'AuthorizationPolicy', 'allow-path-ip', 'foo');
      expect(policy.spec).toEqual({
        selector: { matchLabels: { app: 'httpbin' } },
        action: 'ALLOW',
        rules: [{ to: [{ operation: { paths: ['/ip'] } }] }],
      });
      expect(policy).toMatchSnapshot();
    });

    test('ingress-policy: the ingress gateway admits two IP blocks (and the remoteIpBlocks and DENY variants)', () => {
      // GIVEN: the ingress gateway's pods, which this app does not declare
      const { chart, mesh } = meshChart('foo');
      const gateway = workload('istio-system', { app: 'istio-ingressgateway' });
      // WHEN
      new AuthorizationPolicy(chart, 'ingress-policy', { mesh, target: gateway, rules: [{ sources: [Peer.ipBlock('1.2.3.4', '5.6.7.0/24')] }] });
      new AuthorizationPolicy(chart, 'remote', { mesh, target: gateway, rules: [{ sources: [Peer.remoteIpBlock('1.2.3.4', '5.6.7.0/24')] }] });
      new AuthorizationPolicy(chart, 'deny', { mesh, target: gateway, action: AuthorizationAction.DENY, rules: [{ sources: [Peer.ipBlock('203.0.113.7')] }] });
      // THEN: written in the gateway's namespace
      const manifests = synth(chart);
      expect(one(manifests, 'AuthorizationPolicy', 'ingress-policy')).toMatchObject({
        metadata: { namespace: 'istio-system' },
        spec: {
          selector: { matchLabels: { app: 'istio-ingressgateway' } },
          action: 'ALLOW',
          rules: [{ from: [{ source: { ipBlocks: ['1.2.3.4', '5.6.7.0/24'] } }] }],
        },
      });
      expect(specOf(manifests, 'AuthorizationPolicy', 'remote').rules).toEqual([{ from: [{ source: { remoteIpBlocks: ['1.2.3.4', '5.6.7.0/24'] } }] }]);
      expect(specOf(manifests, 'AuthorizationPolicy', 'deny')).toMatchObject({ action: 'DENY', rules: [{ from: [{ source: { ipBlocks: ['203.0.113.7'] } }] }] });
      expect(manifests.filter((m) => m.kind === 'AuthorizationPolicy')).toMatchSnapshot();
    });

    test('tcp-policy: ports 9000 and 9001, written as strings', () => {
      const { chart, mesh } = meshChart('foo');
      new AuthorizationPolicy(chart, 'tcp-policy', {
        mesh,
        target: workload('foo', { app: 'tcp-echo' }),
        rules: [{ operations: [Operation.of({ ports: [9000, 9001] })] }],
      });
      const policy = one(synth(chart), 'AuthorizationPolicy', 'tcp-policy', 'foo');
      expect(policy.spec).toEqual({
        selector: { matchLabels: { app: 'tcp-echo' } },
        action: 'ALLOW',
        rules: [{ to: [{ operation: { ports: ['9000', '9001'] } }] }],
      });
      expect(policy).toMatchSnapshot();
    });

    test("the API reference's httpbin policy: two sources, two operations, a claim condition", () => {
      const { chart, mesh } = meshChart('foo');
      new AuthorizationPolicy(chart, 'httpbin', {
        mesh,
        rules: [{
          sources: [Peer.principal('cluster.local/ns/default/sa/sleep'), Peer.namespace('test')],
          operations: [Operation.of({ methods: [HttpMethod.GET], paths: ['/info*'] }), Operation.of({ methods: [HttpMethod.POST], paths: ['/data'] })],
          conditions: [Condition.jwtClaim('iss').oneOf('https://accounts.google.com')],
        }],
      });
      expect(specOf(synth(chart), 'AuthorizationPolicy', 'httpbin')).toEqual({
        action: 'ALLOW',
        rules: [{
          from: [{ source: { principals: ['cluster.local/ns/default/sa/sleep'] } }, { source: { namespaces: ['test'] } }],
          to: [{ operation: { methods: ['GET'], paths: ['/info*'] } }, { operation: { methods: ['POST'], paths: ['/data'] } }],
          when: [{ key: 'request.auth.claims[iss]', values: ['https://accounts.google.com'] }],
        }],
      });
    });

    test('AUDIT, CUSTOM with its provider, and a dry-run DENY', () => {
      const { chart, mesh } = meshChart('ns1');
      const api = service(chart, mesh, 'myapi');
      new AuthorizationPolicy(chart, 'anyname', {
        mesh,
        target: api,
        action: AuthorizationAction.AUDIT,
        rules: [{ operations: [Operation.of({ methods: [HttpMethod.GET], paths: ['/user/profile/*'] })] }],
      });
      new AuthorizationPolicy(chart, 'ext-authz', {
        mesh,
        target: api,
        action: AuthorizationAction.CUSTOM,
        provider: 'my-ext-authz',
        rules: [{ operations: [Operation.of({ paths: ['/admin/{**}'] })] }],
      });
      new AuthorizationPolicy(chart, 'dry-run-example', {
        mesh,
        target: api,
        action: AuthorizationAction.DENY,
        dryRun: true,
        rules: [{ operations: [Operation.of({ paths: ['/headers'] })] }],
      });
      const manifests = synth(chart);
      expect(specOf(manifests, 'AuthorizationPolicy', 'anyname')).toMatchObject({ action: 'AUDIT', rules: [{ to: [{ operation: { methods: ['GET'], paths: ['/user/profile/*'] } }] }] });
      expect(specOf(manifests, 'AuthorizationPolicy', 'ext-authz')).toMatchObject({ action: 'CUSTOM', provider: { name: 'my-ext-authz' } });
      expect(one(manifests, 'AuthorizationPolicy', 'dry-run-example').metadata.annotations).toEqual({ 'istio.io/dry-run': 'true' });
      expect(manifests.filter((m) => m.kind === 'AuthorizationPolicy')).toMatchSnapshot();
    });
  });

  describe('typed rules', () => {
    test('a rule is one object: sources AND operations AND conditions (no split from/to)', () => {
      const { chart, mesh } = meshChart();
      const bin = httpbin(chart, mesh);
      const sleep = service(chart, mesh, 'sleep');
      new AuthorizationPolicy(chart, 'p', {
        mesh,
        target: bin,
        rules: [{
          sources: [sleep], operations: [Operation.of({ methods: [HttpMethod.POST] })], conditions: [Condition.sourceIp().oneOf('10.0.0.0/8')],
        }],
      });
      const rules = specOf(synth(chart), 'AuthorizationPolicy', 'p').rules;
      expect(rules).toHaveLength(1);
      expect(Object.keys(rules[0])).toEqual(['from', 'to', 'when']);
    });

    test('peers with one attribute of one kind merge into one source; others stay separate; negations', () => {
      const { chart, mesh } = meshChart();
      const [a, b] = [service(chart, mesh, 'a'), service(chart, mesh, 'b')];
      new AuthorizationPolicy(chart, 'p', {
        mesh,
        action: AuthorizationAction.DENY,
        rules: [{
          sources: [a, b, Peer.noneOf(Peer.namespace('foo', 'istio-system')), Peer.allOf(mesh, Peer.noneOf(a)), Peer.serviceAccount('ops', 'robot')],
        }],
      });
      expect(specOf(synth(chart), 'AuthorizationPolicy', 'p').rules[0].from).toEqual([
        { source: { principals: ['cluster.local/ns/foo/sa/a', 'cluster.local/ns/foo/sa/b'] } },
        { source: { notNamespaces: ['foo', 'istio-system'] } },
        { source: { namespaces: ['foo'], notPrincipals: ['cluster.local/ns/foo/sa/a'] } },
        { source: { serviceAccounts: ['ops/robot'] } },
      ]);
    });

    test('end users: authenticated peers and JWT conditions', () => {
      const { chart, mesh } = meshChart();
      new AuthorizationPolicy(chart, 'p', {
        mesh,
        rules: [
          { sources: [Peer.authenticated()] },
          { sources: [Peer.authenticated({ issuer: 'https://id.example.com' })], conditions: [Condition.jwtClaim('realm_access', 'roles').oneOf('admin')] },
          { sources: [Peer.authenticated({ issuer: 'iss', subject: 'alice' })], conditions: [Condition.jwtAudiences().oneOf('shop'), Condition.jwtPresenter().oneOf('web')] },
        ],
      });
      expect(specOf(synth(chart), 'AuthorizationPolicy', 'p').rules).toEqual([
        { from: [{ source: { requestPrincipals: ['*'] } }] },
        { from: [{ source: { requestPrincipals: ['https://id.example.com/*'] } }], when: [{ key: 'request.auth.claims[realm_access][roles]', values: ['admin'] }] },
        {
          from: [{ source: { requestPrincipals: ['iss/alice'] } }],
          when: [
            { key: 'request.auth.audiences', values: ['shop'] }, { key: 'request.auth.presenter', values: ['web'] },
          ],
        },
      ]);
    });

    test('every condition factory writes an Istio attribute', () => {
      const { chart, mesh } = meshChart();
      const conditions = [
        Condition.remoteIp().noneOf('192.0.2.0/24'), Condition.sourceNamespace().oneOf('foo'), Condition.sourcePrincipal().oneOf('cluster.local/ns/foo/sa/a'),
        Condition.destinationIp().oneOf('10.0.0.1'), Condition.destinationPort().oneOf('9080'), Condition.sni().oneOf('www.example.com'),
        Condition.requestPrincipal().oneOf('iss/sub'), Condition.attribute('experimental.envoy.filters.network.mysql_proxy[db.table]').oneOf('[update]'),
      ];
      new AuthorizationPolicy(chart, 'p', { mesh, rules: [{ conditions }] });
      expect(specOf(synth(chart), 'AuthorizationPolicy', 'p').rules[0].when.map((w: any) => w.key)).toEqual([
        'remote.ip', 'source.namespace', 'source.principal', 'destination.ip', 'destination.port', 'connection.sni',
        'request.auth.principal', 'experimental.envoy.filters.network.mysql_proxy[db.table]',
      ]);
    });

    test('path templates and wildcards Istio supports are accepted', () => {
      const { chart, mesh } = meshChart();
      const paths = ['/ip', '/api/*', '*.png', '*', '/books/{*}/pages', '/static/{**}', '/a/{*}/{**}', '/a/{**}/readme'];
      new AuthorizationPolicy(chart, 'p', { mesh, rules: [{ operations: [Operation.of({ paths, notPaths: ['/healthz'], hosts: ['*.example.com'], notHosts: ['admin.example.com'] })] }] });
      expect(specOf(synth(chart), 'AuthorizationPolicy', 'p').rules[0].to[0].operation).toEqual({
        paths, notPaths: ['/healthz'], hosts: ['*.example.com'], notHosts: ['admin.example.com'],
      });
    });

    test('ports of a MeshService target are written as the container port the sidecar sees', () => {
      // GIVEN: httpbin's Service port 8000 forwards to container port 8080
      const { chart, mesh } = meshChart();
      const bin = httpbin(chart, mesh);
      // WHEN: either port is given
      new AuthorizationPolicy(chart, 'p', {
        mesh,
        target: bin,
        rules: [
          { operations: [Operation.of({ ports: [8000] })] }, { operations: [Operation.of({ notPorts: [8080] })] },
        ],
      });
      // THEN
      expect(specOf(synth(chart), 'AuthorizationPolicy', 'p').rules).toEqual([
        { to: [{ operation: { ports: ['8080'] } }] }, { to: [{ operation: { notPorts: ['8080'] } }] },
      ]);
    });

    test('addRule after construction shows up in the output', () => {
      const { chart, mesh } = meshChart();
      const policy = new AuthorizationPolicy(chart, 'p', { mesh });
      policy.addRule({ sources: [Peer.namespace('monitoring')] });
      expect(specOf(synth(chart), 'AuthorizationPolicy', 'p').rules).toEqual([{ from: [{ source: { namespaces: ['monitoring'] } }] }]);
      expect(policy.apiObject.kind).toBe('AuthorizationPolicy');
      expect(policy.namespaceName).toBe('foo');
    });
  });

  describe('ambient mode', () => {
    test('without a waypoint, L4 policies select pods (ztunnel)', () => {
      const { chart, mesh } = meshChart('foo', { dataplane: Dataplane.ambient() });
      const bin = httpbin(chart, mesh);
      const sleep = service(chart, mesh, 'sleep');
      bin.allowFrom(sleep, { ports: [8000] });
      expect(specOf(synth(chart), 'AuthorizationPolicy', 'httpbin-allow')).toEqual({
        selector: { matchLabels: { app: 'httpbin' } },
        action: 'ALLOW',
        rules: [{ from: [{ source: { principals: ['cluster.local/ns/foo/sa/sleep'] } }], to: [{ operation: { ports: ['8080'] } }] }],
      });
    });

    test('with a waypoint, policies attach to the Service (or the waypoint, namespace-wide) with targetRefs', () => {
      // GIVEN
      const { chart, mesh } = meshChart('foo', { dataplane: Dataplane.ambient({ waypoint: true }), authorization: AuthorizationMode.DEFAULT_DENY });
      const bin = httpbin(chart, mesh);
      const sleep = service(chart, mesh, 'sleep');
      // WHEN
      bin.allowFrom(sleep, { methods: [HttpMethod.GET], ports: [8080] });
      // THEN
      const manifests = synth(chart);
      expect(specOf(manifests, 'AuthorizationPolicy', 'httpbin-allow')).toEqual({
        targetRefs: [{ group: '', kind: 'Service', name: 'httpbin' }],
        action: 'ALLOW',
        rules: [{ from: [{ source: { principals: ['cluster.local/ns/foo/sa/sleep'] } }], to: [{ operation: { methods: ['GET'], ports: ['8000'] } }] }],
      });
      expect(specOf(manifests, 'AuthorizationPolicy', 'allow-nothing')).toEqual({
        targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }],
      });
      expect(manifests.filter((m) => m.kind === 'AuthorizationPolicy')).toMatchSnapshot();
    });
  });

  describe('bad input', () => {
    test('CM306: a DENY policy without rules', () => {
      const { chart, mesh } = meshChart();
      new AuthorizationPolicy(chart, 'deny', { mesh, action: AuthorizationAction.DENY });
      expect(() => synth(chart)).toThrow(/\[test\/deny\] CM306 .*DENY policy without rules never matches.*Fix: .*AuthorizationPolicy\.denyAll\(\)/);
    });

    test('CM306: an ALLOW policy without rules (allows nothing: say so with allowNothing)', () => {
      const { chart, mesh } = meshChart();
      new AuthorizationPolicy(chart, 'allow', { mesh });
      expect(() => synth(chart)).toThrow(/\[test\/allow\] CM306 .*ALLOW policy without rules allows nothing.*Fix: .*allowNothing\(\)/);
    });

    test('CM307: CUSTOM without a provider, and a provider without CUSTOM', () => {
      const { chart, mesh } = meshChart();
      expect(() => new AuthorizationPolicy(chart, 'c', { mesh, action: AuthorizationAction.CUSTOM, rules: [{ operations: [Operation.of({ paths: ['/x'] })] }] }))
        .toThrow(/\[test\/c\] CM307 .*CUSTOM policy has no provider.*Fix: set provider to the name of an extension provider/);
      expect(() => new AuthorizationPolicy(chart, 'd', { mesh, provider: 'opa' }))
        .toThrow(/\[test\/d\] CM307 .*provider "opa" is set but the action is ALLOW.*Fix: set action: AuthorizationAction.CUSTOM/);
    });

    test('CM308: a rule with nothing in it (it would match every request)', () => {
      const { chart, mesh } = meshChart();
      expect(() => new AuthorizationPolicy(chart, 'p', { mesh, action: AuthorizationAction.DENY, rules: [{}] }))
        .toThrow(/\[test\/p\] CM308 .*matches every request.*Fix: say so by name: AuthorizationPolicy\.denyAll\(\)/);
    });

    test('CM309: empty sources, operations or conditions lists, and empty operations', () => {
      const { chart, mesh } = meshChart();
      const policy = new AuthorizationPolicy(chart, 'p', { mesh });
      expect(() => policy.addRule({ sources: [] })).toThrow(/\[test\/p\] CM309 .*empty sources list.*Fix: give at least one entry, or leave sources out/);
      expect(() => policy.addRule({ operations: [Operation.of({})] })).toThrow(/CM309 .*operation has no fields.*Fix: set at least one of methods, paths, ports or hosts/);
      expect(() => policy.addRule({ conditions: [Condition.requestHeader('x').oneOf()] })).toThrow(/CM309 .*condition "request.headers\[x\]" is an empty list/);
      expect(() => policy.addRule({ sources: [{ toPeerConfig: () => ({}) }] })).toThrow(/CM309 .*source has no attributes/);
    });

    test('CM310: empty string values', () => {
      const { chart, mesh } = meshChart();
      const policy = new AuthorizationPolicy(chart, 'p', { mesh });
      expect(() => policy.addRule({ sources: [Peer.namespace('')] })).toThrow(/\[test\/p\] CM310 .*source namespaces contains an empty value.*Fix: remove the empty string/);
      expect(() => policy.addRule({ operations: [Operation.of({ hosts: [' '] })] })).toThrow(/CM310 .*operation hosts contains an empty value/);
      expect(() => policy.addRule({ conditions: [Condition.jwtClaim('groups').oneOf('')] })).toThrow(/CM310 .*condition "request.auth.claims\[groups\]"/);
    });

    test('CM311: service accounts combined with principals or namespaces, or malformed', () => {
      const { chart, mesh } = meshChart();
      const policy = new AuthorizationPolicy(chart, 'p', { mesh });
      expect(() => policy.addRule({ sources: [Peer.allOf(Peer.serviceAccount('ops', 'robot'), Peer.namespace('ops'))] }))
        .toThrow(/\[test\/p\] CM311 .*combines serviceAccounts with namespaces.*Fix: use service accounts or principals\/namespaces in one source, not both/);
      expect(() => policy.addRule({ sources: [{ toPeerConfig: () => ({ serviceAccounts: ['ops/robot'], principals: ['x'] }) }] }))
        .toThrow(/CM311 .*combines serviceAccounts with principals/);
      expect(() => policy.addRule({ sources: [Peer.serviceAccount('ops', '*')] })).toThrow(/CM311 .*service account "ops\/\*" is not of the form/);
    });

    test('CM106: ports that are not whole numbers from 1 to 65535 (operations and destination.port)', () => {
      const { chart, mesh } = meshChart();
      const policy = new AuthorizationPolicy(chart, 'p', { mesh });
      expect(() => policy.addRule({ operations: [Operation.of({ ports: [0] })] })).toThrow(/\[test\/p\] CM106 .*operation ports has 0, which is not a TCP port number.*Fix: use a whole number from 1 to 65535/);
      expect(() => policy.addRule({ operations: [Operation.of({ notPorts: [70000] })] })).toThrow(/CM106 .*notPorts has 70000/);
      expect(() => policy.addRule({ operations: [Operation.of({ ports: [80.5] })] })).toThrow(/CM106 .*80\.5/);
      expect(() => policy.addRule({ conditions: [Condition.destinationPort().oneOf('http')] })).toThrow(/CM106 .*condition "destination.port" has "http"/);
    });

    test('CM304: a port that is not a port of the target service', () => {
      const { chart, mesh } = meshChart();
      const bin = httpbin(chart, mesh);
      expect(() => new AuthorizationPolicy(chart, 'p', { mesh, target: bin, rules: [{ operations: [Operation.of({ ports: [9999] })] }] }))
        .toThrow(/\[test\/p\] CM304 .*port 9999 is not a port of service "httpbin" \(Service port 8000 \(container port 8080\)\).*Fix: use 8000/);
    });

    test.each([
      ['/a/{**}/{*}', /has an operator after \{\*\*\}: \{\*\*\} must be the last operator.*Fix: move \{\*\*\} to the end/],
      ['/a/{**}/b/{**}', /has an operator after \{\*\*\}/],
      ['/a/x{*}', /has the segment "x\{\*\}": in a path template, \{\*\} and \{\*\*\} must each be a whole segment/],
      ['/a/{*}.txt', /has the segment "\{\*\}\.txt"/],
      ['/a/{name}/{*}', /has the segment "\{name\}"/],
      ['/a/*/{**}', /has the segment "\*"/],
      ['/a/*/b', /has a "\*" that is not its first or last character: Istio would compare it literally/],
      ['/api/**', /has a "\*" that is not its first or last character/],
      ['/users/{id}', /contains "\{" or "\}" but is not a \{\*\}\/\{\*\*\} template/],
      ['api/v1', /does not start with "\/".*Fix: write the path from its root, e.g. "\/api\/v1"/],
    ])('CM312: path %s', (path, message) => {
      const { chart, mesh } = meshChart();
      const policy = new AuthorizationPolicy(chart, 'p', { mesh });
      expect(() => policy.addRule({ operations: [Operation.of({ paths: [path] })] })).toThrow(/\[test\/p\] CM312 .*paths/);
      expect(() => policy.addRule({ operations: [Operation.of({ notPaths: [path] })] })).toThrow(message);
    });

    test('CM312: a host with a "*" in the middle', () => {
      const { chart, mesh } = meshChart();
      const policy = new AuthorizationPolicy(chart, 'p', { mesh });
      expect(() => policy.addRule({ operations: [Operation.of({ hosts: ['api.*.example.com'] })] }))
        .toThrow(/CM312 .*hosts "api\.\*\.example\.com".*Fix: use a single leading or trailing "\*", e.g. "\*\.example\.com"/);
    });

    test.each([
      ['request.headers', /is malformed: it must name its entry in brackets/],
      ['request.headers[]', /is malformed/],
      ['request.auth.claims[groups', /is malformed/],
      ['request.headers[a][b]', /names more than one header/],
      ['source.user', /is not an Istio authorization attribute.*Fix: use a Condition factory/],
      ['destination.labels[version]', /is not supported by Istio's AuthorizationPolicy.*Fix: express it with the policy target/],
      ['destination.namespace', /Fix: express it with the policy namespace/],
    ])('CM313: condition key %s', (key, message) => {
      const { chart, mesh } = meshChart();
      const policy = new AuthorizationPolicy(chart, 'p', { mesh });
      expect(() => policy.addRule({ conditions: [Condition.attribute(key).oneOf('x')] })).toThrow(/\[test\/p\] CM313 /);
      expect(() => policy.addRule({ conditions: [Condition.attribute(key).oneOf('x')] })).toThrow(message);
    });

    test('CM314: IP blocks and IP conditions that do not parse', () => {
      const { chart, mesh } = meshChart();
      const policy = new AuthorizationPolicy(chart, 'p', { mesh });
      expect(() => policy.addRule({ sources: [Peer.ipBlock('10.0.0.0/33')] })).toThrow(/\[test\/p\] CM314 .*source ipBlocks has "10.0.0.0\/33".*Fix: write an address such as "10.1.2.3"/);
      expect(() => policy.addRule({ sources: [Peer.remoteIpBlock('example.com')] })).toThrow(/CM314 .*"example.com"/);
      expect(() => policy.addRule({ conditions: [Condition.sourceIp().noneOf('1.2.3')] })).toThrow(/CM314 .*condition "source.ip" has "1.2.3"/);
    });

    test('CM315: identity attributes in a CUSTOM policy', () => {
      const { chart, mesh } = meshChart();
      const policy = new AuthorizationPolicy(chart, 'p', { mesh, action: AuthorizationAction.CUSTOM, provider: 'opa', rules: [{ operations: [Operation.of({ paths: ['/x'] })] }] });
      expect(() => policy.addRule({ sources: [Peer.namespace('foo')] })).toThrow(/\[test\/p\] CM315 .*CUSTOM policy uses source namespaces.*Fix: match CUSTOM policies on operations/);
      expect(() => policy.addRule({ conditions: [Condition.jwtClaim('groups').oneOf('a')] })).toThrow(/CM315 .*condition "request.auth.claims\[groups\]"/);
    });

    test('CM322: L7 attributes in ambient mode without a waypoint (fail open / fail closed)', () => {
      const { chart, mesh } = meshChart('foo', { dataplane: Dataplane.ambient() });
      const bin = httpbin(chart, mesh);
      expect(() => new AuthorizationPolicy(chart, 'p', { mesh, target: bin, action: AuthorizationAction.DENY, rules: [{ operations: [Operation.of({ methods: [HttpMethod.DELETE] })] }] }))
        .toThrow(/\[test\/p\] CM322 .*uses methods, an L7 feature, but namespace "foo" is in ambient mode without a waypoint.*DENY rule is not enforced at all.*Fix: deploy a waypoint/);
      expect(() => new AuthorizationPolicy(chart, 'q', { mesh, target: bin, action: AuthorizationAction.AUDIT, rules: [{ sources: [Peer.namespace('x')] }] }))
        .toThrow(/CM322 .*uses action AUDIT/);
    });

    test('CM322: a version target through a waypoint', () => {
      const { chart, mesh } = meshChart('foo', { dataplane: Dataplane.ambient({ waypoint: true }) });
      const bin = httpbin(chart, mesh);
      expect(() => new AuthorizationPolicy(chart, 'p', { mesh, target: bin.defaultVersion, rules: [{ sources: [Peer.namespace('x')] }] }))
        .toThrow(/\[test\/p\] CM322 .*targets version "v1" of service "httpbin".*policies attach to a whole Service.*Fix: target the service \(httpbin\)/);
    });

    test('CM323: HTTP attributes on a TCP service', () => {
      const { chart, mesh } = meshChart();
      const db = service(chart, mesh, 'db', { port: 3306, protocol: Protocol.MYSQL });
      expect(() => db.allowFrom(service(chart, mesh, 'app'), { methods: [HttpMethod.GET] }))
        .toThrow(/\[test\/db\/AllowFrom\] CM323 .*uses methods, an HTTP attribute, but service "db" speaks mysql: the rule would never match.*Fix: match TCP traffic with ports/);
      expect(() => new AuthorizationPolicy(chart, 'p', { mesh, target: db, action: AuthorizationAction.DENY, rules: [{ conditions: [Condition.requestHeader('x').oneOf('y')] }] }))
        .toThrow(/CM323 .*Istio would deny every connection to it/);
    });

    test('CM324: two policies with one name in a namespace', () => {
      const { chart, mesh } = meshChart();
      AuthorizationPolicy.allowNothing(chart, 'a', { mesh, name: 'lockdown' });
      expect(() => AuthorizationPolicy.denyAll(chart, 'b', { mesh, name: 'lockdown' }))
        .toThrow(/\[test\/b\] CM324 .*namespace "foo" already has a AuthorizationPolicy "lockdown" \(test\/a\).*Fix: give this policy another name/);
    });

    test('CM325: peer negations and combinations Istio cannot express', () => {
      const { chart, mesh } = meshChart();
      const policy = new AuthorizationPolicy(chart, 'p', { mesh });
      expect(() => policy.addRule({ sources: [Peer.noneOf(Peer.allOf(Peer.namespace('a'), Peer.ipBlock('10.0.0.0/8')))] }))
        .toThrow(/\[test\/p\] CM325 .*Peer\.noneOf\(\) got a peer with namespaces \[a\] and ipBlocks \[10.0.0.0\/8\]/);
      expect(() => policy.addRule({ sources: [Peer.noneOf(Peer.noneOf(Peer.namespace('a')))] })).toThrow(/CM325 /);
      expect(() => policy.addRule({ sources: [Peer.allOf(Peer.namespace('a'), Peer.namespace('b'))] }))
        .toThrow(/CM325 .*both set namespaces.*Fix: to accept either, list them as separate sources/);
    });

    test('CM326: rules added to allowNothing/allowAll/denyAll', () => {
      const { chart, mesh } = meshChart();
      const nothing = AuthorizationPolicy.allowNothing(chart, 'n', { mesh });
      expect(() => nothing.addRule({ sources: [mesh] })).toThrow(/\[test\/n\] CM326 .*AuthorizationPolicy\.allowNothing\(\), whose meaning is fixed/);
    });

    test('CM329: dry-run on AUDIT or CUSTOM', () => {
      const { chart, mesh } = meshChart();
      expect(() => new AuthorizationPolicy(chart, 'p', { mesh, action: AuthorizationAction.AUDIT, dryRun: true }))
        .toThrow(/\[test\/p\] CM329 .*dryRun is set on a AUDIT policy.*Fix: remove dryRun/);
    });

    test('CM101: a policy name that is not a DNS name', () => {
      const { chart, mesh } = meshChart();
      expect(() => new AuthorizationPolicy(chart, 'p', { mesh, name: 'Allow_All' })).toThrow(/\[test\/p\] CM101 .*policy name "Allow_All"/);
    });
  });
});

describe('identity rules need mTLS', () => {
  test('CM331: allowing a caller by identity on a workload that accepts plaintext only', () => {
    const chart = Testing.chart();
    const mesh = new Mesh(chart, 'mesh', { namespaceName: 'shop' });
    const web = new MeshService(chart, 'web', { mesh, image: 'web:1', port: 80 });
    const legacy = new MeshService(chart, 'legacy', { mesh, image: 'legacy:1', port: 80 });
    new MtlsPolicy(chart, 'plaintext', { mesh, target: legacy, mode: MtlsMode.DISABLE });
    legacy.allowFrom(web);
    expect(() => Testing.synth(chart)).toThrow(
      /\[test\/legacy\/AllowFrom\] CM331 .*matches callers by identity, but "legacy" accepts plaintext only \(mTLS DISABLE\).*Fix: use mTLS STRICT or PERMISSIVE/);
  });
});
