import type { ServiceVersion } from '../mesh/service-version';

/** Options of {@link Mirror.host}. */
export interface MirrorHostOptions {
  /**
   * Destination port, for hosts with several ports.
   *
   * @default - the host's only port
   */
  readonly port?: number;
}

/**
 * Copies live requests to a second destination (fire-and-forget: responses are discarded),
 * e.g. to test a new version against production traffic.
 *
 * @see https://istio.io/latest/docs/tasks/traffic-management/mirroring/
 */
export class Mirror {
  /** Mirror to a version of the service (any service of the mesh). */
  public static toVersion(version: ServiceVersion): Mirror {
    return new Mirror(undefined, version, undefined);
  }

  /** Mirror to any host the mesh knows (FQDN), e.g. a shadow deployment or an ExternalService. */
  public static toHost(host: string, options: MirrorHostOptions = {}): Mirror {
    return new Mirror(host, undefined, options.port);
  }

  /** The mirror host, when not a version. */
  public readonly host?: string;
  /** The mirror version, when not a host. */
  public readonly version?: ServiceVersion;
  /** The destination port. */
  public readonly port?: number;

  private constructor(host: string | undefined, version: ServiceVersion | undefined, port: number | undefined) {
    this.host = host;
    this.version = version;
    this.port = port;
  }
}

/** A regular-expression rewrite of the path. */
export interface RegexRewrite {
  /** RE2 expression matched against the path. */
  readonly match: string;
  /** Replacement; `\1`… refer to capture groups. */
  readonly rewrite: string;
}

/** Rewrites the request before it is forwarded. */
export interface UriRewrite {
  /**
   * Replaces the matched path prefix (or the whole path for an exact match) with this value.
   *
   * @default - the path is not rewritten
   */
  readonly uri?: string;

  /**
   * Rewrites the path with a regular expression.
   *
   * @default - the path is not rewritten
   */
  readonly uriRegex?: RegexRewrite;

  /**
   * Replaces the Host/Authority header.
   *
   * @default - unchanged
   */
  readonly authority?: string;
}

/** Answers the request with an HTTP redirect instead of forwarding it. */
export interface HttpRedirect {
  /**
   * The new path.
   *
   * @default - unchanged
   */
  readonly uri?: string;

  /**
   * The new host.
   *
   * @default - unchanged
   */
  readonly authority?: string;

  /**
   * The new scheme, `http` or `https`.
   *
   * @default - unchanged
   */
  readonly scheme?: string;

  /**
   * The new port.
   *
   * @default - unchanged
   */
  readonly port?: number;

  /**
   * The redirect status, 3xx.
   *
   * @default 301
   */
  readonly redirectCode?: number;
}

/** Answers the request directly instead of forwarding it. */
export interface DirectResponse {
  /** The HTTP status, 200–599. */
  readonly status: number;

  /**
   * The response body.
   *
   * @default - empty
   */
  readonly body?: string;
}

/** Changes to request or response headers. */
export interface HeaderOperations {
  /**
   * Headers to set, replacing any existing value.
   *
   * @default - none
   */
  readonly set?: { [name: string]: string };

  /**
   * Headers to add to any existing values.
   *
   * @default - none
   */
  readonly add?: { [name: string]: string };

  /**
   * Headers to remove.
   *
   * @default - none
   */
  readonly remove?: string[];
}
