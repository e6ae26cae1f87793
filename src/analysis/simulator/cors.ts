// What Envoy's CORS filter does with a request on the route Istio's `corsPolicy` configures. Sources: Envoy's
// "CORS" filter page (configuration/http/http_filters/cors_filter: "Any legal OPTIONS requests will be responded
// directly by the filter and will not be passed to the next filter in the filter chain ... this filter will be
// bypassed if a direct response or route redirect is configured for the route"), its CorsPolicy
// (`forward_not_matching_preflights`, default true), the filter's decodeHeaders (a preflight is OPTIONS with a
// non-empty Origin and Access-Control-Request-Method; an origin is allowed when a matcher matches it or matches
// "*"; the answer is 200 with the Access-Control-Allow-* headers), and Istio's VirtualService CorsPolicy, which
// Istio translates into it (allowOrigins → allow_origin_string_match, lists joined with ",", maxAge in seconds,
// unmatchedPreflights IGNORE → forward_not_matching_preflights: false). Istio puts the CORS filter just before
// the fault and router filters, after authentication and authorization.
import { HttpRequest } from './http-request';
import { stringMatchApplies, stringMatchOf } from './string-match';
import type { CorsInEffect } from './types';

/** The corsPolicy of the rule in effect (its public form), and whether the filter answers the request itself. */
export interface CorsEffect extends CorsInEffect {
  /** The filter answers the preflight itself (status 200) instead of forwarding it. */
  readonly answered: boolean;
}

const asList = (v: unknown): any[] => (Array.isArray(v) ? v : []);

/** What the CORS filter does with `req` on a rule with `corsPolicy`; undefined when the rule has none. */
export function corsEffect(rule: any, req: HttpRequest): CorsEffect | undefined {
  const cors = rule?.corsPolicy;
  if (!cors || typeof cors !== 'object') return undefined;
  // allowOrigin (deprecated) holds exact origins.
  const matchers = [...asList(cors.allowOrigins), ...asList(cors.allowOrigin).map((o) => ({ exact: String(o) }))];
  const allowOrigins = matchers.map((m) => {
    const s = stringMatchOf(m);
    return s ? `${s.kind}:${s.value}` : '(any)';
  });
  const origin = req.headers.origin || undefined;
  const originAllowed = origin !== undefined && matchers.some((m) => stringMatchApplies(m, '*') || stringMatchApplies(m, origin));
  const preflight = origin !== undefined && req.method === 'OPTIONS' && !!req.headers['access-control-request-method'];
  const unmatchedPreflights = cors.unmatchedPreflights === 'IGNORE' ? 'IGNORE' : 'FORWARD';
  const joined = (v: unknown) => (asList(v).length ? asList(v).map(String).join(',') : undefined);
  const maxAge = typeof cors.maxAge === 'string' ? secondsOf(cors.maxAge) : undefined;
  const allowCredentials = cors.allowCredentials === true;
  const effect = {
    allowOrigins,
    allowMethods: joined(cors.allowMethods),
    allowHeaders: joined(cors.allowHeaders),
    exposeHeaders: joined(cors.exposeHeaders),
    maxAge,
    allowCredentials,
    unmatchedPreflights,
    origin,
    originAllowed,
    preflight,
  };
  const answered = preflight && (originAllowed || unmatchedPreflights === 'IGNORE');
  const responseHeaders: Record<string, string> = {};
  if (answered) {
    if (originAllowed) responseHeaders['access-control-allow-origin'] = origin!;
    if (allowCredentials) responseHeaders['access-control-allow-credentials'] = 'true';
    if (effect.allowMethods) responseHeaders['access-control-allow-methods'] = effect.allowMethods;
    if (effect.allowHeaders) responseHeaders['access-control-allow-headers'] = effect.allowHeaders;
    if (maxAge) responseHeaders['access-control-max-age'] = maxAge;
  }
  return { ...effect, answered, preflightResponseHeaders: responseHeaders };
}

/** The whole seconds of an Istio duration string (`86400s`, `24h`, `1.5m`), as Envoy writes max_age. */
function secondsOf(duration: string): string | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(duration.trim());
  if (!m) return undefined;
  const factor = { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return String(Math.floor(Number(m[1]) * factor));
}

/** The effect in words, for the routing step. */
export function corsText(c: CorsEffect): string {
  const policy = `corsPolicy (origins ${c.allowOrigins.join(', ')}${c.allowCredentials ? ', with credentials' : ''})`;
  if (c.origin === undefined) return `${policy}: no Origin header, not a CORS request`;
  if (!c.preflight) return `${policy}: origin ${c.origin} is ${c.originAllowed ? 'allowed (the response gets Access-Control-Allow-Origin)' : 'not allowed (no CORS headers)'}`;
  if (c.answered) {
    return c.originAllowed
      ? `${policy}: preflight from allowed origin ${c.origin}, answered 200 by Envoy's CORS filter`
      : `${policy}: preflight from origin ${c.origin}, which is not allowed; unmatchedPreflights IGNORE answers it 200 without CORS headers`;
  }
  return `${policy}: preflight from origin ${c.origin}, which is not allowed; unmatchedPreflights FORWARD sends it on to the service`;
}
