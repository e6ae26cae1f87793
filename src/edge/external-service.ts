import { isIP } from 'net';
import { ApiObject, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { meshError } from '../errors';
import { externalServiceDeclaration } from './external-promises';
import { checkExternalHost } from './hosts';
import {
  DestinationRule, DestinationRuleSpecTrafficPolicyPortLevelSettingsTlsMode, ServiceEntry, ServiceEntrySpecLocation,
  ServiceEntrySpecResolution, VirtualService, VirtualServiceSpecHttp,
} from '../imports/networking.istio.io';
import { istioDuration } from '../internal/duration';
import { requireDnsLabel, suggestDnsLabel } from '../internal/names';
import { CallTarget, ICallable } from '../mesh/dependency';
import { Mesh } from '../mesh/mesh';
import { declare } from '../mesh/promises';
import { Protocol, isHttpProtocol } from '../mesh/protocol';
import { renderRetries } from '../render/http-route';
import { RetryPolicy } from '../traffic/resilience';
import { checkDuration, checkRetryPolicy, checkWholeNumber } from '../traffic/validation';

/** The scheme of a Unix domain socket endpoint. */
const UNIX_PREFIX = 'unix://';

/** How the proxy finds the addresses of an external host. */
export enum Resolution {
  /** Resolve the host names with DNS (the usual choice for external APIs). */
  DNS = 'DNS',
  /** Resolve with DNS and use one address at a time. */
  DNS_ROUND_ROBIN = 'DNS_ROUND_ROBIN',
  /** Use the given `endpoints` addresses. */
  STATIC = 'STATIC',
  /** Forward to the address the application connected to. */
  NONE = 'NONE',
}

/** A port of an external service. */
export class ExternalPort {
  /** Plain HTTP (default 80). */
  public static http(port: number = 80): ExternalPort {
    return new ExternalPort(port, Protocol.HTTP);
  }

  /** HTTPS, i.e. TLS from the application (default 443). */
  public static https(port: number = 443): ExternalPort {
    return new ExternalPort(port, Protocol.HTTPS);
  }

  /** gRPC. */
  public static grpc(port: number): ExternalPort {
    return new ExternalPort(port, Protocol.GRPC);
  }

  /** TLS of another protocol, routed by SNI. */
  public static tls(port: number): ExternalPort {
    return new ExternalPort(port, Protocol.TLS);
  }

  /** Opaque TCP. */
  public static tcp(port: number): ExternalPort {
    return new ExternalPort(port, Protocol.TCP);
  }

  /** Any protocol. */
  public static of(port: number, protocol: Protocol): ExternalPort {
    return new ExternalPort(port, protocol);
  }

  /** The port number. */
  public readonly number: number;
  /** The protocol. */
  public readonly protocol: Protocol;

  private constructor(port: number, protocol: Protocol) {
    this.number = port;
    this.protocol = protocol;
  }
}

/**
 * TLS origination: the application speaks plain HTTP to the external host and the sidecar
 * encrypts the connection, so the mesh can see, route, retry and time out the requests.
 *
 * @see https://istio.io/latest/docs/tasks/traffic-management/egress/egress-tls-origination/
 */
export interface TlsOriginationOptions {
  /** The plain HTTP port the application calls (an HTTP port of the external service). */
  readonly port: number;

  /**
   * The TLS port of the external host.
   *
   * @default 443
   */
  readonly targetPort?: number;

  /**
   * CA bundle (a file path in the proxy) that verifies the server certificate.
   *
   * @default '/etc/ssl/certs/ca-certificates.crt' (the proxy image's system CAs)
   */
  readonly caCertificates?: string;
}

/** Properties of an {@link ExternalService}. */
export interface ExternalServiceProps {
  /** The mesh whose workloads call the service (its ServiceEntry lives in the mesh namespace). */
  readonly mesh: Mesh;

  /**
   * Name of the ServiceEntry (and of the VirtualService / DestinationRule, when written).
   *
   * @default - the construct id
   */
  readonly name?: string;

  /** Host names of the external service, e.g. `api.stripe.com` (not `*`). */
  readonly hosts: string[];

  /**
   * Ports.
   *
   * @default [ExternalPort.https()]
   */
  readonly ports?: ExternalPort[];

  /**
   * How addresses are found.
   *
   * @default Resolution.DNS
   */
  readonly resolution?: Resolution;

  /**
   * Virtual IP addresses or CIDR ranges of the service (needed for TCP ports to be told apart).
   * CIDR ranges only with `Resolution.STATIC` or `Resolution.NONE`.
   *
   * @default - none
   */
  readonly addresses?: string[];

  /**
   * Addresses of the service: IP addresses or Unix domain sockets (`unix:///var/run/app.sock`,
   * or an abstract `unix://@name`) for `Resolution.STATIC`, host names or IPs for
   * `Resolution.DNS` (at most one with `Resolution.DNS_ROUND_ROBIN`).
   *
   * @default - none
   */
  readonly endpoints?: string[];

  /**
   * Encrypt plain-HTTP calls to the service in the sidecar.
   *
   * @default - the application speaks to the service directly
   */
  readonly tlsOrigination?: TlsOriginationOptions;

  /**
   * Timeout for requests to the service (HTTP ports, or TLS origination).
   *
   * @default - no timeout
   */
  readonly timeout?: Duration;

  /**
   * Retry policy for requests to the service (HTTP ports, or TLS origination).
   *
   * @default - written out when a timeout or TLS origination makes a route: 2 attempts on
   * connect-failure and refused-stream only (the host never saw the request), since a call to
   * an external API may be a POST the host must not receive twice
   */
  readonly retry?: RetryPolicy;

  /**
   * Let the default retry policy retry requests the host may already have processed (Istio's
   * defaults: also on 503, unavailable and cancelled). Only for hosts whose every call is
   * idempotent.
   *
   * @default false
   */
  readonly allowNonIdempotentRetries?: boolean;
}

/**
 * A service outside the mesh that mesh workloads may call: an Istio `ServiceEntry`
 * (`MESH_EXTERNAL`), plus — for a timeout, retries or TLS origination — a VirtualService and
 * DestinationRule per host. Workloads declare it with `service.callsTo(external)`.
 *
 * @see https://istio.io/latest/docs/tasks/traffic-management/egress/egress-control/
 */
export class ExternalService extends Construct implements ICallable {
  /** The mesh. */
  public readonly mesh: Mesh;
  /** Name of the ServiceEntry. */
  public readonly name: string;
  /** The host names. */
  public readonly hosts: string[];
  /** The ports. */
  public readonly ports: ExternalPort[];
  /** The ServiceEntry. */
  public readonly serviceEntry: ApiObject;

  public constructor(scope: Construct, id: string, props: ExternalServiceProps) {
    super(scope, id);
    this.mesh = props.mesh;
    this.name = props.name ?? id;
    requireDnsLabel(this, 'external service name', this.name, true);
    this.hosts = props.hosts;
    this.ports = props.ports ?? [ExternalPort.https()];
    const resolution = props.resolution ?? Resolution.DNS;
    this.check(props, resolution);
    const namespace = this.mesh.namespaceName;

    this.serviceEntry = new ServiceEntry(this, 'ServiceEntry', {
      metadata: { name: this.name, namespace },
      spec: {
        hosts: this.hosts,
        addresses: props.addresses,
        ports: this.ports.map((p) => ({ number: p.number, name: this.portName(p), protocol: p.protocol.toUpperCase() })),
        location: ServiceEntrySpecLocation.MESH_EXTERNAL,
        resolution: resolution as string as ServiceEntrySpecResolution,
        endpoints: props.endpoints?.map((address) => ({ address })),
      },
    });

    declare(this, this.mesh, externalServiceDeclaration(this));

    const origination = props.tlsOrigination;
    if (!origination && !props.timeout && !props.retry) return;
    this.hosts.forEach((host, i) => {
      const name = this.hosts.length === 1 ? this.name : `${this.name}-${suggestDnsLabel(host)}`;
      const suffix = this.hosts.length === 1 ? '' : `${i + 1}`;
      const targetPort = origination?.targetPort ?? 443;
      const timeout = props.timeout && istioDuration(props.timeout);
      // The mesh does not know which methods the application sends to an external host.
      const retries = renderRetries(props.retry, !props.allowNonIdempotentRetries, false);
      // With several ports, each rule matches its port and names it (IST0112 otherwise).
      const several = this.ports.length > 1;
      const http: VirtualServiceSpecHttp[] = origination
        ? [{ match: [{ port: origination.port }], route: [{ destination: { host, port: { number: targetPort } } }], timeout, retries }]
        : this.ports.filter((p) => isHttpProtocol(p.protocol)).map((p) => ({
          match: several ? [{ port: p.number }] : undefined,
          route: [{ destination: { host, port: several ? { number: p.number } : undefined } }],
          timeout,
          retries,
        }));
      new VirtualService(this, `VirtualService${suffix}`, {
        metadata: { name, namespace },
        spec: { hosts: [host], http },
      });
      if (origination) {
        new DestinationRule(this, `DestinationRule${suffix}`, {
          metadata: { name, namespace },
          spec: {
            host,
            trafficPolicy: {
              portLevelSettings: [{
                port: { number: targetPort },
                tls: {
                  mode: DestinationRuleSpecTrafficPolicyPortLevelSettingsTlsMode.SIMPLE,
                  sni: host,
                  subjectAltNames: [host],
                  caCertificates: origination.caCertificates ?? '/etc/ssl/certs/ca-certificates.crt',
                },
              }],
            },
          },
        });
      }
    });
  }

  /** The hosts, defined in the mesh namespace. */
  public toCallTarget(): CallTarget {
    return { egressHosts: this.hosts.map((h) => `${this.mesh.namespaceName}/${h}`), description: `external service "${this.name}"` };
  }

  /** `http`, as Istio's samples name ports; `http-8080` when two ports share a protocol. */
  private portName(port: ExternalPort): string {
    const shared = this.ports.filter((p) => p.protocol === port.protocol).length > 1;
    return shared ? `${port.protocol}-${port.number}` : port.protocol;
  }

  /**
   * CM516: endpoints the API server or Istio's webhook rejects: a Unix socket path that is not
   * absolute (or abstract) or that names a directory (the CRD's "UDS must be an absolute path
   * or abstract socket", "UDS may not be a dir"), a STATIC endpoint that is neither an IP nor a
   * socket, and several endpoints with DNS_ROUND_ROBIN ("DNS_ROUND_ROBIN mode cannot have
   * multiple endpoints").
   */
  private checkEndpoints(endpoints: string[], resolution: Resolution): void {
    for (const address of endpoints) {
      if (address.startsWith(UNIX_PREFIX)) {
        const path = address.slice(UNIX_PREFIX.length);
        if (!path.startsWith('/') && !path.startsWith('@')) {
          throw meshError(this, 'CM516', `endpoint "${address}" is a relative Unix socket path; the API server accepts only absolute paths or abstract sockets`,
            `write the absolute path, e.g. "unix:///${path.replace(/^\.?\/*/, '')}" (three slashes), or an abstract socket "unix://@name"`);
        }
        if (path.endsWith('/')) {
          throw meshError(this, 'CM516', `endpoint "${address}" ends in "/", a directory, and the API server rejects it`,
            'name the socket file itself, e.g. "unix:///var/run/app.sock"');
        }
      } else if (resolution === Resolution.STATIC && !isIP(address)) {
        throw meshError(this, 'CM516', `endpoint "${address}" is not an IP address, which static resolution needs`,
          'give IP addresses (or unix:// sockets), or use Resolution.DNS for host names');
      }
    }
    if (resolution === Resolution.DNS_ROUND_ROBIN && endpoints.length > 1) {
      throw meshError(this, 'CM516', `DNS_ROUND_ROBIN resolution has ${endpoints.length} endpoints (${endpoints.join(', ')}), and the API server accepts at most one`,
        'keep one endpoint, or use Resolution.DNS, which load-balances over every endpoint');
    }
  }

  private check(props: ExternalServiceProps, resolution: Resolution): void {
    if (this.hosts.length === 0) {
      throw meshError(this, 'CM510', 'the external service has no hosts', 'list its host names, e.g. ["api.example.com"]');
    }
    for (const host of this.hosts) {
      checkExternalHost(this, 'CM510', 'host', host, false);
      if (host.startsWith('*') && (resolution === Resolution.DNS || resolution === Resolution.DNS_ROUND_ROBIN) && !props.endpoints?.length) {
        throw meshError(this, 'CM510', `host "${host}" is a wildcard, which DNS resolution cannot look up`, 'list the concrete host names, or use Resolution.NONE');
      }
    }
    if (this.ports.length === 0) throw meshError(this, 'CM511', 'the external service has no ports', 'list at least one, e.g. ExternalPort.https()');
    const seen = new Set<number>();
    for (const port of this.ports) {
      checkWholeNumber(this, 'CM511', 'port', port.number, 1, 65535);
      if (seen.has(port.number)) throw meshError(this, 'CM511', `port ${port.number} is listed twice`, 'list each port once');
      seen.add(port.number);
    }
    const opaque = this.ports.filter((p) => !isHttpProtocol(p.protocol) && p.protocol !== Protocol.HTTPS && p.protocol !== Protocol.TLS);
    if (opaque.length && this.hosts.length > 1 && resolution !== Resolution.NONE) {
      throw meshError(this, 'CM511', `TCP port ${opaque[0].number} is shared by ${this.hosts.length} hosts, which Istio cannot tell apart`,
        'declare one external service per host, or use Resolution.NONE with addresses');
    }
    for (const address of props.addresses ?? []) {
      if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(address)) {
        throw meshError(this, 'CM514', `address "${address}" is not an IP address or CIDR range`, 'use e.g. "10.0.0.5" or "10.0.0.0/24"');
      }
    }
    // The ServiceEntry CRD's rule: "CIDR addresses are allowed only for NONE/STATIC resolution types".
    const cidr = (props.addresses ?? []).find((a) => a.includes('/'));
    if (cidr !== undefined && resolution !== Resolution.STATIC && resolution !== Resolution.NONE) {
      throw meshError(this, 'CM515', `address "${cidr}" is a CIDR range but resolution is ${resolution}, and the API server accepts CIDR addresses only with NONE or STATIC resolution`,
        `use Resolution.NONE (forward to the address the application connected to) or Resolution.STATIC with endpoints, or give single IP addresses such as "${cidr.split('/')[0]}"`);
    }
    if (resolution === Resolution.STATIC && !props.endpoints?.length) {
      throw meshError(this, 'CM514', 'static resolution needs endpoints', 'list the endpoint addresses, or use Resolution.DNS');
    }
    if (props.endpoints?.length && resolution !== Resolution.STATIC && resolution !== Resolution.DNS && resolution !== Resolution.DNS_ROUND_ROBIN) {
      throw meshError(this, 'CM514', `endpoints are set but resolution is ${resolution}`, 'use Resolution.STATIC (IP endpoints) or Resolution.DNS (host endpoints)');
    }
    this.checkEndpoints(props.endpoints ?? [], resolution);
    checkDuration(this, 'timeout', props.timeout);
    if (props.retry) checkRetryPolicy(this, props.retry);
    const origination = props.tlsOrigination;
    if (origination) {
      const plain = this.ports.find((p) => p.number === origination.port);
      if (!plain || !isHttpProtocol(plain.protocol)) {
        throw meshError(this, 'CM513', `TLS origination starts on port ${origination.port}, which is not an HTTP port of the service`,
          `add ExternalPort.http(${origination.port}) to ports`);
      }
      checkWholeNumber(this, 'CM513', 'tlsOrigination.targetPort', origination.targetPort, 1, 65535);
      if (origination.targetPort === origination.port) {
        throw meshError(this, 'CM513', 'tlsOrigination.targetPort equals the plain port', 'originate TLS towards the service\'s TLS port, e.g. 443');
      }
    } else if ((props.timeout || props.retry) && !this.ports.some((p) => isHttpProtocol(p.protocol))) {
      throw meshError(this, 'CM512', 'a timeout or retry policy needs an HTTP port, but every port of the service is TLS or TCP, which the proxy cannot see into',
        'add an HTTP port with tlsOrigination, or remove timeout/retry');
    }
  }
}
