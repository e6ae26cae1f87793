import { ApiObject, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { meshError } from '../errors';
import { errorBudget, errorRatio, failureDescription, hasL7TelemetrySource, latencyQuantile, promNumber } from './promql';
import { compact, sortedObject } from './util';
import { requireDnsSubdomain } from '../internal/names';
import type { MeshService } from '../mesh/mesh-service';
import { isHttpProtocol } from '../mesh/protocol';

/** Options of {@link MeshService.addObjective}. */
export interface ServiceObjectiveOptions {
  /**
   * The objective's name: the PrometheusRule is `<service>-<name>` and alerts carry it as the
   * `objective` label.
   *
   * @default 'slo'
   */
  readonly name?: string;

  /**
   * The share of requests that must succeed (not answer 5xx; for a gRPC service, nor a gRPC
   * server error: UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE,
   * DATA_LOSS, which arrive with HTTP 200), between 0 and 100 exclusive,
   * e.g. 99.9. Alerts fire when the error budget burns too fast (multi-window, multi-burn-rate,
   * over a 30-day objective period).
   *
   * @default - no availability alerts
   */
  readonly availabilityPercent?: number;

  /**
   * The latency the `latencyPercentile` of requests must stay under, e.g. `Duration.millis(300)`.
   *
   * @default - no latency alert
   */
  readonly latency?: Duration;

  /**
   * Which percentile of request durations `latency` applies to, between 0 and 100 exclusive.
   *
   * @default 99
   */
  readonly latencyPercentile?: number;

  /**
   * Link to the runbook, written as each alert's `runbook_url` annotation.
   *
   * @default - a placeholder under https://runbooks.example.com to replace with your own
   */
  readonly runbookUrl?: string;

  /**
   * Extra labels on every alert (e.g. `team`, for Alertmanager routing).
   *
   * @default - none
   */
  readonly alertLabels?: { [key: string]: string };

  /**
   * Labels on the PrometheusRule object, for the `ruleSelector` of your Prometheus
   * (kube-prometheus-stack selects `release: <helm release>` by default).
   *
   * @default - the mesh's `prometheusLabels` (`{ release: 'istio' }` unless set), the labels
   * of its PodMonitor and ServiceMonitors too
   */
  readonly ruleLabels?: { [key: string]: string };
}

/** The objectives of each service, in declaration order. */
const OBJECTIVES = new WeakMap<MeshService, ServiceObjective[]>();

/** The objectives declared for `service` (internal: the dashboards draw them). */
export function objectivesOf(service: MeshService): ServiceObjective[] {
  return [...(OBJECTIVES.get(service) ?? [])];
}

/** Properties of a {@link ServiceObjective}. */
export interface ServiceObjectiveProps extends ServiceObjectiveOptions {
  /** The service the objective is for. */
  readonly service: MeshService;
}

/**
 * A service level objective of a {@link MeshService}, written as a prometheus-operator
 * `PrometheusRule` of alerts on Istio's standard metrics, measured where the service's
 * requests are reported on the server side (`destination_service="<service FQDN>"`, with
 * `reporter="destination"`: its sidecars; in ambient mode `reporter="waypoint"`: the namespace
 * waypoint, without which there are no L7 metrics). Failures are 5xx responses, and for a gRPC
 * service also gRPC server errors, which arrive with HTTP 200 (`grpc_response_status`):
 *
 * - availability: the Google SRE workbook's multi-window, multi-burn-rate alerts: a page
 *   (`severity: critical`) when 2% of a 30-day error budget burns in an hour (14.4× over 1h and
 *   5m), a ticket (`severity: warning`) when 5% burns in six hours (6× over 6h and 30m);
 * - latency: a ticket when the chosen percentile stays above the threshold for 10 minutes.
 *
 * Usually created with {@link MeshService.addObjective}.
 *
 * @see https://sre.google/workbook/alerting-on-slos/
 */
export class ServiceObjective extends Construct {
  /** The service the objective is for. */
  public readonly service: MeshService;
  /** The objective's name. */
  public readonly name: string;
  /** The availability objective in percent, if any. */
  public readonly availabilityPercent?: number;
  /** The latency threshold, if any. */
  public readonly latency?: Duration;
  /** The percentile the latency threshold applies to. */
  public readonly latencyPercentile: number;
  /** The PrometheusRule (escape hatch). */
  public readonly prometheusRule: ApiObject;

  public constructor(scope: Construct, id: string, props: ServiceObjectiveProps) {
    super(scope, id);
    const service = props.service;
    this.service = service;
    this.name = props.name ?? 'slo';
    requireDnsSubdomain(this, 'objective name', this.name);
    this.availabilityPercent = props.availabilityPercent;
    this.latency = props.latency;
    this.latencyPercentile = props.latencyPercentile ?? 99;
    this.check(props);
    OBJECTIVES.set(service, [...objectivesOf(service), this]);

    const rules = [
      ...(this.availabilityPercent !== undefined ? this.availabilityRules(this.availabilityPercent, props) : []),
      ...(this.latency !== undefined ? [this.latencyRule(this.latency, props)] : []),
    ];
    this.prometheusRule = new ApiObject(this, 'Resource', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: {
        name: `${service.name}-${this.name}`,
        namespace: service.mesh.namespaceName,
        labels: sortedObject(props.ruleLabels ?? service.mesh.prometheusLabels),
      },
      spec: { groups: [{ name: `${service.mesh.namespaceName}.${service.name}.${this.name}`, rules }] },
    });
  }

  /** Every PromQL expression the objective's alerts evaluate. */
  public get expressions(): string[] {
    return (this.prometheusRule.toJson().spec.groups as any[]).flatMap((g) => g.rules.map((r: any) => r.expr));
  }

  private check(props: ServiceObjectiveProps): void {
    const service = this.service;
    if (props.availabilityPercent === undefined && props.latency === undefined) {
      throw meshError(this, 'CM411', `the objective for service "${service.name}" sets neither availabilityPercent nor latency`,
        'set availabilityPercent (e.g. 99.9) and/or latency (e.g. Duration.millis(300))');
    }
    for (const [what, value] of [['availabilityPercent', props.availabilityPercent], ['latencyPercentile', props.latencyPercentile]] as const) {
      if (value !== undefined && !(value > 0 && value < 100)) {
        throw meshError(this, 'CM404', `${what} is ${value}`,
          `use a percentage above 0 and below 100, e.g. ${what === 'availabilityPercent' ? '99.9' : '99'}`);
      }
    }
    if (props.availabilityPercent !== undefined && 14.4 * errorBudget(props.availabilityPercent) >= 1) {
      throw meshError(this, 'CM404', `availabilityPercent ${props.availabilityPercent} leaves an error budget so large that the 14.4× burn-rate page could never fire`,
        'use an objective of at least 93.1%, or alert on the error ratio yourself');
    }
    if (props.latency !== undefined && !(props.latency.toMilliseconds({ integral: false }) >= 1)) {
      throw meshError(this, 'CM404', `latency is ${props.latency.toHumanString()}`, 'use a threshold of at least 1ms, e.g. Duration.millis(300)');
    }
    if (!isHttpProtocol(service.protocol)) {
      throw meshError(this, 'CM411', `service "${service.name}" speaks ${service.protocol}, for which Istio reports no request metrics`,
        'set objectives on HTTP, HTTP/2 or gRPC services only');
    }
    if (!hasL7TelemetrySource(service.mesh)) {
      throw meshError(this, 'CM419', `service "${service.name}" is in ambient namespace "${service.mesh.namespaceName}" without a waypoint: ztunnel reports TCP metrics only, so no proxy reports its requests (istio_requests_total) and the alerts could never fire`,
        'deploy the namespace waypoint with Dataplane.ambient({ waypoint: true }), whose metrics (reporter="waypoint") the alerts then read');
    }
    const clash = objectivesOf(service).find((o) => o.name === this.name);
    if (clash) {
      throw meshError(this, 'CM416', `service "${service.name}" already has an objective named "${this.name}" (${clash.node.path})`,
        'give each objective of a service its own name, or put availability and latency in one objective');
    }
  }

  private availabilityRules(percent: number, props: ServiceObjectiveOptions): any[] {
    const service = this.service;
    const budget = promNumber(errorBudget(percent));
    const burn = (factor: number, long: string, short: string) =>
      `(${errorRatio(service, long)}) > (${factor} * ${budget})\nand\n(${errorRatio(service, short)}) > (${factor} * ${budget})`;
    const who = `${service.name}.${service.mesh.namespaceName}`;
    return [
      this.alert(props, 'ServiceErrorBudgetFastBurn', 'critical', '2m', burn(14.4, '1h', '5m'), {
        summary: `${who} is burning its ${promNumber(percent)}% availability error budget 14.4 times too fast`,
        description: `{{ $value | humanizePercentage }} of the requests to ${service.host} failed with ${failureDescription(service)} over the last hour `
          + `(objective: at most ${promNumber(100 - percent)}%). At this rate 2% of the 30-day error budget is gone in an hour.`,
      }),
      this.alert(props, 'ServiceErrorBudgetSlowBurn', 'warning', '15m', burn(6, '6h', '30m'), {
        summary: `${who} is burning its ${promNumber(percent)}% availability error budget 6 times too fast`,
        description: `{{ $value | humanizePercentage }} of the requests to ${service.host} failed with ${failureDescription(service)} over the last 6 hours `
          + `(objective: at most ${promNumber(100 - percent)}%). At this rate 5% of the 30-day error budget is gone in 6 hours.`,
      }),
    ];
  }

  private latencyRule(latency: Duration, props: ServiceObjectiveOptions): any {
    const service = this.service;
    const ms = latency.toMilliseconds({ integral: false });
    const percentile = promNumber(this.latencyPercentile);
    return this.alert(props, 'ServiceLatencyHigh', 'warning', '10m',
      `${latencyQuantile(service, this.latencyPercentile / 100, '5m')} > ${promNumber(ms)}`, {
        summary: `${service.name}.${service.mesh.namespaceName} p${percentile} latency is above ${promNumber(ms)}ms`,
        description: `The ${percentile}th percentile of the request duration of ${service.host} has been `
          + `{{ $value | humanize }}ms for 10 minutes (objective: under ${promNumber(ms)}ms).`,
      });
  }

  private alert(props: ServiceObjectiveOptions, alert: string, severity: string, holdFor: string, expr: string,
    text: { summary: string; description: string }): any {
    const service = this.service;
    const runbook = props.runbookUrl
      ?? `https://runbooks.example.com/${service.mesh.namespaceName}/${service.name}#${alert.toLowerCase()}`;
    return {
      alert,
      expr,
      for: holdFor,
      labels: sortedObject(compact({
        ...props.alertLabels,
        severity,
        namespace: service.mesh.namespaceName,
        service: service.name,
        objective: this.name,
      })),
      annotations: { summary: text.summary, description: text.description, runbook_url: runbook },
    };
  }
}
