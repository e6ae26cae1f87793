import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import * as YAML from 'yaml';
import { patchAsDeployment } from './support';
import { BookinfoChart } from '../../examples/bookinfo/bookinfo';
import {
  ApplicationSource, ArgoCdApplication, ArgoCdProject, Cdk8sPlugin, IgnoreDifference, Mesh, MeshService,
} from '../../src';
import { Manifest, one } from '../support/manifests';
import { schemaErrors } from '../support/schema';

const REPO = 'https://github.com/example/shop.git';

function argocdChart(): Chart {
  return new Chart(Testing.app(), 'argocd');
}

describe('ArgoCdApplication', () => {
  test('a directory Application with the GitOps defaults: automated, prune, self-heal, PruneLast', () => {
    // GIVEN
    const chart = argocdChart();
    // WHEN
    const app = new ArgoCdApplication(chart, 'shop', {
      source: ApplicationSource.directory({ repoUrl: REPO, path: 'manifests/shop', targetRevision: 'main' }),
      destination: { namespaceName: 'shop' },
    });
    // THEN
    const application = one(Testing.synth(chart) as Manifest[], 'Application', 'shop', 'argocd');
    expect(application.apiVersion).toBe('argoproj.io/v1alpha1');
    expect(application.spec).toEqual({
      project: 'default',
      source: { repoURL: REPO, targetRevision: 'main', path: 'manifests/shop' },
      destination: { server: 'https://kubernetes.default.svc', namespace: 'shop' },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['PruneLast=true'] },
    });
    expect(app.apiObject.name).toBe('shop');
    expect(application).toMatchSnapshot();
  });

  test('a plugin Application: plugin name and sorted env; targetRevision defaults to HEAD', () => {
    const chart = argocdChart();
    new ArgoCdApplication(chart, 'shop-cmp', {
      source: ApplicationSource.plugin({ repoUrl: REPO, path: 'apps/shop', pluginName: 'cdk8s-v2', env: { STAGE: 'prod', REGION: 'eu' } }),
    });
    expect(one(Testing.synth(chart) as Manifest[], 'Application', 'shop-cmp').spec.source).toEqual({
      repoURL: REPO,
      targetRevision: 'HEAD',
      path: 'apps/shop',
      plugin: { name: 'cdk8s-v2', env: [{ name: 'REGION', value: 'eu' }, { name: 'STAGE', value: 'prod' }] },
    });
  });

  test('ignoreDifferences are rendered at synthesis, sorted, and switch on RespectIgnoreDifferences', () => {
    // GIVEN: the Application is declared before the mesh whose autoscaler it must respect
    const app = Testing.app();
    const argocd = new Chart(app, 'argocd');
    const shop = new Chart(app, 'shop', { namespace: 'shop' });
    new ArgoCdApplication(argocd, 'shop', {
      source: ApplicationSource.directory({ repoUrl: REPO, path: 'manifests/shop' }),
      ignoreDifferences: [IgnoreDifference.autoscaledReplicas(shop), IgnoreDifference.istioWebhooks()],
      syncPolicy: { syncOptions: ['ServerSideApply=true', 'PruneLast=true'] },
    });
    // WHEN
    const mesh = new Mesh(shop, 'mesh');
    const web = new MeshService(shop, 'web', { mesh, image: 'web:1', port: 8080 });
    new kplus.HorizontalPodAutoscaler(shop, 'web-hpa', { target: web.defaultVersion.deployment, maxReplicas: 5 });
    // THEN
    const spec = one(Testing.synth(argocd) as Manifest[], 'Application', 'shop').spec;
    expect(spec.ignoreDifferences).toEqual([
      { group: 'admissionregistration.k8s.io', kind: 'MutatingWebhookConfiguration', jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle'] },
      { group: 'admissionregistration.k8s.io', kind: 'ValidatingWebhookConfiguration', jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle', '.webhooks[]?.failurePolicy'] },
      { group: 'apps', kind: 'Deployment', name: 'web-v1', namespace: 'shop', jsonPointers: ['/spec/replicas'] },
    ]);
    expect(spec.syncPolicy.syncOptions).toEqual(['PruneLast=true', 'RespectIgnoreDifferences=true', 'ServerSideApply=true']);
  });

  test('a manual Application has no automated block', () => {
    const chart = argocdChart();
    new ArgoCdApplication(chart, 'shop', {
      source: ApplicationSource.directory({ repoUrl: REPO, path: 'manifests/shop', recurse: true }),
      syncPolicy: { automated: false },
      destination: { clusterName: 'prod-eu' },
    });
    const spec = one(Testing.synth(chart) as Manifest[], 'Application', 'shop').spec;
    expect(spec.syncPolicy).toEqual({ syncOptions: ['PruneLast=true'] });
    expect(spec.destination).toEqual({ name: 'prod-eu' });
    expect(spec.source.directory).toEqual({ recurse: true });
  });

  test('in a project: its name, its namespace, and the AppProject that permits it', () => {
    const chart = argocdChart();
    const project = new ArgoCdProject(chart, 'mesh', {
      namespaceName: 'gitops',
      description: 'Service meshes',
      sourceRepos: ['https://github.com/example/*'],
      destinations: [{ namespaceName: 'shop' }, { server: 'https://*.example.com', namespaceName: 'shop-*' }],
    });
    new ArgoCdApplication(chart, 'shop', {
      project,
      source: ApplicationSource.directory({ repoUrl: REPO, path: 'manifests/shop' }),
      destination: { namespaceName: 'shop' },
    });
    const manifests = Testing.synth(chart) as Manifest[];
    expect(one(manifests, 'Application', 'shop', 'gitops').spec.project).toBe('mesh');
    expect(one(manifests, 'AppProject', 'mesh', 'gitops').spec).toEqual({
      description: 'Service meshes',
      sourceRepos: ['https://github.com/example/*'],
      destinations: [
        { server: 'https://kubernetes.default.svc', namespace: 'shop' },
        { server: 'https://*.example.com', namespace: 'shop-*' },
      ],
      clusterResourceWhitelist: [{ group: '', kind: 'Namespace' }],
    });
  });

  test('the Argo CD CRD schemas reject what Argo CD would reject (the schema check is live)', () => {
    const errors = schemaErrors([
      { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'x' }, spec: { project: 'default', destination: {}, sources: [], repoUrl: 'x' } },
      { apiVersion: 'argoproj.io/v1alpha1', kind: 'AppProject', metadata: { name: 'x' }, spec: { clusterResourceWhitelist: [{ kind: 'Namespace' }] } },
    ]);
    expect(errors.join('\n')).toMatch(/Application\/x .*repoUrl/);
    expect(errors.join('\n')).toMatch(/AppProject\/x .*group/);
  });

  describe('the render-in-CI folder holds only what the Application delivers (finding 14.3g)', () => {
    // Argo CD deploys every manifest in a directory source, and refuses the whole sync when an
    // object's namespace is not among the project's destinations (or a cluster-scoped kind is
    // not whitelisted): argo-cd.readthedocs.io, user-guide/projects.
    const outdirs: string[] = [];
    afterAll(() => outdirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
    const folder = (...segments: string[]) => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gitops-'));
      outdirs.push(root);
      return path.join(root, ...segments);
    };
    /** One program holding the mesh and its Argo CD objects, as docs/gitops.md once showed it. */
    const oneProgram = (outdir: string, destinations = [{ namespaceName: 'shop' }]) => {
      const app = new App({ outdir });
      const shop = new Chart(app, 'shop', { namespace: 'shop' });
      new MeshService(shop, 'web', { mesh: new Mesh(shop, 'mesh'), image: 'web:1', port: 8080 });
      const argocd = new Chart(app, 'argocd');
      const project = new ArgoCdProject(argocd, 'mesh', { sourceRepos: [REPO], destinations });
      new ArgoCdApplication(argocd, 'shop', { project, source: ApplicationSource.directory({ repoUrl: REPO, path: 'manifests/shop' }), destination: { namespaceName: 'shop' } });
      return app;
    };

    test('CM910: a program synthesized into the folder its own Application watches, writing objects the project refuses', () => {
      const app = oneProgram(folder('manifests', 'shop'));
      expect(() => app.synth()).toThrow(new RegExp('\\[argocd/shop\\] CM910 Objects rendered into a folder whose project refuses them: the app is synthesized into .*/manifests/shop, '
        + 'the folder "manifests/shop" this Application deploys, so Argo CD would deploy everything the app writes there, and AppProject "mesh" does not permit '
        + 'AppProject argocd/mesh, Application argocd/shop: Argo CD would refuse the sync\\. Fix: synthesize the Argo CD objects in a program of their own'));
    });

    test('the same program into another folder, or a project that permits Argo CD\'s namespace, is fine', () => {
      expect(() => oneProgram(folder('dist')).synth()).not.toThrow();
      expect(() => oneProgram(folder('manifests', 'shop'), [{ namespaceName: 'shop' }, { namespaceName: 'argocd' }]).synth()).not.toThrow();
    });

    test('docs/gitops.md: the Argo CD program writes only the Argo CD objects, and refuses the watched folder', () => {
      const run = (outdir: string) => {
        process.env.CDK8S_OUTDIR = outdir;
        try {
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          jest.isolateModules(() => require('../docs/snippets/gitops-application'));
        } finally {
          delete process.env.CDK8S_OUTDIR;
        }
      };
      const objects = folder('argocd-objects');
      run(objects);
      const written = fs.readdirSync(objects).flatMap((f) => YAML.parseAllDocuments(fs.readFileSync(path.join(objects, f), 'utf8')).map((d) => d.toJS()));
      expect(written.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['AppProject argocd/mesh', 'Application argocd/shop']);
      expect(() => run(folder('manifests', 'shop'))).toThrow(/CM910 /);
      const guide = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'gitops.md'), 'utf8');
      expect(guide).toContain("npx cdk8s synth --app 'npx ts-node argocd.ts' --output argocd-objects");
    });
  });

  describe('bad input', () => {
    const source = ApplicationSource.directory({ repoUrl: REPO, path: 'manifests/shop' });

    test('CM101: an Application name Kubernetes rejects', () => {
      expect(() => new ArgoCdApplication(argocdChart(), 'Shop_App', { source }))
        .toThrow(/\[argocd\/Shop_App\] CM101 Invalid Kubernetes name: Application name "Shop_App" is not a valid DNS subdomain/);
    });

    test('CM905: an empty repository URL', () => {
      expect(() => new ArgoCdApplication(argocdChart(), 'shop', { source: ApplicationSource.directory({ repoUrl: ' ', path: 'x' }) }))
        .toThrow(/\[argocd\/shop\] CM905 Invalid Argo CD source: the source has an empty repoUrl\. Fix:/);
    });

    test.each(['/manifests/shop', 'manifests/../../etc'])('CM905: a path that leaves the repository (%s)', (folder) => {
      expect(() => new ArgoCdApplication(argocdChart(), 'shop', { source: ApplicationSource.directory({ repoUrl: REPO, path: folder }) }))
        .toThrow(/CM905 Invalid Argo CD source: the source path .* leaves the repository\. Fix: give the folder relative to the repository's root/);
    });

    test('CM906: a destination with both server and clusterName', () => {
      expect(() => new ArgoCdApplication(argocdChart(), 'shop', { source, destination: { server: 'https://k8s.example.com', clusterName: 'prod' } }))
        .toThrow(/\[argocd\/shop\] CM906 Argo CD destination names the cluster twice: .*Fix: give either server or clusterName/);
    });

    test('CM907: prune or selfHeal without automated sync', () => {
      expect(() => new ArgoCdApplication(argocdChart(), 'shop', { source, syncPolicy: { automated: false, selfHeal: true } }))
        .toThrow(/\[argocd\/shop\] CM907 Sync option without automated sync: .*Fix: set automated: true/);
    });

    test('CM908: a repository or destination the project does not permit fails synthesis', () => {
      const chart = argocdChart();
      const project = new ArgoCdProject(chart, 'mesh', {
        sourceRepos: ['https://github.com/example/*', '!https://github.com/example/secret*'],
        destinations: [{ namespaceName: 'shop' }],
      });
      new ArgoCdApplication(chart, 'other-repo', { project, source: ApplicationSource.directory({ repoUrl: 'https://gitlab.com/x/y.git', path: 'm' }) });
      new ArgoCdApplication(chart, 'denied-repo', { project, source: ApplicationSource.directory({ repoUrl: 'https://github.com/example/secrets.git', path: 'm' }) });
      new ArgoCdApplication(chart, 'other-namespace', { project, source, destination: { namespaceName: 'billing' } });
      const error = (() => {
        try {
          Testing.synth(chart);
          return '';
        } catch (e) {
          return (e as Error).message;
        }
      })();
      expect(error).toMatch(/\[argocd\/other-repo\] CM908 Application not permitted by its project: the repository "https:\/\/gitlab.com\/x\/y.git" is not among the source repositories of AppProject "mesh".*Fix: add it/);
      expect(error).toMatch(/\[argocd\/denied-repo\] CM908 .*"https:\/\/github.com\/example\/secrets.git"/);
      expect(error).toMatch(/\[argocd\/other-namespace\] CM908 .*the destination https:\/\/kubernetes.default.svc namespace "billing" is not among the destinations of AppProject "mesh"/);
    });

    test('CM101: an AppProject name Kubernetes rejects', () => {
      expect(() => new ArgoCdProject(argocdChart(), 'Mesh', { sourceRepos: ['*'], destinations: [] }))
        .toThrow(/\[argocd\/Mesh\] CM101 .*AppProject name "Mesh"/);
    });
  });
});

describe('IgnoreDifference', () => {
  test('autoscaledReplicas: the Deployment of every autoscaler under the scope (the ingress gateway of bookinfo)', () => {
    const chart = new BookinfoChart(Testing.app(), 'bookinfo');
    expect(IgnoreDifference.autoscaledReplicas(chart).toEntries())
      .toEqual([{ group: 'apps', kind: 'Deployment', name: 'bookinfo-gateway', namespaceName: 'bookinfo', jsonPointers: ['/spec/replicas'] }]);
  });

  test("rolloutTrafficRouting: the service's VirtualService weights and DestinationRule subset hash labels, by their (custom) names", () => {
    const chart = Testing.chart();
    const mesh = new Mesh(chart, 'mesh', { namespaceName: 'shop' });
    const web = new MeshService(chart, 'web', { mesh, image: 'web:1', port: 8080, virtualServiceName: 'web-routes', destinationRuleName: 'web-policy' });
    expect(IgnoreDifference.render([IgnoreDifference.rolloutTrafficRouting(web)])).toEqual([
      { group: 'networking.istio.io', kind: 'DestinationRule', name: 'web-policy', namespace: 'shop', jqPathExpressions: ['.spec.subsets[].labels["rollouts-pod-template-hash"]'] },
      { group: 'networking.istio.io', kind: 'VirtualService', name: 'web-routes', namespace: 'shop', jqPathExpressions: ['.spec.http[].route[].weight'] },
    ]);
  });

  test('custom: any field; render() drops duplicates and spells namespace as Argo CD does', () => {
    const entry = { kind: 'ConfigMap', name: 'flags', namespaceName: 'shop', jsonPointers: ['/data/rollout~1percent'] };
    expect(IgnoreDifference.render([IgnoreDifference.custom(entry), IgnoreDifference.custom(entry)]))
      .toEqual([{ kind: 'ConfigMap', name: 'flags', namespace: 'shop', jsonPointers: ['/data/rollout~1percent'] }]);
    expect(IgnoreDifference.custom({ group: 'apps', kind: 'Deployment', managedFieldsManagers: ['kube-controller-manager'] }).toEntries())
      .toEqual([{ group: 'apps', kind: 'Deployment', managedFieldsManagers: ['kube-controller-manager'] }]);
  });

  test('CM903: a custom entry that names no field', () => {
    expect(() => IgnoreDifference.custom({ kind: 'Deployment', jsonPointers: [] }))
      .toThrow(/\[IgnoreDifference.custom\({ kind: 'Deployment' }\)\] CM903 Ignored difference names no field: .*Fix: give jsonPointers/);
  });

  test('CM904: a JSON pointer written as a jq path', () => {
    expect(() => IgnoreDifference.custom({ kind: 'Deployment', jsonPointers: ['.spec.replicas'] }))
      .toThrow(/CM904 Invalid JSON pointer: ".spec.replicas" is not a JSON pointer\. Fix: start it with "\/" .*e\.g\. "\/spec\/replicas"/);
  });
});

describe('Cdk8sPlugin', () => {
  test('the ConfigMap holds a ConfigManagementPlugin that discovers cdk8s.yaml', () => {
    // GIVEN
    const chart = argocdChart();
    // WHEN
    const plugin = new Cdk8sPlugin(chart, 'cdk8s', { image: 'registry.example.com/cdk8s-cmp:2' });
    // THEN
    const configMap = one(Testing.synth(chart) as Manifest[], 'ConfigMap', 'cmp-cdk8s', 'argocd');
    const config = YAML.parse(configMap.data['plugin.yaml']);
    expect(config).toMatchObject({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'ConfigManagementPlugin',
      metadata: { name: 'cdk8s' },
      spec: { discover: { fileName: './cdk8s.yaml' }, generate: { command: ['sh', '-c'] }, init: { command: ['sh', '-c'] } },
    });
    expect(config.spec.generate.args[0]).toContain('cdk8s synth --no-check-upgrade --output "$out" >&2');
    expect(plugin.pluginName).toBe('cdk8s');
    expect(configMap).toMatchSnapshot();
  });

  test('repoServerPatch: the sidecar of Argo CD\'s documentation, valid as a container of a Deployment', () => {
    const plugin = new Cdk8sPlugin(argocdChart(), 'cdk8s', { image: 'cmp:1', name: 'cdk8s-v2', execTimeout: Duration.minutes(5) });
    const patch = plugin.repoServerPatch();
    const [container] = patch.spec.template.spec.containers;
    expect(patch.metadata).toEqual({ name: 'argocd-repo-server', namespace: 'argocd' });
    expect(container).toMatchObject({ command: ['/var/run/argocd/argocd-cmp-server'], securityContext: { runAsNonRoot: true, runAsUser: 999 } });
    expect(container.env).toContainEqual({ name: 'ARGOCD_EXEC_TIMEOUT', value: '300s' });
    expect(container.volumeMounts).toEqual([
      { name: 'var-files', mountPath: '/var/run/argocd' },
      { name: 'plugins', mountPath: '/home/argocd/cmp-server/plugins' },
      { name: 'cmp-cdk8s-v2', mountPath: '/home/argocd/cmp-server/config/plugin.yaml', subPath: 'plugin.yaml' },
      { name: 'cmp-cdk8s-v2-tmp', mountPath: '/tmp' },
    ]);
    expect(schemaErrors([patchAsDeployment(patch)])).toEqual([]);
    expect(patch).toMatchSnapshot();
  });

  test.each([
    ['an empty image', { image: '' }, /\[argocd\/p\] CM909 Invalid Config Management Plugin setting: the sidecar image is empty/],
    ['a timeout under a second', { image: 'x', execTimeout: Duration.millis(10) }, /CM909 .*execTimeout is 10ms/],
    ['a name Kubernetes rejects', { image: 'x', name: 'CDK8s' }, /CM101 .*plugin name "CDK8s"/],
  ])('bad input: %s', (_what, props, message) => {
    expect(() => new Cdk8sPlugin(argocdChart(), 'p', props)).toThrow(message);
  });
});
