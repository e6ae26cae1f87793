import { createHash } from 'crypto';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as grafana from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { formatMessage, meshError } from '../errors';
import { objectivesOf } from './objective';
import {
  GRPC_SERVER_ERROR_CODES, clientReporter, errorBudget, errorRatio, failureDescription, hasL7TelemetrySource, hasRequestMetrics, isGrpc,
  latencyQuantile, promString, regexLiteral, requestRate, serverReporter,
} from './promql';
import { sortedObject } from './util';
import { requireDnsSubdomain } from '../internal/names';
import { renderOnce, validateOncePerSynthesis } from '../internal/synthesis';
import { Mesh } from '../mesh/mesh';
import type { MeshService } from '../mesh/mesh-service';

/** Properties of a {@link MeshDashboard}. */
export interface MeshDashboardProps {
  /** The mesh the dashboards show. */
  readonly mesh: Mesh;

  /**
   * Name of the ConfigMap holding the dashboards.
   *
   * @default 'mesh-dashboards'
   */
  readonly name?: string;

  /**
   * Title of the mesh dashboard.
   *
   * @default - `Mesh <namespace>`
   */
  readonly title?: string;

  /**
   * Also write one dashboard per service.
   *
   * @default false
   */
  readonly perService?: boolean;

  /**
   * The label Grafana's dashboard sidecar watches ConfigMaps for (Helm value
   * `sidecar.dashboards.label`).
   *
   * @default 'grafana_dashboard'
   */
  readonly sidecarLabel?: string;

  /**
   * The value of the sidecar label (Helm value `sidecar.dashboards.labelValue`).
   *
   * @default '1'
   */
  readonly sidecarLabelValue?: string;

  /**
   * Grafana folder, written as the `grafana_folder` annotation (Helm value
   * `sidecar.dashboards.folderAnnotation: grafana_folder`).
   *
   * @default - the sidecar's default folder
   */
  readonly folder?: string;

  /**
   * Namespace of the ConfigMap, for a sidecar that watches one namespace only.
   *
   * @default - the mesh namespace
   */
  readonly namespaceName?: string;

  /**
   * How many services share one ConfigMap. The dashboards are split over ConfigMaps
   * (`<name>`, `<name>-2`, …), each holding a page of the mesh dashboard with the rows of its
   * services (and, with `perService`, their dashboards), so that no object passes 256 KiB:
   * `kubectl apply` and Argo CD's client-side apply keep a copy of the whole object in its
   * `last-applied-configuration` annotation, and Kubernetes limits annotations to 256 KiB.
   *
   * @default - 8 with `perService`, 16 without (what fits with 63-character names)
   */
  readonly servicesPerConfigMap?: number;
}

/**
 * The largest ConfigMap written, in bytes of its JSON: Kubernetes limits an object's annotations
 * to 256 KiB in total, and client-side apply (`kubectl apply`, Argo CD) stores the whole object
 * in the `kubectl.kubernetes.io/last-applied-configuration` annotation; 8 KiB are left for the
 * other annotations tools add (Argo CD's tracking id, sync waves, the Grafana folder).
 */
export const MAX_CONFIGMAP_BYTES = 256 * 1024 - 8 * 1024;

/** The Grafana variable every panel's data source points to. */
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
/** Grafana's rate window variable (a multiple of the scrape interval). */
const RATE_WINDOW = '$__rate_interval';

/**
 * Grafana dashboards generated from the mesh model, in a ConfigMap Grafana's dashboard
 * sidecar loads: a mesh dashboard (an overview of every service, then per service and version
 * its request rate, error ratio, p50/p90/p99 latency, the traffic split actually observed and
 * circuit-breaker overflows), and optionally one dashboard per service. Objectives declared
 * with {@link MeshService.addObjective} are drawn as thresholds.
 *
 * Dashboards are rendered at synth time, so services and versions declared later are included.
 */
export class MeshDashboard extends Construct {
  /** The mesh the dashboards show. */
  public readonly mesh: Mesh;
  /** The first ConfigMap holding the dashboards (escape hatch); see `configMaps` for all. */
  public readonly configMap: ApiObject;
  /** How many services share one ConfigMap. */
  public readonly servicesPerConfigMap: number;

  private readonly title: string;
  private readonly perService: boolean;
  private readonly _configMaps: ApiObject[] = [];
  private readonly createConfigMap: () => ApiObject;

  public constructor(scope: Construct, id: string, props: MeshDashboardProps) {
    super(scope, id);
    this.mesh = props.mesh;
    this.title = props.title ?? `Mesh ${this.mesh.namespaceName}`;
    this.perService = props.perService ?? false;
    const name = props.name ?? 'mesh-dashboards';
    requireDnsSubdomain(this, 'dashboard ConfigMap name', name);
    const label = props.sidecarLabel ?? 'grafana_dashboard';
    if (!/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(label)) {
      throw meshError(this, 'CM417', `sidecar label "${label}" is not a valid Kubernetes label key`,
        'use the label your Grafana sidecar watches, e.g. "grafana_dashboard"');
    }
    if (!this.title.trim()) throw meshError(this, 'CM417', 'the dashboard title is empty', 'give a title or leave it out');
    if (!hasL7TelemetrySource(this.mesh)) {
      throw meshError(this, 'CM419', `namespace "${this.mesh.namespaceName}" is in ambient mode without a waypoint: ztunnel reports TCP metrics only, so its services have no L7 telemetry source (istio_requests_total) a dashboard could show`,
        'deploy the namespace waypoint with Dataplane.ambient({ waypoint: true }), whose metrics (reporter="waypoint") the dashboards read, or leave the dashboard out');
    }
    this.servicesPerConfigMap = props.servicesPerConfigMap ?? (this.perService ? 8 : 16);
    if (!(Number.isInteger(this.servicesPerConfigMap) && this.servicesPerConfigMap >= 1)) {
      throw meshError(this, 'CM417', `servicesPerConfigMap is ${this.servicesPerConfigMap}`, 'use a whole number of at least 1, or leave it out');
    }

    const metadata = (index: number) => ({
      name: index === 0 ? name : `${name}-${index + 1}`,
      namespace: props.namespaceName ?? this.mesh.namespaceName,
      labels: { [label]: props.sidecarLabelValue ?? '1' },
      annotations: props.folder !== undefined ? { grafana_folder: props.folder } : undefined,
    });
    this.createConfigMap = () => {
      const index = this._configMaps.length;
      const configMap = new ApiObject(this, index === 0 ? 'Resource' : `Resource${index + 1}`, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: metadata(index),
        data: Lazy.any({ produce: () => this.renderData(index) }),
      });
      this._configMaps.push(configMap);
      return configMap;
    };
    this.configMap = this.createConfigMap();
    // A ConfigMap per `servicesPerConfigMap` services, created as the services are declared.
    let services = 0;
    this.mesh._onService((service) => {
      if (!hasRequestMetrics(service)) return;
      services++;
      if (services > this._configMaps.length * this.servicesPerConfigMap) this.createConfigMap();
    });
    this.node.addValidation(validateOncePerSynthesis(this, () => this.validateSizes()));
  }

  /** Every ConfigMap holding the dashboards, in order (`<name>`, `<name>-2`, …). */
  public get configMaps(): ApiObject[] {
    return [...this._configMaps];
  }

  /** Every dashboard, by ConfigMap key (`<uid>.json`), as JSON objects. */
  public dashboards(): { [key: string]: any } {
    return Object.assign({}, ...this._configMaps.map((_c, index) => this.pageDashboards(index)));
  }

  /** The dashboards of one ConfigMap: a page of the mesh dashboard and its services' dashboards. */
  private pageDashboards(index: number): { [key: string]: any } {
    const all = this.mesh.services.filter(hasRequestMetrics);
    const services = all.slice(index * this.servicesPerConfigMap, (index + 1) * this.servicesPerConfigMap);
    const dashboards: { [key: string]: any } = {};
    const add = (dashboard: any) => { dashboards[`${dashboard.uid}.json`] = dashboard; };
    add(this.meshDashboard(services, index, this._configMaps.length));
    if (this.perService) for (const service of services) add(this.serviceDashboard(service));
    return dashboards;
  }

  private renderData(index: number): { [key: string]: string } {
    return Object.fromEntries(Object.entries(this.pageDashboards(index)).map(([key, dashboard]) => [key, canonicalJson(dashboard)]));
  }

  /** CM418: a ConfigMap that client-side apply could not store in its last-applied annotation. */
  private validateSizes(): string[] {
    return this._configMaps.flatMap((configMap) => {
      const bytes = Buffer.byteLength(JSON.stringify(renderOnce(configMap)));
      if (bytes <= MAX_CONFIGMAP_BYTES) return [];
      return [formatMessage('CM418', `ConfigMap "${configMap.metadata.name}" is ${bytes} bytes, and kubectl apply (or Argo CD's client-side apply) must copy it into an annotation, which Kubernetes limits to 256 KiB for all annotations together (${MAX_CONFIGMAP_BYTES} bytes are left for it)`,
        `put fewer services in each ConfigMap: servicesPerConfigMap: ${Math.max(1, Math.floor(this.servicesPerConfigMap * MAX_CONFIGMAP_BYTES / bytes))}`)];
    });
  }

  /**
   * Page `index` of the mesh dashboard (of `pages`): the overview of every service of the
   * namespace on the first page, then a row per service of this page.
   */
  private meshDashboard(services: MeshService[], index: number, pages: number): any {
    const ns = this.mesh.namespaceName;
    const inNamespace = `{reporter="${serverReporter(this.mesh)}",destination_service_namespace=${promString(ns)}}`;
    const byService = 'destination_service_name';
    const ids = counter();
    const title = pages === 1 ? this.title : `${this.title} (${index + 1}/${pages})`;
    const builder = dashboardBuilder(title, uid(index === 0 ? `mesh-${ns}` : `mesh-${ns}-${index + 1}`), ns)
      .description(`Istio traffic of the services of namespace ${ns}${pages === 1 ? '' : ` (page ${index + 1} of ${pages}: ${services.map((s) => s.name).join(', ') || 'the overview'})`}, generated by cdk8s-mesh from the mesh model.`);
    if (index === 0) {
      builder.withPanel(panel(ids(), 'Request rate by service', 'reqps', 8, [
        [`sum by (${byService}) (rate(istio_requests_total${inNamespace}[${RATE_WINDOW}]))`, `{{${byService}}}`],
      ]));
      // gRPC errors mostly come with HTTP 200: counted where the namespace has gRPC services.
      const grpc = this.mesh.services.some((s) => isGrpc(s) && hasRequestMetrics(s));
      const errors = (matchers: string) => `rate(istio_requests_total${inNamespace.replace('}', `${matchers}}`)}[${RATE_WINDOW}])`;
      const failed = grpc
        ? `${errors(',response_code=~"5.."')} or ${errors(`,response_code!~"5..",grpc_response_status=~"${GRPC_SERVER_ERROR_CODES.join('|')}"`)}`
        : errors(',response_code=~"5.."');
      builder.withPanel(panel(ids(), grpc ? 'Error ratio (5xx or gRPC server error) by service' : 'Error ratio (5xx) by service', 'percentunit', 8, [[
        `sum by (${byService}) (${failed})`
          + ` / sum by (${byService}) (rate(istio_requests_total${inNamespace}[${RATE_WINDOW}]))`,
        `{{${byService}}}`,
      ]]));
      builder.withPanel(panel(ids(), 'p99 latency by service', 'ms', 8, [[
        `histogram_quantile(0.99, sum by (le, ${byService}) (rate(istio_request_duration_milliseconds_bucket${inNamespace}[${RATE_WINDOW}])))`,
        `{{${byService}}}`,
      ]]));
    }
    for (const service of services) {
      const row = new grafana.RowBuilder(`${service.name} (${service.versions.map((v) => v.name).join(', ')})`).collapsed(true).id(ids());
      for (const p of this.servicePanels(service, ids)) row.withPanel(p);
      builder.withRow(row);
    }
    return builder.build();
  }

  private serviceDashboard(service: MeshService): any {
    const ids = counter();
    const builder = dashboardBuilder(`${this.title} / ${service.name}`, uid(`mesh-${this.mesh.namespaceName}-${service.name}`), this.mesh.namespaceName)
      .description(`Istio traffic of ${service.host} by version, generated by cdk8s-mesh from the mesh model.`);
    for (const p of this.servicePanels(service, ids)) builder.withPanel(p);
    return builder.build();
  }

  /** Request rate, error ratio, latency, observed split and overflow of one service, by version. */
  private servicePanels(service: MeshService, ids: () => number): timeseries.PanelBuilder[] {
    const version = 'destination_version';
    const objectives = objectivesOf(service);
    const budget = objectives.map((o) => o.availabilityPercent).filter((p): p is number => p !== undefined)
      .map(errorBudget);
    const latency = objectives.map((o) => o.latency?.toMilliseconds({ integral: false })).filter((ms): ms is number => ms !== undefined);
    // A sidecar's cluster for the service is outbound|<port>|<subset>|<host>; a waypoint's is
    // inbound-vip|<port>|http[/<subset>]|<host>.
    const direction = service.mesh.dataplane.isAmbient ? 'inbound-vip' : 'outbound';
    const cluster = `${direction}\\|${service.port}\\|[^|]*\\|${regexLiteral(service.host)}`;
    return [
      panel(ids(), `${service.name}: request rate by version`, 'reqps', 8, [
        [requestRate(service, RATE_WINDOW, version), `{{${version}}}`],
      ]),
      threshold(panel(ids(), `${service.name}: error ratio (${failureDescription(service)}) by version`, 'percentunit', 8, [
        [errorRatio(service, RATE_WINDOW, version), `{{${version}}}`],
      ]), budget),
      threshold(panel(ids(), `${service.name}: latency p50 / p90 / p99 by version`, 'ms', 8, [0.5, 0.9, 0.99].map((q) =>
        [latencyQuantile(service, q, RATE_WINDOW, version), `p${Math.round(q * 100)} {{${version}}}`] as [string, string])), latency),
      panel(ids(), `${service.name}: traffic split observed by version`, 'percentunit', 12, [
        [`${requestRate(service, RATE_WINDOW, version)} / scalar(${requestRate(service, RATE_WINDOW)})`, `{{${version}}}`],
      ]).stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal)).fillOpacity(60)
        .description(`Share of the requests each version served, as its proxies report them (reporter="${serverReporter(service.mesh)}").`),
      panel(ids(), `${service.name}: circuit breaker overflow`, 'reqps', 12, [
        [`sum by (source_workload) (rate(istio_requests_total{reporter="${clientReporter(service.mesh)}",destination_service=${promString(service.host)},response_flags="UO"}[${RATE_WINDOW}]))`,
          'rejected (UO) from {{source_workload}}'],
        [`sum by (cluster_name) (rate(envoy_cluster_upstream_rq_pending_overflow{cluster_name=~${promString(cluster)}}[${RATE_WINDOW}]))`,
          'pending overflow {{cluster_name}}'],
      ]).description('Requests the callers\' proxies rejected because a connection pool limit was reached (response flag UO), '
        + 'and Envoy\'s pending-request overflow counter (needs the proxies to report upstream_rq_pending_overflow, '
        + 'e.g. proxyStatsMatcher inclusionSuffixes).'),
    ];
  }
}

function dashboardBuilder(title: string, dashboardUid: string, namespaceName: string): grafana.DashboardBuilder {
  return new grafana.DashboardBuilder(title)
    .uid(dashboardUid)
    .tags(['istio', 'cdk8s-mesh', namespaceName])
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .withVariable(new grafana.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'));
}

/** A time series panel with PromQL targets `[expression, legend]`. */
function panel(id: number, title: string, unit: string, width: number, targets: [string, string][]): timeseries.PanelBuilder {
  const builder = new timeseries.PanelBuilder()
    .id(id)
    .title(title)
    .datasource(DATASOURCE)
    .unit(unit)
    .span(width)
    .height(8)
    .legend(new common.VizLegendOptionsBuilder()
      .showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom));
  targets.forEach(([expr, legend], i) => builder.withTarget(new prometheus.DataqueryBuilder()
    .datasource(DATASOURCE)
    .expr(expr)
    .legendFormat(legend)
    .refId(String.fromCharCode(65 + i))));
  return builder;
}

/** Draws the objectives' limits as dashed red lines. */
function threshold(builder: timeseries.PanelBuilder, limits: number[]): timeseries.PanelBuilder {
  if (limits.length === 0) return builder;
  return builder
    .thresholds(new grafana.ThresholdsConfigBuilder().mode(grafana.ThresholdsMode.Absolute).steps([
      { value: null, color: 'green' },
      ...[...new Set(limits)].sort((a, b) => a - b).map((value) => ({ value, color: 'red' })),
    ]))
    .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed));
}

function counter(): () => number {
  let n = 0;
  return () => ++n;
}

/**
 * A stable Grafana uid from a name: the name itself when it fits Grafana's 40 characters,
 * otherwise a prefix and a hash of the whole name.
 */
function uid(name: string): string {
  const clean = name.replace(/[^a-zA-Z0-9_-]/g, '-');
  if (clean.length <= 40 && clean === name) return clean;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${clean.slice(0, 31)}-${hash}`;
}

/** JSON with every object's keys sorted: the same dashboard is always the same bytes. */
function canonicalJson(value: any): string {
  const sort = (v: any): any => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') return sortedObject(Object.fromEntries(Object.entries(v).map(([k, x]) => [k, sort(x)])));
    return v;
  };
  return JSON.stringify(sort(value), undefined, 2);
}
