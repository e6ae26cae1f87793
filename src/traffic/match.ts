import { HttpMethod } from '../mesh/http-method';
import { IWorkloadTarget } from '../mesh/workload-target';

/** How a string is compared: Istio's `StringMatch`. */
export enum StringMatchKind {
  /** The whole value is equal. */
  EXACT = 'exact',
  /** The value starts with the given text. */
  PREFIX = 'prefix',
  /** The value matches an RE2 regular expression (the whole value). */
  REGEX = 'regex',
}

/**
 * Matches the request path (`uri` in Istio).
 *
 * @example PathMatch.prefix('/api/v1')
 */
export class PathMatch {
  /** The path equals `path`. */
  public static exact(path: string): PathMatch {
    return new PathMatch(StringMatchKind.EXACT, path);
  }

  /** The path starts with `prefix` (a plain string prefix: `/api` also matches `/apis`). */
  public static prefix(prefix: string): PathMatch {
    return new PathMatch(StringMatchKind.PREFIX, prefix);
  }

  /**
   * The path is `prefix` or continues it after a `/`: whole path elements, as the Gateway API's `PathPrefix` matches
   * (`/api` matches `/api` and `/api/v1`, not `/apis`). A VirtualService writes it as the regex `/api(/.*)?`; an
   * HTTPRoute as `PathPrefix`. A trailing `/` is dropped (`/api/` is `/api`).
   */
  public static pathPrefix(prefix: string): PathMatch {
    return new PathMatch(StringMatchKind.PREFIX, prefix.replace(/\/+$/, '') || '/', true);
  }

  /** The whole path matches the RE2 regular expression `regex`. */
  public static regex(regex: string): PathMatch {
    return new PathMatch(StringMatchKind.REGEX, regex);
  }

  private constructor(
    /** How the path is compared. */
    public readonly kind: StringMatchKind,
    /** The path, prefix or expression. */
    public readonly value: string,
    /** True for a prefix of whole path elements ({@link PathMatch.pathPrefix}). */
    public readonly wholeSegments: boolean = false,
  ) {}
}

/**
 * Matches a request header. Header names are lower-case RFC 7230 tokens (Envoy lower-cases
 * every header name, so an upper-case name would never match).
 *
 * @example HeaderMatch.exact('end-user', 'jason')
 */
export class HeaderMatch {
  /** The header equals `value`. */
  public static exact(name: string, value: string): HeaderMatch {
    return new HeaderMatch(name, StringMatchKind.EXACT, value, false);
  }

  /** The header starts with `prefix` (which must not be empty: use `present`). */
  public static prefix(name: string, prefix: string): HeaderMatch {
    return new HeaderMatch(name, StringMatchKind.PREFIX, prefix, false);
  }

  /** The header matches the RE2 regular expression `regex`. */
  public static regex(name: string, regex: string): HeaderMatch {
    return new HeaderMatch(name, StringMatchKind.REGEX, regex, false);
  }

  /** The header is present, whatever its value. */
  public static present(name: string): HeaderMatch {
    return new HeaderMatch(name, undefined, '', false);
  }

  /** The header is absent (Istio's `withoutHeaders`). */
  public static absent(name: string): HeaderMatch {
    return new HeaderMatch(name, undefined, '', true);
  }

  /** The header name. */
  public readonly name: string;
  /** How the value is compared; undefined for a presence (or absence) check. */
  public readonly kind?: StringMatchKind;
  /** The value, prefix or expression ('' for a presence check). */
  public readonly value: string;
  /** True for a header that must be absent (Istio's `withoutHeaders`). */
  public readonly isAbsent: boolean;

  private constructor(name: string, kind: StringMatchKind | undefined, value: string, isAbsent: boolean) {
    this.name = name;
    this.kind = kind;
    this.value = value;
    this.isAbsent = isAbsent;
  }
}

/**
 * Matches a query parameter.
 *
 * @example QueryParamMatch.exact('debug', 'true')
 */
export class QueryParamMatch {
  /** The parameter equals `value`. */
  public static exact(name: string, value: string): QueryParamMatch {
    return new QueryParamMatch(name, StringMatchKind.EXACT, value);
  }

  /** The parameter matches the RE2 regular expression `regex`. */
  public static regex(name: string, regex: string): QueryParamMatch {
    return new QueryParamMatch(name, StringMatchKind.REGEX, regex);
  }

  /** The parameter is present (with any value, or none). */
  public static present(name: string): QueryParamMatch {
    return new QueryParamMatch(name, undefined, '');
  }

  /** The parameter name. */
  public readonly name: string;
  /** How the value is compared (exact or regex); undefined for a presence check. */
  public readonly kind?: StringMatchKind;
  /** The value or expression ('' for a presence check). */
  public readonly value: string;

  private constructor(name: string, kind: StringMatchKind | undefined, value: string) {
    this.name = name;
    this.kind = kind;
    this.value = value;
  }
}

/**
 * Conditions on an HTTP request. Every field given must hold (AND); a route lists several
 * matches to accept any of them (OR).
 */
export interface HttpMatch {
  /**
   * The request path.
   *
   * @default - any path
   */
  readonly path?: PathMatch;

  /**
   * Request headers (all must match).
   *
   * @default - any headers
   */
  readonly headers?: HeaderMatch[];

  /**
   * The request method.
   *
   * @default - any method
   */
  readonly method?: HttpMethod;

  /**
   * Query parameters (all must match).
   *
   * @default - any query
   */
  readonly queryParams?: QueryParamMatch[];

  /**
   * Only requests from these workloads (a service or one version): Istio's `sourceLabels`,
   * plus `sourceNamespace` when the caller is in another namespace.
   *
   * @default - any caller
   */
  readonly sourceWorkload?: IWorkloadTarget;

  /**
   * Match the path case-insensitively.
   *
   * @default false
   */
  readonly ignoreUriCase?: boolean;

  /**
   * A name for this match, used in Envoy's access logs and stats.
   *
   * @default - none
   */
  readonly name?: string;
}
