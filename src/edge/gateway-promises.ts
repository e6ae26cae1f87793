// Internal: what `exposeViaGateway` promises, proven at synth with the request simulator.
import type { ExposeViaGatewayOptions, GatewayListener, IngressGateway } from './ingress-gateway';
import { GatewayProtocol } from './ingress-gateway';
import { exampleHost, requestForMatch } from '../analysis/simulator/examples';
import type { RequestTrace, TraceRequest } from '../analysis/simulator/types';
import { toJson_VirtualServiceSpecHttpMatch } from '../imports/networking.istio.io';
import type { MeshService } from '../mesh/mesh-service';
import { brokeAt, type Declaration, type RequestPromise } from '../mesh/promises';
import { renderMatch } from '../render/http-route';
import { preflightPromise } from '../traffic/cors-rules';
import { HttpMatch, PathMatch } from '../traffic/match';

/** One `exposeViaGateway` call, as the gateway recorded it. */
export interface ExposedRoute {
  readonly service: MeshService;
  readonly options: ExposeViaGatewayOptions;
  readonly hosts: string[];
  readonly listener: GatewayListener;
}

/**
 * `service.exposeViaGateway(gateway, { hosts, paths | matches })` promises that each declared host and match, entering
 * at the gateway's listener (HTTPS with TLS, with a token where the service's RequestAuthentication accepts one),
 * reaches a pod of the service. One request per host and match; a regex path no single request stands for is skipped.
 */
/** The gateways each service is exposed through, recorded as the exposures are declared. */
const EXPOSURES = new WeakMap<MeshService, Array<{ gateway: IngressGateway; route: ExposedRoute; entryPort: number }>>();

/**
 * Where a request to `service` enters each gateway that exposes it (HTTP listeners only): the gateway, the listener
 * port and TLS, and a host of the route; the caller adds the method, path and token. For the promises of other
 * declarations (a JWT requirement must hold for ingress traffic too).
 */
export function gatewayEntriesFor(service: MeshService): Array<{ request: TraceRequest; paths: string[] }> {
  return (EXPOSURES.get(service) ?? [])
    .filter(({ route }) => route.listener.protocol !== GatewayProtocol.TCP && route.listener.protocol !== GatewayProtocol.TLS)
    .map(({ gateway, route, entryPort }) => ({
      request: {
        gateway: `${gateway.mesh.namespaceName}/${gateway.name}`,
        port: entryPort,
        tls: route.listener.protocol === GatewayProtocol.HTTPS,
        host: exampleHost(route.hosts[0]),
      },
      // A path of each declared match the gateway routes to the service.
      paths: (route.options.matches ?? (route.options.paths ?? [PathMatch.prefix('/')]).map((path) => ({ path })))
        .map((m) => requestForMatch(toJson_VirtualServiceSpecHttpMatch(renderMatch(service, exampleMatch(m))))?.path)
        .filter((p): p is string => p !== undefined),
    }));
}

/**
 * @param entryPort where clients connect: the gateway Service's port (the library's own gateway, or the one Istio deploys
 * for a Gateway API Gateway), or the listener port of a gateway deployed elsewhere
 */
export function gatewayExposureDeclaration(gateway: IngressGateway, route: ExposedRoute, entryPort: number): Declaration {
  const { service, options, listener } = route;
  const exposures = EXPOSURES.get(service) ?? [];
  EXPOSURES.set(service, exposures);
  exposures.push({ gateway, route, entryPort });
  return {
    code: 'CM506',
    what: `${service.name}.exposeViaGateway(${gateway.name})`,
    fix: `let the gateway's routes and its callers' admission come from the constructs only (another VirtualService bound to gateway "${gateway.name}", a Gateway selecting the same pods, or a JSON patch changes them), or change the exposure`,
    requests: (sim) => {
      const destination = `${service.mesh.namespaceName}/${service.name}`;
      const base: TraceRequest = {
        gateway: `${gateway.mesh.namespaceName}/${gateway.name}`,
        port: entryPort,
        tls: listener.protocol === GatewayProtocol.HTTPS || listener.protocol === GatewayProtocol.TLS,
        // A token the service's requirement accepts, else one the gateway's own requirement does.
        token: sim._tokensFor(destination)[0] ?? sim._tokensForGateway(`${gateway.mesh.namespaceName}/${gateway.name}`)[0],
      };
      const port = service.ports.length > 1 ? (options.port ?? service.port) : undefined;
      const expect = (t: RequestTrace) => reachesService(t, service, port);
      const out: RequestPromise[] = [];
      const hosts = route.hosts.map(exampleHost);
      if (listener.protocol === GatewayProtocol.TCP || listener.protocol === GatewayProtocol.TLS) {
        for (const host of listener.protocol === GatewayProtocol.TLS ? hosts : [undefined]) {
          out.push({ request: { ...base, host, sni: host, tcp: true }, promise: `reaches service "${service.name}"`, expect });
        }
        return out;
      }
      const declared = options.matches ?? (options.paths ?? [PathMatch.prefix('/')]).map((path) => ({ path }));
      for (const host of hosts) {
        for (const match of declared) {
          const example = requestForMatch(toJson_VirtualServiceSpecHttpMatch(renderMatch(service, exampleMatch(match))));
          if (!example) continue;
          const headers = Object.keys(example.headers).length ? example.headers : undefined;
          const request: TraceRequest = { ...base, host, method: example.method ?? 'GET', path: example.path, headers };
          out.push({ request, promise: `reaches service "${service.name}"`, expect });
          const preflight = preflightPromise(options.corsPolicy, request);
          if (preflight) out.push(preflight);
        }
      }
      return out;
    },
  };
}

function reachesService(t: RequestTrace, service: MeshService, port?: number): string | undefined {
  if (!t.allowed) return brokeAt(t);
  // The service's own host, or (routing by version with the Gateway API) the Service of one of its versions.
  const hosts = new Set([service.host, ...service.versions.map((v) => `${service.name}-${v.name}.${service.mesh.namespaceName}.svc.cluster.local`)]);
  const elsewhere = t.destinations.filter((d) => !hosts.has(d.destination.host));
  if (elsewhere.length === 0) {
    // A multi-port service: the port the route names.
    const wrongPort = port === undefined ? undefined : t.destinations.find((d) => d.destination.port !== port);
    return wrongPort ? `traced, ${t.route?.object ? `rule ${t.route.field} of ${t.route.object.kind} ${t.route.object.namespaceName}/${t.route.object.name}` : 'the gateway'} sends it to port ${wrongPort.destination.port}, not ${port}` : undefined;
  }
  return `traced, ${t.route?.object ? `rule ${t.route.field} of ${t.route.object.kind} ${t.route.object.namespaceName}/${t.route.object.name}` : 'the gateway'} sends it to ${elsewhere.map((d) => d.destination.host).join(', ')}`;
}

/** A match to take an example request from: a prefix of whole path elements is met by the prefix itself. */
function exampleMatch(m: HttpMatch): HttpMatch {
  return m.path?.wholeSegments ? { ...m, path: PathMatch.prefix(m.path.value) } : m;
}
