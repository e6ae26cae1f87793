import { Manifest, fqdn } from './manifests';

/**
 * An Istio sample object as the library would write it: short hosts as FQDNs (Istio resolves
 * them in the object's namespace, `namespace` here) and no `weight: 100` on a lone destination
 * (Istio's default). Samples written this way can be compared with `toMatchObject`: every field
 * of the sample must be in our output with the same value; our output may add fields the
 * sample leaves to Istio's defaults (such as an explicit retry policy).
 */
export function normalizeSample(sample: Manifest, namespace: string): Manifest {
  const spec = sample.spec ?? {};
  const host = (h: string) => fqdn(h, namespace);
  const routes = (rules: any[] | undefined) => rules?.map((rule) => ({
    ...rule,
    route: rule.route?.map((r: any, _i: number, all: any[]) => {
      const { weight, ...rest } = r;
      const out = { ...rest, destination: { ...r.destination, host: host(r.destination.host) } };
      return all.length === 1 && (weight === 100 || weight === undefined) ? out : { ...out, weight };
    }),
    mirror: rule.mirror && { ...rule.mirror, host: host(rule.mirror.host) },
  }));
  switch (sample.kind) {
    case 'VirtualService':
      return { ...sample, spec: { ...spec, hosts: spec.hosts?.map(host), http: routes(spec.http), tcp: routes(spec.tcp), tls: routes(spec.tls) } };
    case 'DestinationRule':
      return { ...sample, spec: { ...spec, host: host(spec.host) } };
    default:
      return sample;
  }
}

/** `sample` without keys whose value is undefined (so toMatchObject does not require them). */
export function defined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value));
}
