// How Istio reads the protocol of a Service port.

const KNOWN_PROTOCOLS = new Set(['http', 'http2', 'https', 'grpc', 'grpc-web', 'tcp', 'tls', 'mongo', 'mysql', 'redis', 'udp', 'http_proxy', 'hbone']);
/** Ports Istio treats as TCP without a protocol in the name (SMTP, DNS, MySQL, MongoDB). */
const WELL_KNOWN_PORTS = new Set([25, 53, 3306, 27017]);

/**
 * Istio's protocol for a Service port (pkg/config/kube ConvertProtocol): UDP by `protocol`, else `appProtocol`, else
 * the port name up to the first `-`; undefined when unknown (Istio then sniffs the protocol).
 */
export function portProtocol(port: any): string | undefined {
  if (!port || typeof port !== 'object') return protocolOf(port);
  // Ports are read many times (every trace through a Service); their objects do not change.
  if (PROTOCOLS.has(port)) return PROTOCOLS.get(port);
  const protocol = protocolOf(port);
  PROTOCOLS.set(port, protocol);
  return protocol;
}

const PROTOCOLS = new WeakMap<object, string | undefined>();

function protocolOf(port: any): string | undefined {
  if (port?.protocol === 'UDP') return 'udp';
  const name: string = (port?.appProtocol ?? port?.name ?? '').toLowerCase();
  if (name.startsWith('grpc-web')) return 'grpc-web';
  const prefix = name.split('-')[0];
  if (KNOWN_PROTOCOLS.has(prefix)) return prefix;
  return WELL_KNOWN_PORTS.has(port?.port) ? 'tcp' : undefined;
}

const HTTP_PROTOCOLS = new Set(['http', 'http2', 'grpc', 'grpc-web', 'http_proxy']);

/** Whether the proxy treats a Service port as HTTP: an HTTP protocol, or an unknown one (sniffed, and HTTP when it is). */
export function isHttpPort(port: any): boolean {
  const protocol = portProtocol(port);
  return protocol === undefined || HTTP_PROTOCOLS.has(protocol);
}
