// Internal: what a route promises (routeTraffic / TrafficSplit), proven at synth with the request simulator.
import { preflightPromise } from './cors-rules';
import type { TrafficSplit } from './traffic-split';
import { requestForMatch } from '../analysis/simulator/examples';
import { RequestTrace, TraceDestination, TraceOutcome, TraceRequest, TraceStepKind } from '../analysis/simulator/types';
import { toJson_VirtualServiceSpecHttpMatch } from '../imports/networking.istio.io';
import { istioDuration } from '../internal/duration';
import { brokeAt, declaredCallersOf, Declaration, RequestPromise } from '../mesh/promises';
import { isHttpProtocol, isTlsProtocol, Protocol } from '../mesh/protocol';
import type { MeshServicePort } from '../mesh/service-port';
import { renderMatch } from '../render/http-route';

/**
 * A route promises that the requests its matches select reach the declared versions with the declared weights, under
 * the declared timeout, retries, fault and mirror (or are redirected, answered, or aborted as declared). Each match is
 * traced with a request it selects, from a caller that would send it: the match's source workload, a service that
 * declared a call to this one, or an identity of the service's namespace.
 */
export function routeDeclaration(route: TrafficSplit, index: number): Declaration {
  const service = route.service;
  const o = route._options;
  const what = `${o.name ? `route "${o.name}"` : route.isCatchAll ? 'the catch-all route' : `route ${index}`} of service "${service.name}"`;
  return {
    code: 'CM228',
    what,
    fix: 'let the routes of a host come from its constructs only (another VirtualService or a JSON patch of this one changes what they do), or change the route',
    requests: () => {
      const http = isHttpProtocol(route.protocol);
      const matches = http && o.matches?.length ? o.matches : [undefined];
      const out: RequestPromise[] = [];
      for (const port of tracedPorts(route)) {
        for (const match of matches) {
          const example = match ? requestForMatch(toJson_VirtualServiceSpecHttpMatch(renderMatch(service, match))) : { path: '/', headers: {} };
          if (!example) continue; // a regex path: no single request stands for it
          const request: TraceRequest = {
            ...callerFor(route, match?.sourceWorkload),
            host: `${service.host}:${port.port}`,
            // Every gRPC call is a POST (gRPC over HTTP/2).
            method: example.method ?? (port.protocol === Protocol.GRPC ? 'POST' : 'GET'),
            path: example.path,
            headers: Object.keys(example.headers).length ? example.headers : undefined,
            tcp: !http,
          };
          out.push({ request, promise: promiseText(route), expect: (t) => kept(route, t) });
          const preflight = http ? preflightPromise(o.corsPolicy, request) : undefined;
          if (preflight) out.push(preflight);
        }
      }
      return out;
    },
  };
}

/**
 * The ports a route takes requests on: its own port; else every port of the service in its protocol family (the route
 * is written once per port), but for a catch-all not the ports that have a route of their own without matches.
 */
function tracedPorts(route: TrafficSplit): MeshServicePort[] {
  const service = route.service;
  if (route.servicePort) return [route.servicePort];
  const http = isHttpProtocol(route.protocol);
  const ownCatchAll = (port: number) => service._routing.routesOn(port).some((r) => !r._options.matches?.length);
  return service.ports.filter((p) => isHttpProtocol(p.protocol) === http && isTlsProtocol(p.protocol) === isTlsProtocol(route.protocol)
    && !(route.isCatchAll && service.ports.length > 1 && ownCatchAll(p.port)));
}

function callerFor(route: TrafficSplit, source: any): Partial<TraceRequest> {
  const service = route.service;
  if (source) {
    // A ServiceVersion (its Deployment) or a MeshService (its default version's).
    const version = source.deployment ? source : source.defaultVersion;
    const mesh = (version?.service ?? source).mesh;
    if (version?.deployment && mesh) return { source: `${mesh.namespaceName}/${version.deployment.name}` };
  }
  const caller = declaredCallersOf(service).find((c) => c !== service);
  if (caller) return { source: `${caller.mesh.namespaceName}/${caller.name}` };
  return { sourcePrincipal: `${service.mesh.trustDomain}/ns/${service.mesh.namespaceName}/sa/default` };
}

function promiseText(route: TrafficSplit): string {
  const o = route._options;
  if (o.redirect) return `is redirected (${o.redirect.redirectCode ?? 301})`;
  if (o.directResponse) return `is answered ${o.directResponse.status} by the route`;
  const parts = (o.destinations ?? []).map((d) => `${d.version.name}${(o.destinations ?? []).length > 1 ? ` ${d.weight}%` : ''}`);
  const extra = [o.timeout ? `timeout ${istioDuration(o.timeout)}` : '', o.retry ? `${o.retry.attempts} retries` : '', o.fault ? 'the fault' : '', o.mirror ? 'a mirror' : '']
    .filter((x) => x);
  return `goes to ${parts.join(', ')}${extra.length ? ` with ${extra.join(', ')}` : ''}`;
}

/** Why the trace does not keep the route's promise, or undefined. */
function kept(route: TrafficSplit, t: RequestTrace): string | undefined {
  const o = route._options;
  const service = route.service;
  // The host's one route object: its VirtualService, or its HTTPRoute/TCPRoute with the Gateway API.
  const routeObject = service.virtualService ?? service.gatewayRoute;
  const vsName = routeObject?.name;
  const kind = routeObject?.kind ?? 'VirtualService';
  if (o.redirect) return t.outcome === TraceOutcome.REDIRECTED && t.status === (o.redirect.redirectCode ?? 301) ? undefined : brokeAt(t);
  if (o.directResponse) return t.outcome === TraceOutcome.DIRECT_RESPONSE && t.status === o.directResponse.status ? undefined : brokeAt(t);
  const abortAll = o.fault?._spec.httpStatus !== undefined && (o.fault._spec.abortPercent ?? 100) >= 100;
  if (abortAll) return t.outcome === TraceOutcome.ABORTED ? undefined : brokeAt(t);
  if (!t.route && refusedAtWaypoint(t)) return undefined;
  if (!t.route) return brokeAt(t);
  if (t.route.object?.name !== vsName || t.route.object?.kind !== kind) {
    return `traced, ${t.route.object ? `${t.route.object.kind} ${t.route.object.namespaceName}/${t.route.object.name}` : 'the default route'} routes it (${t.route.field ?? 'no rule'}), not the service's ${kind} ${vsName}`;
  }
  // A 0% destination receives nothing, whether or not the output lists it.
  const all = o.destinations ?? [];
  const declared = all.filter((d) => all.length === 1 || (d.weight ?? 0) > 0).map((d) => `${d.version.name}:${all.length > 1 ? d.weight : 100}`).sort();
  const got = t.destinations.filter((d) => d.destination.weightPercent > 0)
    .map((d) => `${versionOf(route, d.destination) ?? '(no subset)'}:${Math.round(d.destination.weightPercent)}`).sort();
  if (declared.join() !== got.join()) {
    return `traced, rule ${t.route.field} of ${kind} ${vsName} sends it to ${got.join(', ') || 'nothing'} instead of ${declared.join(', ')}`;
  }
  if (o.timeout && Math.abs((durationMillis(t.route.timeout) ?? -1) - o.timeout.toMilliseconds({ integral: false })) > 0.001) return `traced, the route in effect has timeout ${t.route.timeout ?? 'none'}`;
  if (o.retry && t.route.retries?.attempts !== o.retry.attempts) return `traced, the route in effect retries ${t.route.retries?.attempts ?? 0} times`;
  if (o.fault && !t.route.fault) return 'traced, the route in effect injects no fault';
  if (o.mirror && t.route.mirrors.length === 0) return 'traced, the route in effect mirrors nothing';
  return undefined;
}

/**
 * True when a waypoint refused the request before routing it (authentication or authorization of an ambient
 * namespace come before the waypoint's routes): who may call is the promise of allowFrom and JwtAuth, proven on its
 * own; a sidecar routes first, so there the route is traced for any caller.
 */
function refusedAtWaypoint(t: RequestTrace): boolean {
  const failed = t.steps.find((s) => !s.passed);
  return failed !== undefined && /^waypoint /.test(failed.proxy)
    && (failed.kind === TraceStepKind.AUTHORIZATION || failed.kind === TraceStepKind.AUTHENTICATION);
}

/**
 * The version a traced destination reaches: its DestinationRule subset, or (Gateway API routes) the version whose
 * Service `<service>-<version>` it is, or the one version of a service routed by its own Service.
 */
function versionOf(route: TrafficSplit, d: TraceDestination): string | undefined {
  if (d.subset !== undefined) return d.subset;
  const service = route.service;
  const name = d.host.split('.')[0];
  if (d.host === service.host && service.versions.length === 1) return service.defaultVersion.name;
  return service.versions.find((v) => name === `${service.name}-${v.name}` && d.host === `${name}.${service.mesh.namespaceName}.svc.cluster.local`)?.name;
}

/** Milliseconds of an Istio (`0.5s`) or Gateway API (`1m30s`, `500ms`) duration. */
function durationMillis(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const units: { [u: string]: number } = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  for (const [, n, u] of text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) total += Number(n) * units[u];
  return total;
}

