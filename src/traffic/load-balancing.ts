import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { formatMessage, meshError } from '../errors';
import { checkDuration, checkHeaderName } from './validation';
import { LoadBalancerSpec } from '../internal/specs';
import type { MeshService } from '../mesh/mesh-service';
import type { ServiceVersion } from '../mesh/service-version';

/** The simple load-balancing algorithms of Istio. */
export enum LoadBalancerAlgorithm {
  /** Round robin. */
  ROUND_ROBIN = 'ROUND_ROBIN',
  /** Fewest active requests (Istio's default). */
  LEAST_REQUEST = 'LEAST_REQUEST',
  /** A random pod. */
  RANDOM = 'RANDOM',
  /** Forward to the original destination address (no load balancing). */
  PASSTHROUGH = 'PASSTHROUGH',
}

/** Options of {@link LoadBalancer.consistentHashByCookie}. */
export interface HashCookieOptions {
  /**
   * Lifetime of the cookie Envoy generates when the request has none.
   *
   * @default - no cookie is generated
   */
  readonly ttl?: Duration;

  /**
   * Path of the generated cookie.
   *
   * @default - none
   */
  readonly path?: string;
}

/** How requests are spread across a service's pods. */
export class LoadBalancer {
  /** A simple algorithm. */
  public static of(algorithm: LoadBalancerAlgorithm): LoadBalancer {
    return new LoadBalancer({ simple: algorithm });
  }

  /** Session affinity: requests with the same header value go to the same pod. */
  public static consistentHashByHeader(headerName: string): LoadBalancer {
    return new LoadBalancer({ consistentHash: { httpHeaderName: headerName } }, headerName);
  }

  /** Session affinity by cookie (Envoy sets the cookie when `ttl` is given). */
  public static consistentHashByCookie(cookieName: string, options: HashCookieOptions = {}): LoadBalancer {
    return new LoadBalancer({ consistentHash: { httpCookie: { name: cookieName, ttl: options.ttl, path: options.path } } });
  }

  /** Session affinity by client IP address. */
  public static consistentHashBySourceIp(): LoadBalancer {
    return new LoadBalancer({ consistentHash: { useSourceIp: true } });
  }

  /** Session affinity by query parameter. */
  public static consistentHashByQueryParameter(parameterName: string): LoadBalancer {
    return new LoadBalancer({ consistentHash: { httpQueryParameterName: parameterName } });
  }

  private constructor(
    /** @internal */ public readonly _spec: LoadBalancerSpec,
    /** @internal */ public readonly _headerName?: string,
  ) {}
}


/** Send traffic of one region to another when its own pods are unhealthy. */
export interface LocalityFailover {
  /** The region whose traffic fails over, e.g. `us-east`. */
  readonly sourceRegion: string;
  /** The region that receives it, e.g. `us-west`. */
  readonly targetRegion: string;
}

/** How the traffic of one locality is spread over localities. */
export interface LocalityDistribution {
  /** Where the traffic originates: `region/zone/subzone`, wildcards allowed (`us-west/zone1/*`). */
  readonly sourceLocality: string;
  /** Share of that traffic per destination locality, each 1–100, summing to 100. */
  readonly weights: { [locality: string]: number };
}

/** Options of {@link LoadBalancing} and `MeshService.addLoadBalancing`. */
export interface LoadBalancingOptions {
  /**
   * The algorithm.
   *
   * @default - Istio's default (LEAST_REQUEST)
   */
  readonly loadBalancer?: LoadBalancer;

  /**
   * Locality failover, region by region. Istio only fails over when outlier detection can tell
   * a pod is unhealthy, so the service needs a CircuitBreaker with outlierDetection.
   *
   * @default - Istio's default locality-aware routing
   */
  readonly localityFailover?: LocalityFailover[];

  /**
   * Weighted distribution of each locality's traffic (exclusive with `localityFailover`).
   *
   * @default - none
   */
  readonly localityDistribution?: LocalityDistribution[];

  /**
   * Ramp traffic up to new pods over this period.
   *
   * @default - no warm-up
   */
  readonly warmup?: Duration;

  /**
   * Apply to one version only.
   *
   * @default - every version of the service
   */
  readonly version?: ServiceVersion;
}

/** Properties of {@link LoadBalancing}. */
export interface LoadBalancingProps extends LoadBalancingOptions {
  /** The service. */
  readonly service: MeshService;
}

/**
 * The load-balancing policy of a service (or one version), written into the service's one
 * DestinationRule.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/destination-rule/#LoadBalancerSettings
 */
export class LoadBalancing extends Construct {
  /** The service. */
  public readonly service: MeshService;
  /** The version, for a subset-level policy. */
  public readonly version?: ServiceVersion;
  /** The options. */
  public readonly options: LoadBalancingOptions;

  public constructor(scope: Construct, id: string, props: LoadBalancingProps) {
    super(scope, id);
    const { service, ...options } = props;
    this.service = service;
    this.version = props.version;
    this.options = options;
    if (props.version && props.version.service !== service) {
      throw meshError(this, 'CM204', `version "${props.version.name}" belongs to service "${props.version.service.name}", not "${service.name}"`,
        `pass a version of ${service.name}`);
    }
    const hash = options.loadBalancer?._spec.consistentHash;
    if (options.loadBalancer?._headerName !== undefined) checkHeaderName(this, 'consistent hash header', options.loadBalancer._headerName);
    if (hash?.httpCookie) {
      if (!hash.httpCookie.name) throw meshError(this, 'CM238', 'the consistent-hash cookie has no name', 'name the cookie, e.g. "session"');
      checkDuration(this, 'consistent hash cookie ttl', hash.httpCookie.ttl);
    }
    if (hash?.httpQueryParameterName === '') throw meshError(this, 'CM238', 'the consistent-hash query parameter has no name', 'name the parameter');
    checkDuration(this, 'warmup', options.warmup);
    if (options.localityFailover?.length && options.localityDistribution?.length) {
      throw meshError(this, 'CM237', 'localityFailover and localityDistribution are both set', 'use one of them: Istio rejects both together');
    }
    for (const f of options.localityFailover ?? []) {
      if (!f.sourceRegion || !f.targetRegion || f.sourceRegion === f.targetRegion) {
        throw meshError(this, 'CM237', `failover from "${f.sourceRegion}" to "${f.targetRegion}"`, 'fail over from a region to a different, non-empty region');
      }
    }
    for (const d of options.localityDistribution ?? []) {
      const weights = Object.values(d.weights);
      const total = weights.reduce((a, b) => a + b, 0);
      if (weights.length === 0 || weights.some((w) => !Number.isInteger(w) || w < 1 || w > 100) || total !== 100) {
        throw meshError(this, 'CM236', `the distribution of "${d.sourceLocality}" has weights ${JSON.stringify(d.weights)} (total ${total})`,
          'give each destination locality a whole weight from 1 to 100, summing to 100');
      }
    }
    service._routing.addLoadBalancing(this);
    if (options.localityFailover?.length) {
      // Checked at synth: the circuit breaker may be declared after this policy.
      this.node.addValidation({
        validate: () => service._routing.hasOutlierDetection(this.version) ? [] : [formatMessage('CM235',
          `locality failover for ${this.version ? `version "${this.version.name}" of ` : ''}service "${service.name}" has no effect: Istio needs outlier detection to know when to fail over`,
          `add service.addCircuitBreaker({ outlierDetection: { consecutive5xxErrors: 5 }${this.version ? ', version' : ''} })`)],
      });
    }
  }
}
