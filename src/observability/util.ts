// Small helpers for deterministic output (internal: not exported from the package).

/** `obj` without its undefined values. */
export function compact<T extends { [key: string]: any }>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

/** The entries of a map, sorted by key (deterministic output whatever the insertion order). */
export function sortedEntries<T>(map: { [key: string]: T }): [string, T][] {
  return Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A copy of `map` with its keys sorted. */
export function sortedObject<T>(map: { [key: string]: T }): { [key: string]: T } {
  return Object.fromEntries(sortedEntries(map));
}

/** The names Istio's own MeshConfig always defines (`prometheus`, `stackdriver`, `envoy`). */
export const BUILT_IN_PROVIDER_NAMES = ['prometheus', 'stackdriver', 'envoy'];

/**
 * A Prometheus duration (`15s`, `5m`, `1h30m`, `250ms`), as the prometheus-operator CRDs and
 * PromQL range selectors take it.
 */
export function promDuration(milliseconds: number): string {
  if (milliseconds === 0) return '0';
  const units: [string, number][] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]];
  let rest = milliseconds;
  let out = '';
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
