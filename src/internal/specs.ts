import { Duration } from 'cdk8s';

// Plain data behind the enum-like value classes (Fault, LoadBalancer). Kept out of the public
// API: users build these values with the classes' factories.

/** A fault: delay and/or abort, each with its percentage. */
export interface FaultSpec {
  readonly delay?: Duration;
  readonly delayPercent?: number;
  readonly httpStatus?: number;
  readonly grpcStatus?: string;
  readonly abortPercent?: number;
}

/** A load-balancing algorithm: simple, or a consistent-hash key. */
export interface LoadBalancerSpec {
  /** One of Istio's simple algorithms (ROUND_ROBIN, LEAST_REQUEST, RANDOM, PASSTHROUGH). */
  readonly simple?: string;
  readonly consistentHash?: {
    readonly httpHeaderName?: string;
    readonly httpCookie?: { readonly name: string; readonly ttl?: Duration; readonly path?: string };
    readonly useSourceIp?: boolean;
    readonly httpQueryParameterName?: string;
  };
}
