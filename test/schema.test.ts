/**
 * The schema check that test/support/setup.ts runs on every synthesized chart: it passes valid
 * objects and real Istio samples, and it fails, naming the field, on each kind of mistake.
 */
import { ApiObject, App, Chart, Testing, YamlOutputType } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { schemaErrors, schemaSources } from './support/schema';
import { withoutSchemaHook } from './support/setup';

const sources = schemaSources();
/** The package's own validation data covers the custom resources: these tests run on any clone. */
const withCrds = test;


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
    })).toEqual(['VirtualService/reviews unknown field "spec.http[0].route[1].wieght"']);
  });

  withCrds('wrong type (port number as a string)', () => {
    expect(errorsAfter(virtualService, vs => {
      (vs.spec.http[0].route[0].destination.port as any).number = '9080';
    })).toEqual(['VirtualService/reviews spec.http[0].route[0].destination.port.number in body must be of type integer: "string"']);
  });

  withCrds('missing required field (DestinationRule host)', () => {
    expect(errorsAfter(destinationRule, dr => delete (dr.spec as any).host))
      .toEqual(['DestinationRule/reviews spec.host: Required value']);
  });

  withCrds('wrong enum value and unknown field in an AuthorizationPolicy', () => {
    expect(errorsAfter(authorizationPolicy, ap => {
      ap.spec.action = 'PERMIT';
      (ap.spec.rules[0].to[0].operation as any).method = ['GET'];
    })).toEqual([
      'AuthorizationPolicy/reviews-viewer spec.action: Unsupported value: "PERMIT": supported values: "ALLOW", "DENY", "AUDIT", "CUSTOM"',
      'AuthorizationPolicy/reviews-viewer unknown field "spec.rules[0].to[0].operation.method"',
    ]);
  });

  test('unknown field in a core Deployment container (imagee)', () => {
    expect(errorsAfter(deployment, d => {
      const c: any = d.spec.template.spec.containers[0];
      c.imagee = c.image;
    })).toEqual(['Deployment/reviews-v1 unknown field "spec.template.spec.containers[0].imagee"']);
  });

  test('wrong types in core objects (replicas as a string, port as a boolean)', () => {
    expect(errorsAfter(deployment, d => {
      (d.spec as any).replicas = '2';
      (d.spec.template.spec.containers[0].ports[0] as any).containerPort = true;
    })).toEqual([
      'Deployment/reviews-v1 spec.template.spec.containers[0].ports[0].containerPort in body must be of type number: "boolean"',
      'Deployment/reviews-v1 spec.replicas in body must be of type number: "string"',
    ]);
  });

  test('bad metadata: name, namespace, label key and value, missing name', () => {
    expect(errorsAfter(deployment, d => {
      d.metadata.name = 'Reviews_V1';
      d.metadata.namespace = 'book.info';
      (d.metadata as any).labels = { 'bad key!': 'x', 'app': 'has space' };
    })).toEqual([
      expect.stringMatching(/^Deployment\/Reviews_V1 metadata.name: Invalid value: "Reviews_V1": a lowercase RFC 1123 subdomain/),
      expect.stringMatching(/^Deployment\/Reviews_V1 metadata.namespace: Invalid value: "book.info": a lowercase RFC 1123 label/),
      expect.stringMatching(/^Deployment\/Reviews_V1 metadata.labels: Invalid value: "bad key!": name part must consist of/),
      expect.stringMatching(/^Deployment\/Reviews_V1 metadata.labels\[app\]: metadata.labels: Invalid value: "has space": a valid label/),
    ]);
    expect(errorsAfter(deployment, d => delete (d.metadata as any).name))
      .toEqual(['Deployment/<no name> metadata.name: Required value: name or generateName is required']);
  });

  test('a Service name must be a DNS-1035 label', () => {
    expect(schemaErrors([{ apiVersion: 'v1', kind: 'Service', metadata: { name: '9-lives' }, spec: {} }]))
      .toEqual([expect.stringMatching(/^Service\/9-lives metadata.name: Invalid value: "9-lives": a DNS-1035 label/)]);
  });

  withCrds('a bad metadata name on a custom resource', () => {
    expect(errorsAfter(virtualService, vs => (vs.metadata.name = 'reviews.')))
      .toEqual([expect.stringMatching(/^VirtualService\/reviews\. metadata.name: Invalid value: "reviews.": a lowercase RFC 1123 subdomain/)]);
  });

  withCrds('unknown field in a PrometheusRule, and a duplicate group name (list-map key)', () => {
    expect(errorsAfter(prometheusRule, r => {
      (r.spec.groups[0].rules[0] as any).severity = 'page';
      r.spec.groups.push({ name: 'slo', rules: [{ alert: 'B', expr: 'up == 0', for: '1m' }] });
    })).toEqual([
      'PrometheusRule/mesh-slo unknown field "spec.groups[0].rules[0].severity"',
      'PrometheusRule/mesh-slo spec.groups[1]: Duplicate value: map[name: "slo"]',
    ]);
  });

  withCrds('PrometheusRule int-or-string expr and Go regex pattern (?i)', () => {
    expect(errorsAfter(prometheusRule, r => {
      (r.spec.groups[0].rules[0] as any).expr = true;
      (r.spec.groups[0] as any).partial_response_strategy = 'WARN';
      r.spec.groups.push({ name: 'other', partial_response_strategy: 'ignore', rules: [] } as any);
    })).toEqual([
      'PrometheusRule/mesh-slo spec.groups[0].rules[0].expr in body must be of type integer-or-string: "boolean"',
      "PrometheusRule/mesh-slo spec.groups[1].partial_response_strategy in body should match '^(?i)(abort|warn)?$'",
    ]);
  });

  withCrds('unknown field in an Argo CD Application', () => {
    expect(errorsAfter(application, a => ((a.spec.source as any).targetRevison = 'main')))
      .toEqual(['Application/bookinfo unknown field "spec.source.targetRevison"']);
  });

  withCrds('Istio "at most one of" rules (oneOf) name the fields involved', () => {
    expect(errorsAfter(virtualService, vs => {
      (vs.spec.http[0].match[0].headers['end-user'] as any).prefix = 'j';
    })).toEqual([
      'VirtualService/reviews spec.http[0].match[0].headers[end-user] in body must validate one and only one schema (oneOf): set at most one of exact, prefix, regex',
    ]);
  });

  test('unknown apiVersion/kind, and objects without apiVersion/kind', () => {
    expect(schemaErrors([
      { apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } },
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x' } },
      { metadata: { name: 'x' } },
    ])).toEqual([
      'Deploymnet/x apiVersion: no matches for kind "Deploymnet" in version "apps/v1"',
      'Widget/x: no schema for example.com/v1 Widget',
      "<no kind>/x apiVersion: Object 'apiVersion' is missing",
    ]);
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
      + '  - Deployment/reviews-v1 unknown field "spec.template.spec.containers[0].imagee"\n'
      + '  - ServiceAccount/Bad_Name metadata.name: Invalid value: "Bad_Name"');
  });

  const outputTypes = Object.values(YamlOutputType).filter((t): t is YamlOutputType => typeof t === 'number');
  test.each(outputTypes.map(t => [YamlOutputType[t], t]))('app.synth() (%s) and app.synthYaml() fail too', (_name, yamlOutputType) => {
    const app = Testing.app({ yamlOutputType });
    brokenChart(app);
    expect(() => app.synth()).toThrow(/unknown field ".*\.imagee"/);
    expect(() => app.synthYaml()).toThrow(/unknown field ".*\.imagee"/);
  });

  test('withoutSchemaHook lets a deliberately invalid chart synthesize, to check it directly', () => {
    const manifests = withoutSchemaHook(() => Testing.synth(brokenChart()));
    expect(schemaErrors(manifests)).toHaveLength(2);
    expect(() => Testing.synth(brokenChart())).toThrow(/schema error/); // the hook is back on
  });
});
