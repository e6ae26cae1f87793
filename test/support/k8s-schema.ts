/**
 * Closed JSON schemas for the core Kubernetes 1.27 kinds, derived offline.
 *
 * `cdk8s import k8s` needs the network, but cdk8s-plus-27 ships the generated k8s 1.27 L1
 * (`lib/imports/k8s.d.ts` + `k8s.js`). The d.ts has one interface per OpenAPI definition with
 * required/optional members; `k8s.js` has the `GVK` of every `Kube<Kind>` class and, in its
 * `toJson_<Interface>` functions, the JSON name of every member (the TS names are camel-cased:
 * `hostIPC` is `hostIpc`, `$ref` is `ref`, `x-kubernetes-list-type` is `xKubernetesListType`).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type * as TS from 'typescript';

/** What {@link loadCoreSchemas} returns (and what the cache file holds). */
export interface CoreSchemas {
  /** The cdk8s-plus-27 version the schemas were derived from. */
  readonly version: string;
  /** Draft-07 definitions, one per d.ts interface, every object closed. */
  readonly definitions: Record<string, object>;
  /** `<apiVersion>/<kind>` → name of its `Kube<Kind>Props` definition. */
  readonly kinds: Record<string, string>;
}

const PLUS_DIR = path.dirname(require.resolve('cdk8s-plus-27/package.json'));

/**
 * Returns the core schemas, from `cacheDir` when a cache for this cdk8s-plus-27 version and this
 * generator exists, otherwise generated (a few hundred ms) and written there.
 */
export function loadCoreSchemas(cacheDir: string): CoreSchemas {
  const version: string = JSON.parse(fs.readFileSync(path.join(PLUS_DIR, 'package.json'), 'utf8')).version;
  const generator = fs.readFileSync(__filename, 'utf8');
  const file = path.join(cacheDir, `k8s-${version}-${hash(generator)}.json`);
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8'));
  const schemas = generate(version);
  writeAtomically(file, JSON.stringify(schemas));
  return schemas;
}

function generate(version: string): CoreSchemas {
  // typescript is a 9 MB module: load it only on a cache miss, not in every jest worker.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts: typeof TS = require('typescript');
  const dir = path.join(PLUS_DIR, 'lib', 'imports');
  const js = fs.readFileSync(path.join(dir, 'k8s.js'), 'utf8');
  const source = ts.createSourceFile('k8s.d.ts', fs.readFileSync(path.join(dir, 'k8s.d.ts'), 'utf8'), ts.ScriptTarget.Latest);
  const jsonNames = parseJsonNames(js);

  const enums = new Map<string, string[]>();
  for (const s of source.statements) {
    if (ts.isEnumDeclaration(s)) {
      enums.set(s.name.text, s.members.map(m => (m.initializer as TS.StringLiteral).text));
    }
  }

  const typeSchema = (t: TS.TypeNode): object => {
    switch (t.kind) {
      case ts.SyntaxKind.StringKeyword: return { type: 'string' };
      case ts.SyntaxKind.NumberKeyword: return { type: 'number' };
      case ts.SyntaxKind.BooleanKeyword: return { type: 'boolean' };
      case ts.SyntaxKind.AnyKeyword: return {};
    }
    if (ts.isArrayTypeNode(t)) return { type: 'array', items: typeSchema(t.elementType) };
    if (ts.isTypeLiteralNode(t) && t.members.length === 1 && ts.isIndexSignatureDeclaration(t.members[0])) {
      return { type: 'object', additionalProperties: typeSchema(t.members[0].type) };
    }
    if (ts.isTypeReferenceNode(t) && ts.isIdentifier(t.typeName)) {
      const name = t.typeName.text;
      switch (name) {
        case 'IntOrString': return { type: ['integer', 'string'] };
        case 'Quantity': return { type: ['string', 'number'] };
        case 'Date': return { type: 'string', format: 'date-time' };
      }
      const values = enums.get(name);
      return values ? { type: 'string', enum: values } : { $ref: `#/definitions/${name}` };
    }
    throw new Error(`k8s.d.ts: unsupported type ${t.getText(source)}`);
  };

  const definitions: Record<string, object> = {};
  for (const s of source.statements) {
    if (!ts.isInterfaceDeclaration(s)) continue;
    const iface = s.name.text;
    const names = jsonNames.get(iface);
    if (!names) throw new Error(`k8s.js has no toJson_${iface}: cannot tell its JSON field names`);
    const properties: Record<string, object> = {};
    const required: string[] = [];
    for (const m of s.members) {
      if (!ts.isPropertySignature(m) || !m.type) throw new Error(`k8s.d.ts: unexpected member ${m.getText(source)} in ${iface}`);
      const tsName = m.name.getText(source);
      const jsonName = names.get(tsName);
      if (!jsonName) throw new Error(`k8s.js: toJson_${iface} does not write ${tsName}`);
      properties[jsonName] = typeSchema(m.type);
      if (!m.questionToken) required.push(jsonName);
    }
    definitions[iface] = { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false };
  }

  // The Kube<Kind>Props interfaces leave out apiVersion/kind (the L1 classes add them from GVK).
  const kinds: Record<string, string> = {};
  for (const m of js.matchAll(/\n(Kube\w+)\.GVK = \{\s*apiVersion: '([^']+)',\s*kind: '([^']+)',?\s*\}/g)) {
    const [, cls, apiVersion, kind] = m;
    const props = definitions[`${cls}Props`] as { properties: Record<string, object> } | undefined;
    if (!props) throw new Error(`k8s.d.ts has no ${cls}Props`);
    props.properties.apiVersion = { type: 'string' };
    props.properties.kind = { type: 'string' };
    kinds[`${apiVersion}/${kind}`] = `${cls}Props`;
  }
  if (Object.keys(kinds).length === 0) throw new Error('k8s.js: found no GVK declarations');
  return { version, definitions, kinds };
}

/**
 * Interface name → (TS member name → JSON name), read from the `toJson_<Interface>` functions,
 * whose result literal has one line per member: `'hostIPC': obj.hostIpc,`.
 */
function parseJsonNames(js: string): Map<string, Map<string, string>> {
  const result = new Map<string, Map<string, string>>();
  for (const fn of js.matchAll(/\nfunction toJson_(\w+)\(obj\) \{[\s\S]*?const result = \{\n([\s\S]*?)\n {4}\};/g)) {
    const names = new Map<string, string>();
    for (const line of fn[2].split('\n')) {
      const m = /^\s*'([^']+)': .*?\bobj\.(\w+)/.exec(line);
      if (!m) throw new Error(`k8s.js: cannot read toJson_${fn[1]} line ${line.trim()}`);
      names.set(m[2], m[1]);
    }
    result.set(fn[1], names);
  }
  return result;
}

export function hash(text: string): string {
  return crypto.createHash('sha1').update(text).digest('hex').slice(0, 12);
}

/** Jest workers may race to write the same cache file: write a private temp file, then rename. */
export function writeAtomically(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
