import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { meshError } from '../errors';
import { checkDuration, checkPercent, checkWholeNumber } from './validation';
import type { MeshService } from '../mesh/mesh-service';
import type { ServiceVersion } from '../mesh/service-version';

/**
 * Limits on connections and requests to the service: what overflows is failed fast with a 503
 * (response flag UO) instead of queueing.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/destination-rule/#ConnectionPoolSettings
 */
export interface ConnectionPoolOptions {
  /**
   * Maximum TCP connections to the service (per caller proxy). Istio's `tcp.maxConnections`.
   *
   * @default - 2^32-1
   */
  readonly maxConnections?: number;

  /**
   * TCP connect timeout. Istio's `tcp.connectTimeout`.
   *
   * @default 10s
   */
  readonly connectTimeout?: Duration;

  /**
   * Maximum requests waiting for a connection. Istio's `http.http1MaxPendingRequests`.
   *
   * @default 2^32-1
   */
  readonly maxPendingRequests?: number;

  /**
   * Maximum concurrent requests to the service. Istio's `http.http2MaxRequests`.
   *
   * @default 2^32-1
   */
  readonly maxRequests?: number;

  /**
   * Maximum requests per connection; 1 disables keep-alive, 0 means unlimited.
   * Istio's `http.maxRequestsPerConnection`.
   *
   * @default 0 (unlimited)
   */
  readonly maxRequestsPerConnection?: number;

  /**
   * Maximum concurrent retries to the service. Istio's `http.maxRetries`.
   *
   * @default 2^32-1
   */
  readonly maxRetries?: number;

  /**
   * Close connections idle this long. Istio's `http.idleTimeout`.
   *
   * @default 1h
   */
  readonly idleTimeout?: Duration;
}

/**
 * Ejects failing pods from the load-balancing pool for a while.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/destination-rule/#OutlierDetection
 */
export interface OutlierDetectionOptions {
  /**
   * Consecutive 5xx responses (or connection failures) before a pod is ejected.
   *
   * @default 5
   */
  readonly consecutive5xxErrors?: number;

  /**
   * Consecutive 502/503/504 responses (or connection failures) before a pod is ejected.
   *
   * @default - not used
   */
  readonly consecutiveGatewayErrors?: number;

  /**
   * Time between ejection sweeps.
   *
   * @default 10s
   */
  readonly interval?: Duration;

  /**
   * Minimum ejection time; it grows with each ejection of the same pod.
   *
   * @default 30s
   */
  readonly baseEjectionTime?: Duration;

  /**
   * Maximum share of pods ejected at once, 0–100.
   *
   * @default 10
   */
  readonly maxEjectionPercent?: number;

  /**
   * Outlier detection stops when fewer pods than this share are healthy (panic mode), 0–100.
   *
   * @default 0 (always on)
   */
  readonly minHealthPercent?: number;
}

/** Options of {@link CircuitBreaker} and `MeshService.addCircuitBreaker`. */
export interface CircuitBreakerOptions {
  /**
   * Connection and request limits.
   *
   * @default - Istio's (practically unlimited)
   */
  readonly connectionPool?: ConnectionPoolOptions;

  /**
   * Ejection of failing pods.
   *
   * @default - none
   */
  readonly outlierDetection?: OutlierDetectionOptions;

  /**
   * Apply to one version only (a subset-level traffic policy).
   *
   * @default - every version of the service
   */
  readonly version?: ServiceVersion;
}

/** Properties of a {@link CircuitBreaker}. */
export interface CircuitBreakerProps extends CircuitBreakerOptions {
  /** The service protected by the circuit breaker. */
  readonly service: MeshService;
}

/**
 * Connection pool limits and outlier detection for a service (or one version of it), written
 * into the service's one DestinationRule.
 *
 * @see https://istio.io/latest/docs/tasks/traffic-management/circuit-breaking/
 */
export class CircuitBreaker extends Construct {
  /** The protected service. */
  public readonly service: MeshService;
  /** The version, for a subset-level circuit breaker. */
  public readonly version?: ServiceVersion;
  /** Connection and request limits. */
  public readonly connectionPool?: ConnectionPoolOptions;
  /** Ejection of failing pods. */
  public readonly outlierDetection?: OutlierDetectionOptions;

  public constructor(scope: Construct, id: string, props: CircuitBreakerProps) {
    super(scope, id);
    this.service = props.service;
    this.version = props.version;
    this.connectionPool = props.connectionPool;
    this.outlierDetection = props.outlierDetection;
    if (!hasAny(props.connectionPool) && !hasAny(props.outlierDetection)) {
      throw meshError(this, 'CM233', 'the circuit breaker sets no connection pool limit and no outlier detection',
        'set connectionPool (e.g. { maxConnections: 100 }) and/or outlierDetection (e.g. { consecutive5xxErrors: 5 })');
    }
    if (props.version && props.version.service !== props.service) {
      throw meshError(this, 'CM204', `version "${props.version.name}" belongs to service "${props.version.service.name}", not "${props.service.name}"`,
        `pass a version of ${props.service.name}`);
    }
    const pool = props.connectionPool ?? {};
    for (const key of ['maxConnections', 'maxPendingRequests', 'maxRequests'] as const) {
      checkLimit(this, `connectionPool.${key}`, pool[key], 1);
    }
    checkLimit(this, 'connectionPool.maxRequestsPerConnection', pool.maxRequestsPerConnection, 0);
    checkLimit(this, 'connectionPool.maxRetries', pool.maxRetries, 0);
    checkDuration(this, 'connectionPool.connectTimeout', pool.connectTimeout);
    checkDuration(this, 'connectionPool.idleTimeout', pool.idleTimeout);

    const outlier = props.outlierDetection ?? {};
    checkWholeNumber(this, 'CM231', 'outlierDetection.consecutive5xxErrors', outlier.consecutive5xxErrors, 0);
    checkWholeNumber(this, 'CM231', 'outlierDetection.consecutiveGatewayErrors', outlier.consecutiveGatewayErrors, 0);
    checkDuration(this, 'outlierDetection.interval', outlier.interval);
    checkDuration(this, 'outlierDetection.baseEjectionTime', outlier.baseEjectionTime);
    checkPercent(this, 'outlierDetection.maxEjectionPercent', outlier.maxEjectionPercent, 'CM231');
    checkPercent(this, 'outlierDetection.minHealthPercent', outlier.minHealthPercent, 'CM231');

    props.service._routing.addCircuitBreaker(this);
  }
}

function hasAny(options: object | undefined): boolean {
  return options !== undefined && Object.values(options).some((v) => v !== undefined);
}

function checkLimit(scope: Construct, what: string, value: number | undefined, min: number): void {
  if (value !== undefined && value === 0 && min === 1) {
    throw meshError(scope, 'CM230', `${what} is 0, which would refuse every request`, 'use a limit of at least 1, or leave it unset for no limit');
  }
  checkWholeNumber(scope, 'CM230', what, value, min, 2 ** 32 - 1);
}
