import { Res } from '../manifests';
import { fullName, push } from '../model';
import { portProtocol } from '../protocols';
import { Check, list } from './check';

/** Labels of Services Istio creates for Gateway API gateways and waypoints. */
const MANAGED_GATEWAY = new Set(['istio.io-gateway-controller', 'istio.io-mesh-controller', 'istio.io-eastwest-controller']);

/** Istio's own control-plane objects carry an `istio` label or `release: istio`. */
export function isControlPlane(res: Res): boolean {
  return 'istio' in res.labels || res.labels.release === 'istio';
}

/** IST0118 / IST0150: Service ports whose protocol Istio cannot tell from the name or appProtocol. */
export const portNames: Check = {
  analyzer: 'service.PortNameAnalyzer',
  run(ctx) {
    for (const svc of ctx.index.of('Service')) {
      if (isControlPlane(svc) || MANAGED_GATEWAY.has(svc.labels['gateway.istio.io/managed'])) continue;
      const externalName = svc.spec.type === 'ExternalName';
      const bad = (svc.spec.ports ?? []).map((p: any, i: number) => ({ p, i }))
        .filter(({ p }: any) => portProtocol(p) === undefined || (externalName && p.name === 'tcp'));
      if (externalName && bad.length > 0) {
        ctx.report('IST0150', svc, `spec.ports[${bad[0].i}]`,
          `ExternalName Service port ${bad.map(({ p }: any) => p.name ? `"${p.name}"` : p.port).join(', ')} is named "tcp" or has no protocol prefix: the proxy may not forward its TCP traffic correctly.`,
          'Name the port after its protocol, e.g. "https" or "tls-db", or set appProtocol.');
        continue;
      }
      for (const { p, i } of bad) {
        ctx.report('IST0118', svc, `spec.ports[${i}]`,
          `Port ${p.name ? `"${p.name}"` : '(unnamed)'} (port ${p.port}, targetPort ${p.targetPort ?? p.port}) does not follow Istio's <protocol>[-<suffix>] naming and sets no appProtocol, so Istio sniffs the protocol.`,
          `Name the port after its protocol (e.g. "http-${p.name || 'web'}", "grpc", "tcp-db") or set appProtocol.`);
      }
    }
  },
};

/**
 * IST0116 / IST0137: an in-mesh workload selected by several Services that use one port with different protocols,
 * or one targetPort behind different Service ports.
 */
export const servicesPerWorkload: Check = {
  analyzer: 'deployment.MultiServiceAnalyzer',
  run(ctx) {
    for (const w of ctx.index.workloads) {
      if (w.res.kind === 'Pod' || w.dataplane !== 'sidecar') continue;
      const services = ctx.index.servicesSelecting(w);
      const protocols = new Map<number, Map<string, Res[]>>();
      const targets = new Map<string, Map<number, Res>>();
      for (const svc of services) {
        for (const p of svc.spec.ports ?? []) {
          const byProtocol = protocols.get(p.port) ?? new Map<string, Res[]>();
          const proto = p.protocol ?? 'TCP';
          push(byProtocol, proto, svc);
          protocols.set(p.port, byProtocol);
          const target = String(p.targetPort ?? p.port);
          const byPort = targets.get(target) ?? new Map<number, Res>();
          byPort.set(p.port, svc);
          targets.set(target, byPort);
        }
      }
      const path = `${w.podSpecPath.replace(/\.spec$/, '')}.metadata.labels`;
      for (const [port, byProtocol] of protocols) {
        if (byProtocol.size < 2) continue;
        const names = [...byProtocol].flatMap(([proto, svcs]) => svcs.map((s) => `${fullName(s)} (${proto})`)).sort();
        ctx.report('IST0116', w.res, path,
          `Services ${list(names)} select these pods and use port ${port} with different protocols; the mesh cannot serve both.`,
          `Use one protocol for port ${port} in every Service that selects these pods, or narrow the Service selectors.`);
      }
      for (const [target, byPort] of targets) {
        if (byPort.size < 2) continue;
        const names = [...byPort].map(([port, s]) => `${fullName(s)} (port ${port})`).sort();
        ctx.report('IST0137', w.res, path,
          `Services ${list(names)} select these pods and send targetPort ${target} from different ports; Istio requires the same port for one targetPort.`,
          `Expose targetPort ${target} under the same port number in every Service, or use separate workloads.`);
      }
    }
  },
};
