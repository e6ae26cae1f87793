/**
 * The application protocol of a service port.
 *
 * Istio decides whether it can route, retry and measure a port at L7 from its protocol, read
 * from the port name prefix (`<protocol>[-suffix]`) or `appProtocol`. The library writes both,
 * so a port can never silently fall back to opaque TCP (istioctl IST0118).
 *
 * @see https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/
 */
export enum Protocol {
  /** HTTP/1.1 (Istio may upgrade to HTTP/2 between proxies). */
  HTTP = 'http',
  /** HTTP/2 in cleartext (h2c). */
  HTTP2 = 'http2',
  /** gRPC over HTTP/2. */
  GRPC = 'grpc',
  /** gRPC-Web. */
  GRPC_WEB = 'grpc-web',
  /** HTTPS: TLS terminated by the application; Istio routes it as TLS by SNI. */
  HTTPS = 'https',
  /** TLS terminated by the application; Istio routes it by SNI. */
  TLS = 'tls',
  /** Opaque TCP. */
  TCP = 'tcp',
  /** MongoDB wire protocol (treated as TCP). */
  MONGO = 'mongo',
  /** MySQL wire protocol (treated as TCP). */
  MYSQL = 'mysql',
  /** Redis protocol (treated as TCP). */
  REDIS = 'redis',
}

/** True when Istio routes the protocol with `http` rules (retries, timeouts, matches, faults). */
export function isHttpProtocol(protocol: Protocol): boolean {
  return [Protocol.HTTP, Protocol.HTTP2, Protocol.GRPC, Protocol.GRPC_WEB].includes(protocol);
}

/** True when Istio routes the protocol with `tls` rules keyed on SNI. */
export function isTlsProtocol(protocol: Protocol): boolean {
  return protocol === Protocol.HTTPS || protocol === Protocol.TLS;
}
