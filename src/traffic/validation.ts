import { Duration } from 'cdk8s';
import { IConstruct } from 'constructs';
import { ErrorCode, meshError } from '../errors';
import { RetryOn, RetryPolicy } from './resilience';
import { durationProblem } from '../internal/duration';
import { Protocol } from '../mesh/protocol';

// Checks shared by the traffic constructs. Each throws a CM2xx error naming the construct at
// fault; the value types (PathMatch, Fault, …) carry no scope, so they are checked here, when a
// construct receives them.

/** Throws CM211 unless Istio accepts `duration` (whole milliseconds, from 1ms to Go's maximum). */
export function checkDuration(scope: IConstruct, what: string, duration: Duration | undefined): void {
  if (duration === undefined) return;
  const problem = durationProblem(duration);
  if (problem) {
    throw meshError(scope, 'CM211', `${what} ${problem}`, 'use a whole number of milliseconds from 1ms to 2562047h, e.g. Duration.millis(500) or Duration.seconds(30)');
  }
}

/** Throws `code` unless `value` is a percentage Istio accepts (0, or 0.0001 to 100). */
export function checkPercent(scope: IConstruct, what: string, value: number | undefined, code: ErrorCode = 'CM212'): void {
  if (value === undefined) return;
  if (!(Number.isFinite(value) && value >= 0 && value <= 100) || (value > 0 && value < 0.0001)) {
    throw meshError(scope, code, `${what} is ${value}`, 'use a percentage from 0 to 100 (fractions down to 0.0001)');
  }
}

/**
 * Throws unless Istio accepts the retry policy: attempts ≥ 0 (CM209), durations (CM211), HTTP
 * status codes (CM221), and no retry settings when retries are off (CM210).
 */
export function checkRetryPolicy(scope: IConstruct, retry: RetryPolicy, protocol?: Protocol): void {
  checkWholeNumber(scope, 'CM209', 'retry.attempts', retry.attempts, 0);
  // Envoy's gRPC conditions read the grpc-status of the response, which only a gRPC server sends (over HTTP/2).
  const conditions = retry.retryOn ?? [];
  const grpcOnly = conditions.length > 0 && !retry.retryOnStatusCodes?.length && conditions.every((c) => GRPC_RETRY_ON.includes(c));
  if (protocol === Protocol.HTTP && grpcOnly) {
    throw meshError(scope, 'CM245', `retry.retryOn is ${conditions.join(', ')}: gRPC status conditions, which read the grpc-status a gRPC server sends, but the service speaks HTTP/1.1, so the route would never retry`,
      'declare the service with protocol Protocol.GRPC if it serves gRPC, or retry on HTTP conditions (RetryOn.CONNECT_FAILURE, RetryOn.GATEWAY_ERROR, retryOnStatusCodes)');
  }
  checkDuration(scope, 'retry.perTryTimeout', retry.perTryTimeout);
  checkDuration(scope, 'retry.backoff', retry.backoff);
  for (const code of retry.retryOnStatusCodes ?? []) checkWholeNumber(scope, 'CM221', 'retry.retryOnStatusCodes entry', code, 100, 599);
  if (retry.attempts !== 0) return;
  const extra = ['perTryTimeout', 'retryOn', 'retryOnStatusCodes', 'backoff', 'retryRemoteLocalities']
    .filter((k) => (retry as any)[k] !== undefined);
  if (extra.length > 0) {
    throw meshError(scope, 'CM210', `retry.attempts is 0 (no retries) but ${extra.join(', ')} ${extra.length > 1 ? 'are' : 'is'} set`,
      `remove ${extra.join(', ')}, or allow at least one retry`);
  }
}

/** Throws `code` unless `value` is a whole number within [min, max]. */
export function checkWholeNumber(scope: IConstruct, code: ErrorCode, what: string, value: number | undefined,
  min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `a whole number of at least ${min}` : `a whole number from ${min} to ${max}`;
    throw meshError(scope, code, `${what} is ${value}`, `use ${range}`);
  }
}

/** Envoy's retry conditions on gRPC status codes (x-envoy-retry-grpc-on). */
const GRPC_RETRY_ON: readonly RetryOn[] = [
  RetryOn.CANCELLED, RetryOn.DEADLINE_EXCEEDED, RetryOn.INTERNAL, RetryOn.RESOURCE_EXHAUSTED, RetryOn.UNAVAILABLE,
];

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PSEUDO_HEADERS = [':authority', ':method', ':scheme', ':path'];

/**
 * Throws CM207 unless `name` is a lower-case RFC 7230 token (or an HTTP/2 pseudo-header when
 * `allowPseudo`). Envoy lower-cases header names, so an upper-case name never matches.
 */
export function checkHeaderName(scope: IConstruct, what: string, name: string, allowPseudo = false): void {
  if (allowPseudo && PSEUDO_HEADERS.includes(name)) return;
  if (!TOKEN.test(name)) {
    throw meshError(scope, 'CM207', `${what} "${name}" is not an HTTP header name`,
      "use RFC 7230 token characters only (letters, digits and !#$%&'*+-.^_`|~), e.g. \"x-user-id\"");
  }
  if (name !== name.toLowerCase()) {
    throw meshError(scope, 'CM207', `${what} "${name}" has upper-case letters, and Envoy lower-cases every header name, so it would never match`,
      `write it as "${name.toLowerCase()}"`);
  }
}

/**
 * Throws CM208 unless `regex` is an RE2 expression Istio accepts: at most 1024 characters, and
 * none of the backtracking constructs RE2 lacks (lookaround, backreferences).
 */
export function checkRegex(scope: IConstruct, what: string, regex: string): void {
  const reject = (problem: string) => {
    throw meshError(scope, 'CM208', `${what} ${JSON.stringify(regex)} ${problem}`,
      'write an RE2 expression (https://github.com/google/re2/wiki/Syntax): no lookahead, lookbehind or backreferences');
  };
  if (regex.length === 0) reject('is empty');
  if (regex.length > 1024) reject('is longer than 1024 characters');
  if (/\(\?<?[=!]/.test(regex)) reject('uses lookaround, which RE2 does not support');
  if (/\(\?>/.test(regex)) reject('uses an atomic group, which RE2 does not support');
  if (/(^|[^\\])\\[1-9]/.test(regex)) reject('uses a backreference, which RE2 does not support');
  // JavaScript lacks RE2's leading inline flags such as (?i); drop them before compiling.
  const body = regex.replace(/^\(\?[imsU]+\)/, '').replace(/\(\?P</g, '(?<');
  try {
    new RegExp(body, 'u');
  } catch (e) {
    reject(`does not compile (${(e as Error).message})`);
  }
}

/** Throws CM223 unless `path` is an absolute request path. */
export function checkPath(scope: IConstruct, what: string, path: string): void {
  if (!path.startsWith('/') || /\s/.test(path)) {
    throw meshError(scope, 'CM223', `${what} "${path}" is not an absolute request path`, `start it with "/", e.g. "/${path.replace(/^\/*/, '').trim()}"`);
  }
}
