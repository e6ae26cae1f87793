import { MeshSpec, RouteSpec, ServiceSpec } from './mesh-spec';

/**
 * Mutations that turn a valid mesh spec into an invalid one, each mirroring a mistake users make.
 * `apply` returns undefined when the spec offers nothing to mutate; `pick` chooses the service.
 */
export interface Mutation {
  readonly name: string;
  apply(spec: MeshSpec, pick: number): MeshSpec | undefined;
}

const httpRoute: RouteSpec = { kind: 'header', value: 'alpha', version: 0 };

/** `spec` with service `i` changed by `change`. */
function withService(spec: MeshSpec, i: number, change: (s: ServiceSpec) => Partial<ServiceSpec>): MeshSpec {
  return { ...spec, services: spec.services.map((s, j) => (j === i ? { ...s, ...change(s) } : s)) };
}

/** Mutates an HTTP service chosen by `pick`, or gives up when there is none. */
function onHttpService(change: (s: ServiceSpec) => Partial<ServiceSpec>) {
  return (spec: MeshSpec, pick: number) => {
    const http = spec.services.map((s, i) => [s, i] as const).filter(([s]) => s.protocol !== 'tcp');
    if (http.length === 0) return undefined;
    return withService(spec, http[pick % http.length][1], change);
  };
}

function onMultiVersionService(change: (s: ServiceSpec) => Partial<ServiceSpec>) {
  return (spec: MeshSpec, pick: number) => {
    const candidates = spec.services.map((s, i) => [s, i] as const).filter(([s]) => s.versions > 1);
    if (candidates.length === 0) return undefined;
    return withService(spec, candidates[pick % candidates.length][1], change);
  };
}

export const mutations: Mutation[] = [
  { name: 'weights that do not sum to 100', apply: onMultiVersionService((s) => ({ split: Array.from({ length: s.versions }, () => 40) })) },
  { name: 'a negative weight', apply: onMultiVersionService((s) => ({ split: [120, -20, ...Array(s.versions - 2).fill(0)] })) },
  { name: 'all weights zero', apply: onMultiVersionService((s) => ({ split: Array(s.versions).fill(0) })) },
  { name: 'an upper-case service name', apply: (spec, pick) => withService(spec, pick % spec.services.length, (s) => ({ name: s.name.toUpperCase() })) },
  { name: 'a duplicate service name', apply: (spec) => (spec.services.length < 2 ? undefined : withService(spec, 1, () => ({ name: spec.services[0].name }))) },
  { name: 'a port above 65535', apply: (spec, pick) => withService(spec, pick % spec.services.length, () => ({ port: 65536 + pick })) },
  { name: 'port 0', apply: (spec, pick) => withService(spec, pick % spec.services.length, () => ({ port: 0 })) },
  { name: 'a timeout under 1ms', apply: onHttpService((s) => ({ route: { ...(s.route ?? httpRoute), retry: undefined, timeoutMs: 0.5 } })) },
  { name: 'a timeout in fractions of a millisecond', apply: onHttpService((s) => ({ route: { ...(s.route ?? httpRoute), retry: undefined, timeoutMs: 1.5 } })) },
  { name: 'negative retry attempts', apply: onHttpService((s) => ({ route: { ...(s.route ?? httpRoute), retry: { attempts: -1 } } })) },
  { name: 'a fault percentage above 100', apply: onHttpService(() => ({ fault: { delayMs: 100, percent: 150 } })) },
  { name: 'an abort status above 599', apply: onHttpService(() => ({ fault: { abortStatus: 600, percent: 10 } })) },
  { name: 'a max ejection percentage above 100', apply: (spec, pick) => withService(spec, pick % spec.services.length, () => ({ breaker: { ejectionPercent: 101 } })) },
  { name: 'a connection limit of 0', apply: (spec, pick) => withService(spec, pick % spec.services.length, () => ({ breaker: { maxConnections: 0 } })) },
  {
    name: 'a route to a version of another service',
    apply: (spec, pick) => {
      const http = spec.services.map((s, i) => [s, i] as const).filter(([s]) => s.protocol !== 'tcp');
      if (http.length === 0 || spec.services.length < 2) return undefined;
      const [, i] = http[pick % http.length];
      const other = (i + 1) % spec.services.length;
      return withService(spec, i, (s) => ({ route: { ...(s.route ?? httpRoute), version: 0, versionOf: other } }));
    },
  },
  { name: 'a sampling percentage above 100', apply: (spec, pick) => ({ ...spec, samplingPercent: 101 + pick }) },
];
