/**
 * Orders strings by UTF-16 code units, the same on every machine. `localeCompare` follows the
 * locale of the machine that synthesizes (under en-US `a` sorts before `B` and `x_y` before
 * `x-y`; other locales order letters and punctuation differently), which would let the order of
 * written output depend on where it was produced; it is also many times slower.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
