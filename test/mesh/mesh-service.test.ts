import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Dataplane, Mesh, MeshService, Protocol } from '../../src';
import { Manifest, inventory, one } from '../support/manifests';

function setup(dataplane?: Dataplane) {
  const chart = Testing.chart();
  const mesh = new Mesh(chart, 'mesh', { namespaceName: 'shop', dataplane });
  return { chart, mesh };
}
const synth = (chart: Chart) => Testing.synth(chart) as Manifest[];

describe('MeshService', () => {
  test('writes a ServiceAccount, a Service, a Deployment per version, ONE DestinationRule and ONE VirtualService', () => {
    // GIVEN
    const { chart, mesh } = setup();
    // WHEN
    const reviews = new MeshService(chart, 'reviews', { mesh, image: 'reviews:1', port: 9080, serviceAccountName: 'bookinfo-reviews' });
    const v2 = reviews.addVersion('v2', { image: 'reviews:2' });
    // THEN
    const manifests = synth(chart);
    expect(inventory(manifests).filter((n) => !/^(Namespace|PeerAuthentication|AuthorizationPolicy)\//.test(n))).toEqual([
      'ServiceAccount/bookinfo-reviews', 'Service/reviews', 'Deployment/reviews-v1',
      'DestinationRule/reviews', 'VirtualService/reviews', 'Sidecar/reviews', 'Deployment/reviews-v2',
    ]);
    // No dependency declared: the proxy is scoped to the control plane only.
    expect(one(manifests, 'Sidecar', 'reviews').spec).toEqual({
      workloadSelector: { labels: { app: 'reviews' } },
      egress: [{ hosts: ['istio-system/*'] }],
      outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' },
    });
    expect(one(manifests, 'Service', 'reviews')).toMatchObject({
      metadata: { namespace: 'shop', labels: { app: 'reviews', service: 'reviews' } },
      spec: { selector: { app: 'reviews' }, ports: [{ name: 'http', appProtocol: 'http', port: 9080, targetPort: 9080 }] },
    });
    const deployment = one(manifests, 'Deployment', 'reviews-v2');
    expect(deployment.metadata.labels).toEqual({ app: 'reviews', version: 'v2' });
    expect(deployment.spec.selector).toEqual({ matchLabels: { app: 'reviews', version: 'v2' } });
    expect(deployment.spec.template.metadata.labels).toMatchObject({
      'app': 'reviews',
      'version': 'v2',
      'service.istio.io/canonical-name': 'reviews',
      'service.istio.io/canonical-revision': 'v2',
    });
    expect(deployment.spec.template.spec.serviceAccountName).toBe('bookinfo-reviews');
    expect(deployment.spec.template.spec.containers[0]).toMatchObject({ name: 'reviews', image: 'reviews:2', ports: [{ containerPort: 9080 }] });
    expect(one(manifests, 'DestinationRule', 'reviews').spec).toEqual({
      host: 'reviews.shop.svc.cluster.local',
      subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }],
    });
    expect(one(manifests, 'VirtualService', 'reviews').spec).toEqual({
      hosts: ['reviews.shop.svc.cluster.local'],
      http: [{
        route: [{ destination: { host: 'reviews.shop.svc.cluster.local', subset: 'v1' } }],
        // Nothing declares reviews' methods, so a request may be a POST: retried only where it never arrived.
        retries: { attempts: 2, retryOn: 'connect-failure,refused-stream' },
      }],
    });
    expect(reviews.host).toBe('reviews.shop.svc.cluster.local');
    expect(reviews.principal).toBe('cluster.local/ns/shop/sa/bookinfo-reviews');
    expect(reviews.versions).toEqual([reviews.defaultVersion, v2]);
    expect(reviews.defaultVersion.name).toBe('v1');
    expect(v2.toWorkloadSelector()).toEqual({ namespaceName: 'shop', matchLabels: { app: 'reviews', version: 'v2' } });
    expect(reviews.toWorkloadSelector()).toEqual({ namespaceName: 'shop', matchLabels: { app: 'reviews' } });
    expect(manifests).toMatchSnapshot();
  });

  test('exposes the generated objects as escape hatches', () => {
    const { chart, mesh } = setup();
    const svc = new MeshService(chart, 'api', { mesh, image: 'api:1', port: 80 });
    expect(svc.service.name).toBe('api');
    expect(svc.serviceAccount.name).toBe('api');
    expect(svc.defaultVersion.deployment.name).toBe('api-v1');
    expect(svc.destinationRule.kind).toBe('DestinationRule');
    expect(svc.virtualService!.kind).toBe('VirtualService');
    svc.virtualService!.metadata.addAnnotation('team', 'payments');
    expect(one(synth(chart), 'VirtualService', 'api').metadata.annotations).toEqual({ team: 'payments' });
  });

  test('port name carries the protocol and an optional suffix; target port may differ', () => {
    const { chart, mesh } = setup();
    new MeshService(chart, 'api', { mesh, image: 'api:1', port: 8000, targetPort: 8080, protocol: Protocol.GRPC, portNameSuffix: 'api' });
    expect(one(synth(chart), 'Service', 'api').spec.ports).toEqual([{ name: 'grpc-api', appProtocol: 'grpc', port: 8000, targetPort: 8080 }]);
  });

  test('a TCP service routes with a tcp rule (no HTTP retries)', () => {
    const { chart, mesh } = setup();
    new MeshService(chart, 'db', { mesh, image: 'mysql:8', port: 3306, protocol: Protocol.MYSQL });
    expect(one(synth(chart), 'VirtualService', 'db').spec).toEqual({
      hosts: ['db.shop.svc.cluster.local'],
      tcp: [{ route: [{ destination: { host: 'db.shop.svc.cluster.local', subset: 'v1' } }] }],
    });
  });

  test('a TLS service routes by SNI', () => {
    const { chart, mesh } = setup();
    new MeshService(chart, 'secure', { mesh, image: 'secure:1', port: 8443, protocol: Protocol.HTTPS });
    expect(one(synth(chart), 'VirtualService', 'secure').spec.tls).toEqual([{
      match: [{ sniHosts: ['secure.shop.svc.cluster.local'], port: 8443 }],
      route: [{ destination: { host: 'secure.shop.svc.cluster.local', subset: 'v1' } }],
    }]);
  });

  test('versions inherit service settings and override them', () => {
    const { chart, mesh } = setup();
    const svc = new MeshService(chart, 'api', {
      mesh,
      image: 'api:1',
      port: 80,
      replicas: 3,
      env: { A: '1', B: '2' },
      podAnnotations: { x: 'y' },
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      scratchDirectories: ['/tmp'],
    });
    svc.addVersion('v2', { env: { B: 'two' }, replicas: 1 });
    const v2 = one(synth(chart), 'Deployment', 'api-v2');
    expect(v2.spec.replicas).toBe(1);
    const container = v2.spec.template.spec.containers[0];
    expect(container.image).toBe('api:1');
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(container.env).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: 'two' }]);
    expect(container.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(v2.spec.template.spec.volumes).toEqual([{ name: 'tmp', emptyDir: {} }]);
    expect(v2.spec.template.metadata.annotations).toEqual({ x: 'y' });
  });

  test('sidecar proxy resources and holdApplicationUntilProxyStarts become Istio pod annotations', () => {
    const { chart, mesh } = setup();
    new MeshService(chart, 'api', {
      mesh,
      image: 'api:1',
      port: 80,
      holdApplicationUntilProxyStarts: true,
      proxyResources: {
        cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(500) },
        memory: { request: Size.mebibytes(128), limit: Size.mebibytes(256) },
      },
    });
    expect(one(synth(chart), 'Deployment', 'api-v1').spec.template.metadata.annotations).toEqual({
      'sidecar.istio.io/proxyCPU': '100m',
      'sidecar.istio.io/proxyCPULimit': '500m',
      'sidecar.istio.io/proxyMemory': '128Mi',
      'sidecar.istio.io/proxyMemoryLimit': '256Mi',
      'proxy.istio.io/config': '{"holdApplicationUntilProxyStarts":true}',
    });
  });

  describe('workload defaults (docs/getting-started.md, "What a service runs with")', () => {
    const deploymentOf = (chart: Chart, name: string) => one(synth(chart), 'Deployment', name);

    test('modest requests, a memory limit, no CPU limit, Kubernetes\' pull policy, a writable root, no hashed label (finding 14.3f)', () => {
      const { chart, mesh } = setup();
      const web = new MeshService(chart, 'web', { mesh, image: 'example/web:1.0', port: 8080 });
      web.addVersion('v2', { image: 'example/web:2.0' });
      for (const name of ['web-v1', 'web-v2']) {
        const deployment = deploymentOf(chart, name);
        const container = deployment.spec.template.spec.containers[0];
        expect(container.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } });
        // Without the field, Kubernetes pulls `:latest` and untagged images always, other tags
        // when missing (kubernetes.io/docs/concepts/containers/images/#imagepullpolicy-defaulting).
        expect(container).not.toHaveProperty('imagePullPolicy');
        expect(container.securityContext).toEqual({
          readOnlyRootFilesystem: false, runAsNonRoot: true, privileged: false, allowPrivilegeEscalation: false,
        });
        // Names and labels are exact and stable, never hashed (DESIGN.md).
        expect(Object.keys(deployment.spec.template.metadata.labels).sort())
          .toEqual(['app', 'service.istio.io/canonical-name', 'service.istio.io/canonical-revision', 'version']);
        expect(deployment.spec.selector).toEqual({ matchLabels: { app: 'web', version: name.slice(4) } });
        expect(JSON.stringify(deployment)).not.toContain('cdk8s.io/metadata.addr');
      }
    });

    test('scratch directories make the root filesystem read-only', () => {
      const { chart, mesh } = setup();
      new MeshService(chart, 'web', { mesh, image: 'web:1', port: 8080, scratchDirectories: ['/tmp'] });
      const container = deploymentOf(chart, 'web-v1').spec.template.spec.containers[0];
      expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
      expect(container.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    });

    test('every default can be overridden, per service and per version', () => {
      const { chart, mesh } = setup();
      const web = new MeshService(chart, 'web', {
        mesh,
        image: 'web:1',
        port: 8080,
        resources: {
          cpu: { request: kplus.Cpu.millis(250), limit: kplus.Cpu.units(1) },
          memory: { request: Size.mebibytes(256), limit: Size.gibibytes(1) },
        },
        imagePullPolicy: kplus.ImagePullPolicy.ALWAYS,
        securityContext: { readOnlyRootFilesystem: true, user: 1000 },
      });
      web.addVersion('v2', { imagePullPolicy: kplus.ImagePullPolicy.NEVER, scratchDirectories: ['/cache'], securityContext: { readOnlyRootFilesystem: false } });
      const v1 = deploymentOf(chart, 'web-v1').spec.template.spec.containers[0];
      expect(v1.resources).toEqual({ requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '1024Mi' } });
      expect(v1.imagePullPolicy).toBe('Always');
      expect(v1.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsUser: 1000 });
      const v2 = deploymentOf(chart, 'web-v2').spec.template.spec.containers[0];
      expect(v2.resources).toEqual(v1.resources);
      expect(v2.imagePullPolicy).toBe('Never');
      expect(v2.securityContext.readOnlyRootFilesystem).toBe(false);
    });
  });

  describe('probes', () => {
    // Kubernetes probes the port a probe names (k8s.io/docs/tasks/configure-pod-container/
    // configure-liveness-readiness-startup-probes); cdk8s-plus fills a missing port from the
    // container's `portNumber`, else 80 (cdk8s-plus-27 src/_action.ts).
    const containerOf = (chart: Chart, deployment: string) => one(synth(chart), 'Deployment', deployment).spec.template.spec.containers[0];

    test('a probe without a port probes the container port (finding 14.3a: it probed port 80)', () => {
      const { chart, mesh } = setup();
      const web = new MeshService(chart, 'web', {
        mesh,
        image: 'web:1',
        port: 8080,
        readiness: kplus.Probe.fromHttpGet('/healthz'),
        liveness: kplus.Probe.fromTcpSocket(),
      });
      web.addVersion('v2', { image: 'web:2' });
      for (const deployment of ['web-v1', 'web-v2']) {
        const container = containerOf(chart, deployment);
        expect(container.readinessProbe).toEqual({ httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' }, failureThreshold: 3 });
        expect(container.livenessProbe).toEqual({ tcpSocket: { port: 8080 }, failureThreshold: 3 });
        // Only the probes given: no startup probe of cdk8s-plus's own.
        expect(container.startupProbe).toBeUndefined();
      }
      expect(containerOf(chart, 'web-v1')).toMatchSnapshot();
    });

    test('the container port, not the Service port, when they differ', () => {
      const { chart, mesh } = setup();
      new MeshService(chart, 'api', { mesh, image: 'api:1', port: 80, targetPort: 9090, readiness: kplus.Probe.fromHttpGet('/ready') });
      expect(containerOf(chart, 'api-v1').readinessProbe.httpGet.port).toBe(9090);
    });

    test('a version overriding the probe gets its own, on the container port', () => {
      const { chart, mesh } = setup();
      const svc = new MeshService(chart, 'api', { mesh, image: 'api:1', port: 7000, readiness: kplus.Probe.fromHttpGet('/ready') });
      svc.addVersion('v2', { readiness: kplus.Probe.fromHttpGet('/v2/ready', { periodSeconds: Duration.seconds(5) }) });
      expect(containerOf(chart, 'api-v2').readinessProbe).toEqual({ httpGet: { path: '/v2/ready', port: 7000, scheme: 'HTTP' }, failureThreshold: 3, periodSeconds: 5 });
    });

    test('a probe naming the container port, or a port added to the container, is kept', () => {
      const { chart, mesh } = setup();
      const svc = new MeshService(chart, 'api', { mesh, image: 'api:1', port: 8080, readiness: kplus.Probe.fromHttpGet('/ready', { port: 8080 }) });
      const v2 = svc.addVersion('v2', { liveness: kplus.Probe.fromHttpGet('/actuator/health', { port: 8081 }) });
      v2.container.addPort({ number: 8081 });
      expect(containerOf(chart, 'api-v1').readinessProbe.httpGet.port).toBe(8080);
      expect(containerOf(chart, 'api-v2').livenessProbe.httpGet.port).toBe(8081);
    });

    test('a command probe has no port', () => {
      const { chart, mesh } = setup();
      new MeshService(chart, 'api', { mesh, image: 'api:1', port: 8080, readiness: kplus.Probe.fromCommand(['cat', '/tmp/ready']) });
      expect(containerOf(chart, 'api-v1').readinessProbe).toEqual({ exec: { command: ['cat', '/tmp/ready'] }, failureThreshold: 3 });
    });

    test('CM116: a probe on a port the container does not expose', () => {
      const { chart, mesh } = setup();
      new MeshService(chart, 'web', { mesh, image: 'web:1', port: 8080, readiness: kplus.Probe.fromHttpGet('/healthz', { port: 80 }) });
      expect(() => synth(chart)).toThrow(new RegExp('\\[test/web/v1\\] CM116 Probe on a port the container does not expose: the readiness probe of version "v1" of service "web" probes port 80, '
        + 'but the container exposes only 8080\\. Fix: leave the probe\'s port out to probe the container port 8080, or expose port 80 with version\\.container\\.addPort'));
    });
  });

  test('a service in a chart without namespace is written to the mesh namespace', () => {
    const app = Testing.app();
    const mesh = new Mesh(new Chart(app, 'platform'), 'mesh', { namespaceName: 'shop' });
    const chart = new Chart(app, 'services');
    new MeshService(chart, 'api', { mesh, image: 'api:1', port: 80 });
    expect(synth(chart).every((m) => m.metadata.namespace === 'shop')).toBe(true);
  });

  describe('bad input', () => {
    test('CM101: service name that is not a DNS label', () => {
      const { chart, mesh } = setup();
      expect(() => new MeshService(chart, 'svc', { mesh, name: 'Reviews_Service', image: 'x', port: 80 }))
        .toThrow(/\[test\/svc\] CM101 .*service name "Reviews_Service" is not a valid DNS label.*starting with a letter.*e\.g\. "reviews-service"/);
    });

    test('CM101: service name starting with a digit', () => {
      const { chart, mesh } = setup();
      expect(() => new MeshService(chart, 'svc', { mesh, name: '1reviews', image: 'x', port: 80 })).toThrow(/CM101 .*"1reviews"/);
    });

    test('CM101: version name that is not a DNS label', () => {
      const { chart, mesh } = setup();
      const svc = new MeshService(chart, 'svc', { mesh, image: 'x', port: 80 });
      expect(() => svc.addVersion('V2.beta')).toThrow(/\[test\/svc\/V2\.beta\] CM101 .*version name "V2\.beta" is not a valid DNS label/);
    });

    test('CM101: service account name that is not a DNS subdomain', () => {
      const { chart, mesh } = setup();
      expect(() => new MeshService(chart, 'svc', { mesh, image: 'x', port: 80, serviceAccountName: 'Svc Account' }))
        .toThrow(/CM101 .*service account name "Svc Account" is not a valid DNS subdomain/);
    });

    test('CM103: a service in a chart of another namespace', () => {
      const app = Testing.app();
      const mesh = new Mesh(new Chart(app, 'shop', { namespace: 'shop' }), 'mesh');
      const other = new Chart(app, 'billing', { namespace: 'billing' });
      expect(() => new MeshService(other, 'api', { mesh, image: 'x', port: 80 }))
        .toThrow(/\[billing\/api\] CM103 .*Chart for namespace "billing" but its mesh is namespace "shop".*Fix: create the service in a Chart for namespace "shop"/);
    });

    test('CM105: duplicate version', () => {
      const { chart, mesh } = setup();
      const svc = new MeshService(chart, 'svc', { mesh, image: 'x', port: 80 });
      expect(() => svc.addVersion('v1')).toThrow(/CM105 .*service "svc" already has a version "v1"/);
    });

    test.each([0, 65536, 80.5, -1])('CM106: port %p out of range', (port) => {
      const { chart, mesh } = setup();
      expect(() => new MeshService(chart, 'svc', { mesh, image: 'x', port }))
        .toThrow(new RegExp(`\\[test/svc\\] CM106 .*port ${port} is not a TCP port number. Fix: use a whole number from 1 to 65535`));
    });

    test('CM106: target port out of range', () => {
      const { chart, mesh } = setup();
      expect(() => new MeshService(chart, 'svc', { mesh, image: 'x', port: 80, targetPort: 70000 })).toThrow(/CM106 .*targetPort 70000/);
    });

    test('CM107: empty image', () => {
      const { chart, mesh } = setup();
      expect(() => new MeshService(chart, 'svc', { mesh, image: '  ', port: 80 }))
        .toThrow(/\[test\/svc\/v1\] CM107 .*version "v1" of service "svc" has an empty container image.*Fix: pass image/);
    });

    test('CM108: fractional replicas', () => {
      const { chart, mesh } = setup();
      expect(() => new MeshService(chart, 'svc', { mesh, image: 'x', port: 80, replicas: 1.5 })).toThrow(/CM108 .*replicas is 1.5/);
    });

    test('CM109: sidecar options in ambient mode', () => {
      const { chart, mesh } = setup(Dataplane.ambient());
      expect(() => new MeshService(chart, 'svc', { mesh, image: 'x', port: 80, holdApplicationUntilProxyStarts: true }))
        .toThrow(/CM109 .*holdApplicationUntilProxyStarts configures the sidecar, but namespace "shop" is in ambient mode.*Fix: remove the option/);
    });

    test('CM110: holdApplicationUntilProxyStarts with a proxy.istio.io/config annotation', () => {
      const { chart, mesh } = setup();
      expect(() => new MeshService(chart, 'svc', {
        mesh, image: 'x', port: 80, holdApplicationUntilProxyStarts: true, podAnnotations: { 'proxy.istio.io/config': '{}' },
      })).toThrow(/CM110 .*both set "proxy.istio.io\/config"/);
    });

    test('CM110: proxy resources also set as annotations', () => {
      const { chart, mesh } = setup();
      expect(() => new MeshService(chart, 'svc', {
        mesh,
        image: 'x',
        port: 80,
        proxyResources: { cpu: { request: kplus.Cpu.millis(100) } },
        podAnnotations: { 'sidecar.istio.io/proxyCPU': '200m' },
      })).toThrow(/CM110 .*proxyResources and podAnnotations both set "sidecar.istio.io\/proxyCPU"/);
    });

    test('CM112: podLabels overriding app or version', () => {
      const { chart, mesh } = setup();
      expect(() => new MeshService(chart, 'svc', { mesh, image: 'x', port: 80, podLabels: { version: 'canary' } }))
        .toThrow(/CM112 .*podLabels sets "version"/);
    });

    test('CM113: two services with one name in a namespace', () => {
      const { chart, mesh } = setup();
      new MeshService(chart, 'a', { mesh, name: 'api', image: 'x', port: 80 });
      expect(() => new MeshService(chart, 'b', { mesh, name: 'api', image: 'x', port: 80 }))
        .toThrow(/\[test\/b\] CM113 .*namespace "shop" already has a service "api" \(test\/a\)/);
    });

    test('CM114: ephemeral storage for the proxy', () => {
      const { chart, mesh } = setup();
      expect(() => new MeshService(chart, 'svc', { mesh, image: 'x', port: 80, proxyResources: { ephemeralStorage: { request: Size.gibibytes(1) } } }))
        .toThrow(/CM114 /);
    });

    test('CM115: relative scratch directory', () => {
      const { chart, mesh } = setup();
      expect(() => new MeshService(chart, 'svc', { mesh, image: 'x', port: 80, scratchDirectories: ['tmp'] }))
        .toThrow(/CM115 .*"tmp" is not an absolute path/);
    });
  });
});
