import { ApiObject, Duration } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { checkDuration, checkHeaderName, checkWholeNumber } from './validation';
import type { IngressGateway } from '../edge/ingress-gateway';
import { meshError } from '../errors';
import {
  EnvoyFilter, EnvoyFilterSpecConfigPatchesApplyTo, EnvoyFilterSpecConfigPatchesMatchContext, EnvoyFilterSpecConfigPatchesPatchOperation,
} from '../imports/networking.istio.io';
import { requireDnsSubdomain } from '../internal/names';
import type { MeshService } from '../mesh/mesh-service';
import { isHttpProtocol } from '../mesh/protocol';
import { describePorts } from '../mesh/service-port';

/** Options of `MeshService.addRateLimit` and `IngressGateway.addRateLimit`. */
export interface RateLimitOptions {
  /** Requests admitted per `per` (the tokens added to the bucket each interval), at least 1. */
  readonly requests: number;

  /** The interval over which `requests` are admitted (Envoy's `fill_interval`), at least 50ms, whole milliseconds. */
  readonly per: Duration;

  /**
   * The most requests admitted at once after a quiet period (the bucket's size, Envoy's `max_tokens`); at least
   * `requests`.
   *
   * @default - `requests`: no burst beyond the rate
   */
  readonly burst?: number;

  /**
   * Headers added to the 429 responses of refused requests, e.g. `{ 'x-local-rate-limit': 'true' }`.
   *
   * @default - none (Envoy adds `x-envoy-ratelimited` itself)
   */
  readonly responseHeaders?: { [name: string]: string };

  /**
   * The Service port whose requests are limited, for a multi-port service (the patch matches its container port's
   * inbound listener). Not for a gateway.
   *
   * @default - every HTTP port of the service (or gateway)
   */
  readonly port?: number;
}

/** Properties of a {@link LocalRateLimit}: exactly one of `service` and `gateway`. */
export interface LocalRateLimitProps extends RateLimitOptions {
  /**
   * The service whose sidecars limit the requests they receive (context SIDECAR_INBOUND).
   *
   * @default - none: give `gateway`
   */
  readonly service?: MeshService;

  /**
   * The ingress gateway whose pods limit the requests they receive (context GATEWAY).
   *
   * @default - none: give `service`
   */
  readonly gateway?: IngressGateway;

  /**
   * Name of the EnvoyFilter.
   *
   * @default - `<service or gateway name>-local-ratelimit`
   */
  readonly name?: string;
}

/** Envoy's local rate limit filter, and the type Istio's task wraps its config in. */
const FILTER = 'envoy.filters.http.local_ratelimit';
const LOCAL_RATE_LIMIT_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
const TYPED_STRUCT = 'type.googleapis.com/udpa.type.v1.TypedStruct';
/** The rate limit of each selected set of pods, per construct tree, to refuse a second one. */
const RATE_LIMITS = new WeakMap<IConstruct, Map<string, Construct>>();

/**
 * Local rate limiting: each proxy of the target (every pod's sidecar, or every gateway pod) admits at most
 * `requests` per `per` (a token bucket of `burst` tokens, refilled with `requests` tokens every `per`) and answers
 * the rest 429 itself. Limits are per proxy: 3 pods admit three times the rate.
 *
 * An EnvoyFilter inserting Envoy's `envoy.filters.http.local_ratelimit` before the router of the target's HTTP
 * connection managers, as in Istio's "Enabling Rate Limits using Envoy" task (local rate limit), with a priority
 * so its relative position does not depend on the order EnvoyFilters are applied (IST0151).
 *
 * @see https://istio.io/latest/docs/tasks/policy-enforcement/rate-limit/
 * @see https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/local_rate_limit_filter
 */
export class LocalRateLimit extends Construct {
  /** The EnvoyFilter. */
  public readonly envoyFilter: ApiObject;
  /** Requests admitted per interval. */
  public readonly requests: number;
  /** The interval. */
  public readonly per: Duration;
  /** The bucket's size. */
  public readonly burst: number;

  public constructor(scope: Construct, id: string, props: LocalRateLimitProps) {
    super(scope, id);
    this.requests = props.requests;
    this.per = props.per;
    this.burst = props.burst ?? props.requests;
    checkWholeNumber(this, 'CM242', 'requests', props.requests, 1, 4294967295);
    checkWholeNumber(this, 'CM242', 'burst', props.burst, 1, 4294967295);
    if (this.burst < this.requests) {
      throw meshError(this, 'CM242', `burst ${this.burst} is smaller than requests ${this.requests}: the bucket holds at most ${this.burst} tokens, so only ${this.burst} requests per ${props.per.toHumanString()} would be admitted`,
        `set burst to at least ${this.requests}, or lower requests`);
    }
    checkDuration(this, 'per', props.per);
    if (props.per.toMilliseconds({ integral: false }) < 50) {
      throw meshError(this, 'CM242', `per is ${props.per.toHumanString()}, and Envoy refuses a token bucket fill interval under 50ms (the listener is rejected)`,
        `use Duration.millis(50) or longer, e.g. ${Math.ceil((50 / props.per.toMilliseconds({ integral: false })) * props.requests)} requests per Duration.millis(50)`);
    }
    for (const name of Object.keys(props.responseHeaders ?? {})) checkHeaderName(this, 'responseHeaders name', name);

    const target: MeshService | IngressGateway | undefined = props.service ?? props.gateway;
    if (!target || (props.service && props.gateway)) {
      throw meshError(this, 'CM242', target ? 'both service and gateway are given' : 'neither service nor gateway is given', 'give the service or the ingress gateway whose proxies limit the requests');
    }
    if (props.gateway && props.port !== undefined) {
      throw meshError(this, 'CM242', 'port is given for a gateway rate limit', 'leave port out: a gateway rate limit applies to all its HTTP listeners');
    }
    const port = props.service && props.port !== undefined ? props.service.ports.find((p) => p.port === props.port) : undefined;
    if (props.service && props.port !== undefined && !port) {
      throw meshError(this, 'CM242', `port ${props.port} is not a Service port of service "${props.service.name}" (${describePorts(props.service)})`,
        `use ${props.service.ports.map((p) => p.port).join(' or ')}`);
    }
    const limited = props.service ? (port ? [port] : props.service.ports) : [];
    if (props.service && !limited.some((p) => isHttpProtocol(p.protocol))) {
      const protocol = limited[0].protocol;
      throw meshError(this, 'CM216', `${port ? `port ${port.port} of ` : ''}service "${props.service.name}" speaks ${protocol}, and Envoy's local rate limit filter limits HTTP requests`,
        'declare the service with an HTTP protocol (Protocol.HTTP, HTTP2, GRPC), or limit connections with a circuit breaker (maxConnections)');
    }
    if (props.service?.mesh.dataplane.isAmbient) {
      throw meshError(this, 'CM243', `service "${props.service.name}" is in an ambient mesh: its pods have no sidecar, and waypoints do not support EnvoyFilter, so no proxy would apply the local rate limit`,
        'rate-limit at the ingress gateway (gateway.addRateLimit), or use Dataplane.sidecar() for this namespace');
    }
    const selector = target.toWorkloadSelector();
    const name = props.name ?? `${target.name}-local-ratelimit`;
    requireDnsSubdomain(this, 'EnvoyFilter name', name);
    const limits = RATE_LIMITS.get(this.node.root) ?? new Map<string, Construct>();
    RATE_LIMITS.set(this.node.root, limits);
    const podsKey = `${selector.namespaceName}/${JSON.stringify(selector.matchLabels)}`;
    const owner = limits.get(podsKey);
    if (owner) {
      throw meshError(this, 'CM244', `${props.service ? `service "${target.name}"` : `gateway "${target.name}"`} already has a local rate limit (${owner.node.path}); two would each take a token from their own bucket, in an order Envoy does not promise`,
        'keep one rate limit per service or gateway');
    }
    limits.set(podsKey, this);
    const context = props.gateway ? EnvoyFilterSpecConfigPatchesMatchContext.GATEWAY : EnvoyFilterSpecConfigPatchesMatchContext.SIDECAR_INBOUND;
    const percent = (key: string) => ({ runtime_key: key, default_value: { numerator: 100, denominator: 'HUNDRED' } });
    const headers = Object.entries(props.responseHeaders ?? {});
    this.envoyFilter = new EnvoyFilter(this, 'Resource', {
      // A workloadSelector applies in the EnvoyFilter's own namespace: the one of the target's pods.
      metadata: { name, namespace: selector.namespaceName },
      spec: {
        workloadSelector: { labels: { ...selector.matchLabels } },
        // Applied after the default-priority (0) patches, so the router it is inserted before is always there.
        priority: 10,
        configPatches: [{
          applyTo: EnvoyFilterSpecConfigPatchesApplyTo.HTTP_FILTER,
          match: {
            context,
            listener: {
              // The sidecar's inbound listener for one container port (Istio's `portNumber` of SIDECAR_INBOUND).
              portNumber: port && props.service!.ports.length > 1 ? port.targetPort : undefined,
              filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager', subFilter: { name: 'envoy.filters.http.router' } } },
            },
          },
          patch: {
            operation: EnvoyFilterSpecConfigPatchesPatchOperation.INSERT_BEFORE,
            value: {
              name: FILTER,
              typed_config: {
                '@type': TYPED_STRUCT,
                'type_url': LOCAL_RATE_LIMIT_TYPE,
                'value': {
                  stat_prefix: 'http_local_rate_limiter',
                  token_bucket: { max_tokens: this.burst, tokens_per_fill: this.requests, fill_interval: `${props.per.toMilliseconds() / 1000}s` },
                  filter_enabled: percent('local_rate_limit_enabled'),
                  filter_enforced: percent('local_rate_limit_enforced'),
                  response_headers_to_add: headers.length
                    ? headers.map(([key, value]) => ({ append_action: 'OVERWRITE_IF_EXISTS_OR_ADD', header: { key, value } }))
                    : undefined,
                },
              },
            },
          },
        }],
      },
    });
  }
}
