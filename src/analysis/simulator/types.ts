// The public vocabulary of the request simulator: what a request is, and what its trace says.

/** An object of the manifests. */
export interface ObjectReference {
  readonly kind: string;
  readonly namespaceName?: string;
  readonly name: string;
}

/** A JWT as the caller presents it. */
export interface JwtToken {
  /** The `iss` claim. */
  readonly issuer: string;
  /** The `sub` claim. */
  readonly subject: string;
  /** The `aud` claim. */
  readonly audiences?: string[];
  /** The `azp` claim (`request.auth.presenter`). */
  readonly presenter?: string;
  /** Other claims, for `request.auth.claims[...]` (lists allowed, e.g. `{ groups: ['group1'] }`; nested objects for `claims[a][b]`). */
  readonly claims?: { [name: string]: any };
  /**
   * Whether the signature checks against the issuer's keys (and the token has not expired).
   * @default true
   */
  readonly valid?: boolean;
  /**
   * Where the caller sends it: `header:<name>` (with `Bearer ` for `authorization`), `query:<name>` or `cookie:<name>`.
   * @default 'header:authorization'
   */
  readonly location?: string;
}

/** A request to trace. Without a `source` (and `sourcePrincipal`) it comes from a plaintext client outside the mesh. */
export interface TraceRequest {
  /**
   * The caller: a workload (Deployment, other pod-template owner, or Pod), a Service (each of its workloads is
   * traced; the first refusal decides) or a ServiceAccount (an in-mesh caller running as it), as `name` or
   * `namespace/name`.
   * @default - a client outside the mesh
   */
  readonly source?: string;
  /**
   * The caller's mTLS identity, as is (`cluster.local/ns/foo/sa/bar`, `spiffe://` optional), for an in-mesh caller the
   * manifests do not hold: enrolled in ambient mode where its namespace is, else a sidecar.
   */
  readonly sourcePrincipal?: string;
  /**
   * Namespace of `source`, and of the caller of a short host name, when they give none.
   * @default the default namespace of the options
   */
  readonly sourceNamespaceName?: string;
  /** The caller's IP address (`source.ip`, `ipBlocks`; `remoteIpBlocks` at an ingress gateway). */
  readonly sourceIp?: string;
  /**
   * Enter through an ingress gateway: an Istio `Gateway` (or Kubernetes Gateway API `Gateway`), `name` or
   * `namespace/name`. The request comes from `source` (default: outside the mesh) to the gateway's Service port `port`.
   * @default - not through a gateway
   */
  readonly gateway?: string;
  /**
   * The destination: a Service, ServiceEntry host or workload (`name`, `namespace/name` or a host name). Sets `host`
   * to the Service's name when `host` is not given. A workload is called on its pod IP, bypassing routing.
   * @default - the Service `host` names
   */
  readonly destination?: string;
  /**
   * The `Host` (`:authority`) header: a short name (in the caller's namespace), `name.namespace`, an FQDN or an
   * external host.
   * @default - the destination's FQDN
   */
  readonly host?: string;
  /**
   * The port the caller connects to: the Service port (the gateway's Service port through a gateway; the workload
   * port for a workload destination).
   * @default - the destination's first port (80 for HTTP and 443 for HTTPS through a gateway)
   */
  readonly port?: number;
  /** @default 'GET' */
  readonly method?: string;
  /** The request path, with any query string. @default '/' */
  readonly path?: string;
  /** Request headers; names that differ only in case are one header, their values joined with commas. @default - none */
  readonly headers?: { [name: string]: string };
  /**
   * The request is plain TCP, not HTTP: for a port Istio has to sniff (a workload called on its pod IP, a Service
   * port without a protocol).
   * @default false
   */
  readonly tcp?: boolean;
  /** @default - no token */
  readonly token?: JwtToken;
  /**
   * Whether the caller speaks TLS to a gateway listener (HTTPS, TLS); with a client certificate for MUTUAL servers.
   * @default - what the listener on the port expects
   */
  readonly tls?: boolean;
  /** @default true when the gateway server wants one */
  readonly clientCertificate?: boolean;
  /** TLS SNI for `connection.sni`. @default - the SNI the caller's proxy sends (`outbound_.<port>_.<subset>_.<fqdn>`) */
  readonly sni?: string;
  /**
   * What a CUSTOM (external) authorizer answers when a CUSTOM policy sends it the request.
   * @default true
   */
  readonly externalAuthorizerAllows?: boolean;
}

/** How a traced request ends. */
export enum TraceOutcome {
  /** The request reaches the destination application. */
  REACHED = 'REACHED',
  /** A route answers with a redirect (3xx). */
  REDIRECTED = 'REDIRECTED',
  /** A route answers itself (`directResponse`). */
  DIRECT_RESPONSE = 'DIRECT_RESPONSE',
  /**
   * Envoy's CORS filter on the routing proxy answers a preflight (OPTIONS with Origin and
   * Access-Control-Request-Method) itself, 200: the service never sees it.
   */
  PREFLIGHT_ANSWERED = 'PREFLIGHT_ANSWERED',
  /** Fault injection aborts every request of the route. */
  ABORTED = 'ABORTED',
  /** 400: a request Istio refuses to parse (method not in upper case, `%00` in the path). */
  BAD_REQUEST = 'BAD_REQUEST',
  /** 401: a RequestAuthentication rejects the token. */
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  /** 403 (or a closed TCP connection): an AuthorizationPolicy denies it. */
  FORBIDDEN = 'FORBIDDEN',
  /** 404: no route or no gateway server for the host. */
  NOT_FOUND = 'NOT_FOUND',
  /** 502: the caller's proxy sends it to the BlackHoleCluster (REGISTRY_ONLY and the host is unknown or not imported). */
  BAD_GATEWAY = 'BAD_GATEWAY',
  /** 503: no healthy upstream (no pods, pods never Ready, no such subset or port). */
  UNAVAILABLE = 'UNAVAILABLE',
  /** Nothing listens: a gateway without a server on the port, a plaintext client to a TLS listener. */
  CONNECTION_REFUSED = 'CONNECTION_REFUSED',
  /** The TLS handshake fails (mTLS mode mismatch): the connection is reset (a 503 for a caller with a proxy). */
  CONNECTION_RESET = 'CONNECTION_RESET',
}

/** What part of the request's path a step is about. */
export enum TraceStepKind {
  /** Where the request enters: the caller's proxy, a gateway listener and server, or no proxy at all. */
  ENTRY = 'ENTRY',
  /** The caller's proxy letting it out: Sidecar egress hosts, outboundTrafficPolicy. */
  EGRESS = 'EGRESS',
  /** The VirtualService (or HTTPRoute) and rule that route it. */
  ROUTING = 'ROUTING',
  /** The pods behind the chosen destination, their ports and readiness. */
  DESTINATION = 'DESTINATION',
  /** The hop's mutual TLS: client DestinationRule, auto mTLS, the server's PeerAuthentication. */
  MTLS = 'MTLS',
  /** RequestAuthentication: the JWT. */
  AUTHENTICATION = 'AUTHENTICATION',
  /** AuthorizationPolicies: CUSTOM, DENY, ALLOW (and dry-run / AUDIT notes). */
  AUTHORIZATION = 'AUTHORIZATION',
}

/** One decision on the request's way, with the object and field that made it. */
export interface TraceStep {
  readonly kind: TraceStepKind;
  /** The proxy that takes the step: `sidecar of Deployment shop/web`, `gateway shop/gateway`, `ztunnel`, ... */
  readonly proxy: string;
  /** Whether the request goes on after this step. */
  readonly passed: boolean;
  /** What happened and why, in words. */
  readonly summary: string;
  /** The object that decided, if one did. */
  readonly object?: ObjectReference;
  /** The field of `object` that decided, e.g. `spec.http[1].match[0]`. */
  readonly field?: string;
}

/** The retry policy in effect on a route. */
export interface RetriesInEffect {
  /** Retries after the first try (0: none). */
  readonly attempts: number;
  /** Envoy retry conditions, e.g. `connect-failure,refused-stream,503`. */
  readonly retryOn?: string;
  /** Per-try timeout as Istio writes durations, e.g. `2s`. */
  readonly perTryTimeout?: string;
  /** True when no retry policy is written and these are Istio's defaults. */
  readonly isDefault: boolean;
}

/** The CORS policy of the route in effect, and what Envoy's CORS filter does with the request. */
export interface CorsInEffect {
  /** The allowed origins as written, e.g. `exact:https://app.example.com`. */
  readonly allowOrigins: string[];
  /** `Access-Control-Allow-Methods` as Envoy sends it. */
  readonly allowMethods?: string;
  /** `Access-Control-Allow-Headers`. */
  readonly allowHeaders?: string;
  /** `Access-Control-Expose-Headers`. */
  readonly exposeHeaders?: string;
  /** `Access-Control-Max-Age`, in seconds. */
  readonly maxAge?: string;
  readonly allowCredentials: boolean;
  /** `FORWARD` (Envoy's default) or `IGNORE`. */
  readonly unmatchedPreflights: string;
  /** The request's Origin header, when it is a CORS request. */
  readonly origin?: string;
  /** Whether an allowed origin matches it. */
  readonly originAllowed: boolean;
  /** True for a preflight: OPTIONS with Origin and Access-Control-Request-Method. */
  readonly preflight: boolean;
  /** The headers of the filter's own answer to a preflight (lower-case names); empty when it forwards the request. */
  readonly preflightResponseHeaders: { [name: string]: string };
}

/** The route a request takes, with what it does besides choosing the destination. */
export interface RouteInEffect {
  /** The VirtualService (or HTTPRoute); none for the default route to a Service. */
  readonly object?: ObjectReference;
  /** The rule and match, e.g. `spec.http[2].match[0]`. */
  readonly field?: string;
  /** Route timeout as Istio writes durations; undefined when none applies (Istio's default for HTTP routes: no timeout). */
  readonly timeout?: string;
  /** Retries (HTTP routes). */
  readonly retries?: RetriesInEffect;
  /** Fault injection, in words (`delay 7s for 100%`, `abort 500 for 10%`). */
  readonly fault?: string;
  /** Hosts (and subsets) that receive a copy, with the percentage. */
  readonly mirrors: string[];
  /** The rewritten path and/or authority, in words. */
  readonly rewrite?: string;
  /** The route's CORS policy, when it has one. */
  readonly corsPolicy?: CorsInEffect;
}

/** Where a request (or one weighted share of it) goes. */
export interface TraceDestination {
  /** The Service or ServiceEntry; undefined for a host no registry entry defines (passthrough). */
  readonly service?: ObjectReference;
  /** The host the proxy sends to. */
  readonly host: string;
  /** The DestinationRule subset (the version). */
  readonly subset?: string;
  /** The Service port. */
  readonly port: number;
  /** The share of requests that go here, 0–100. */
  readonly weightPercent: number;
}

/** What happens to the requests that go to one destination of the route. */
export interface DestinationTrace {
  readonly destination: TraceDestination;
  readonly outcome: TraceOutcome;
  /** The HTTP status the caller sees (undefined for TCP, or when it reaches the application). */
  readonly status?: number;
  /** The workload that receives it, when it is reached. */
  readonly workload?: ObjectReference;
  /** The steps after routing: destination pods, mTLS, authentication, authorization. */
  readonly steps: TraceStep[];
  readonly explanation: string;
}

/** A request played through the manifests, step by step. */
export interface RequestTrace {
  /** The outcome for every request when all destinations agree; otherwise the first outcome that is not REACHED. */
  readonly outcome: TraceOutcome;
  /** True when every weighted destination is reached. */
  readonly allowed: boolean;
  /** The HTTP status the caller sees, when the outcome has one. */
  readonly status?: number;
  /** The steps before the request splits across destinations (entry, egress, gateway checks, routing). */
  readonly steps: TraceStep[];
  /** The route in effect, when routing happened. */
  readonly route?: RouteInEffect;
  /** One per weighted destination (empty when the request ends before routing chooses one). */
  readonly destinations: DestinationTrace[];
  /** Where the manifests (or Istio's documentation) do not decide what happens, said rather than guessed. */
  readonly undecided: string[];
  /** The whole story in one paragraph. */
  readonly explanation: string;
}

/** What the destination does with a request (the authorization view of a trace). */
export enum DecisionKind {
  /** The request reaches the application. */
  ALLOW = 'ALLOW',
  /** An AuthorizationPolicy denies it (HTTP 403, or a closed TCP connection). */
  DENY = 'DENY',
  /** A RequestAuthentication rejects its JWT (HTTP 401). */
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  /** The connection fails before any policy: STRICT mTLS from a plaintext caller, or mTLS to a port that disables it. */
  CONNECTION_REFUSED = 'CONNECTION_REFUSED',
  /** The request never reaches an authorization decision: no route, no healthy pod, egress blocked, ... (see the trace). */
  NOT_DELIVERED = 'NOT_DELIVERED',
}

/** The outcome of a request, from the authorization point of view. */
export interface Decision {
  readonly allowed: boolean;
  readonly kind: DecisionKind;
  /** The policy that decided (AuthorizationPolicy, RequestAuthentication or PeerAuthentication), if one did. */
  readonly policy?: ObjectReference;
  /** Index of the deciding rule in the AuthorizationPolicy's `spec.rules`. */
  readonly ruleIndex?: number;
  /** Why, step by step. */
  readonly explanation: string;
  /** The whole trace. */
  readonly trace: RequestTrace;
}

/** Who may call whom: `allowed[i][j]` says whether every workload of `services[i]` may call `services[j]`. */
export interface AccessMatrix {
  /** `namespace/name` of each Service with workloads, sorted. */
  readonly services: string[];
  readonly allowed: boolean[][];
}
