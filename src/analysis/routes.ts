import { Res } from './manifests';

/** One destination a VirtualService sends traffic to, with the field path of its `destination` object. */
export interface RouteDestination {
  readonly destination: any;
  readonly path: string;
  /** `http`, `tcp` or `tls`. */
  readonly protocol: string;
  readonly ruleIndex: number;
  readonly mirror: boolean;
  readonly weight?: number;
}

/** Route destinations in Istio's order (tcp, tls, http), then http mirrors. */
export function routeDestinations(vs: Res): RouteDestination[] {
  const out: RouteDestination[] = [];
  for (const protocol of ['tcp', 'tls', 'http']) {
    (vs.spec[protocol] ?? []).forEach((rule: any, i: number) => {
      (rule?.route ?? []).forEach((route: any, j: number) => {
        out.push({
          destination: route?.destination ?? {},
          path: `spec.${protocol}[${i}].route[${j}].destination`,
          protocol,
          ruleIndex: i,
          mirror: false,
          weight: route?.weight,
        });
      });
    });
  }
  (vs.spec.http ?? []).forEach((rule: any, i: number) => {
    if (rule?.mirror) out.push({ destination: rule.mirror, path: `spec.http[${i}].mirror`, protocol: 'http', ruleIndex: i, mirror: true });
    (rule?.mirrors ?? []).forEach((m: any, j: number) => {
      out.push({ destination: m?.destination ?? {}, path: `spec.http[${i}].mirrors[${j}].destination`, protocol: 'http', ruleIndex: i, mirror: true });
    });
  });
  return out;
}

/** A VirtualService applies to sidecars when it names no gateway, or names `mesh`. */
export function isMeshBound(vs: Res): boolean {
  const gateways: string[] = vs.spec.gateways ?? [];
  return gateways.length === 0 || gateways.includes('mesh');
}

/** Go duration syntax as Istio accepts it (`1.5s`, `500ms`, `1m30s`); undefined when absent or unparseable. */
export function durationMillis(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  let total = 0;
  let rest = value;
  while (rest.length > 0) {
    const m = /^(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|ns)/.exec(rest);
    if (!m) return undefined;
    total += parseFloat(m[1]) * units[m[2]];
    rest = rest.slice(m[0].length);
  }
  return total;
}
