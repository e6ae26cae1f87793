import { Construct } from 'constructs';
import { Protocol } from './protocol';
import { meshError } from '../errors';
import { requireDnsLabel } from '../internal/names';

/** One port of a multi-port {@link MeshService} (`MeshServiceOptions.ports`). */
export interface ServicePortOptions {
  /** The Service port clients call. */
  readonly port: number;

  /**
   * The container port the application listens on.
   *
   * @default - the same as `port`
   */
  readonly targetPort?: number;

  /**
   * The application protocol, written as the port name prefix and `appProtocol`.
   *
   * @default Protocol.HTTP
   */
  readonly protocol?: Protocol;

  /**
   * Suffix of the port name (`<protocol>-<suffix>`); needed when two ports speak one protocol, as port names are unique.
   *
   * @default - the port is named after the protocol alone, e.g. `grpc`
   */
  readonly nameSuffix?: string;
}

/** A port of a {@link MeshService}, as written in its Service. */
export interface MeshServicePort {
  /** The Service port name (`<protocol>[-suffix]`). */
  readonly name: string;
  /** The Service port. */
  readonly port: number;
  /** The container port. */
  readonly targetPort: number;
  /** The application protocol. */
  readonly protocol: Protocol;
}

/** The single-port form of `MeshServiceOptions`, next to the `ports` list. */
interface SinglePortOptions {
  readonly port?: number;
  readonly targetPort?: number;
  readonly protocol?: Protocol;
  readonly portNameSuffix?: string;
  readonly ports?: ServicePortOptions[];
}

/**
 * The ports of a service from either form (`port` with its settings, or `ports`), checked: valid numbers, unique
 * Service ports and names (Kubernetes refuses duplicates), and one protocol per container port (Istio builds one
 * inbound listener per container port, so two protocols on one would leave one of them misrouted).
 */
export function resolveServicePorts(scope: Construct, o: SinglePortOptions): MeshServicePort[] {
  const single = [o.port, o.targetPort, o.protocol, o.portNameSuffix].filter((v) => v !== undefined).length > 0;
  if (o.ports !== undefined && single) {
    const given = (['port', 'targetPort', 'protocol', 'portNameSuffix'] as const).filter((k) => o[k] !== undefined);
    throw meshError(scope, 'CM117', `the service gives both ports and ${given.join(', ')}`,
      'give either port (with targetPort, protocol, portNameSuffix) for a single-port service, or ports with those settings per port');
  }
  const short: ServicePortOptions[] = o.port === undefined ? []
    : [{ port: o.port, targetPort: o.targetPort, protocol: o.protocol, nameSuffix: o.portNameSuffix }];
  const options = o.ports ?? short;
  if (options.length === 0) {
    throw meshError(scope, 'CM117', o.ports ? 'ports is empty' : 'the service gives no port', 'give port (e.g. port: 8080), or ports: [{ port: 8080 }, { port: 9090, protocol: Protocol.GRPC }]');
  }
  const ports = options.map((p): MeshServicePort => {
    const protocol = p.protocol ?? Protocol.HTTP;
    if (p.nameSuffix !== undefined) requireDnsLabel(scope, 'port name suffix', p.nameSuffix);
    return {
      name: p.nameSuffix ? `${protocol}-${p.nameSuffix}` : protocol,
      port: requirePort(scope, 'port', p.port),
      targetPort: requirePort(scope, 'targetPort', p.targetPort ?? p.port),
      protocol,
    };
  });
  ports.forEach((p, i) => {
    const before = ports.slice(0, i);
    const samePort = before.find((q) => q.port === p.port);
    if (samePort) throw meshError(scope, 'CM117', `ports lists Service port ${p.port} twice`, 'give each Service port once');
    const sameName = before.find((q) => q.name === p.name);
    if (sameName) {
      throw meshError(scope, 'CM117', `ports ${sameName.port} and ${p.port} are both named "${p.name}", and Kubernetes requires unique port names`,
        `give one of them a nameSuffix, e.g. { port: ${p.port}, protocol: Protocol.${enumName(p.protocol)}, nameSuffix: 'admin' }`);
    }
    const sameTarget = before.find((q) => q.targetPort === p.targetPort && q.protocol !== p.protocol);
    if (sameTarget) {
      throw meshError(scope, 'CM117', `Service ports ${sameTarget.port} (${sameTarget.protocol}) and ${p.port} (${p.protocol}) both send to container port ${p.targetPort}, and Istio's inbound listener on a container port has one protocol`,
        'give each protocol its own container port (targetPort)');
    }
  });
  return ports;
}

function requirePort(scope: Construct, what: string, port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw meshError(scope, 'CM106', `${what} ${port} is not a TCP port number`, 'use a whole number from 1 to 65535');
  }
  return port;
}

function enumName(protocol: Protocol): string {
  return Object.entries(Protocol).find(([, v]) => v === protocol)?.[0] ?? protocol;
}

/** `Service port 8080 (container port 8081), Service port 9090` for errors. */
export function describePorts(service: { readonly ports: MeshServicePort[] }): string {
  return service.ports.map((p) => `Service port ${p.port}${p.targetPort !== p.port ? ` (container port ${p.targetPort})` : ''}`).join(', ');
}
