import { Duration } from 'cdk8s';
import { IConstruct } from 'constructs';
import { meshError } from '../errors';
import { compact, sortedEntries, sortedObject } from './util';
import { durationProblem, istioDuration } from '../internal/duration';

/** The three kinds of telemetry a provider can receive. */
export enum TelemetrySignal {
  /** Distributed traces (Telemetry `tracing`). */
  TRACING = 'tracing',
  /** Access logs (Telemetry `accessLogging`). */
  ACCESS_LOGGING = 'accessLogging',
  /** Metrics (Telemetry `metrics`). */
  METRICS = 'metrics',
}

/** Options shared by providers that send to a collector service. */
export interface CollectorProviderOptions {
  /**
   * The provider name, as Telemetry objects reference it (MeshConfig `extensionProviders[].name`).
   */
  readonly name: string;

  /**
   * The collector's host: a fully qualified Kubernetes Service or ServiceEntry host, optionally
   * prefixed with its namespace (`[<namespace>/]<host>`), e.g. `zipkin.istio-system.svc.cluster.local`.
   */
  readonly service: string;

  /** The collector's port. */
  readonly port: number;
}

/** Options of {@link TelemetryProvider.zipkin}. */
export interface ZipkinProviderOptions extends CollectorProviderOptions {
  /**
   * Maximum length of the request path tag in a span.
   *
   * @default - Istio's default (256)
   */
  readonly maxTagLength?: number;

  /**
   * Use 64-bit trace ids instead of 128-bit ones.
   *
   * @default false
   */
  readonly enable64bitTraceId?: boolean;
}

/** Sending OTLP over HTTP instead of gRPC. */
export interface OtlpHttpOptions {
  /** The path on the collector, e.g. `/v1/traces`. */
  readonly path: string;

  /**
   * Timeout of each export request.
   *
   * @default - Istio's default (3s)
   */
  readonly timeout?: Duration;

  /**
   * Extra HTTP headers sent with each export request.
   *
   * @default - none
   */
  readonly headers?: { [name: string]: string };
}

/** Options of {@link TelemetryProvider.openTelemetryTracing}. */
export interface OpenTelemetryTracingProviderOptions extends CollectorProviderOptions {
  /**
   * Maximum length of the request path tag in a span.
   *
   * @default - Istio's default (256)
   */
  readonly maxTagLength?: number;

  /**
   * Export over HTTP.
   *
   * @default - export over gRPC
   */
  readonly http?: OtlpHttpOptions;
}

/** Options of {@link TelemetryProvider.envoyFileAccessLog}. */
export interface EnvoyFileAccessLogProviderOptions {
  /** The provider name, as Telemetry objects reference it. */
  readonly name: string;

  /**
   * File the proxy writes access log lines to.
   *
   * @default '/dev/stdout'
   */
  readonly path?: string;

  /**
   * A text format with Envoy command operators, e.g. `%RESPONSE_CODE% %REQ(:PATH)%`.
   *
   * @default - Envoy's default text format (or `jsonFormat`)
   */
  readonly textFormat?: string;

  /**
   * A JSON format: field name to Envoy command operator, e.g. `{ status: '%RESPONSE_CODE%' }`.
   *
   * @default - text format
   */
  readonly jsonFormat?: { [field: string]: string };
}

/** Options of {@link TelemetryProvider.openTelemetryAccessLog}. */
export interface OpenTelemetryAccessLogProviderOptions extends CollectorProviderOptions {
  /**
   * The log name reported to the collector.
   *
   * @default - Istio's default (`otel_envoy_accesslog`)
   */
  readonly logName?: string;

  /**
   * The log body, a text format with Envoy command operators.
   *
   * @default - Envoy's default format
   */
  readonly textFormat?: string;

  /**
   * Log attributes: attribute name to Envoy command operator.
   *
   * @default - none
   */
  readonly attributes?: { [name: string]: string };
}

/**
 * The providers Istio uses for a Telemetry section that names none (MeshConfig
 * `defaultProviders`).
 */
export interface DefaultTelemetryProviders {
  /**
   * Default tracing providers.
   *
   * @default - none: a Telemetry `tracing` section must name its provider
   */
  readonly tracing?: TelemetryProvider[];

  /**
   * Default metrics providers.
   *
   * @default - none: a Telemetry `metrics` section must name its provider
   */
  readonly metrics?: TelemetryProvider[];

  /**
   * Default access log providers.
   *
   * @default - none: a Telemetry `accessLogging` section must name its provider
   */
  readonly accessLogging?: TelemetryProvider[];
}

/**
 * Where the proxies send traces, access logs or metrics: an entry of Istio's MeshConfig
 * `extensionProviders`, declared on the {@link Mesh} and referenced by {@link Telemetry}
 * objects as a typed object, never as a free string.
 *
 * Istio silently ignores a Telemetry that names a provider its MeshConfig lacks (IST0157), so
 * every provider a Telemetry uses must be declared on the mesh; `mesh.meshConfig()` shows the
 * MeshConfig the declared providers require.
 *
 * @see https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/#MeshConfig-ExtensionProvider
 */
export class TelemetryProvider {
  /** Istio's built-in Prometheus metrics provider `prometheus` (always present in MeshConfig). */
  public static readonly PROMETHEUS = new TelemetryProvider('prometheus', TelemetrySignal.METRICS, 'prometheus', {}, true);

  /** Istio's built-in Envoy file access log provider `envoy`, writing to `/dev/stdout` (always present). */
  public static readonly ENVOY = new TelemetryProvider('envoy', TelemetrySignal.ACCESS_LOGGING, 'envoyFileAccessLog', { path: '/dev/stdout' }, true);

  /**
   * A tracing provider speaking the Zipkin API: Zipkin, or Jaeger's Zipkin-compatible collector
   * (`jaeger-collector.<namespace>.svc.cluster.local`, port 9411).
   */
  public static zipkin(options: ZipkinProviderOptions): TelemetryProvider {
    return new TelemetryProvider(options.name, TelemetrySignal.TRACING, 'zipkin', compact({
      service: options.service,
      port: options.port,
      maxTagLength: options.maxTagLength,
      enable64bitTraceId: options.enable64bitTraceId,
    }), false, [collectorCheck(options), tagLengthCheck(options.maxTagLength)]);
  }

  /** A tracing provider exporting OTLP to an OpenTelemetry collector (gRPC unless `http` is set). */
  public static openTelemetryTracing(options: OpenTelemetryTracingProviderOptions): TelemetryProvider {
    const http = options.http;
    return new TelemetryProvider(options.name, TelemetrySignal.TRACING, 'opentelemetry', compact({
      service: options.service,
      port: options.port,
      maxTagLength: options.maxTagLength,
      http: http && compact({
        path: http.path,
        timeout: http.timeout && istioDuration(http.timeout),
        headers: http.headers && sortedEntries(http.headers).map(([name, value]) => ({ name, value })),
      }),
    }), false, [collectorCheck(options), tagLengthCheck(options.maxTagLength), otlpHttpCheck(http)]);
  }

  /** An access log provider writing Envoy access logs to a file in the proxy container. */
  public static envoyFileAccessLog(options: EnvoyFileAccessLogProviderOptions): TelemetryProvider {
    const problems: Check[] = [nameCheck(options.name)];
    if (options.textFormat !== undefined && options.jsonFormat !== undefined) {
      problems.push(() => ['it sets both textFormat and jsonFormat', 'choose one log format']);
    }
    const logFormat = options.textFormat !== undefined ? { text: options.textFormat }
      : options.jsonFormat !== undefined ? { labels: sortedObject(options.jsonFormat) } : undefined;
    return new TelemetryProvider(options.name, TelemetrySignal.ACCESS_LOGGING, 'envoyFileAccessLog',
      compact({ path: options.path ?? '/dev/stdout', logFormat }), false, problems);
  }

  /** An access log provider sending Envoy access logs to an OpenTelemetry collector (gRPC). */
  public static openTelemetryAccessLog(options: OpenTelemetryAccessLogProviderOptions): TelemetryProvider {
    const logFormat = options.textFormat !== undefined || options.attributes !== undefined
      ? compact({ text: options.textFormat, labels: options.attributes && sortedObject(options.attributes) }) : undefined;
    return new TelemetryProvider(options.name, TelemetrySignal.ACCESS_LOGGING, 'envoyOtelAls', compact({
      service: options.service,
      port: options.port,
      logName: options.logName,
      logFormat,
    }), false, [collectorCheck(options)]);
  }

  /** The provider name Telemetry objects reference. */
  public readonly name: string;
  /** The kind of telemetry the provider receives. */
  public readonly signal: TelemetrySignal;
  /** True for Istio's built-in providers, which MeshConfig always contains. */
  public readonly isBuiltIn: boolean;

  private constructor(
    name: string,
    signal: TelemetrySignal,
    private readonly kind: string,
    private readonly config: { [key: string]: any },
    isBuiltIn: boolean,
    private readonly checks: Check[] = [],
  ) {
    this.name = name;
    this.signal = signal;
    this.isBuiltIn = isBuiltIn;
  }

  /**
   * Throws CM408 when the provider's settings are invalid (reported against `scope`, the mesh
   * that declares it).
   * @internal
   */
  public _validate(scope: IConstruct): void {
    for (const check of this.checks) {
      const problem = check();
      if (problem) {
        throw meshError(scope, 'CM408', `telemetry provider "${this.name}": ${problem[0]}`, problem[1]);
      }
    }
  }

  /**
   * The MeshConfig `extensionProviders` entry.
   * @internal
   */
  public _toExtensionProvider(): any {
    return { name: this.name, [this.kind]: this.config };
  }

  /**
   * True when `other` is the same provider (same name and settings).
   * @internal
   */
  public _sameAs(other: TelemetryProvider): boolean {
    return JSON.stringify(this._toExtensionProvider()) === JSON.stringify(other._toExtensionProvider());
  }
}

/** A deferred check: `[problem, fix]`, or undefined when fine. */
type Check = () => [string, string] | undefined;

function nameCheck(name: string): Check {
  return () => {
    if (!name.trim()) return ['the name is empty', 'give the provider a name, e.g. "zipkin"'];
    if (name !== name.trim()) return [`the name "${name}" has surrounding spaces`, `use "${name.trim()}"`];
    return undefined;
  };
}

function collectorCheck(options: CollectorProviderOptions): Check {
  return () => nameCheck(options.name)()
    ?? (!options.service.trim()
      ? ['the collector service is empty', 'give the collector host, e.g. "zipkin.istio-system.svc.cluster.local"'] : undefined)
    ?? (!(Number.isInteger(options.port) && options.port >= 1 && options.port <= 65535)
      ? [`port ${options.port} is not a TCP port number`, 'use a whole number from 1 to 65535'] : undefined);
}

function tagLengthCheck(maxTagLength?: number): Check {
  return () => maxTagLength !== undefined && !(Number.isInteger(maxTagLength) && maxTagLength > 0)
    ? [`maxTagLength ${maxTagLength} is not a positive whole number`, 'use a length such as 256'] : undefined;
}

function otlpHttpCheck(http?: OtlpHttpOptions): Check {
  return () => {
    if (!http) return undefined;
    if (!http.path.startsWith('/')) return [`OTLP HTTP path "${http.path}" does not start with "/"`, 'use a path such as "/v1/traces"'];
    const problem = http.timeout && durationProblem(http.timeout);
    return problem ? [`OTLP HTTP timeout ${problem}`, 'use a timeout of whole milliseconds, e.g. Duration.seconds(10)'] : undefined;
  };
}
