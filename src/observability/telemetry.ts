import { ApiObject, Duration, Lazy } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { formatMessage, meshError } from '../errors';
import { ProviderStatus } from './mesh-telemetry';
import { TelemetryProvider, TelemetrySignal } from './telemetry-provider';
import { compact, sortedEntries } from './util';
import * as l1 from '../imports/telemetry.istio.io';
import { durationProblem, istioDuration } from '../internal/duration';
import { requireDnsSubdomain } from '../internal/names';
import { validateOncePerSynthesis } from '../internal/synthesis';
import { Mesh } from '../mesh/mesh';
import { MeshService } from '../mesh/mesh-service';
import { ServiceVersion } from '../mesh/service-version';
import { IWorkloadTarget } from '../mesh/workload-target';

/** Which side of a request a tracing, logging or metrics setting applies to. */
export enum TelemetryMode {
  /** Both the client (outbound) and the server (inbound) proxy. */
  CLIENT_AND_SERVER = 'CLIENT_AND_SERVER',
  /** Only the client proxy (outbound requests). */
  CLIENT = 'CLIENT',
  /** Only the server proxy (inbound requests). */
  SERVER = 'SERVER',
}

/**
 * Istio's standard metrics.
 *
 * @see https://istio.io/latest/docs/reference/config/metrics/
 */
export enum IstioMetric {
  /** Every standard metric. */
  ALL_METRICS = 'ALL_METRICS',
  /** `istio_requests_total`. */
  REQUEST_COUNT = 'REQUEST_COUNT',
  /** `istio_request_duration_milliseconds`. */
  REQUEST_DURATION = 'REQUEST_DURATION',
  /** `istio_request_bytes`. */
  REQUEST_SIZE = 'REQUEST_SIZE',
  /** `istio_response_bytes`. */
  RESPONSE_SIZE = 'RESPONSE_SIZE',
  /** `istio_tcp_connections_opened_total`. */
  TCP_OPENED_CONNECTIONS = 'TCP_OPENED_CONNECTIONS',
  /** `istio_tcp_connections_closed_total`. */
  TCP_CLOSED_CONNECTIONS = 'TCP_CLOSED_CONNECTIONS',
  /** `istio_tcp_sent_bytes_total`. */
  TCP_SENT_BYTES = 'TCP_SENT_BYTES',
  /** `istio_tcp_received_bytes_total`. */
  TCP_RECEIVED_BYTES = 'TCP_RECEIVED_BYTES',
  /** `istio_request_messages_total` (gRPC). */
  GRPC_REQUEST_MESSAGES = 'GRPC_REQUEST_MESSAGES',
  /** `istio_response_messages_total` (gRPC). */
  GRPC_RESPONSE_MESSAGES = 'GRPC_RESPONSE_MESSAGES',
}

/** The value of a custom span tag. */
export class CustomTag {
  /** A fixed value. */
  public static literal(value: string): CustomTag {
    return new CustomTag('literal', { value }, value.length === 0 ? 'its literal value is empty' : undefined);
  }

  /** The value of a request header, or `defaultValue` when the header is absent. */
  public static header(name: string, defaultValue?: string): CustomTag {
    return new CustomTag('header', compact({ name, defaultValue }), name.trim() ? undefined : 'its header name is empty');
  }

  /** The value of an environment variable of the proxy, or `defaultValue` when unset. */
  public static environment(name: string, defaultValue?: string): CustomTag {
    return new CustomTag('environment', compact({ name, defaultValue }), name.trim() ? undefined : 'its environment variable name is empty');
  }

  private constructor(private readonly kind: string, private readonly config: object, private readonly problem?: string) {}

  /**
   * The Telemetry `customTags` value; throws CM413 when the tag is invalid.
   * @internal
   */
  public _render(scope: IConstruct, tagName: string): l1.TelemetrySpecTracingCustomTags {
    if (this.problem) {
      throw meshError(scope, 'CM413', `custom tag "${tagName}": ${this.problem}`, 'give the tag a value source, e.g. CustomTag.literal("prod")');
    }
    return { [this.kind]: this.config };
  }
}

/** How a metric tag (label) is changed. */
export class TagOverride {
  /** Sets the tag to the value of a CEL expression, e.g. `request.method` (Istio's UPSERT). */
  public static upsert(expression: string): TagOverride {
    return new TagOverride(expression);
  }

  /** Removes the tag from the metric (Istio's REMOVE). */
  public static remove(): TagOverride {
    return new TagOverride(undefined);
  }

  private constructor(private readonly expression?: string) {}

  /**
   * The Telemetry `tagOverrides` value; throws CM413 for an empty expression.
   * @internal
   */
  public _render(scope: IConstruct, tag: string): l1.TelemetrySpecMetricsOverridesTagOverrides {
    if (this.expression === undefined) return { operation: l1.TelemetrySpecMetricsOverridesTagOverridesOperation.REMOVE };
    if (!this.expression.trim()) {
      throw meshError(scope, 'CM413', `tag override "${tag}" upserts an empty expression`,
        'give a CEL expression, e.g. TagOverride.upsert("request.method"), or use TagOverride.remove()');
    }
    // UPSERT is Istio's default operation; written the way Istio's examples write it.
    return { value: this.expression };
  }
}

/** Tracing settings of a {@link Telemetry}. */
export interface TracingOptions {
  /**
   * The tracing provider (Istio supports one per workload).
   *
   * @default - the mesh's default tracing providers
   */
  readonly providers?: TelemetryProvider[];

  /**
   * Percentage of requests traced when the incoming request carries no sampling decision, 0–100.
   *
   * @default - inherited from the parent scope (Istio's default is 1%)
   */
  readonly randomSamplingPercent?: number;

  /**
   * Extra tags on every span, by tag name.
   *
   * @default - none
   */
  readonly customTags?: { [name: string]: CustomTag };

  /**
   * Stop reporting spans (context propagation continues).
   *
   * @default false
   */
  readonly disableSpanReporting?: boolean;

  /**
   * Whether the settings apply to the client side, the server side or both.
   *
   * @default TelemetryMode.CLIENT_AND_SERVER
   */
  readonly mode?: TelemetryMode;
}

/** Access log settings of a {@link Telemetry}. */
export interface AccessLoggingOptions {
  /**
   * The access log providers.
   *
   * @default - the mesh's default access log providers
   */
  readonly providers?: TelemetryProvider[];

  /**
   * A CEL expression choosing which requests are logged, e.g. `response.code >= 400`.
   *
   * @default - every request
   */
  readonly filter?: string;

  /**
   * Turn access logging off (e.g. for one namespace when the mesh logs everything).
   *
   * @default false
   */
  readonly disabled?: boolean;

  /**
   * Whether the settings apply to the client side, the server side or both.
   *
   * @default TelemetryMode.CLIENT_AND_SERVER
   */
  readonly mode?: TelemetryMode;
}

/** A change to one standard metric (or all of them). */
export interface MetricOverride {
  /**
   * The metric.
   *
   * @default - every metric (Istio's default match, ALL_METRICS, is not written)
   */
  readonly metric?: IstioMetric;

  /**
   * Whether the override applies to metrics reported by the client side, the server side or both.
   *
   * @default TelemetryMode.CLIENT_AND_SERVER
   */
  readonly mode?: TelemetryMode;

  /**
   * Stop reporting the metric.
   *
   * @default false
   */
  readonly disabled?: boolean;

  /**
   * Tags (labels) to set or remove, by tag name.
   *
   * @default - none
   */
  readonly tagOverrides?: { [tag: string]: TagOverride };
}

/** Metrics settings of a {@link Telemetry}. */
export interface MetricsOptions {
  /**
   * The metrics providers.
   *
   * @default - the mesh's default metrics providers
   */
  readonly providers?: TelemetryProvider[];

  /**
   * Changes to the standard metrics.
   *
   * @default - none
   */
  readonly overrides?: MetricOverride[];

  /**
   * How often the proxies report metrics (for providers that push).
   *
   * @default - the provider's default
   */
  readonly reportingInterval?: Duration;
}

/** Properties of a {@link Telemetry}. */
export interface TelemetryProps {
  /** The mesh whose providers the Telemetry uses; its namespace is the default scope. */
  readonly mesh: Mesh;

  /**
   * The name of the Telemetry object.
   *
   * @default - the construct id
   */
  readonly name?: string;

  /**
   * Apply to the whole mesh: the object is written to the root namespace (`mesh.rootNamespace`).
   *
   * @default false
   */
  readonly meshWide?: boolean;

  /**
   * Apply to one service or version only, selected by Istio's canonical service labels
   * (`service.istio.io/canonical-name`, and `canonical-revision` for a version).
   *
   * @default - the whole namespace of the mesh
   */
  readonly target?: IWorkloadTarget;

  /**
   * Tracing settings.
   *
   * @default - inherited
   */
  readonly tracing?: TracingOptions;

  /**
   * Access log settings. Add more entries with {@link Telemetry.addAccessLogging}.
   *
   * @default - inherited
   */
  readonly accessLogging?: AccessLoggingOptions;

  /**
   * Metrics settings. Add more entries with {@link Telemetry.addMetrics}.
   *
   * @default - inherited
   */
  readonly metrics?: MetricsOptions;
}

/**
 * An Istio Telemetry object: tracing, access logs and metrics for the whole mesh, one
 * namespace or one workload. Providers are typed objects that must be declared on the mesh,
 * so a Telemetry Istio would silently ignore (IST0157) cannot be synthesized.
 *
 * @example
 * new Telemetry(chart, 'mesh-default', { mesh, meshWide: true, tracing: { randomSamplingPercent: 10 } });
 *
 * @see https://istio.io/latest/docs/reference/config/telemetry/
 */
export class Telemetry extends Construct {
  /** The mesh the Telemetry belongs to. */
  public readonly mesh: Mesh;
  /** The Telemetry object's name. */
  public readonly name: string;
  /** The namespace it is written to (the root namespace when mesh-wide). */
  public readonly namespaceName: string;
  /** The workload selector labels, or undefined for a namespace- or mesh-wide Telemetry. */
  public readonly matchLabels?: { [key: string]: string };
  /** The Telemetry object (escape hatch). */
  public readonly apiObject: ApiObject;

  private readonly tracing?: TracingOptions;
  private readonly accessLogging: AccessLoggingOptions[] = [];
  private readonly metrics: MetricsOptions[] = [];

  public constructor(scope: Construct, id: string, props: TelemetryProps) {
    super(scope, id);
    this.mesh = props.mesh;
    this.name = props.name ?? id;
    requireDnsSubdomain(this, 'Telemetry name', this.name);
    if (props.meshWide && props.target) {
      throw meshError(this, 'CM409', 'the Telemetry is both meshWide and has a target',
        'use meshWide for the whole mesh, or a target for one workload, not both');
    }
    this.namespaceName = props.meshWide ? this.mesh.rootNamespace : this.mesh.namespaceName;
    if (props.target) {
      const selector = props.target.toWorkloadSelector();
      if (selector.namespaceName !== this.namespaceName) {
        throw meshError(this, 'CM409', `the target's pods are in namespace "${selector.namespaceName}" but the Telemetry is for namespace "${this.namespaceName}"`,
          `pass the Mesh of namespace "${selector.namespaceName}" as mesh`);
      }
      this.matchLabels = telemetryLabels(props.target);
    }

    if (props.tracing) this.tracing = this.checkTracing(props.tracing);
    if (props.accessLogging) this.addAccessLogging(props.accessLogging);
    if (props.metrics) this.addMetrics(props.metrics);

    this.apiObject = new l1.Telemetry(this, 'Resource', {
      metadata: { name: this.name, namespace: this.namespaceName },
      spec: Lazy.any({ produce: () => this.renderSpec() }) as l1.TelemetrySpec,
    });

    const telemetries = TELEMETRIES.get(this.node.root);
    if (telemetries) telemetries.push(this);
    else TELEMETRIES.set(this.node.root, [this]);
    this.node.addValidation(validateOncePerSynthesis(this, () => this.validate()));
  }

  /** Adds an access logging entry (e.g. one provider with a filter and another without). */
  public addAccessLogging(options: AccessLoggingOptions): void {
    if (options.filter !== undefined && !options.filter.trim()) {
      throw meshError(this, 'CM405', 'the access log filter is an empty CEL expression',
        "give an expression such as 'response.code >= 400', or leave filter out to log every request");
    }
    this.accessLogging.push(options);
  }

  /** Adds a metrics entry (e.g. settings for a second provider). */
  public addMetrics(options: MetricsOptions): void {
    const problem = options.reportingInterval && durationProblem(options.reportingInterval);
    if (problem) {
      throw meshError(this, 'CM413', `reportingInterval ${problem}`, 'use whole milliseconds, e.g. Duration.seconds(15)');
    }
    for (const override of options.overrides ?? []) {
      for (const [tag, change] of sortedEntries(override.tagOverrides ?? {})) {
        if (!tag.trim()) throw meshError(this, 'CM413', 'a tag override has an empty tag name', 'name the tag, e.g. "request_method"');
        change._render(this, tag);
      }
    }
    this.metrics.push(options);
  }

  private checkTracing(tracing: TracingOptions): TracingOptions {
    const percent = tracing.randomSamplingPercent;
    if (percent !== undefined && !(percent >= 0 && percent <= 100)) {
      throw meshError(this, 'CM401', `randomSamplingPercent is ${percent}`,
        'use a percentage from 0 to 100, e.g. 10 to trace one request in ten');
    }
    for (const [name, tag] of sortedEntries(tracing.customTags ?? {})) {
      if (!name.trim()) throw meshError(this, 'CM413', 'a custom tag has an empty name', 'give every custom tag a name');
      tag._render(this, name);
    }
    if ((tracing.providers ?? []).length > 1) {
      throw meshError(this, 'CM412', `tracing names ${tracing.providers!.length} providers (${tracing.providers!.map((p) => p.name).join(', ')})`,
        'Istio supports one tracing provider per workload: keep one, or split the workloads across Telemetry objects');
    }
    return tracing;
  }

  /** The synth-time checks: providers declared and of the right kind, IST0160, IST0159. */
  private validate(): string[] {
    const messages: string[] = [];
    if (this.tracing) {
      messages.push(...this.providerProblems(TelemetrySignal.TRACING, this.tracing.providers, this.tracing.disableSpanReporting));
    }
    for (const entry of this.accessLogging) {
      messages.push(...this.providerProblems(TelemetrySignal.ACCESS_LOGGING, entry.providers, entry.disabled));
    }
    for (const entry of this.metrics) {
      messages.push(...this.providerProblems(TelemetrySignal.METRICS, entry.providers, false));
    }
    messages.push(...this.conflicts());
    return messages;
  }

  private providerProblems(signal: TelemetrySignal, providers: TelemetryProvider[] = [], disabled = false): string[] {
    const mesh = this.mesh;
    const messages: string[] = [];
    if (providers.length === 0 && !disabled && mesh._telemetry.defaultsFor(signal).length === 0) {
      messages.push(formatMessage('CM407', `the ${signal} settings name no provider and mesh "${mesh.node.path}" has no default ${signal} provider, so Istio would ignore them (IST0157)`,
        `name a provider (e.g. providers: [zipkin]) or set defaultTelemetryProviders.${signal} on the Mesh`));
    }
    for (const provider of providers) {
      if (provider.signal !== signal) {
        messages.push(formatMessage('CM406', `provider "${provider.name}" receives ${provider.signal} but is used for ${signal}`,
          `use a ${signal} provider here (${signalFactories(signal)})`));
        continue;
      }
      const status = mesh._telemetry.status(provider);
      if (status === ProviderStatus.UNDECLARED) {
        messages.push(formatMessage('CM402', `provider "${provider.name}" is not declared on mesh "${mesh.node.path}", so Istio's MeshConfig would lack it and Istio would ignore this Telemetry (IST0157)`,
          'add it to the Mesh\'s telemetryProviders (or call mesh.addTelemetryProvider) and install Istio with mesh.meshConfig()'));
      } else if (status === ProviderStatus.DECLARED_DIFFERENTLY) {
        messages.push(formatMessage('CM402', `provider "${provider.name}" is declared on mesh "${mesh.node.path}" with other settings`,
          'use the provider object the mesh declares'));
      }
    }
    return messages;
  }

  /** IST0160 (two selector-less Telemetries in a namespace) and IST0159 (two select one pod). */
  private conflicts(): string[] {
    // Without a Telemetry of the same kind in the namespace that could select the same pods
    // (the usual case), there is nothing to report and no need to walk the tree.
    const suspects = (TELEMETRIES.get(this.node.root) ?? []).filter((t) => t !== this && t.namespaceName === this.namespaceName
      && (this.matchLabels ? t.matchLabels !== undefined && compatible(this.matchLabels, t.matchLabels) : t.matchLabels === undefined));
    if (suspects.length === 0) return [];
    const neighbours = this.node.root.node.findAll()
      .filter((c): c is Telemetry => c instanceof Telemetry && c !== this && c.namespaceName === this.namespaceName);
    if (!this.matchLabels) {
      const others = neighbours.filter((t) => !t.matchLabels);
      if (others.length === 0) return [];
      return [formatMessage('CM403', `namespace "${this.namespaceName}" has other Telemetries without a target (${others.map((t) => t.node.path).join(', ')}); Istio picks one of them arbitrarily (IST0160)`,
        'merge their settings into one Telemetry for the namespace, or give the others a target')];
    }
    const others = neighbours.filter((t) => !!t.matchLabels);
    const pods = declaredPods(this.mesh);
    const clashes = others.filter((other) => pods.some((pod) => selects(this.matchLabels!, pod.labels) && selects(other.matchLabels!, pod.labels)));
    if (clashes.length === 0) return [];
    const shared = pods.filter((pod) => clashes.some((o) => selects(this.matchLabels!, pod.labels) && selects(o.matchLabels!, pod.labels)));
    return [formatMessage('CM410', `the Telemetries ${clashes.map((t) => t.node.path).join(', ')} also select the pods of ${shared.map((p) => p.name).join(', ')}; Istio applies only one of them (IST0159)`,
      'give each workload one Telemetry: put the settings of a version into the service-wide Telemetry, or target distinct versions')];
  }

  private renderSpec(): l1.TelemetrySpec {
    const tracing = this.tracing;
    return {
      selector: this.matchLabels ? { matchLabels: this.matchLabels } : undefined,
      tracing: tracing ? [{
        providers: providerRefs(tracing.providers),
        randomSamplingPercentage: tracing.randomSamplingPercent,
        customTags: tracing.customTags && Object.fromEntries(
          sortedEntries(tracing.customTags).map(([name, tag]) => [name, tag._render(this, name)])),
        disableSpanReporting: tracing.disableSpanReporting,
        match: tracing.mode ? { mode: tracing.mode as string as l1.TelemetrySpecTracingMatchMode } : undefined,
      }] : undefined,
      accessLogging: this.accessLogging.length ? this.accessLogging.map((a) => ({
        providers: providerRefs(a.providers),
        filter: a.filter !== undefined ? { expression: a.filter } : undefined,
        disabled: a.disabled,
        match: a.mode ? { mode: a.mode as string as l1.TelemetrySpecAccessLoggingMatchMode } : undefined,
      })) : undefined,
      metrics: this.metrics.length ? this.metrics.map((m) => ({
        providers: providerRefs(m.providers),
        overrides: m.overrides?.map((o) => this.renderOverride(o)),
        reportingInterval: m.reportingInterval && istioDuration(m.reportingInterval),
      })) : undefined,
    };
  }

  private renderOverride(override: MetricOverride): l1.TelemetrySpecMetricsOverrides {
    const match = override.metric || override.mode ? {
      metric: override.metric as string as l1.TelemetrySpecMetricsOverridesMatchMetric | undefined,
      mode: override.mode as string as l1.TelemetrySpecMetricsOverridesMatchMode | undefined,
    } : undefined;
    return {
      match,
      disabled: override.disabled,
      tagOverrides: override.tagOverrides && Object.fromEntries(
        sortedEntries(override.tagOverrides).map(([tag, change]) => [tag, change._render(this, tag)])),
    };
  }
}

function providerRefs(providers?: TelemetryProvider[]): { name: string }[] | undefined {
  return providers?.length ? providers.map((p) => ({ name: p.name })) : undefined;
}

function signalFactories(signal: TelemetrySignal): string {
  switch (signal) {
    case TelemetrySignal.TRACING: return 'TelemetryProvider.zipkin() or openTelemetryTracing()';
    case TelemetrySignal.ACCESS_LOGGING: return 'TelemetryProvider.ENVOY, envoyFileAccessLog() or openTelemetryAccessLog()';
    default: return 'TelemetryProvider.PROMETHEUS';
  }
}

/**
 * The labels a Telemetry selects a target by: Istio's canonical service labels for the
 * library's services and versions (the labels its metrics report), the target's own labels
 * otherwise.
 */
function telemetryLabels(target: IWorkloadTarget): { [key: string]: string } {
  if (target instanceof MeshService) return { 'service.istio.io/canonical-name': target.name };
  if (target instanceof ServiceVersion) {
    return { 'service.istio.io/canonical-name': target.service.name, 'service.istio.io/canonical-revision': target.name };
  }
  return target.toWorkloadSelector().matchLabels;
}

/** Every pod template the mesh declares, with its labels. */
function declaredPods(mesh: Mesh): { name: string; labels: { [key: string]: string } }[] {
  return mesh.services.flatMap((s) => s.versions.map((v) => ({
    name: v.deployment.name,
    labels: v.deployment.podMetadata.toJson().labels ?? {},
  })));
}

/** Telemetries per construct tree, in creation order. */
const TELEMETRIES = new WeakMap<IConstruct, Telemetry[]>();

/** False when the two selectors require different values of one label, so no pod matches both. */
function compatible(a: { [key: string]: string }, b: { [key: string]: string }): boolean {
  return Object.entries(a).every(([k, v]) => b[k] === undefined || b[k] === v);
}

function selects(matchLabels: { [key: string]: string }, labels: { [key: string]: string }): boolean {
  return Object.entries(matchLabels).every(([k, v]) => labels[k] === v);
}
