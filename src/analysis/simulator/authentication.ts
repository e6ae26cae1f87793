// RequestAuthentication semantics (security/v1 request_authentication.proto): where a proxy looks for a JWT,
// which rule validates it, what a valid token gives authorization, and what it forwards.
import { JwtToken } from './types';
import { Res } from '../manifests';

/** Where a token travels: `header:<lower-case name>`, `query:<name>` or `cookie:<name>`. */
export function tokenLocation(token: JwtToken): string {
  const loc = token.location ?? 'header:authorization';
  const i = loc.indexOf(':');
  if (i < 0) return `header:${loc.toLowerCase()}`;
  const kind = loc.slice(0, i).toLowerCase();
  const name = loc.slice(i + 1);
  return kind === 'header' ? `header:${name.toLowerCase()}` : `${kind}:${name}`;
}

/** The locations a jwtRule reads: its fromHeaders/fromParams/fromCookies, or the default `Authorization: Bearer` and `access_token`. */
function ruleLocations(rule: any): string[] {
  const headers = (Array.isArray(rule?.fromHeaders) ? rule.fromHeaders : []).map((h: any) => `header:${String(h?.name ?? '').toLowerCase()}`);
  const params = (Array.isArray(rule?.fromParams) ? rule.fromParams : []).map((p: any) => `query:${p}`);
  const cookies = (Array.isArray(rule?.fromCookies) ? rule.fromCookies : []).map((c: any) => `cookie:${c}`);
  const all = [...headers, ...params, ...cookies];
  // "If no explicit location is specified the following default locations are tried in order:
  //  1) The Authorization header using the Bearer schema ... 2) access_token query parameter".
  return all.length > 0 ? all : ['header:authorization', 'query:access_token'];
}

/** What authentication gives the rest of the proxy's filters. */
export interface AuthenticationResult {
  /** The token is rejected: 401. */
  readonly rejected: boolean;
  readonly policy?: Res;
  readonly summary: string;
  /** `<iss>/<sub>` of the validated token. */
  readonly requestPrincipal?: string;
  readonly claims?: Record<string, unknown>;
  readonly audiences?: string[];
  readonly presenter?: string;
  /** Headers the proxy adds for the upstream (`outputClaimToHeaders`). */
  readonly addHeaders?: Record<string, string>;
  /** Whether the proxy removes the token before forwarding (`forwardOriginalToken: false`, the default). */
  readonly stripsToken: boolean;
}

/** Claims Istio always splits on spaces; a rule's `spaceDelimitedClaims` add to them. */
const SPACE_DELIMITED = ['scope', 'permission'];

/**
 * Authenticates `token` (undefined: the request has none) against the RequestAuthentications of a proxy. "A request
 * that does not contain any authentication credentials will be accepted but will not have any authenticated
 * identity"; a token found where a rule looks for it must be valid for one of the rules ("It will reject a request if
 * the request contains invalid authentication information"), else 401.
 */
export function authenticate(token: JwtToken | undefined, policies: Res[]): AuthenticationResult {
  if (policies.length === 0) {
    return { rejected: false, stripsToken: false, summary: token ? 'no RequestAuthentication applies here, so the JWT is not validated and gives no request principal' : 'no JWT and no RequestAuthentication' };
  }
  const names = policies.map((p) => `${p.kind} ${p.ns}/${p.name}`).join(', ');
  if (!token) return { rejected: false, stripsToken: false, summary: `no JWT: ${names} lets the request through without a request principal` };
  const where = tokenLocation(token);
  const rules = policies.flatMap((p) => (Array.isArray(p.spec.jwtRules) ? p.spec.jwtRules : [])
    .filter((r: any) => r && typeof r === 'object').map((rule: any) => ({ policy: p, rule })));
  const reading = rules.filter(({ rule }) => ruleLocations(rule).includes(where));
  if (reading.length === 0) {
    return { rejected: false, stripsToken: false, summary: `the JWT is sent in ${where}, where no rule of ${names} looks, so it is ignored: no request principal` };
  }
  const hit = reading.find(({ rule }) => rule.issuer === token.issuer);
  if (!hit) {
    return { rejected: true, stripsToken: false, policy: reading[0].policy, summary: `the JWT's issuer ${token.issuer} is not configured by ${names} ("Jwt issuer is not configured"): 401` };
  }
  const { policy, rule } = hit;
  const label = `${policy.kind} ${policy.ns}/${policy.name}`;
  if (token.valid === false) return { rejected: true, stripsToken: false, policy, summary: `the JWT fails verification against the keys of ${token.issuer} (${label}): 401` };
  const audiences: string[] = Array.isArray(rule.audiences) ? rule.audiences.map(String) : [];
  if (audiences.length > 0 && !(token.audiences ?? []).some((a) => audiences.includes(a))) {
    return { rejected: true, stripsToken: false, policy, summary: `the JWT's audiences (${(token.audiences ?? []).join(', ') || 'none'}) are not among ${audiences.join(', ')} required by ${label}: 401` };
  }
  const split = new Set([...SPACE_DELIMITED, ...(Array.isArray(rule.spaceDelimitedClaims) ? rule.spaceDelimitedClaims.map(String) : [])]);
  const claims: Record<string, unknown> = { ...token.claims, iss: token.issuer, sub: token.subject };
  if (token.audiences) claims.aud = token.audiences;
  if (token.presenter) claims.azp = token.presenter;
  for (const name of split) {
    const v = claims[name];
    if (typeof v === 'string') claims[name] = v.split(' ').filter((s) => s.length > 0);
  }
  const addHeaders: Record<string, string> = {};
  for (const o of Array.isArray(rule.outputClaimToHeaders) ? rule.outputClaimToHeaders : []) {
    const v = o?.claim !== undefined ? claims[o.claim] : undefined;
    if (o?.header && v !== undefined) addHeaders[String(o.header).toLowerCase()] = Array.isArray(v) ? v.join(',') : String(v);
  }
  const requestPrincipal = `${token.issuer}/${token.subject}`;
  return {
    rejected: false,
    policy,
    summary: `JWT validated by ${label}: request principal ${requestPrincipal}${rule.forwardOriginalToken === true ? '' : '; the token is removed before forwarding (forwardOriginalToken is not set)'}`,
    requestPrincipal,
    claims,
    audiences: token.audiences,
    presenter: token.presenter,
    addHeaders,
    stripsToken: rule.forwardOriginalToken !== true,
  };
}
