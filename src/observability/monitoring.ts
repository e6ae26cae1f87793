import { ApiObject, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { meshError } from '../errors';
import { promDuration, sortedObject } from './util';
import { HttpMethod } from '../mesh/http-method';
import { Mesh } from '../mesh/mesh';
import type { MeshService } from '../mesh/mesh-service';
import { MtlsMode } from '../security/mtls-mode';
import { IPeer } from '../security/peer';

/** How Prometheus finds the proxies and workloads to scrape. */
export enum ScrapeMethod {
  /**
   * prometheus-operator objects: Istio's `envoy-stats-monitor` PodMonitor for the proxies'
   * Envoy metrics, and a ServiceMonitor per workload that serves its own metrics.
   */
  PROMETHEUS_OPERATOR = 'prometheus-operator',

  /**
   * Istio's metrics merging: `prometheus.io/scrape|port|path` pod annotations. The sidecar
   * serves the application's metrics merged with its own on port 15020, and Istio rewrites the
   * annotations to point there; a Prometheus with the usual `kubernetes-pods` annotation job
   * scrapes both. No custom resources.
   */
  ANNOTATIONS = 'annotations',
}

/** A workload that serves its own Prometheus metrics. */
export interface WorkloadMetrics {
  /** The service whose pods (every version) serve the metrics. */
  readonly service: MeshService;

  /**
   * The HTTP path of the metrics.
   *
   * @default '/metrics'
   */
  readonly path?: string;

  /**
   * The container port of the metrics. With `ScrapeMethod.PROMETHEUS_OPERATOR` it must be the
   * service's port (a ServiceMonitor scrapes through the Service).
   *
   * @default - the service's container port
   */
  readonly port?: number;
}

/** Properties of a {@link PrometheusScraping}. */
export interface PrometheusScrapingProps {
  /** The mesh whose proxies and workloads are scraped. */
  readonly mesh: Mesh;

  /**
   * prometheus-operator objects or Istio's metrics-merging annotations.
   *
   * @default ScrapeMethod.PROMETHEUS_OPERATOR
   */
  readonly method?: ScrapeMethod;

  /**
   * Scrape the Envoy metrics of every sidecar and gateway (port 15090, `/stats/prometheus`,
   * container `istio-proxy`): the source of Istio's standard metrics. Only used with
   * `ScrapeMethod.PROMETHEUS_OPERATOR` (with annotations Istio merges them itself).
   *
   * @default true
   */
  readonly envoyMetrics?: boolean;

  /**
   * Write the Envoy PodMonitor to the root namespace, selecting proxies in every namespace,
   * exactly like Istio's own prometheus-operator sample (declare it once per cluster).
   *
   * @default false - the PodMonitor is in the mesh namespace and selects its proxies only
   */
  readonly meshWide?: boolean;

  /**
   * Workloads that serve their own metrics.
   *
   * @default - none
   */
  readonly workloads?: WorkloadMetrics[];

  /**
   * How often Prometheus scrapes.
   *
   * @default Duration.seconds(15)
   */
  readonly interval?: Duration;

  /**
   * Labels on the PodMonitor and ServiceMonitors, for the `podMonitorSelector` and
   * `serviceMonitorSelector` of your Prometheus.
   *
   * @default - the mesh's `prometheusLabels` (`{ release: 'istio' }` unless set), the labels
   * of the objectives' PrometheusRules too
   */
  readonly monitorLabels?: { [key: string]: string };

  /**
   * Prometheus's mesh identity. With `ScrapeMethod.PROMETHEUS_OPERATOR`, each scraped workload
   * then allows it to GET its metrics path (`allowFrom`): needed when the mesh denies by
   * default, since Prometheus calls the workloads through their sidecars. (Envoy's own port
   * 15090 and Istio's merged port 15020 are outside authorization.)
   *
   * @default - no AuthorizationPolicy: allow Prometheus yourself if the mesh denies by default
   */
  readonly prometheus?: IPeer;
}

/** Where Istio's documented Prometheus TLS setup mounts the workload certificates. */
const PROMETHEUS_CERTS = '/etc/prom-certs';

/**
 * Prometheus scraping for a mesh: the Envoy metrics of its proxies (Istio's standard metrics,
 * which the alerts and dashboards of this library query) and the workloads' own metrics, with
 * prometheus-operator PodMonitor/ServiceMonitor objects or Istio's metrics-merging annotations.
 *
 * @see https://istio.io/latest/docs/ops/integrations/prometheus/
 */
export class PrometheusScraping extends Construct {
  /** The mesh whose proxies and workloads are scraped. */
  public readonly mesh: Mesh;
  /** How Prometheus finds its targets. */
  public readonly method: ScrapeMethod;
  /** Istio's `envoy-stats-monitor` PodMonitor, with `ScrapeMethod.PROMETHEUS_OPERATOR`. */
  public readonly envoyMonitor?: ApiObject;

  private readonly interval: string;
  private readonly labels: { [key: string]: string };
  private readonly _serviceMonitors: ApiObject[] = [];
  private readonly prometheus?: IPeer;

  public constructor(scope: Construct, id: string, props: PrometheusScrapingProps) {
    super(scope, id);
    this.mesh = props.mesh;
    this.method = props.method ?? ScrapeMethod.PROMETHEUS_OPERATOR;
    const interval = props.interval ?? Duration.seconds(15);
    const ms = interval.toMilliseconds({ integral: false });
    if (!(Number.isInteger(ms) && ms >= 1000)) {
      throw meshError(this, 'CM417', `scrape interval ${interval.toHumanString()} is shorter than a second or not whole milliseconds`,
        'use an interval such as Duration.seconds(15)');
    }
    this.interval = promDuration(ms);
    this.labels = sortedObject(props.monitorLabels ?? this.mesh.prometheusLabels);
    this.prometheus = props.prometheus;

    if (this.method === ScrapeMethod.PROMETHEUS_OPERATOR && (props.envoyMetrics ?? true)) {
      this.envoyMonitor = this.createEnvoyMonitor(props.meshWide ?? false);
    }
    for (const workload of props.workloads ?? []) this.addWorkload(workload);
  }

  /** The ServiceMonitors of the workloads, with `ScrapeMethod.PROMETHEUS_OPERATOR`. */
  public get serviceMonitors(): ApiObject[] {
    return [...this._serviceMonitors];
  }

  /** Scrapes the metrics a workload serves itself. */
  public addWorkload(workload: WorkloadMetrics): void {
    const service = workload.service;
    if (service.mesh !== this.mesh) {
      throw meshError(this, 'CM417', `service "${service.name}" belongs to mesh "${service.mesh.namespaceName}", not "${this.mesh.namespaceName}"`,
        `scrape it with the PrometheusScraping of namespace "${service.mesh.namespaceName}"`);
    }
    const path = workload.path ?? '/metrics';
    if (!path.startsWith('/')) {
      throw meshError(this, 'CM417', `metrics path "${path}" does not start with "/"`, 'use a path such as "/metrics"');
    }
    const port = workload.port ?? service.targetPort;
    if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) {
      throw meshError(this, 'CM417', `metrics port ${port} is not a TCP port number`, 'use a whole number from 1 to 65535');
    }
    if (this.method === ScrapeMethod.ANNOTATIONS) {
      service._addPodAnnotations({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': path });
      return;
    }
    const servicePort = service.ports.find((p) => p.targetPort === port);
    if (!servicePort) {
      throw meshError(this, 'CM415', `service "${service.name}" serves metrics on port ${port}, which its Service does not expose (it exposes container port${service.ports.length > 1 ? 's' : ''} ${service.ports.map((p) => p.targetPort).join(', ')})`,
        'serve the metrics on a port of the service (a multi-port service can give metrics a port of its own in ports), or use ScrapeMethod.ANNOTATIONS (Istio merges them into the sidecar\'s metrics)');
    }
    this._serviceMonitors.push(this.createServiceMonitor(service, servicePort.name, path));
    // On a multi-port service, Prometheus is admitted on the metrics port only.
    const ports = service.ports.length > 1 ? [servicePort.port] : undefined;
    if (this.prometheus) service.allowFrom(this.prometheus, { methods: [HttpMethod.GET], paths: [path], ports });
  }

  /** Istio's prometheus-operator `envoy-stats-monitor`, scraping the proxies' port 15090. */
  private createEnvoyMonitor(meshWide: boolean): ApiObject {
    const mesh = this.mesh;
    return new ApiObject(this, 'EnvoyStatsMonitor', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PodMonitor',
      metadata: {
        name: 'envoy-stats-monitor',
        namespace: meshWide ? mesh.rootNamespace : mesh.namespaceName,
        labels: sortedObject({ ...this.labels, monitoring: 'istio-proxies' }),
      },
      spec: {
        selector: { matchExpressions: [{ key: 'istio-prometheus-ignore', operator: 'DoesNotExist' }] },
        namespaceSelector: meshWide ? { any: true } : { matchNames: [mesh.namespaceName] },
        jobLabel: 'envoy-stats',
        podMetricsEndpoints: [{
          // The `istio-proxy` container of every sidecar and gateway exposes Envoy's metrics as
          // port `http-envoy-prom` (15090); it is outside the mTLS-intercepted ports.
          port: 'http-envoy-prom',
          path: '/stats/prometheus',
          interval: this.interval,
          relabelings: [
            { action: 'keep', sourceLabels: ['__meta_kubernetes_pod_container_name'], regex: 'istio-proxy' },
            { action: 'labeldrop', regex: '__meta_kubernetes_pod_label_(.+)' },
            { sourceLabels: ['__meta_kubernetes_namespace'], action: 'replace', targetLabel: 'namespace' },
            { sourceLabels: ['__meta_kubernetes_pod_name'], action: 'replace', targetLabel: 'pod_name' },
          ],
        }],
      },
    });
  }

  /**
   * A ServiceMonitor for a workload's own metrics. Under mutual TLS Prometheus presents Istio
   * certificates, as Istio's Prometheus integration documents (`/etc/prom-certs`).
   */
  private createServiceMonitor(service: MeshService, portName: string, path: string): ApiObject {
    const tls = this.mesh.mtlsMode !== MtlsMode.DISABLE;
    return new ApiObject(this, `ServiceMonitor-${service.name}`, {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: {
        name: `${service.name}-metrics`,
        namespace: this.mesh.namespaceName,
        labels: this.labels,
      },
      spec: {
        selector: { matchLabels: { app: service.name } },
        namespaceSelector: { matchNames: [this.mesh.namespaceName] },
        podTargetLabels: ['app', 'version'],
        endpoints: [{
          port: portName,
          path,
          interval: this.interval,
          ...(tls ? {
            scheme: 'https',
            tlsConfig: {
              caFile: `${PROMETHEUS_CERTS}/root-cert.pem`,
              certFile: `${PROMETHEUS_CERTS}/cert-chain.pem`,
              keyFile: `${PROMETHEUS_CERTS}/key.pem`,
              insecureSkipVerify: true,
            },
          } : { scheme: 'http' }),
        }],
      },
    });
  }
}
