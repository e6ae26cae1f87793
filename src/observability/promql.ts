// The PromQL the library writes (internal). Every expression is built here so alerts and
// dashboards measure a service the same way, from Istio's standard metrics.
import type { Mesh } from '../mesh/mesh';
import type { MeshService } from '../mesh/mesh-service';
import { Protocol, isHttpProtocol } from '../mesh/protocol';

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

/**
 * The `reporter` of the L7 metrics of a mesh's services on the server side: the service's own
 * sidecars (`destination`), or in ambient mode the namespace waypoint (`waypoint`: Istio's
 * "waypoint single" reporting, istio/istio#50225). ztunnel reports TCP metrics only, so an
 * ambient namespace without a waypoint has no L7 metrics at all (see {@link hasRequestMetrics}).
 */
export function serverReporter(mesh: Mesh): string {
  return mesh.dataplane.isAmbient ? 'waypoint' : 'destination';
}

/** The `reporter` of the L7 metrics on the calling side: the caller's sidecar, or the waypoint. */
export function clientReporter(mesh: Mesh): string {
  return mesh.dataplane.isAmbient ? 'waypoint' : 'source';
}

/** Label matchers selecting the requests a service received, as its server-side proxy reports them. */
export function serverSide(service: MeshService, extra = ''): string {
  return `{reporter="${serverReporter(service.mesh)}",destination_service=${promString(service.host)}${extra}}`;
}

/** Matcher for requests that failed on the server side (HTTP 5xx). */
export const SERVER_ERRORS = ',response_code=~"5.."';

/**
 * gRPC status codes that count as server errors (`grpc_response_status`, numeric): UNKNOWN,
 * DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE and DATA_LOSS, the codes
 * OpenTelemetry's gRPC conventions count as errors of a server span. A gRPC error mostly
 * arrives with HTTP status 200, so 5xx alone does not see it.
 */
export const GRPC_SERVER_ERROR_CODES = ['2', '4', '12', '13', '14', '15'];

/** Matcher for gRPC server errors that did not also come with an HTTP 5xx (not counted twice). */
const GRPC_ERRORS_NOT_5XX = `,response_code!~"5..",grpc_response_status=~"${GRPC_SERVER_ERROR_CODES.join('|')}"`;

/** True when the service speaks gRPC, whose errors Istio reports in `grpc_response_status`. */
export function isGrpc(service: MeshService): boolean {
  return service.protocol === Protocol.GRPC || service.protocol === Protocol.GRPC_WEB;
}

/** Requests per second to `service` over `window`, summed `by` the given labels. */
export function requestRate(service: MeshService, window: string, by = '', extra = ''): string {
  const grouping = by ? ` by (${by})` : '';
  return `sum${grouping} (rate(istio_requests_total${serverSide(service, extra)}[${window}]))`;
}

/**
 * Failed requests per second to `service` over `window`: HTTP 5xx, and for a gRPC service also
 * the gRPC server errors (the union of the two sets of series, each counted once).
 */
export function errorRate(service: MeshService, window: string, by = '', extra = ''): string {
  if (!isGrpc(service)) return requestRate(service, window, by, SERVER_ERRORS + extra);
  const grouping = by ? ` by (${by})` : '';
  return `sum${grouping} (rate(istio_requests_total${serverSide(service, SERVER_ERRORS + extra)}[${window}])`
    + ` or rate(istio_requests_total${serverSide(service, GRPC_ERRORS_NOT_5XX + extra)}[${window}]))`;
}

/** The share of requests to `service` over `window` that failed (see {@link errorRate}); `extra` narrows both sides. */
export function errorRatio(service: MeshService, window: string, by = '', extra = ''): string {
  return `${errorRate(service, window, by, extra)} / ${requestRate(service, window, by, extra)}`;
}

/** What counts as a failed request of `service`, for titles and alert texts. */
export function failureDescription(service: MeshService): string {
  return isGrpc(service) ? '5xx or a gRPC server error' : '5xx';
}

/** The `quantile` (0–1) of the request duration of `service` in milliseconds. */
export function latencyQuantile(service: MeshService, quantile: number, window: string, by = '', extra = ''): string {
  const grouping = by ? `le, ${by}` : 'le';
  return `histogram_quantile(${promNumber(quantile)}, sum by (${grouping}) `
    + `(rate(istio_request_duration_milliseconds_bucket${serverSide(service, extra)}[${window}])))`;
}

/**
 * True when Istio reports request metrics (istio_requests_total) for the service: an HTTP or
 * gRPC port, and a proxy that sees its requests (a sidecar, or in ambient mode a waypoint).
 */
export function hasRequestMetrics(service: MeshService): boolean {
  return isHttpProtocol(service.protocol) && hasL7TelemetrySource(service.mesh);
}

/** True unless the mesh is ambient without a waypoint, where ztunnel reports TCP metrics only. */
export function hasL7TelemetrySource(mesh: Mesh): boolean {
  return !mesh.dataplane.isAmbient || mesh.dataplane.waypoint;
}
