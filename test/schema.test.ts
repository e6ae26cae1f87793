/**
 * The schema check that test/support/setup.ts runs on every synthesized chart: it passes valid
 * objects and real Istio samples, and it fails, naming the field, on each kind of mistake.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject, App, Chart, Testing, YamlOutputType } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import * as YAML from 'yaml';
import { schemaErrors, schemaSources } from './support/schema';
import { withoutSchemaHook } from './support/setup';

const sources = schemaSources();
const crdsPresent = sources.missing.length === 0;
const SKIP_NOTE = ' [SKIPPED: CRDs not found, set MESH_CRDS_DIR / ISTIO_CRDS]';
/** Tests that need the CRDs; when they are absent the test name says so. */
const withCrds = (name: string, fn: () => void) => (crdsPresent ? test(name, fn) : test.skip(name + SKIP_NOTE, fn));
if (!crdsPresent) console.warn(`schema.test.ts: custom-resource tests are SKIPPED, not found: ${sources.missing.join(', ')}`);

/** Istio's own bookinfo sample, next to the CRDs in the shared data directory. */
const SAMPLES = path.resolve(__dirname, '..', '..', 'shared', 'istio-testdata', 'samples', 'bookinfo');

const virtualService = () => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'reviews', namespace: 'bookinfo', labels: { 'app.kubernetes.io/name': 'reviews' } },
  spec: {
    hosts: ['reviews'],
    http: [{
      match: [{ headers: { 'end-user': { exact: 'jason' } } }],
      route: [
        { destination: { host: 'reviews', subset: 'v1', port: { number: 9080 } }, weight: 80 },
        { destination: { host: 'reviews', subset: 'v2' }, weight: 20 },
      ],
      timeout: '2s',
    }],
  },
});
const destinationRule = () => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name: 'reviews', namespace: 'bookinfo' },
  spec: {
    host: 'reviews',
    trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } },
    subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }],
  },
});
const authorizationPolicy = () => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'reviews-viewer', namespace: 'bookinfo' },
  spec: {
    selector: { matchLabels: { app: 'reviews' } },
    action: 'ALLOW',
    rules: [{
      from: [{ source: { principals: ['cluster.local/ns/bookinfo/sa/bookinfo-productpage'] } }],
      to: [{ operation: { methods: ['GET'], ports: ['9080'] } }],
    }],
  },
});
const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'reviews-v1', namespace: 'bookinfo' },
  spec: {
    selector: { matchLabels: { app: 'reviews', version: 'v1' } },
    template: {
      metadata: { labels: { app: 'reviews', version: 'v1' } },
      spec: {
        containers: [{
          name: 'reviews',
          image: 'docker.io/istio/examples-bookinfo-reviews-v1:1.20.3',
          ports: [{ containerPort: 9080 }],
          resources: { limits: { cpu: '500m', memory: 512 } },
        }],
      },
    },
  },
});
const prometheusRule = () => ({
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: { name: 'mesh-slo' },
  spec: { groups: [{ name: 'slo', rules: [{ alert: 'HighErrorRate', expr: 'sum(rate(x[5m])) > 1', for: '5m' }] }] },
});
const application = () => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name: 'bookinfo', namespace: 'argocd' },
  spec: {
    project: 'default',
    source: { repoURL: 'https://example.com/mesh.git', path: 'dist', targetRevision: 'main' },
    destination: { server: 'https://kubernetes.default.svc', namespace: 'bookinfo' },
  },
});

/** Applies `edit` to a fresh copy of a valid object and returns the errors of the result. */
function errorsAfter<T>(make: () => T, edit: (o: T) => void): string[] {
  const o = make();
  edit(o);
  return schemaErrors([o]);
}

describe('valid objects pass', () => {
  withCrds('Istio VirtualService, DestinationRule and AuthorizationPolicy, synthesized through a chart', () => {
    const chart = Testing.chart();
    for (const make of [virtualService, destinationRule, authorizationPolicy]) {
      const { metadata, ...rest } = make();
      new ApiObject(chart, metadata.name + rest.kind, { ...rest, metadata });
    }
    const manifests = Testing.synth(chart); // the setup.ts hook has checked them already
    expect(manifests).toHaveLength(3);
    expect(schemaErrors(manifests)).toEqual([]);
  });

  test('core objects: Deployment, Service, Namespace, ServiceAccount, HPA, PDB, ClusterRole', () => {
    expect(schemaErrors([
      deployment(),
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'reviews' }, spec: { ports: [{ port: 9080, targetPort: 'http', name: 'http' }], selector: { app: 'reviews' } } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bookinfo', labels: { 'istio-injection': 'enabled' } } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'bookinfo-reviews' } },
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'reviews' },
        spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'reviews-v1' }, maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }] },
      },
      { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'reviews' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'reviews' } } } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'system:mesh-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] },
    ])).toEqual([]);
  });

  withCrds('a PrometheusRule and an Argo CD Application', () => {
    expect(schemaErrors([prometheusRule(), application()])).toEqual([]);
  });

  test('cdk8s-plus-27 output: a Deployment exposed by a Service, with a ConfigMap volume', () => {
    const chart = Testing.chart();
    const config = new kplus.ConfigMap(chart, 'config', { data: { 'app.properties': 'a=1' } });
    const d = new kplus.Deployment(chart, 'reviews', {
      replicas: 2,
      containers: [{ image: 'reviews:1', portNumber: 9080, resources: { cpu: { request: kplus.Cpu.millis(100) } } }],
    });
    d.containers[0].mount('/etc/reviews', kplus.Volume.fromConfigMap(chart, 'vol', config));
    d.exposeViaService({ ports: [{ port: 9080, name: 'http' }] });
    expect(schemaErrors(Testing.synth(chart))).toEqual([]);
  });

  test('every schema compiles (a new keyword, format or pattern in a CRD fails here, not in some later test)', () => {
    expect(sources.kinds.length).toBeGreaterThan(100);
    for (const id of sources.kinds) {
      const slash = id.lastIndexOf('/');
      expect(() => schemaErrors([{ apiVersion: id.slice(0, slash), kind: id.slice(slash + 1), metadata: { name: 'x' } }])).not.toThrow();
    }
  });
});

describe('invalid objects fail, naming the field', () => {
  withCrds('misspelled field (wieght)', () => {
    expect(errorsAfter(virtualService, vs => {
      const route: any = vs.spec.http[0].route[1];
      route.wieght = route.weight;
      delete route.weight;
    })).toEqual(['VirtualService/reviews /spec/http/0/route/1: unknown field "wieght"']);
  });

  withCrds('wrong type (port number as a string)', () => {
    expect(errorsAfter(virtualService, vs => {
      (vs.spec.http[0].route[0].destination.port as any).number = '9080';
    })).toEqual(['VirtualService/reviews /spec/http/0/route/0/destination/port/number: must be integer (got "9080")']);
  });

  withCrds('missing required field (DestinationRule host)', () => {
    expect(errorsAfter(destinationRule, dr => delete (dr.spec as any).host))
      .toEqual(['DestinationRule/reviews /spec: missing required field "host"']);
  });

  withCrds('wrong enum value and unknown field in an AuthorizationPolicy', () => {
    expect(errorsAfter(authorizationPolicy, ap => {
      ap.spec.action = 'PERMIT';
      (ap.spec.rules[0].to[0].operation as any).method = ['GET'];
    })).toEqual([
      'AuthorizationPolicy/reviews-viewer /spec/action: must be one of "ALLOW", "DENY", "AUDIT", "CUSTOM" (got "PERMIT")',
      'AuthorizationPolicy/reviews-viewer /spec/rules/0/to/0/operation: unknown field "method"',
    ]);
  });

  test('unknown field in a core Deployment container (imagee)', () => {
    expect(errorsAfter(deployment, d => {
      const c: any = d.spec.template.spec.containers[0];
      c.imagee = c.image;
    })).toEqual(['Deployment/reviews-v1 /spec/template/spec/containers/0: unknown field "imagee"']);
  });

  test('wrong types in core objects (replicas as a string, port as a boolean)', () => {
    expect(errorsAfter(deployment, d => {
      (d.spec as any).replicas = '2';
      (d.spec.template.spec.containers[0].ports[0] as any).containerPort = true;
    })).toEqual([
      'Deployment/reviews-v1 /spec/replicas: must be number (got "2")',
      'Deployment/reviews-v1 /spec/template/spec/containers/0/ports/0/containerPort: must be number (got true)',
    ]);
  });

  test('bad metadata: name, namespace, label key and value, missing name', () => {
    expect(errorsAfter(deployment, d => {
      d.metadata.name = 'Reviews_V1';
      d.metadata.namespace = 'book.info';
      (d.metadata as any).labels = { 'bad key!': 'x', 'app': 'has space' };
    })).toEqual([
      'Deployment/Reviews_V1 /metadata/name: must match /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/ (got "Reviews_V1")',
      'Deployment/Reviews_V1 /metadata/namespace: must match /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/ (got "book.info")',
      expect.stringMatching(/^Deployment\/Reviews_V1 \/metadata\/labels: key "bad key!" must match/),
      expect.stringMatching(/^Deployment\/Reviews_V1 \/metadata\/labels\/app: must match .* \(got "has space"\)$/),
    ]);
    expect(errorsAfter(deployment, d => delete (d.metadata as any).name))
      .toEqual(['Deployment/<no name> /metadata: missing required field "name"']);
  });

  test('a Service name must be a DNS-1035 label', () => {
    expect(schemaErrors([{ apiVersion: 'v1', kind: 'Service', metadata: { name: '9-lives' }, spec: {} }]))
      .toEqual([expect.stringMatching(/^Service\/9-lives \/metadata\/name: must match \/\^\[a-z\]/)]);
  });

  withCrds('a bad metadata name on a custom resource', () => {
    expect(errorsAfter(virtualService, vs => (vs.metadata.name = 'reviews.')))
      .toEqual([expect.stringMatching(/^VirtualService\/reviews\. \/metadata\/name: must match/)]);
  });

  withCrds('unknown field in a PrometheusRule, and a duplicate group name (list-map key)', () => {
    expect(errorsAfter(prometheusRule, r => {
      (r.spec.groups[0].rules[0] as any).severity = 'page';
      r.spec.groups.push({ name: 'slo', rules: [{ alert: 'B', expr: 'up == 0', for: '1m' }] });
    })).toEqual([
      'PrometheusRule/mesh-slo /spec/groups/0/rules/0: unknown field "severity"',
      'PrometheusRule/mesh-slo /spec/groups/1: is the same name="slo" as item 0 (x-kubernetes-list-type: map)',
    ]);
  });

  withCrds('PrometheusRule int-or-string expr and Go regex pattern (?i)', () => {
    expect(errorsAfter(prometheusRule, r => {
      (r.spec.groups[0].rules[0] as any).expr = true;
      (r.spec.groups[0] as any).partial_response_strategy = 'WARN';
      r.spec.groups.push({ name: 'other', partial_response_strategy: 'ignore', rules: [] } as any);
    })).toEqual([
      'PrometheusRule/mesh-slo /spec/groups/0/rules/0/expr: must be an integer or a string (got true)',
      'PrometheusRule/mesh-slo /spec/groups/1/partial_response_strategy: must match /^(?i)(abort|warn)?$/ (got "ignore")',
    ]);
  });

  withCrds('unknown field in an Argo CD Application', () => {
    expect(errorsAfter(application, a => ((a.spec.source as any).targetRevison = 'main')))
      .toEqual(['Application/bookinfo /spec/source: unknown field "targetRevison"']);
  });

  withCrds('Istio "at most one of" rules (oneOf) name the fields involved', () => {
    expect(errorsAfter(virtualService, vs => {
      (vs.spec.http[0].match[0].headers['end-user'] as any).prefix = 'j';
    })).toEqual([
      'VirtualService/reviews /spec/http/0/match/0/headers/end-user: must match exactly one oneOf alternative, but matches 2 (fields involved: exact, prefix, regex)',
    ]);
  });

  test('unknown apiVersion/kind, and objects without apiVersion/kind', () => {
    expect(schemaErrors([
      { apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } },
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x' } },
      { metadata: { name: 'x' } },
    ].slice(0, crdsPresent ? 3 : 1))).toEqual([
      'Deploymnet/x: no schema for apps/v1 Deploymnet',
      'Widget/x: no schema for example.com/v1 Widget',
      '<no kind>/x: no schema for undefined undefined',
    ].slice(0, crdsPresent ? 3 : 1));
  });
});

describe('the synth hook (test/support/setup.ts)', () => {
  /** A chart with two invalid objects. */
  const brokenChart = (app: App = Testing.app()) => {
    const chart = new Chart(app, 'test');
    const d = deployment();
    (d.spec.template.spec.containers[0] as any).imagee = 'x';
    new ApiObject(chart, 'broken', d);
    new ApiObject(chart, 'sa', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'Bad_Name' } });
    return chart;
  };

  test('Testing.synth fails, listing every error of the chart', () => {
    expect(() => Testing.synth(brokenChart())).toThrow(
      'chart "test": 2 schema error(s):\n'
      + '  - Deployment/reviews-v1 /spec/template/spec/containers/0: unknown field "imagee"\n'
      + '  - ServiceAccount/Bad_Name /metadata/name: must match');
  });

  const outputTypes = Object.values(YamlOutputType).filter((t): t is YamlOutputType => typeof t === 'number');
  test.each(outputTypes.map(t => [YamlOutputType[t], t]))('app.synth() (%s) and app.synthYaml() fail too', (_name, yamlOutputType) => {
    const app = Testing.app({ yamlOutputType });
    brokenChart(app);
    expect(() => app.synth()).toThrow(/unknown field "imagee"/);
    expect(() => app.synthYaml()).toThrow(/unknown field "imagee"/);
  });

  test('withoutSchemaHook lets a deliberately invalid chart synthesize, to check it directly', () => {
    const manifests = withoutSchemaHook(() => Testing.synth(brokenChart()));
    expect(schemaErrors(manifests)).toHaveLength(2);
    expect(() => Testing.synth(brokenChart())).toThrow(/schema error/); // the hook is back on
  });
});

describe('Istio bookinfo samples validate clean', () => {
  const samples = [
    path.join(SAMPLES, 'platform/kube/bookinfo.yaml'),
    ...fs.existsSync(path.join(SAMPLES, 'networking'))
      ? fs.readdirSync(path.join(SAMPLES, 'networking')).filter(f => f.endsWith('.yaml')).map(f => path.join(SAMPLES, 'networking', f))
      : [],
  ];
  if (!fs.existsSync(samples[0]) || !crdsPresent) {
    const why = !fs.existsSync(samples[0]) ? `${SAMPLES} not found` : 'CRDs not found';
    console.warn(`schema.test.ts: bookinfo sample tests are SKIPPED (${why})`);
    test.skip(`bookinfo samples [SKIPPED: ${why}]`, () => undefined);
    return;
  }
  test.each(samples.map(f => [path.relative(SAMPLES, f), f]))('%s', (_name, file) => {
    const docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8')).map(d => d.toJS()).filter(Boolean);
    expect(docs.length).toBeGreaterThan(0);
    expect(schemaErrors(docs)).toEqual([]);
  });
});

describe('when the CRDs are absent', () => {
  const saved = { MESH_CRDS_DIR: process.env.MESH_CRDS_DIR, ISTIO_CRDS: process.env.ISTIO_CRDS };
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'no-crds-'));
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  });
  afterAll(() => fs.rmSync(empty, { recursive: true, force: true }));

  test.each([
    ['an empty CRD directory and a missing ISTIO_CRDS file', empty, path.join(empty, 'istio.yaml'), [path.join(empty, 'istio.yaml')]],
    ['no CRD directory (ISTIO_CRDS unset: defaults into it)', path.join(empty, 'nope'), undefined,
      [path.join(empty, 'nope'), path.join(empty, 'nope', 'istio', 'customresourcedefinitions.gen.yaml')]],
  ])('%s: one loud warning naming the env vars; custom resources skipped; core objects still checked', (_name, dir, istio, missing) => {
    process.env.MESH_CRDS_DIR = dir;
    if (istio === undefined) delete process.env.ISTIO_CRDS; else process.env.ISTIO_CRDS = istio;
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    jest.isolateModules(() => {
      const isolated = jest.requireActual<typeof import('./support/schema')>('./support/schema');
      const vs = virtualService() as any;
      vs.spec.wieght = 1;
      const d = deployment() as any;
      d.spec.template.spec.containers[0].imagee = 'x';
      expect(isolated.schemaErrors([vs, d])).toEqual(['Deployment/reviews-v1 /spec/template/spec/containers/0: unknown field "imagee"']);
      expect(isolated.schemaErrors([vs])).toEqual([]);
      const sourcesWithout = isolated.schemaSources();
      expect(sourcesWithout.missing).toEqual(missing);
      expect(sourcesWithout.kinds).toContain('apps/v1/Deployment');
      expect(sourcesWithout.kinds.filter(k => k.includes('istio.io'))).toEqual([]);
    });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/SCHEMA VALIDATION OF CUSTOM RESOURCES IS OFF[^]*MESH_CRDS_DIR[^]*ISTIO_CRDS/);
    warn.mockRestore();
  });
});
