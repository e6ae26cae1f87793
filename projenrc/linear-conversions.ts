/**
 * Rewrites the toJson_* conversions that `cdk8s import` generates so each costs one pass.
 *
 * Generated:
 *
 *     const result = {
 *       'name': obj.name,
 *       'labels': ((obj.labels) === undefined) ? undefined : (Object.entries(obj.labels).reduce((r, i) => (i[1] === undefined) ? r : ({ ...r, [i[0]]: i[1] }), {})),
 *     };
 *     // filter undefined values
 *     return Object.entries(result).reduce((r, i) => (i[1] === undefined) ? r : ({ ...r, [i[0]]: i[1] }), {});
 *
 * Rewritten (same keys, same order, same values):
 *
 *     const result: Record<string, any> = {};
 *     let value: any;
 *     value = obj.name; if (value !== undefined) result['name'] = value;
 *     value = jsonMap(obj.labels, (v) => v); if (value !== undefined) result['labels'] = value;
 *     return result;
 *
 * `jsonMap` comes from src/internal/json-map.ts, imported after the generated imports. The input
 * may also be a file this function already rewrote (it is then returned unchanged).
 * Throws when a conversion has a shape it does not know, so a new cdk8s version cannot slip
 * through half converted.
 */
export function convertLinearly(generated: string, file: string): string {
  const REDUCE = String.raw`Object\.entries\(([^()]+)\)\.reduce\(\(r, i\) => \(i\[1\] === undefined\) \? r : \(\{ \.\.\.r, \[i\[0\]\]: (i\[1\]|toJson_\w+\(i\[1\]\)) \}\), \{\}\)`;
  const MAP = new RegExp(String.raw`\(\(([^()]+)\) === undefined\) \? undefined : \(${REDUCE}\)`, 'g');
  const BLOCK = new RegExp(String.raw`  const result = \{\n((?:    '[^']*': .*,\n)*)  \};\n  // filter undefined values\n  return ${REDUCE};\n`, 'g');

  let source = generated.replace(BLOCK, (_block, fields: string, filtered: string, keep: string) => {
    if (filtered !== 'result' || keep !== 'i[1]') throw new Error(`${file}: unexpected filter of a toJson_* result`);
    const lines = fields.split('\n').filter((line) => line.length > 0).map((line) => {
      const field = /^    '([^']*)': (.*),$/.exec(line);
      if (!field) throw new Error(`${file}: unexpected field line in a toJson_* function: ${line}`);
      const expression = field[2].replace(MAP, (_m, tested: string, mapped: string, value: string) => {
        if (tested !== mapped) throw new Error(`${file}: unexpected map conversion: ${field[2]}`);
        return `jsonMap(${mapped}, (v) => ${value === 'i[1]' ? 'v' : value.replace('i[1]', 'v')})`;
      });
      if (expression.includes('reduce(')) throw new Error(`${file}: unexpected conversion left: ${field[2]}`);
      return `  value = ${expression}; if (value !== undefined) result['${field[1]}'] = value;`;
    });
    return `  const result: Record<string, any> = {};\n  let value: any;\n${lines.join('\n')}\n  return result;\n`;
  });

  if (/filter undefined values/.test(source)) throw new Error(`${file}: a toJson_* function has an unexpected shape`);
  if (source.includes('jsonMap(') && !source.includes(JSON_MAP_IMPORT)) {
    if (!source.includes(CONSTRUCTS_IMPORT)) throw new Error(`${file}: no "${CONSTRUCTS_IMPORT}" line to import jsonMap after`);
    source = source.replace(CONSTRUCTS_IMPORT, `${CONSTRUCTS_IMPORT}\n${JSON_MAP_IMPORT}`);
  }
  return source;
}

/** The last import line of a generated file. */
const CONSTRUCTS_IMPORT = "import { Construct } from 'constructs';";
/** The map conversion the rewritten functions share (src/internal/json-map.ts). */
const JSON_MAP_IMPORT = "import { jsonMap } from '../internal/json-map';";
