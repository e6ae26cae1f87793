// The import:istio post-processing (projenrc/linear-conversions.ts) must not change what the
// generated toJson_* conversions return: same keys, same order, same values.
import * as ts from 'typescript';
import { convertLinearly } from '../../projenrc/linear-conversions';
import * as jsonMapModule from '../../src/internal/json-map';

// Two conversions in the shape `cdk8s import` generates (a nested object, a list, a map of
// plain values and a map of converted values).
const GENERATED = `
import { Construct } from 'constructs';
export function toJson_Port(obj) {
  if (obj === undefined) { return undefined; }
  const result = {
    'name': obj.name,
    'number': obj.number,
  };
  // filter undefined values
  return Object.entries(result).reduce((r, i) => (i[1] === undefined) ? r : ({ ...r, [i[0]]: i[1] }), {});
}
export function toJson_Spec(obj) {
  if (obj === undefined) { return undefined; }
  const result = {
    'hosts': obj.hosts?.map(y => y),
    'labels': ((obj.labels) === undefined) ? undefined : (Object.entries(obj.labels).reduce((r, i) => (i[1] === undefined) ? r : ({ ...r, [i[0]]: i[1] }), {})),
    'port': toJson_Port(obj.port),
    'ports': ((obj.ports) === undefined) ? undefined : (Object.entries(obj.ports).reduce((r, i) => (i[1] === undefined) ? r : ({ ...r, [i[0]]: toJson_Port(i[1]) }), {})),
    'weight': obj.weight,
  };
  // filter undefined values
  return Object.entries(result).reduce((r, i) => (i[1] === undefined) ? r : ({ ...r, [i[0]]: i[1] }), {});
}
`;

function load(source: string): { toJson_Spec: (obj: any) => any } {
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020 } }).outputText;
  const module = { exports: {} as any };
  // The rewritten code imports the shared map conversion; nothing else is needed to run either.
  const requireShared = (id: string) => (id === '../internal/json-map' ? jsonMapModule : {});
  new Function('module', 'exports', 'require', js)(module, module.exports, requireShared);
  return module.exports;
}

describe('linear toJson_* conversions (import:istio)', () => {
  const before = load(GENERATED);
  const rewritten = convertLinearly(GENERATED, 'sample.ts');
  const after = load(rewritten);

  test('every conversion is rewritten, without a per-key rebuild', () => {
    expect(rewritten).not.toContain('reduce(');
    expect(rewritten).not.toContain('filter undefined values');
    expect(rewritten).toContain("value = jsonMap(obj.ports, (v) => toJson_Port(v)); if (value !== undefined) result['ports'] = value;");
    expect(rewritten).toContain("import { Construct } from 'constructs';\nimport { jsonMap } from '../internal/json-map';");
  });

  test.each([
    ['all fields', { hosts: ['a', 'b'], labels: { app: 'x', gone: undefined }, port: { name: 'http', number: 80 }, ports: { a: { number: 1 }, b: undefined }, weight: 0 }],
    ['no fields', {}],
    ['only some', { weight: 10, port: { number: 8080 } }],
    ['undefined', undefined],
  ])('same output as the generated code: %s', (_name, input) => {
    const expected = before.toJson_Spec(input);
    const actual = after.toJson_Spec(input);
    expect(actual).toEqual(expected);
    // Key order is what the YAML is written in.
    expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
  });

  test('a rewritten file is left as it is', () => {
    expect(convertLinearly(rewritten, 'sample.ts')).toBe(rewritten);
  });

  test('an unknown conversion shape is an error, not a half-converted file', () => {
    const unknown = GENERATED.replace("'weight': obj.weight,", "'weight': obj.weight,\n    'multi': [\n      obj.a],");
    expect(() => convertLinearly(unknown, 'sample.ts')).toThrow(/sample.ts: a toJson_\* function has an unexpected shape/);
    const otherMap = GENERATED.replace('toJson_Port(i[1]) })', 'String(i[1]) })');
    expect(() => convertLinearly(otherMap, 'sample.ts')).toThrow(/sample.ts: (unexpected conversion left|a toJson_\* function has an unexpected shape)/);
  });
});
