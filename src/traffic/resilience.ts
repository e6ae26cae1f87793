import { Duration } from 'cdk8s';
import { FaultSpec } from '../internal/specs';

/**
 * The conditions under which Envoy retries a request (Istio's `retryOn`).
 *
 * @see https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter#x-envoy-retry-on
 */
export enum RetryOn {
  /** The connection to the upstream could not be established (the request was never sent). */
  CONNECT_FAILURE = 'connect-failure',
  /** The upstream refused the HTTP/2 stream (REFUSED_STREAM: the request was never processed). */
  REFUSED_STREAM = 'refused-stream',
  /** The connection was reset before the request was sent. */
  RESET_BEFORE_REQUEST = 'reset-before-request',
  /** Any 5xx response, or a reset/timeout (the request may have been processed). */
  FIVE_XX = '5xx',
  /** 502, 503 or 504. */
  GATEWAY_ERROR = 'gateway-error',
  /** A disconnect, reset or read timeout (the request may have been processed). */
  RESET = 'reset',
  /** 409 Conflict. */
  RETRIABLE_4XX = 'retriable-4xx',
  /** The status codes listed in `retryOnStatusCodes`. */
  RETRIABLE_STATUS_CODES = 'retriable-status-codes',
  /** Responses carrying the retriable headers configured in Envoy. */
  RETRIABLE_HEADERS = 'retriable-headers',
  /** Envoy's rate limit filter rejected the request. */
  ENVOY_RATELIMITED = 'envoy-ratelimited',
  /** HTTP/3 failure after the connection was established. */
  HTTP3_POST_CONNECT_FAILURE = 'http3-post-connect-failure',
  /** gRPC status CANCELLED. */
  CANCELLED = 'cancelled',
  /** gRPC status DEADLINE_EXCEEDED. */
  DEADLINE_EXCEEDED = 'deadline-exceeded',
  /** gRPC status INTERNAL. */
  INTERNAL = 'internal',
  /** gRPC status RESOURCE_EXHAUSTED. */
  RESOURCE_EXHAUSTED = 'resource-exhausted',
  /** gRPC status UNAVAILABLE. */
  UNAVAILABLE = 'unavailable',
}

/**
 * How a route retries failed requests.
 *
 * Every HTTP route the library writes states its retry policy. Without one, a route gets
 * Istio's own default written out (2 attempts on connect-failure, refused-stream,
 * unavailable, cancelled and 503) when its requests are known to be idempotent (by its method
 * matches and the methods its service admits); a route whose requests may be POST, PATCH or
 * CONNECT retries only when the request never reached the upstream (connect-failure,
 * refused-stream), unless it sets `allowNonIdempotentRetries`.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRetry
 */
export interface RetryPolicy {
  /** Number of retries after the first attempt; 0 disables retries. */
  readonly attempts: number;

  /**
   * Timeout of each attempt, including the first.
   *
   * @default - the route timeout
   */
  readonly perTryTimeout?: Duration;

  /**
   * When to retry.
   *
   * @default - Istio's conditions: connect-failure, refused-stream, unavailable, cancelled, and status 503
   */
  readonly retryOn?: RetryOn[];

  /**
   * HTTP status codes that trigger a retry (Istio adds `retriable-status-codes` for them).
   *
   * @default - none beyond `retryOn`
   */
  readonly retryOnStatusCodes?: number[];

  /**
   * Minimum wait between attempts.
   *
   * @default - Envoy's default (25ms, growing exponentially)
   */
  readonly backoff?: Duration;

  /**
   * Retry in other localities.
   *
   * @default false
   */
  readonly retryRemoteLocalities?: boolean;
}

/**
 * Fault injection for a route: delays or aborts a percentage of requests, to test how callers
 * cope. Istio does not apply a route's retries or timeout to requests it injects faults into.
 *
 * @see https://istio.io/latest/docs/tasks/traffic-management/fault-injection/
 */
export class Fault {
  /**
   * Delays `percent` of requests by `delay` before forwarding them.
   *
   * @param delay fixed delay (at least 1ms, whole milliseconds)
   * @param percent share of requests delayed, 0–100
   */
  public static delay(delay: Duration, percent: number = 100): Fault {
    return new Fault({ delay, delayPercent: percent });
  }

  /**
   * Answers `percent` of requests with HTTP status `httpStatus` without forwarding them.
   *
   * @param httpStatus status code, 200–599
   * @param percent share of requests aborted, 0–100
   */
  public static abort(httpStatus: number, percent: number = 100): Fault {
    return new Fault({ httpStatus, abortPercent: percent });
  }

  /**
   * Answers `percent` of gRPC requests with gRPC status `grpcStatus` (e.g. `UNAVAILABLE`).
   *
   * @param grpcStatus a gRPC status name
   * @param percent share of requests aborted, 0–100
   */
  public static grpcAbort(grpcStatus: string, percent: number = 100): Fault {
    return new Fault({ grpcStatus, abortPercent: percent });
  }

  /** Injects a delay and an abort on the same route (each with its own percentage). */
  public static combine(delay: Fault, abort: Fault): Fault {
    return new Fault({ ...delay.props, ...abort.props });
  }

  private constructor(private readonly props: FaultSpec) {}

  /**
   * The fault as plain data, for rendering.
   * @internal
   */
  public get _spec(): FaultSpec {
    return this.props;
  }
}


/**
 * Resilience findings a user may accept deliberately on one route; the library then stops
 * reporting them for that route.
 */
export enum Acknowledgement {
  /** `(attempts + 1) × perTryTimeout` exceeds the route timeout, so later attempts are cut short. */
  RETRIES_EXCEED_TIMEOUT = 'RETRIES_EXCEED_TIMEOUT',
  /** The route injects faults, so Istio does not apply its retries. */
  FAULT_DISABLES_RETRIES = 'FAULT_DISABLES_RETRIES',
}
