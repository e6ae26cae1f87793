// Internal: the rules of a CorsPolicy (checks, rendering, an origin to trace a preflight with).
import { IConstruct } from 'constructs';
import { CorsOrigin, CorsPolicy } from './cors';
import { StringMatchKind } from './match';
import { checkDuration, checkHeaderName, checkRegex } from './validation';
import { stringMatchApplies } from '../analysis/simulator/string-match';
import { TraceOutcome, TraceRequest } from '../analysis/simulator/types';
import { meshError } from '../errors';
import { VirtualServiceSpecHttpCorsPolicy, VirtualServiceSpecHttpCorsPolicyUnmatchedPreflights } from '../imports/networking.istio.io';
import { HttpMethod } from '../mesh/http-method';
import { brokeAt, RequestPromise } from '../mesh/promises';

const METHODS = Object.values(HttpMethod) as string[];

/**
 * Throws CM229 unless Istio accepts the policy and it means what it says: at least one origin, origins that are
 * origins (no path, no trailing slash: the browser's `Origin` has neither, so they would never match), valid
 * regexes and header names, whole seconds of max age, and no credentials for an origin matching every site.
 */
export function checkCorsPolicy(scope: IConstruct, cors: CorsPolicy | undefined): void {
  if (!cors) return;
  const fail = (problem: string, fix: string): never => {
    throw meshError(scope, 'CM229', `corsPolicy ${problem}`, fix);
  };
  if (cors.allowOrigins.length === 0) {
    fail('has no allowOrigins, so no browser origin may call the route', 'list the origins, e.g. allowOrigins: [CorsOrigin.exact("https://app.example.com")], or remove corsPolicy');
  }
  for (const origin of cors.allowOrigins) {
    if (origin.kind === StringMatchKind.REGEX) {
      checkRegex(scope, 'corsPolicy origin regex', origin.value);
      continue;
    }
    if (origin.value === '*') {
      if (origin.kind === StringMatchKind.PREFIX) fail('origin prefix "*" matches only origins starting with a star', 'use CorsOrigin.any() for every origin');
      continue;
    }
    if (origin.value === '') {
      fail(`origin ${origin.kind} "" ${origin.kind === StringMatchKind.PREFIX ? 'matches every origin' : 'matches no origin'}`, 'use CorsOrigin.any() to allow every origin deliberately, or give an origin such as "https://app.example.com"');
    }
    const rest = origin.value.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
    if (origin.kind === StringMatchKind.EXACT && (rest === origin.value || rest.includes('/') || rest === '')) {
      fail(`origin "${origin.value}" is not an origin: a browser sends scheme://host[:port], without a path or a trailing slash, so it never matches`,
        `write it as "${rest === origin.value ? `https://${origin.value.replace(/\/.*$/, '')}` : origin.value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/]*).*$/i, '$1')}"`);
    }
    if (origin.kind === StringMatchKind.PREFIX && rest.includes('/')) {
      fail(`origin prefix "${origin.value}" has a path, and a browser's Origin never has one, so it never matches`, 'give a prefix of scheme://host');
    }
  }
  if (cors.allowCredentials) {
    const any = cors.allowOrigins.find((o) => originMatchesAnySite(o));
    if (any) {
      fail(`allows credentials for ${any.value === '*' ? 'any origin ("*")' : `origin ${any.kind} "${any.value}", which matches every site`}: Envoy echoes the caller's origin, so any web page could send the user's cookies and read the answer`,
        'list the origins that may send credentials (CorsOrigin.exact("https://app.example.com")), or drop allowCredentials');
    }
  }
  for (const method of cors.allowMethods ?? []) {
    if (!METHODS.includes(method)) fail(`allowMethods has "${method}", which is not an HTTP method`, `use HttpMethod values (${METHODS.join(', ')})`);
  }
  for (const [what, names] of [['allowHeaders', cors.allowHeaders], ['exposeHeaders', cors.exposeHeaders]] as const) {
    for (const name of names ?? []) if (name !== '*') checkHeaderName(scope, `corsPolicy ${what} entry`, name);
  }
  if (cors.maxAge) {
    checkDuration(scope, 'corsPolicy maxAge', cors.maxAge);
    const ms = cors.maxAge.toMilliseconds({ integral: false });
    if (ms % 1000 !== 0) fail(`maxAge ${cors.maxAge.toHumanString()} is not a whole number of seconds (Access-Control-Max-Age is in seconds, and Istio refuses fractions)`, `use Duration.seconds(${Math.max(1, Math.round(ms / 1000))})`);
  }
}

/**
 * True when the origin matcher matches every origin: Envoy's CORS filter allows every origin when a matcher matches
 * `*`, and a matcher that admits an unrelated site admits any. Decided by the simulator's StringMatch semantics.
 */
function originMatchesAnySite(o: CorsOrigin): boolean {
  if (o.kind === StringMatchKind.PREFIX && o.value.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '') === '') return true;
  const matcher = { [o.kind]: o.value };
  return stringMatchApplies(matcher, '*') || stringMatchApplies(matcher, 'https://evil.example');
}

/** The VirtualService `corsPolicy` of a route. */
export function renderCorsPolicy(cors: CorsPolicy | undefined): VirtualServiceSpecHttpCorsPolicy | undefined {
  if (!cors) return undefined;
  return {
    allowOrigins: cors.allowOrigins.map((o) => ({ [o.kind]: o.value })),
    allowMethods: cors.allowMethods?.length ? [...cors.allowMethods] : undefined,
    allowHeaders: cors.allowHeaders?.length ? [...cors.allowHeaders] : undefined,
    exposeHeaders: cors.exposeHeaders?.length ? [...cors.exposeHeaders] : undefined,
    maxAge: cors.maxAge && `${cors.maxAge.toSeconds()}s`,
    allowCredentials: cors.allowCredentials,
    unmatchedPreflights: cors.unmatchedPreflights as VirtualServiceSpecHttpCorsPolicyUnmatchedPreflights | undefined,
  };
}

/**
 * An origin of the policy a browser could send, for tracing a preflight: an exact origin, or a prefix that is itself
 * an origin; undefined when the policy has only regexes (no single origin stands for them).
 */
export function exampleOrigin(cors: CorsPolicy): string | undefined {
  const exact = cors.allowOrigins.find((o) => o.kind === StringMatchKind.EXACT);
  if (exact) return exact.value === '*' ? 'https://any.example.com' : exact.value;
  const prefix = cors.allowOrigins.find((o) => o.kind === StringMatchKind.PREFIX);
  if (!prefix) return undefined;
  return /:\/\/$/.test(prefix.value) || /\.$/.test(prefix.value) ? `${prefix.value}example.com` : prefix.value;
}

/**
 * The preflight a route's CORS policy promises to answer: `request` (a request the route takes) sent as a browser's
 * preflight from an allowed origin must be answered 200 by the routing proxy's CORS filter, with that origin in
 * Access-Control-Allow-Origin. Undefined when no single origin stands for the policy (regexes only).
 */
export function preflightPromise(cors: CorsPolicy | undefined, request: TraceRequest): RequestPromise | undefined {
  const origin = cors && exampleOrigin(cors);
  if (!cors || !origin) return undefined;
  const method = cors.allowMethods?.find((m) => m !== HttpMethod.OPTIONS) ?? request.method ?? HttpMethod.GET;
  return {
    request: { ...request, method: 'OPTIONS', headers: { ...request.headers, 'origin': origin, 'access-control-request-method': method } },
    promise: 'is answered 200 by the routing proxy\'s CORS filter (a preflight from an allowed origin)',
    expect: (t) => {
      if (t.outcome !== TraceOutcome.PREFLIGHT_ANSWERED) {
        const policy = t.route?.corsPolicy;
        if (policy) return brokeAt(t);
        const where = t.route?.object ? `rule ${t.route.field} of VirtualService ${t.route.object.namespaceName}/${t.route.object.name}` : 'the route';
        return `traced, ${where} takes the preflight (OPTIONS) and has no corsPolicy${t.route?.field ? '' : ` (${brokeAt(t)})`}; a browser's preflight is an OPTIONS request, so the matches of the route with the corsPolicy must admit OPTIONS`;
      }
      const allowed = t.route?.corsPolicy?.preflightResponseHeaders['access-control-allow-origin'];
      return allowed === origin ? undefined : `traced, the preflight is answered without Access-Control-Allow-Origin ${origin}`;
    },
  };
}
