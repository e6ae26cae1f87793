import { Duration } from 'cdk8s';
import { StringMatchKind } from './match';
import { HttpMethod } from '../mesh/http-method';

/**
 * An origin a browser may call the route from (`allowOrigins` of Istio's CorsPolicy, a StringMatch
 * on the `Origin` header, e.g. `https://app.example.com`: scheme, host and port, no path).
 *
 * @example CorsOrigin.exact('https://app.example.com')
 */
export class CorsOrigin {
  /** The origin equals `origin`. */
  public static exact(origin: string): CorsOrigin {
    return new CorsOrigin(StringMatchKind.EXACT, origin);
  }

  /** The origin starts with `prefix`, e.g. `https://` (any HTTPS site: say so deliberately). */
  public static prefix(prefix: string): CorsOrigin {
    return new CorsOrigin(StringMatchKind.PREFIX, prefix);
  }

  /** The whole origin matches the RE2 regular expression `regex`, e.g. `https://[a-z]+\.example\.com`. */
  public static regex(regex: string): CorsOrigin {
    return new CorsOrigin(StringMatchKind.REGEX, regex);
  }

  /** Any origin (`exact: "*"`): Envoy's CORS filter then answers every site. Not with credentials. */
  public static any(): CorsOrigin {
    return new CorsOrigin(StringMatchKind.EXACT, '*');
  }

  private constructor(
    /** How the origin is compared. */
    public readonly kind: StringMatchKind,
    /** The origin, prefix or expression. */
    public readonly value: string,
  ) {}
}

/** What Envoy does with a preflight whose origin no `allowOrigins` entry matches (Istio's `unmatchedPreflights`). */
export enum UnmatchedPreflights {
  /** Forward it to the service, which may answer it itself (Envoy's default). */
  FORWARD = 'FORWARD',
  /** Answer it with 200 and no CORS headers, so the browser refuses the cross-origin call; the service never sees it. */
  IGNORE = 'IGNORE',
}

/**
 * Cross-Origin Resource Sharing for a route: which browser origins may call it, with which
 * methods and headers. Envoy's CORS filter, on the proxy that routes the request (the caller's
 * sidecar or the ingress gateway), answers a preflight (`OPTIONS` with `Origin` and
 * `Access-Control-Request-Method`) from an allowed origin itself, and adds the CORS headers to the
 * responses of the actual requests.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#CorsPolicy
 * @see https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/cors_filter
 */
export interface CorsPolicy {
  /** Origins that may call the route (any of them). */
  readonly allowOrigins: CorsOrigin[];

  /**
   * Methods the actual request may use (`Access-Control-Allow-Methods`).
   *
   * @default - none listed: browsers then allow only GET, HEAD and POST
   */
  readonly allowMethods?: HttpMethod[];

  /**
   * Request headers the actual request may carry (`Access-Control-Allow-Headers`), lower-case, or `*`.
   *
   * @default - none listed: only the CORS-safelisted headers
   */
  readonly allowHeaders?: string[];

  /**
   * Response headers the browser lets the page read (`Access-Control-Expose-Headers`), lower-case, or `*`.
   *
   * @default - only the CORS-safelisted response headers
   */
  readonly exposeHeaders?: string[];

  /**
   * How long the browser may cache the preflight's answer (`Access-Control-Max-Age`), whole seconds.
   *
   * @default - not sent: the browser's own default (5 seconds in Chromium)
   */
  readonly maxAge?: Duration;

  /**
   * Whether the actual request may carry credentials (cookies, `Authorization`):
   * `Access-Control-Allow-Credentials: true`. Refused with an origin that allows every site.
   *
   * @default false
   */
  readonly allowCredentials?: boolean;

  /**
   * What happens to a preflight from an origin that is not allowed.
   *
   * @default UnmatchedPreflights.FORWARD (Envoy's default)
   */
  readonly unmatchedPreflights?: UnmatchedPreflights;
}
