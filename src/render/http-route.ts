import { regexEscape } from './gateway-route';
import {
  VirtualServiceSpecHttp, VirtualServiceSpecHttpMatch, VirtualServiceSpecHttpRetries, VirtualServiceSpecHttpRewrite,
  VirtualServiceSpecHttpRoute,
} from '../imports/networking.istio.io';
import { istioDuration } from '../internal/duration';
import type { MeshService } from '../mesh/mesh-service';
import type { ServiceVersion } from '../mesh/service-version';
import { renderCorsPolicy } from '../traffic/cors-rules';
import { mayBeNonIdempotent, routeMethods } from '../traffic/idempotency';
import { HeaderMatch, HttpMatch, QueryParamMatch, StringMatchKind } from '../traffic/match';
import { RetryPolicy } from '../traffic/resilience';
import { HeaderOperations, UriRewrite } from '../traffic/route-actions';
import type { TrafficSplitOptions, WeightedDestination } from '../traffic/traffic-split';

/**
 * Istio's own retry conditions, written out: 503 stands for Istio's default retriable status
 * code (Istio then adds `retriable-status-codes` itself).
 */
export const ISTIO_DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,503';
/** The retry conditions under which the upstream never saw the request. */
export const SAFE_RETRY_ON = 'connect-failure,refused-stream';
/** Istio's default number of retries. */
export const ISTIO_DEFAULT_ATTEMPTS = 2;

/** How a route is rendered: its options plus what the host knows about it. */
export interface HttpRouteInput {
  readonly options: TrafficSplitOptions;
  /** True when every match is for POST or PATCH. */
  readonly nonIdempotentOnly: boolean;
  /** The Service port the route is limited to (a route of a multi-port service), or undefined. */
  readonly port?: number;
}

/** One `http` rule of a VirtualService. */
export function renderHttpRoute(service: MeshService, input: HttpRouteInput): VirtualServiceSpecHttp {
  const o = input.options;
  const forwards = (o.destinations?.length ?? 0) > 0;
  const fault = o.fault?._spec;
  return {
    name: o.name,
    match: renderRouteMatches(service, o.matches, input.port),
    // A multi-port service's rule is for one port, and names it in its destinations (istioctl IST0112).
    route: forwards ? renderDestinations(o.destinations!, multiPort(service) ? input.port : undefined) : undefined,
    redirect: o.redirect && {
      uri: o.redirect.uri,
      authority: o.redirect.authority,
      scheme: o.redirect.scheme,
      port: o.redirect.port,
      redirectCode: o.redirect.redirectCode,
    },
    directResponse: o.directResponse && {
      status: o.directResponse.status,
      body: o.directResponse.body === undefined ? undefined : { string: o.directResponse.body },
    },
    timeout: o.timeout && istioDuration(o.timeout),
    retries: forwards ? renderRetries(o.retry, needsSafeRetries(service, input), fault !== undefined) : undefined,
    fault: fault && {
      delay: fault.delay && { fixedDelay: istioDuration(fault.delay), percentage: { value: fault.delayPercent ?? 100 } },
      abort: (fault.httpStatus ?? fault.grpcStatus) !== undefined
        ? { httpStatus: fault.httpStatus, grpcStatus: fault.grpcStatus, percentage: { value: fault.abortPercent ?? 100 } }
        : undefined,
    },
    mirror: o.mirror && (o.mirror.version
      ? mirrorDestination(o.mirror.version, input.port)
      : { host: o.mirror.host!, port: o.mirror.port === undefined ? undefined : { number: o.mirror.port } }),
    mirrorPercentage: o.mirrorPercent === undefined ? undefined : { value: o.mirrorPercent },
    rewrite: renderRewrite(o.rewrite),
    corsPolicy: renderCorsPolicy(o.corsPolicy),
    headers: (o.requestHeaders || o.responseHeaders)
      ? { request: headerOps(o.requestHeaders), response: headerOps(o.responseHeaders) }
      : undefined,
  };
}

/**
 * True when a route's default retries may only use conditions under which the upstream never
 * saw the request: a request on it may be POST, PATCH or CONNECT (by its matches and the
 * methods the service admits), and the user did not allow retrying them.
 */
function needsSafeRetries(service: MeshService, input: HttpRouteInput): boolean {
  const o = input.options;
  return !o.allowNonIdempotentRetries && (input.nonIdempotentOnly || mayBeNonIdempotent(routeMethods(service, o.matches)));
}

/**
 * The route's retry policy, always explicit: Istio's defaults when the user gave none, safe
 * conditions only (`safeOnly`) for routes whose requests may be non-idempotent, and no retries
 * where a fault is injected (Istio ignores retries there, so the YAML says so).
 */
export function renderRetries(retry: RetryPolicy | undefined, safeOnly: boolean, hasFault: boolean): VirtualServiceSpecHttpRetries {
  const defaultRetryOn = safeOnly ? SAFE_RETRY_ON : ISTIO_DEFAULT_RETRY_ON;
  if (!retry) return hasFault ? { attempts: 0 } : { attempts: ISTIO_DEFAULT_ATTEMPTS, retryOn: defaultRetryOn };
  if (retry.attempts === 0) return { attempts: 0 };
  const conditions: string[] = retry.retryOn ? [...retry.retryOn] : defaultRetryOn.split(',');
  for (const code of retry.retryOnStatusCodes ?? []) {
    if (!conditions.includes(String(code))) conditions.push(String(code));
  }
  return {
    attempts: retry.attempts,
    perTryTimeout: retry.perTryTimeout && istioDuration(retry.perTryTimeout),
    retryOn: conditions.join(','),
    backoff: retry.backoff && istioDuration(retry.backoff),
    retryRemoteLocalities: retry.retryRemoteLocalities,
  };
}

/** Route destinations; weights only when there is more than one (as Istio's samples write them). */
export function renderDestinations(destinations: WeightedDestination[], port?: number): VirtualServiceSpecHttpRoute[] {
  return destinations.map((d) => ({
    destination: { ...versionDestination(d.version), port: port === undefined ? undefined : { number: port } },
    weight: destinations.length > 1 ? d.weight : undefined,
  }));
}

function multiPort(service: MeshService): boolean {
  return service.ports.length > 1;
}

/** A version mirrored to; a multi-port service's mirror names a port: the rule's when the service has it, else its primary one. */
function mirrorDestination(version: ServiceVersion, port: number | undefined) {
  const service = version.service;
  if (!multiPort(service)) return versionDestination(version);
  return { ...versionDestination(version), port: { number: service.ports.find((p) => p.port === port)?.port ?? service.port } };
}

function versionDestination(version: ServiceVersion) {
  return { host: version.service.host, subset: version.name };
}

/** A rewrite of the path or authority. */
export function renderRewrite(rewrite: UriRewrite | undefined): VirtualServiceSpecHttpRewrite | undefined {
  return rewrite && {
    uri: rewrite.uri,
    uriRegexRewrite: rewrite.uriRegex && { match: rewrite.uriRegex.match, rewrite: rewrite.uriRegex.rewrite },
    authority: rewrite.authority,
  };
}

/** A route's matches as written, each limited to `port` when the route is (a route on a port without matches: that port). */
export function renderRouteMatches(service: MeshService, matches: HttpMatch[] | undefined, port?: number): VirtualServiceSpecHttpMatch[] | undefined {
  const rendered = (matches ?? []).map((m) => renderMatch(service, m));
  if (port === undefined) return rendered.length ? rendered : undefined;
  return rendered.length ? rendered.map((m) => ({ ...m, port })) : [{ port }];
}

/** One request match; `service` is the routed service (a caller in another namespace gets `sourceNamespace`). */
export function renderMatch(service: MeshService, match: HttpMatch): VirtualServiceSpecHttpMatch {
  const source = match.sourceWorkload?.toWorkloadSelector();
  const present = (match.headers ?? []).filter((h) => !h.isAbsent);
  const absent = (match.headers ?? []).filter((h) => h.isAbsent);
  return {
    name: match.name,
    // A prefix of whole path elements is `<prefix>` or `<prefix>/...`: a regex in a VirtualService.
    uri: match.path && (match.path.wholeSegments && match.path.value !== '/'
      ? { regex: `${regexEscape(match.path.value)}(/.*)?` } : { [match.path.kind]: match.path.value }),
    method: match.method && { exact: match.method },
    headers: present.length ? Object.fromEntries(present.map((h) => [h.name, stringMatch(h)])) : undefined,
    withoutHeaders: absent.length ? Object.fromEntries(absent.map((h) => [h.name, {}])) : undefined,
    queryParams: match.queryParams?.length ? Object.fromEntries(match.queryParams.map((q) => [q.name, stringMatch(q)])) : undefined,
    ignoreUriCase: match.ignoreUriCase,
    sourceLabels: source?.matchLabels,
    sourceNamespace: source && source.namespaceName !== service.mesh.namespaceName ? source.namespaceName : undefined,
  };
}

function stringMatch(m: HeaderMatch | QueryParamMatch): { [kind: string]: string } {
  return m.kind === undefined ? {} : { [m.kind as StringMatchKind]: m.value };
}

function headerOps(ops: HeaderOperations | undefined) {
  return ops && { set: ops.set, add: ops.add, remove: ops.remove };
}
