import { IConstruct } from 'constructs';

/**
 * Every bad-input rule the library enforces, with a stable code.
 *
 * The code is printed with each message, documented in docs/errors.md (a test keeps the two in
 * step), and never reused for another rule. Ranges: CM1xx mesh and services, CM2xx traffic,
 * CM3xx security, CM4xx observability, CM5xx ingress and egress, CM6xx validation, CM9xx delivery.
 */
export const ERROR_CATALOGUE = {
  // ---- mesh and services ----
  CM101: 'Invalid Kubernetes name',
  CM102: 'Mesh namespace cannot be determined',
  CM103: 'Mesh used from a chart of another namespace',
  CM104: 'Two meshes for one namespace',
  CM105: 'Duplicate service version',
  CM106: 'Port out of range',
  CM107: 'Empty container image',
  CM108: 'Invalid replica count',
  CM109: 'Sidecar-only option in ambient mode',
  CM110: 'Conflicting pod annotation',
  CM111: 'Invalid trust domain',
  CM112: 'Reserved label',
  CM113: 'Two services with one name in a namespace',
  CM114: 'Unsupported proxy resource',
  CM115: 'Invalid scratch directory',
  CM116: 'Probe on a port the container does not expose',
  CM117: 'Invalid service ports',

  // ---- traffic ----
  CM201: 'Weights do not sum to 100',
  CM202: 'Invalid weight',
  CM203: 'All weights are zero',
  CM204: 'Destination is a version of another service',
  CM205: 'Duplicate destination',
  CM206: 'Two catch-all routes for one service',
  CM207: 'Invalid header name',
  CM208: 'Invalid regular expression',
  CM209: 'Invalid retry attempts',
  CM210: 'Retry settings with zero attempts',
  CM211: 'Invalid duration',
  CM212: 'Percentage out of range',
  CM213: 'Abort status out of range',
  CM214: 'Route needs exactly one action',
  CM215: 'Retries of non-idempotent requests',
  CM216: 'HTTP feature on a non-HTTP service',
  CM217: 'Empty match',
  CM218: 'Invalid redirect',
  CM219: 'Invalid rewrite',
  CM220: 'Invalid header operation',
  CM221: 'Invalid retriable status code',
  CM222: 'Missing weight',
  CM223: 'Invalid path',
  CM224: 'Invalid gRPC status',
  CM225: 'Invalid direct response',
  CM226: 'Invalid mirror',
  CM227: 'Two routes take the same requests',
  CM228: 'Route not kept by the output',
  CM229: 'Invalid CORS policy',
  CM230: 'Invalid connection pool setting',
  CM231: 'Invalid outlier detection setting',
  CM232: 'Two circuit breakers for one scope',
  CM233: 'Empty circuit breaker',
  CM234: 'Two load balancers for one scope',
  CM235: 'Locality failover without outlier detection',
  CM236: 'Invalid locality distribution',
  CM237: 'Invalid locality failover',
  CM238: 'Invalid consistent hash',
  CM239: 'Route on a port the service does not have',
  CM240: 'Declared call does not get through',
  CM241: 'Invalid dependency',
  CM242: 'Invalid rate limit',
  CM243: 'Rate limit no proxy would apply',
  CM244: 'Two rate limits for one workload',
  CM245: 'gRPC retry conditions on an HTTP/1.1 service',
  CM246: 'Route the Gateway API cannot express',
  CM247: 'Version Service name taken',
  CM248: 'Version split at a gateway in a waypoint mesh',
  CM260: 'Invalid progressive delivery target',
  CM261: 'Progressive delivery in a Gateway API mesh',
  CM262: 'Route Argo Rollouts cannot take over',
  CM263: 'Progressive delivery of a non-HTTP service',
  CM264: 'Invalid canary weight',
  CM265: 'Canary weights not increasing',
  CM266: 'Invalid canary pause',
  CM267: 'Canary analysis without objectives',
  CM268: 'Invalid canary analysis setting',
  CM269: 'Gateway route Argo Rollouts would not shift',

  // ---- security ----
  CM301: 'mTLS DISABLE in ambient mode',
  CM302: 'Port-level mTLS without a workload target',
  CM303: 'Second namespace-wide or mesh-wide mTLS policy',
  CM304: 'Port is not a port of the target service',
  CM305: 'Duplicate port-level mTLS override',
  CM306: 'Authorization policy without rules',
  CM307: 'CUSTOM action and provider mismatch',
  CM308: 'Authorization rule that matches every request',
  CM309: 'Empty list, source or operation',
  CM310: 'Empty value',
  CM311: 'Invalid service accounts in a source',
  CM312: 'Invalid path or wildcard',
  CM313: 'Invalid condition key',
  CM314: 'Invalid IP address or CIDR block',
  CM315: 'Identity attribute in a CUSTOM policy',
  CM316: 'Invalid JWKS location',
  CM317: 'Both jwks and jwksUri',
  CM318: 'Invalid JWT issuer',
  CM319: 'JWT validated but never required',
  CM320: 'Protected workload without token validation',
  CM321: 'Required claim is not a token attribute',
  CM322: 'L7 policy without a waypoint in ambient mode',
  CM323: 'HTTP attribute on a non-HTTP service',
  CM324: 'Two policies with one name',
  CM325: 'Peer combination Istio cannot express',
  CM326: 'Rule added to a fixed-meaning policy',
  CM327: 'Invalid JWT header name',
  CM328: 'Overlapping workload mTLS policies',
  CM329: 'Dry-run on a policy that does not support it',
  CM330: 'Mesh-wide mTLS policy with a target',
  CM331: 'Identity rule on a plaintext workload',
  CM332: 'Permission not kept by the output',
  CM333: 'Token requirement not kept by the output',
  CM334: 'Mutual TLS not kept by the output',

  // ---- observability ----
  CM401: 'Sampling percentage out of range',
  CM402: 'Telemetry provider not declared on the mesh',
  CM403: 'Two namespace-wide Telemetries in one namespace',
  CM404: 'Objective out of range',
  CM405: 'Empty access log filter',
  CM406: 'Telemetry provider used for the wrong signal',
  CM407: 'Telemetry without a provider',
  CM408: 'Invalid telemetry provider',
  CM409: 'Invalid Telemetry scope',
  CM410: 'Two Telemetries select the same workload',
  CM411: 'Objective without a target',
  CM412: 'More than one tracing provider',
  CM413: 'Invalid tracing tag or metric tag',
  CM414: 'Conflicting Prometheus annotation',
  CM415: 'Metrics port not reachable by a ServiceMonitor',
  CM416: 'Two objectives with one name',
  CM417: 'Invalid scraping or dashboard setting',
  CM418: 'Dashboard ConfigMap too large to apply',
  CM419: 'No L7 telemetry source',

  // ---- ingress and egress ----
  CM501: 'Gateway host is not a domain name',
  CM502: 'HTTPS listener without TLS',
  CM503: 'Duplicate gateway listener port',
  CM504: 'Route host not served by the gateway',
  CM505: 'No gateway listener for the service protocol',
  CM506: 'Gateway exposure not kept by the output',
  CM507: 'Invalid gateway deployment setting',
  CM510: 'Invalid ServiceEntry host',
  CM511: 'Invalid ServiceEntry port',
  CM512: 'Route policy without an HTTP port',
  CM513: 'Invalid TLS origination',
  CM514: 'Invalid ServiceEntry address',
  CM515: 'CIDR address without STATIC or NONE resolution',
  CM516: 'Invalid ServiceEntry endpoint',
  CM517: 'Egress not kept by the output',
  CM520: 'Gateway setting the Gateway API cannot express',
  CM521: 'Gateway route the Gateway API cannot express',
  CM522: 'Two services on one Gateway API TCP listener',

  // ---- validation (the API server's and Istio's webhook's rules, at synth) ----
  CM601: 'Object the API server would refuse',
  CM602: 'Field the API server would prune',
  CM603: "Object Istio's webhook would refuse",

  // ---- delivery (GitOps) ----
  CM901: 'Invalid sync wave',
  CM902: 'Sync waves out of order',
  CM903: 'Ignored difference names no field',
  CM904: 'Invalid JSON pointer',
  CM905: 'Invalid Argo CD source',
  CM906: 'Argo CD destination names the cluster twice',
  CM907: 'Sync option without automated sync',
  CM908: 'Application not permitted by its project',
  CM909: 'Invalid Config Management Plugin setting',
  CM910: 'Objects rendered into a folder whose project refuses them',
} as const;

/**
 * Findings the library reports without failing synthesis, because a user may accept them
 * deliberately (see `Acknowledgement`).
 */
export const WARNING_CATALOGUE = {
  CM250: 'Retries exceed the route timeout',
  CM251: 'Fault injection disables retries',
} as const;

/** A code from {@link WARNING_CATALOGUE}. */
export type WarningCode = keyof typeof WARNING_CATALOGUE;

/** A code from {@link ERROR_CATALOGUE}. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/**
 * Formats a bad-input message: the code, what is wrong, and how to fix it.
 *
 * Used both for errors thrown at construction (see {@link meshError}, which adds the construct
 * path) and for messages returned by `node.addValidation` (cdk8s adds the path itself).
 */
export function formatMessage(code: ErrorCode, problem: string, fix: string): string {
  return `${code} ${ERROR_CATALOGUE[code]}: ${problem}. Fix: ${fix}`;
}

/**
 * An error for bad input detected while a construct is being built, prefixed with the path of
 * the construct at fault so the user can find the line that made it.
 */
export function meshError(scope: IConstruct, code: ErrorCode, problem: string, fix: string): Error {
  return new Error(`[${scope.node.path}] ${formatMessage(code, problem, fix)}`);
}

const WARNINGS = new WeakMap<IConstruct, string[]>();

/**
 * Reports a finding that does not fail synthesis: printed once to stderr with the construct
 * path, and kept for {@link MeshWarnings.of}.
 */
export function meshWarning(scope: IConstruct, code: WarningCode, problem: string, fix: string): void {
  const message = `[${scope.node.path}] ${code} ${WARNING_CATALOGUE[code]}: ${problem}. Fix: ${fix}`;
  const list = WARNINGS.get(scope.node.root) ?? [];
  WARNINGS.set(scope.node.root, list);
  list.push(message);
  console.warn(`cdk8s-mesh warning: ${message}`);
}

/** The warnings the library reported for a construct tree (e.g. to assert on them in tests). */
export class MeshWarnings {
  /** Every warning reported so far for the tree `scope` belongs to, in order. */
  public static of(scope: IConstruct): string[] {
    return [...(WARNINGS.get(scope.node.root) ?? [])];
  }

  private constructor() {}
}
