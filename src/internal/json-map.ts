// Internal: the map conversion of the generated Istio bindings (src/imports), written there by
// import:istio (projenrc/linear-conversions.ts). Not exported from the package.

/** A map without its undefined values, each value converted. */
export function jsonMap(map: { [key: string]: any } | undefined, convert: (value: any) => any): Record<string, any> | undefined {
  if (map === undefined) { return undefined; }
  const out: Record<string, any> = {};
  for (const key of Object.keys(map)) {
    const value = map[key];
    if (value !== undefined) out[key] = convert(value);
  }
  return out;
}
