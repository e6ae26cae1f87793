// Internal: what an ExternalService and the `callsTo` that name it promise, proven at synth with the request simulator.
import type { ExternalService } from './external-service';
import { exampleHost } from '../analysis/simulator/examples';
import { TraceStepKind, type RequestTrace, type TraceRequest } from '../analysis/simulator/types';
import { OutboundTrafficPolicy } from '../mesh/mesh';
import { declaredCallersOf, reached, type Declaration, type RequestPromise } from '../mesh/promises';
import { isHttpProtocol, Protocol } from '../mesh/protocol';

/**
 * An ExternalService promises that every service that declares a call to it (`callsTo`) reaches each of its hosts
 * (on its first port), and, where the mesh scopes sidecars under REGISTRY_ONLY, that a service of the mesh that
 * declares no such call is refused by its own proxy (one such service is traced).
 */
export function externalServiceDeclaration(external: ExternalService): Declaration {
  return {
    code: 'CM517',
    what: `external service "${external.name}"`,
    fix: 'let egress come from the constructs only (another Sidecar, ServiceEntry or a JSON patch changes which hosts the proxies let out), or declare the call with callsTo',
    requests: () => {
      const port = external.ports[0];
      const http = isHttpProtocol(port.protocol);
      const tls = port.protocol === Protocol.HTTPS || port.protocol === Protocol.TLS;
      const callers = declaredCallersOf(external);
      const out: RequestPromise[] = [];
      for (const host of external.hosts.map(exampleHost)) {
        const request = (ns: string, name: string): TraceRequest => ({ source: `${ns}/${name}`, host, port: port.number, tcp: !http, sni: tls ? host : undefined });
        for (const caller of callers) {
          out.push({ request: request(caller.mesh.namespaceName, caller.name), promise: `reaches ${host} (${caller.name} calls it)`, expect: reached });
        }
        const mesh = external.mesh;
        const stranger = mesh.scopeSidecars && mesh.outboundTrafficPolicy === OutboundTrafficPolicy.REGISTRY_ONLY
          ? mesh.services.find((s) => !callers.includes(s)) : undefined;
        if (stranger) {
          out.push({
            request: request(mesh.namespaceName, stranger.name),
            promise: `is refused (${stranger.name} declares no call to it)`,
            expect: refusedByEgress,
          });
        }
      }
      return out;
    },
  };
}

/** Refused by the caller's own proxy (its Sidecar's egress hosts, REGISTRY_ONLY), not further on. */
function refusedByEgress(t: RequestTrace): string | undefined {
  return t.steps.some((s) => s.kind === TraceStepKind.EGRESS && !s.passed) ? undefined
    : `traced, the caller's proxy lets it out (${t.outcome}${t.status !== undefined ? ` ${t.status}` : ''}): ${t.explanation}`;
}
