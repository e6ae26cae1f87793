import { Duration } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { formatMessage, meshError, meshWarning } from '../errors';
import { CorsPolicy } from './cors';
import { checkCorsPolicy } from './cors-rules';
import { NON_IDEMPOTENT_METHODS, mayBeNonIdempotent, routeMethods } from './idempotency';
import { HttpMatch, StringMatchKind } from './match';
import { Acknowledgement, Fault, RetryOn, RetryPolicy } from './resilience';
import { DirectResponse, HeaderOperations, HttpRedirect, Mirror, UriRewrite } from './route-actions';
import { routeDeclaration } from './route-promises';
import { checkDuration, checkHeaderName, checkPath, checkPercent, checkRegex, checkRetryPolicy, checkWholeNumber } from './validation';
import { validateOncePerSynthesis } from '../internal/synthesis';
import { HttpMethod } from '../mesh/http-method';
import type { MeshService } from '../mesh/mesh-service';
import { declare } from '../mesh/promises';
import { isHttpProtocol, Protocol } from '../mesh/protocol';
import type { MeshServicePort } from '../mesh/service-port';
import type { ServiceVersion } from '../mesh/service-version';

/** A version of the service and the share of requests it receives. */
export interface WeightedDestination {
  /** The version (DestinationRule subset) requests go to. */
  readonly version: ServiceVersion;

  /**
   * Share of requests, a whole number; the weights of a route sum to 100.
   *
   * @default - 100 (only allowed for a single destination)
   */
  readonly weight?: number;
}

/** How requests to a service are routed: the options of {@link TrafficSplit} and `MeshService.routeTraffic`. */
export interface TrafficSplitOptions {
  /**
   * Where requests go, with weights summing to 100. Exactly one of `destinations`, `redirect`
   * and `directResponse` is required, except for a service with one version: a route that only
   * sets a timeout, retries, a fault or a mirror forwards to it.
   *
   * @default - the service's only version (an error when it has several)
   */
  readonly destinations?: WeightedDestination[];

  /**
   * Which requests this route applies to: any of the matches (OR); the fields of one match
   * must all hold (AND). A route without matches is the service's catch-all route and replaces
   * the default route; routes are ordered most specific first, the catch-all last.
   *
   * @default - every request (the catch-all route)
   */
  readonly matches?: HttpMatch[];

  /**
   * The Service port this route applies to, for a multi-port service: its protocol decides which options apply (HTTP
   * routes for HTTP and gRPC ports, weighted destinations only for TCP and TLS ports). A route with a port and no
   * matches takes every request on that port.
   *
   * @default - every port of the route's protocol family (the service's primary port's); with no matches, the
   * catch-all route, which also splits the connections of the service's TCP and TLS ports
   */
  readonly port?: number;

  /**
   * Timeout for the whole request, including retries.
   *
   * @default - no timeout (Istio's default)
   */
  readonly timeout?: Duration;

  /**
   * Retry policy.
   *
   * @default - Istio's defaults written out when every request the route may carry is
   * idempotent (its method matches, or the methods the service's ALLOW policies admit, leave
   * out POST, PATCH and CONNECT); otherwise 2 attempts on connect-failure and refused-stream
   * only, where the upstream never saw the request
   */
  readonly retry?: RetryPolicy;

  /**
   * Allow retries that may repeat a POST, PATCH or CONNECT the upstream already processed (e.g.
   * on 503 or reset): Istio's default conditions for a route that would otherwise retry only
   * connection failures, and explicit conditions such as `5xx` on a route whose requests the
   * library knows may be non-idempotent. Only for handlers that are idempotent in fact.
   *
   * @default false
   */
  readonly allowNonIdempotentRetries?: boolean;

  /**
   * Fault injection (delay and/or abort).
   *
   * @default - none
   */
  readonly fault?: Fault;

  /**
   * Copy requests to another destination.
   *
   * @default - none
   */
  readonly mirror?: Mirror;

  /**
   * Share of requests mirrored, 0–100.
   *
   * @default 100
   */
  readonly mirrorPercent?: number;

  /**
   * Rewrite the path or authority before forwarding.
   *
   * @default - none
   */
  readonly rewrite?: UriRewrite;

  /**
   * Answer with a redirect instead of forwarding.
   *
   * @default - none
   */
  readonly redirect?: HttpRedirect;

  /**
   * Answer directly instead of forwarding.
   *
   * @default - none
   */
  readonly directResponse?: DirectResponse;

  /**
   * Cross-Origin Resource Sharing: which browser origins may call the route. The proxy that routes
   * the request answers preflights from allowed origins itself.
   *
   * @default - no CORS policy: preflights go to the service like any request
   */
  readonly corsPolicy?: CorsPolicy;

  /**
   * Changes to request headers.
   *
   * @default - none
   */
  readonly requestHeaders?: HeaderOperations;

  /**
   * Changes to response headers.
   *
   * @default - none
   */
  readonly responseHeaders?: HeaderOperations;

  /**
   * Resilience findings accepted deliberately for this route; they are not reported.
   *
   * @default - every finding is reported
   */
  readonly acknowledge?: Acknowledgement[];

  /**
   * Route name, shown in Envoy's access logs and stats.
   *
   * @default - none
   */
  readonly name?: string;
}

/** Properties of a {@link TrafficSplit}. */
export interface TrafficSplitProps extends TrafficSplitOptions {
  /** The service whose traffic is routed. */
  readonly service: MeshService;
}

/** Retry conditions under which the upstream never saw the request: safe for any method. */
const SAFE_RETRY_ON: readonly RetryOn[] = [RetryOn.CONNECT_FAILURE, RetryOn.REFUSED_STREAM, RetryOn.RESET_BEFORE_REQUEST];

/** The conditions of `retry` that may repeat a request the upstream already processed. */
function unsafeRetryConditions(retry: RetryPolicy): string[] {
  return [...(retry.retryOn ?? []).filter((c) => !SAFE_RETRY_ON.includes(c)), ...(retry.retryOnStatusCodes ?? []).map(String)];
}

/**
 * A route for requests to one service: which requests (matches), where they go (weighted
 * versions), and how (timeout, retries, faults, mirroring, rewrites, header changes).
 *
 * It writes no object of its own: it becomes one `http` (or `tcp`/`tls`) rule of the service's
 * single VirtualService, so routes of one host are never split across VirtualServices.
 *
 * @example
 * new TrafficSplit(chart, 'canary', { service: reviews,
 *   destinations: [{ version: reviews.defaultVersion, weight: 80 }, { version: v2, weight: 20 }] });
 */
export class TrafficSplit extends Construct {
  /** The service whose traffic is routed. */
  public readonly service: MeshService;
  /** True for the catch-all route (no matches and no port). */
  public readonly isCatchAll: boolean;
  /** The port of a multi-port service the route is limited to (`port`), or undefined: all its ports. */
  public readonly servicePort?: MeshServicePort;
  /** The protocol of the requests the route applies to: its port's, or the service's primary port's. */
  public readonly protocol: Protocol;
  /** True when every match is for POST or PATCH (non-idempotent methods). */
  public readonly isNonIdempotentOnly: boolean;

  /**
   * The validated options, for rendering.
   * @internal
   */
  public readonly _options: TrafficSplitOptions;

  public constructor(scope: Construct, id: string, props: TrafficSplitProps) {
    super(scope, id);
    const { service, ...given } = props;
    this.service = service;
    // A route of a one-version service that only tunes forwarding (timeout, retries, fault, mirror) forwards to it.
    const forwardsImplicitly = !given.destinations?.length && !given.redirect && !given.directResponse && service.versions.length === 1;
    const options: TrafficSplitOptions = forwardsImplicitly ? { ...given, destinations: [{ version: service.defaultVersion }] } : given;
    this._options = options;
    this.servicePort = routePort(this, service, options.port);
    this.protocol = this.servicePort?.protocol ?? service.protocol;
    const matches = options.matches ?? [];
    this.isCatchAll = matches.length === 0 && this.servicePort === undefined;
    this.isNonIdempotentOnly = matches.length > 0
      && matches.every((m) => m.method === HttpMethod.POST || m.method === HttpMethod.PATCH);

    if (isHttpProtocol(this.protocol)) {
      checkHttpRoute(this, options, this.isNonIdempotentOnly);
    } else {
      checkOpaqueRoute(this, options);
    }
    checkDestinations(this, service, options.destinations ?? []);
    service._routing.addRoute(this);
    // What the route promises about requests, traced on the output at synth (CM228).
    declare(this, service.mesh, routeDeclaration(this, service._routing.routeCount));
    if (isHttpProtocol(this.protocol) && options.retry && !options.allowNonIdempotentRetries && !this.isNonIdempotentOnly) {
      // What the service admits is known once every policy is declared.
      this.node.addValidation(validateOncePerSynthesis(this, () => this.validateAdmittedRetries(options.retry!)));
    }
  }

  /**
   * CM215 for a route that may carry POST, PATCH or CONNECT by the methods its service admits
   * (`allowFrom(..., { methods })`, AuthorizationPolicy rules) and retries on conditions that
   * may repeat a processed request.
   */
  private validateAdmittedRetries(retry: RetryPolicy): string[] {
    const unsafe = unsafeRetryConditions(retry);
    const route = routeMethods(this.service, this._options.matches);
    if (unsafe.length === 0 || !route.declared || !mayBeNonIdempotent(route)) return [];
    const methods = route.methods.filter((m) => NON_IDEMPOTENT_METHODS.includes(m));
    const why = route.admittedBy.length
      ? `service "${this.service.name}" admits ${methods.length > 1 ? 'them' : 'it'}: ${route.admittedBy.join(', ')}`
      : 'by its method matches';
    return [formatMessage('CM215', `the route's requests may be ${methods.join(' or ')} (${why}) and it retries on ${unsafe.join(', ')}, which can repeat a request the upstream already processed (e.g. charge a card twice)`,
      'retry only on connect-failure, refused-stream or reset-before-request; give the non-idempotent methods a route of their own (matches: [{ method: HttpMethod.POST }]); or set allowNonIdempotentRetries: true if the handlers are idempotent')];
  }
}

function checkHttpRoute(scope: TrafficSplit, options: TrafficSplitOptions, nonIdempotentOnly: boolean): void {
  const actions = [options.destinations?.length ? 'destinations' : undefined,
    options.redirect ? 'redirect' : undefined, options.directResponse ? 'directResponse' : undefined].filter((a) => a);
  if (actions.length !== 1) {
    throw meshError(scope, 'CM214', actions.length ? `the route sets ${actions.join(' and ')}` : 'the route has no destinations, redirect or directResponse',
      actions.length ? 'give exactly one of destinations (forward), redirect or directResponse'
        : `give destinations (the service has ${scope.service.versions.length} versions: which receive the requests?), a redirect or a directResponse`);
  }
  if (!options.destinations?.length) {
    // Envoy's CORS filter is bypassed on a route that redirects or answers directly.
    const forwardingOnly = {
      rewrite: options.rewrite,
      fault: options.fault,
      mirror: options.mirror,
      retry: options.retry,
      timeout: options.timeout,
      corsPolicy: options.corsPolicy,
    };
    for (const [field, value] of Object.entries(forwardingOnly)) {
      if (value !== undefined) {
        throw meshError(scope, 'CM214', `${field} has no effect on a route that answers with a ${options.redirect ? 'redirect' : 'direct response'}`, `remove ${field}, or forward the request with destinations`);
      }
    }
  }
  (options.matches ?? []).forEach((match, i) => checkMatch(scope, `matches[${i}]`, match));
  checkDuration(scope, 'timeout', options.timeout);
  checkRetry(scope, options, nonIdempotentOnly);
  checkFault(scope, options);
  checkMirror(scope, options);
  checkRewrite(scope, options.rewrite);
  checkRedirect(scope, options.redirect);
  if (options.directResponse) {
    checkWholeNumber(scope, 'CM225', 'directResponse.status', options.directResponse.status, 200, 599);
  }
  checkHeaderOperations(scope, 'requestHeaders', options.requestHeaders, true);
  checkHeaderOperations(scope, 'responseHeaders', options.responseHeaders, false);
  checkCorsPolicy(scope, options.corsPolicy);
}

/** TCP and TLS services are routed by connection, not request: only weighted destinations apply. */
function checkOpaqueRoute(scope: TrafficSplit, options: TrafficSplitOptions): void {
  const service = scope.service;
  const httpOnly = Object.entries(options)
    .filter(([key, value]) => value !== undefined && !['destinations', 'name', 'acknowledge', 'port'].includes(key))
    .map(([key]) => key);
  if (httpOnly.length > 0) {
    const where = scope.servicePort ? `port ${scope.servicePort.port} of service "${service.name}"` : `service "${service.name}"`;
    const httpPorts = service.ports.filter((p) => isHttpProtocol(p.protocol)).map((p) => p.port);
    throw meshError(scope, 'CM216', `${where} speaks ${scope.protocol}, which Istio routes per connection, so ${httpOnly.join(', ')} cannot apply`,
      httpPorts.length ? `give the route one of the service's HTTP ports (port: ${httpPorts[0]}), or route these connections with weighted destinations only`
        : 'route it with weighted destinations only, or declare the service with an HTTP protocol (Protocol.HTTP, HTTP2, GRPC)');
  }
  if (!options.destinations?.length) {
    throw meshError(scope, 'CM214', 'the route has no destinations', 'list the versions that receive the connections');
  }
}

/** The port a route is limited to: undefined for a single-port service, where every route is on its one port. */
function routePort(scope: IConstruct, service: MeshService, port: number | undefined): MeshServicePort | undefined {
  if (port === undefined) return undefined;
  const found = service.ports.find((p) => p.port === port);
  if (!found) {
    const byContainer = service.ports.find((p) => p.targetPort === port);
    throw meshError(scope, 'CM239', `port ${port} is not a Service port of service "${service.name}" (its ports: ${service.ports.map((p) => `${p.port} ${p.protocol}`).join(', ')})`,
      byContainer ? `routes name the Service port clients call: use port ${byContainer.port} (container port ${port})` : 'use one of the listed ports, or add the port to the service\'s ports');
  }
  return service.ports.length > 1 ? found : undefined;
}

function checkMatch(scope: IConstruct, where: string, match: HttpMatch): void {
  const given = Object.values(match).filter((v) => v !== undefined && !(Array.isArray(v) && v.length === 0));
  if (given.length === 0 || (given.length === 1 && match.name !== undefined)) {
    throw meshError(scope, 'CM217', `${where} has no conditions, so it matches every request`, 'remove the match to make a catch-all route, or give it a path, headers, method, query parameters or source');
  }
  if (match.path) {
    if (match.path.kind === StringMatchKind.REGEX) checkRegex(scope, `${where}.path regex`, match.path.value);
    else checkPath(scope, `${where}.path`, match.path.value);
  }
  const headerNames = new Set<string>();
  for (const header of match.headers ?? []) {
    checkHeaderName(scope, `${where} header`, header.name, true);
    if (headerNames.has(header.name)) {
      throw meshError(scope, 'CM207', `${where} matches header "${header.name}" twice`, 'combine the conditions into one match (a regex), or use two matches (OR)');
    }
    headerNames.add(header.name);
    if (header.kind === StringMatchKind.REGEX) checkRegex(scope, `${where} header "${header.name}" regex`, header.value);
    if (header.kind === StringMatchKind.PREFIX && header.value === '') {
      throw meshError(scope, 'CM207', `${where} header "${header.name}" has an empty prefix, which Istio rejects`, `use HeaderMatch.present('${header.name}')`);
    }
  }
  for (const param of match.queryParams ?? []) {
    if (!/^[^\s&=]+$/.test(param.name)) {
      throw meshError(scope, 'CM207', `${where} query parameter name "${param.name}" is not valid`, 'use a non-empty name without spaces, "&" or "="');
    }
    if (param.kind === StringMatchKind.REGEX) checkRegex(scope, `${where} query parameter "${param.name}" regex`, param.value);
  }
}

function checkRetry(scope: TrafficSplit, options: TrafficSplitOptions, nonIdempotentOnly: boolean): void {
  const retry = options.retry;
  if (!retry) return;
  checkRetryPolicy(scope, retry, scope.protocol);
  if (nonIdempotentOnly && !options.allowNonIdempotentRetries) {
    const unsafe = unsafeRetryConditions(retry);
    if (unsafe.length > 0) {
      throw meshError(scope, 'CM215', `the route matches only POST/PATCH requests and retries on ${unsafe.join(', ')}, which can repeat a request the upstream already processed (e.g. charge a card twice)`,
        'retry only on connect-failure, refused-stream or reset-before-request, or set allowNonIdempotentRetries: true if the handler is idempotent');
    }
  }
  const perTry = retry.perTryTimeout?.toMilliseconds({ integral: false });
  const timeout = options.timeout?.toMilliseconds({ integral: false });
  if (perTry !== undefined && timeout !== undefined && retry.attempts > 0 && (retry.attempts + 1) * perTry > timeout
    && !options.acknowledge?.includes(Acknowledgement.RETRIES_EXCEED_TIMEOUT)) {
    meshWarning(scope, 'CM250', `${retry.attempts} retries after the first try, each up to ${retry.perTryTimeout!.toHumanString()}, need up to ${(retry.attempts + 1) * perTry}ms, but the route times out after ${options.timeout!.toHumanString()}, so later attempts are cut short`,
      'lower attempts or perTryTimeout, raise the timeout, or acknowledge: [Acknowledgement.RETRIES_EXCEED_TIMEOUT]');
  }
}

function checkFault(scope: TrafficSplit, options: TrafficSplitOptions): void {
  if (!options.fault) return;
  const fault = options.fault._spec;
  checkDuration(scope, 'fault delay', fault.delay);
  checkPercent(scope, 'fault delay percent', fault.delayPercent);
  checkPercent(scope, 'fault abort percent', fault.abortPercent);
  if (fault.httpStatus !== undefined) checkWholeNumber(scope, 'CM213', 'fault abort status', fault.httpStatus, 200, 599);
  if (fault.grpcStatus !== undefined && !GRPC_STATUSES.includes(fault.grpcStatus)) {
    throw meshError(scope, 'CM224', `fault gRPC status "${fault.grpcStatus}" is not a gRPC status name`, `use one of ${GRPC_STATUSES.join(', ')}`);
  }
  const overridden = [options.retry && options.retry.attempts > 0 ? 'retries' : undefined, options.timeout ? 'the timeout' : undefined].filter((x) => x);
  if (overridden.length > 0 && !options.acknowledge?.includes(Acknowledgement.FAULT_DISABLES_RETRIES)) {
    meshWarning(scope, 'CM251', `the route injects faults, and Istio then does not apply its ${overridden.join(' or ')}`,
      'test retries and timeouts with faults injected on the callee (a route of the service it calls), or acknowledge: [Acknowledgement.FAULT_DISABLES_RETRIES]');
  }
}

const GRPC_STATUSES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL',
  'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];

function checkMirror(scope: TrafficSplit, options: TrafficSplitOptions): void {
  checkPercent(scope, 'mirrorPercent', options.mirrorPercent);
  if (options.mirrorPercent !== undefined && !options.mirror) {
    throw meshError(scope, 'CM226', 'mirrorPercent is set without a mirror', 'add mirror: Mirror.toVersion(...) or remove mirrorPercent');
  }
  const mirror = options.mirror;
  if (mirror?.host !== undefined && (mirror.host === '' || mirror.host === '*')) {
    throw meshError(scope, 'CM226', `mirror host "${mirror.host}" is not a host`, 'mirror to a version, or to a host name such as "shadow.shop.svc.cluster.local"');
  }
  if (mirror?.port !== undefined) checkWholeNumber(scope, 'CM226', 'mirror port', mirror.port, 1, 65535);
}

function checkRewrite(scope: IConstruct, rewrite: UriRewrite | undefined): void {
  if (!rewrite) return;
  if (rewrite.uri !== undefined && rewrite.uriRegex !== undefined) {
    throw meshError(scope, 'CM219', 'rewrite sets both uri and uriRegex', 'use one of them');
  }
  if (rewrite.uri === undefined && rewrite.uriRegex === undefined && rewrite.authority === undefined) {
    throw meshError(scope, 'CM219', 'rewrite changes nothing', 'set uri, uriRegex or authority');
  }
  if (rewrite.uriRegex) checkRegex(scope, 'rewrite.uriRegex.match', rewrite.uriRegex.match);
}

function checkRedirect(scope: IConstruct, redirect: HttpRedirect | undefined): void {
  if (!redirect) return;
  if ([redirect.uri, redirect.authority, redirect.scheme, redirect.port].every((v) => v === undefined)) {
    throw meshError(scope, 'CM218', 'the redirect changes nothing', 'set uri, authority, scheme or port');
  }
  if (redirect.scheme !== undefined && redirect.scheme !== 'http' && redirect.scheme !== 'https') {
    throw meshError(scope, 'CM218', `redirect scheme "${redirect.scheme}" is not http or https`, 'use "http" or "https"');
  }
  checkWholeNumber(scope, 'CM218', 'redirect port', redirect.port, 1, 65535);
  checkWholeNumber(scope, 'CM218', 'redirectCode', redirect.redirectCode, 300, 399);
}

function checkHeaderOperations(scope: IConstruct, what: string, ops: HeaderOperations | undefined, request: boolean): void {
  if (!ops) return;
  const names = [...Object.keys(ops.set ?? {}), ...Object.keys(ops.add ?? {})];
  for (const name of names) {
    const authority = request && (name === ':authority' || name === 'host');
    if (name.startsWith(':') && !authority) {
      throw meshError(scope, 'CM220', `${what} sets pseudo-header "${name}"`, request ? 'only :authority (or host) may be set on requests' : 'response pseudo-headers cannot be set');
    }
    if (!authority) checkHeaderName(scope, `${what} name`, name);
  }
  for (const name of ops.remove ?? []) {
    if (name === 'host' || name.startsWith(':')) {
      throw meshError(scope, 'CM220', `${what} removes "${name}"`, 'host and pseudo-headers cannot be removed');
    }
    checkHeaderName(scope, `${what} name`, name);
  }
}

function checkDestinations(scope: TrafficSplit, service: MeshService, destinations: WeightedDestination[]): void {
  if (destinations.length === 0) return; // a redirect or direct response (checked with the route's actions)
  const seen = new Set<ServiceVersion>();
  for (const { version } of destinations) {
    if (version.service !== service) {
      throw meshError(scope, 'CM204', `destination version "${version.name}" belongs to service "${version.service.name}", not "${service.name}"`,
        `route ${version.service.name}'s traffic with ${version.service.name}.routeTraffic(), or pick a version of ${service.name}`);
    }
    if (seen.has(version)) {
      throw meshError(scope, 'CM205', `version "${version.name}" is listed twice`, 'list each version once and add up its weights');
    }
    seen.add(version);
  }
  if (destinations.length === 1) {
    const weight = destinations[0].weight;
    if (weight !== undefined && weight !== 100) {
      throw meshError(scope, 'CM201', `the only destination has weight ${weight}`, 'omit the weight of a single destination (it receives every request), or add the other versions');
    }
    return;
  }
  for (const { version, weight } of destinations) {
    if (weight === undefined) {
      throw meshError(scope, 'CM222', `version "${version.name}" has no weight but the route has ${destinations.length} destinations`, 'give every destination a weight; the weights sum to 100');
    }
    checkWholeNumber(scope, 'CM202', `weight of version "${version.name}"`, weight, 0, 100);
  }
  const total = destinations.reduce((sum, d) => sum + d.weight!, 0);
  if (total === 0) {
    throw meshError(scope, 'CM203', 'every destination has weight 0, so no request could be routed', 'give at least one version a positive weight; the weights sum to 100');
  }
  if (total !== 100) {
    throw meshError(scope, 'CM201', `the weights sum to ${total} (${destinations.map((d) => `${d.version.name}=${d.weight}`).join(', ')})`, 'make them sum to 100, e.g. 80 and 20');
  }
}
