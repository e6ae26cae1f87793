// The PromQL the library writes (internal). Every expression is built here so alerts and
// dashboards measure a service the same way, from Istio's standard metrics.
import type { MeshService } from '../mesh/mesh-service';
import { isHttpProtocol } from '../mesh/protocol';

/** A PromQL string literal (double-quoted, escaped). */
export function promString(value: string): string {
  return JSON.stringify(value);
}

/** An RE2 pattern matching `value` literally. */
export function regexLiteral(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/** A number as PromQL writes it, without binary floating point noise (0.1 + 0.2 → 0.3). */
export function promNumber(value: number): string {
  return String(Number(value.toPrecision(12)));
}

/** The error budget of an availability objective, as a ratio (99.9 → 0.001). */
export function errorBudget(availabilityPercent: number): number {
  return Number(((100 - availabilityPercent) / 100).toPrecision(12));
}

/** Label matchers selecting the requests a service's own proxies received. */
export function serverSide(service: MeshService, extra = ''): string {
  return `{reporter="destination",destination_service=${promString(service.host)}${extra}}`;
}

/** Matcher for requests that failed on the server side (HTTP 5xx). */
export const SERVER_ERRORS = ',response_code=~"5.."';

/** Requests per second to `service` over `window`, summed `by` the given labels. */
export function requestRate(service: MeshService, window: string, by = '', extra = ''): string {
  const grouping = by ? ` by (${by})` : '';
  return `sum${grouping} (rate(istio_requests_total${serverSide(service, extra)}[${window}]))`;
}

/** The share of requests to `service` over `window` that failed with a 5xx. */
export function errorRatio(service: MeshService, window: string, by = ''): string {
  return `${requestRate(service, window, by, SERVER_ERRORS)} / ${requestRate(service, window, by)}`;
}

/** The `quantile` (0–1) of the request duration of `service` in milliseconds. */
export function latencyQuantile(service: MeshService, quantile: number, window: string, by = ''): string {
  const grouping = by ? `le, ${by}` : 'le';
  return `histogram_quantile(${promNumber(quantile)}, sum by (${grouping}) `
    + `(rate(istio_request_duration_milliseconds_bucket${serverSide(service)}[${window}])))`;
}

/** True when Istio reports request metrics (istio_requests_total) for the service's protocol. */
export function hasRequestMetrics(service: MeshService): boolean {
  return isHttpProtocol(service.protocol);
}
