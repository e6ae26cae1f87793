/**
 * Generates the validation data the package ships (src/schemas/*.json): the structural schema and
 * the CEL rules (`x-kubernetes-validations`) of every served version of every kind the library
 * writes or reads, from the CRDs (Istio, Gateway API, prometheus-operator, Argo CD, Argo Rollouts)
 * and, for the core Kubernetes kinds, from the Kubernetes 1.27 types cdk8s-plus-27 ships.
 *
 * Schemas are stored as a table of nodes: every sub-schema once (identical sub-schemas, such as
 * the served versions of a kind or Argo CD's repeated `source`, share one node), children named by
 * their index. Descriptions are dropped. `npx projen import:schemas` writes the files; the
 * conformance tests check that they still equal what the CRDs yield.
 */
import * as fs from 'fs';
import * as path from 'path';
import type * as TS from 'typescript';
import * as YAML from 'yaml';

/** One schema node: OpenAPI keywords, with child schemas replaced by node indices. */
export type SchemaNode = { [keyword: string]: unknown };

/** What one generated file holds. */
export interface SchemaFile {
  /** Where the data comes from (for people reading the file). */
  readonly source: string;
  /** `<group>/<version>/<Kind>` (`v1/<Kind>` for the core group) → the kind's root node and scope. */
  readonly kinds: Record<string, KindEntry>;
  /** For kubernetes.json: the ObjectMeta node, which validates every object's `metadata`. */
  readonly objectMeta?: number;
  readonly nodes: SchemaNode[];
}

export interface KindEntry {
  readonly root: number;
  readonly namespaced: boolean;
  /** The CRD's deprecation warning for a deprecated served version. */
  readonly deprecated?: string;
}

/** The CRD families: output file, folder under the CRD directory. */
export const CRD_FAMILIES: ReadonlyArray<{ file: string; dir: string; label: string }> = [
  { file: 'istio.json', dir: 'istio', label: 'Istio 1.30.3' },
  { file: 'gateway-api.json', dir: 'gateway-api', label: 'Kubernetes Gateway API' },
  { file: 'prometheus-operator.json', dir: 'prometheus-operator', label: 'prometheus-operator' },
  { file: 'argo-cd.json', dir: 'argo-cd', label: 'Argo CD' },
  { file: 'argo-rollouts.json', dir: 'argo-rollouts', label: 'Argo Rollouts' },
];

const CHILD_MAPS = ['properties'];
const CHILD_LISTS = ['allOf', 'anyOf', 'oneOf'];
const CHILD_ONE = ['items', 'not'];
/** Keywords the validator uses; everything else (descriptions, titles, examples) is dropped. */
const KEPT = new Set([
  'type', 'format', 'enum', 'pattern', 'default', 'nullable', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum',
  'minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'multipleOf', 'required',
  'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string', 'x-kubernetes-embedded-resource',
  'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type', 'x-kubernetes-validations',
  ...CHILD_MAPS, ...CHILD_LISTS, ...CHILD_ONE, 'additionalProperties',
]);
const RULE_FIELDS = ['rule', 'message', 'messageExpression', 'reason', 'fieldPath', 'optionalOldSelf'];

/** Interns nodes by content: the same sub-schema gets the same index. */
class NodeTable {
  readonly nodes: SchemaNode[] = [];
  private readonly byContent = new Map<string, number>();

  add(node: SchemaNode): number {
    const key = canonical(node);
    const existing = this.byContent.get(key);
    if (existing !== undefined) return existing;
    this.nodes.push(node);
    this.byContent.set(key, this.nodes.length - 1);
    return this.nodes.length - 1;
  }

  /** Reserves an index for a node filled in later (recursive definitions). */
  reserve(): number {
    this.nodes.push({});
    return this.nodes.length - 1;
  }
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as any)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Stores an OpenAPI (structural) schema in the table; returns its index. */
function addSchema(table: NodeTable, schema: any): number {
  const node: SchemaNode = {};
  for (const [k, v] of Object.entries(schema ?? {})) {
    if (!KEPT.has(k)) continue;
    if (CHILD_MAPS.includes(k)) {
      node[k] = Object.fromEntries(Object.entries(v as object).map(([name, child]) => [name, addSchema(table, child)]));
    } else if (CHILD_LISTS.includes(k)) {
      node[k] = (v as any[]).map((child) => addSchema(table, child));
    } else if (CHILD_ONE.includes(k)) {
      node[k] = addSchema(table, v);
    } else if (k === 'additionalProperties') {
      node[k] = typeof v === 'boolean' ? v : addSchema(table, v);
    } else if (k === 'x-kubernetes-validations') {
      node[k] = (v as any[]).map((r) => Object.fromEntries(RULE_FIELDS.filter((f) => r[f] !== undefined).map((f) => [f, r[f]])));
    } else {
      node[k] = v;
    }
  }
  // int-or-string is spelled twice (the extension and an equivalent anyOf integer/string): keep the extension.
  if (node['x-kubernetes-int-or-string'] && Array.isArray(schema.anyOf) && schema.anyOf.length === 2
    && schema.anyOf.every((b: any) => Object.keys(b).length === 1) && schema.anyOf.map((b: any) => b.type).sort().join() === 'integer,string') {
    delete node.anyOf;
  }
  return table.add(node);
}

/** Every `*.yaml`/`*.yml` file under `dir`, sorted. */
export function yamlFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return yamlFiles(p);
      return e.isFile() && /\.ya?ml$/.test(e.name) ? [p] : [];
    })
    .sort();
}

/** The validation data of the CRDs in `files` (other documents are ignored). */
export function crdSchemaFile(files: string[], source: string): SchemaFile {
  const table = new NodeTable();
  const kinds: Record<string, KindEntry> = {};
  for (const file of files) {
    for (const doc of YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
      const crd = doc.toJS();
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      for (const version of crd.spec.versions) {
        if (!version.served || !version.schema?.openAPIV3Schema) continue;
        const openApi = version.schema.openAPIV3Schema;
        // The object header is validated by the API server itself (metadata by ObjectMeta, see
        // kubernetes.json); `status` is never written by clients (the status subresource resets it).
        const { status: _status, metadata: _metadata, ...properties } = openApi.properties ?? {};
        const root = addSchema(table, {
          ...openApi,
          properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, ...properties },
        });
        kinds[`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`] = {
          root,
          namespaced: crd.spec.scope === 'Namespaced',
          ...(version.deprecated ? { deprecated: version.deprecationWarning ?? `${crd.spec.group}/${version.name} ${crd.spec.names.kind} is deprecated` } : {}),
        };
      }
    }
  }
  return { source, kinds: sortKeys(kinds), nodes: table.nodes };
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Core kinds the Kubernetes API serves cluster-wide (everything else cdk8s-plus-27 knows is namespaced). */
const CLUSTER_SCOPED_CORE = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'ComponentStatus', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'StorageVersion', 'TokenReview', 'SelfSubjectReview',
  'SelfSubjectAccessReview', 'SelfSubjectRulesReview', 'SubjectAccessReview', 'CertificateSigningRequest', 'ClusterTrustBundle',
  'FlowSchema', 'PriorityLevelConfiguration', 'IngressClass', 'RuntimeClass', 'ClusterRole', 'ClusterRoleBinding',
  'PriorityClass', 'CSIDriver', 'CSINode', 'StorageClass', 'VolumeAttachment', 'CustomResourceDefinition', 'APIService',
  'ClusterCIDR', 'IPAddress', 'ResourceClass',
]);

/**
 * The core Kubernetes 1.27 kinds, derived offline from cdk8s-plus-27's generated L1
 * (`lib/imports/k8s.d.ts` + `k8s.js`): one node per d.ts interface with its required/optional
 * members; the JSON name of each member comes from the `toJson_<Interface>` functions of `k8s.js`
 * (the TS names are camel-cased: `hostIPC` is `hostIpc`).
 */
export function kubernetesSchemaFile(): SchemaFile {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts: typeof TS = require('typescript');
  const plusDir = path.dirname(require.resolve('cdk8s-plus-27/package.json'));
  const version: string = JSON.parse(fs.readFileSync(path.join(plusDir, 'package.json'), 'utf8')).version;
  const dir = path.join(plusDir, 'lib', 'imports');
  const js = fs.readFileSync(path.join(dir, 'k8s.js'), 'utf8');
  const source = ts.createSourceFile('k8s.d.ts', fs.readFileSync(path.join(dir, 'k8s.d.ts'), 'utf8'), ts.ScriptTarget.Latest);
  const jsonNames = parseJsonNames(js);

  const enums = new Map<string, string[]>();
  for (const s of source.statements) {
    if (ts.isEnumDeclaration(s)) enums.set(s.name.text, s.members.map((m) => (m.initializer as TS.StringLiteral).text));
  }
  const interfaces = new Map<string, TS.InterfaceDeclaration>();
  for (const s of source.statements) if (ts.isInterfaceDeclaration(s)) interfaces.set(s.name.text, s);

  const table = new NodeTable();
  const defs = new Map<string, number>();
  const typeNode = (t: TS.TypeNode): number => {
    switch (t.kind) {
      case ts.SyntaxKind.StringKeyword: return table.add({ type: 'string' });
      case ts.SyntaxKind.NumberKeyword: return table.add({ type: 'number' });
      case ts.SyntaxKind.BooleanKeyword: return table.add({ type: 'boolean' });
      case ts.SyntaxKind.AnyKeyword: return table.add({ 'x-kubernetes-preserve-unknown-fields': true });
    }
    if (ts.isArrayTypeNode(t)) return table.add({ type: 'array', items: typeNode(t.elementType) });
    if (ts.isTypeLiteralNode(t) && t.members.length === 1 && ts.isIndexSignatureDeclaration(t.members[0])) {
      return table.add({ type: 'object', additionalProperties: typeNode(t.members[0].type) });
    }
    if (ts.isTypeReferenceNode(t) && ts.isIdentifier(t.typeName)) {
      const name = t.typeName.text;
      switch (name) {
        case 'IntOrString': return table.add({ 'x-kubernetes-int-or-string': true });
        // A resource.Quantity is a string (`500m`, `1Gi`) or a number.
        case 'Quantity': return table.add({ 'x-kubernetes-int-or-string': true, 'format': 'quantity' });
        case 'Date': return table.add({ type: 'string', format: 'date-time' });
      }
      const values = enums.get(name);
      if (values) return table.add({ type: 'string', enum: values });
      return definition(name);
    }
    throw new Error(`k8s.d.ts: unsupported type ${t.getText(source)}`);
  };
  const definition = (name: string): number => {
    const known = defs.get(name);
    if (known !== undefined) return known;
    const iface = interfaces.get(name);
    if (!iface) throw new Error(`k8s.d.ts has no interface ${name}`);
    const index = table.reserve(); // before the members: definitions can be recursive
    defs.set(name, index);
    const names = jsonNames.get(name);
    if (!names) throw new Error(`k8s.js has no toJson_${name}: cannot tell its JSON field names`);
    const properties: Record<string, number> = {};
    const required: string[] = [];
    for (const m of iface.members) {
      if (!ts.isPropertySignature(m) || !m.type) throw new Error(`k8s.d.ts: unexpected member ${m.getText(source)} in ${name}`);
      const tsName = m.name.getText(source);
      const jsonName = names.get(tsName);
      if (!jsonName) throw new Error(`k8s.js: toJson_${name} does not write ${tsName}`);
      properties[jsonName] = typeNode(m.type);
      if (!m.questionToken) required.push(jsonName);
    }
    table.nodes[index] = { type: 'object', properties, ...(required.length ? { required } : {}) };
    return index;
  };

  const kinds: Record<string, KindEntry> = {};
  const stringNode = table.add({ type: 'string' });
  for (const m of js.matchAll(/\n(Kube\w+)\.GVK = \{\s*apiVersion: '([^']+)',\s*kind: '([^']+)',?\s*\}/g)) {
    const [, cls, apiVersion, kind] = m;
    if (kind.endsWith('List')) continue; // lists are flattened before validation
    const root = definition(`${cls}Props`);
    const props = table.nodes[root] as { properties: Record<string, number> };
    // The Kube<Kind>Props interfaces leave out apiVersion/kind (the L1 classes add them from GVK).
    props.properties = { apiVersion: stringNode, kind: stringNode, ...props.properties };
    kinds[`${apiVersion}/${kind}`] = { root, namespaced: !CLUSTER_SCOPED_CORE.has(kind) };
  }
  if (Object.keys(kinds).length === 0) throw new Error('k8s.js: found no GVK declarations');
  const objectMeta = definition('ObjectMeta');
  return { source: `Kubernetes 1.27 types of cdk8s-plus-27 ${version} (lib/imports/k8s.d.ts)`, kinds: sortKeys(kinds), objectMeta, nodes: table.nodes };
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

/** A schema file as text: one node per line, so a changed CRD shows as a readable diff. */
export function renderSchemaFile(file: SchemaFile): string {
  const { nodes, ...header } = file;
  return [
    '{',
    ...Object.entries(header).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)},`),
    '"nodes": [',
    nodes.map((n) => JSON.stringify(n)).join(',\n'),
    ']',
    '}',
    '',
  ].join('\n');
}

/** Every generated file, by name, from the CRD directory (`<dir>/<family>/*.yaml`) and cdk8s-plus-27. */
export function generateSchemaFiles(crdsDir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const family of CRD_FAMILIES) {
    const dir = path.join(crdsDir, family.dir);
    if (!fs.existsSync(dir)) throw new Error(`CRD folder not found: ${dir}`);
    out.set(family.file, renderSchemaFile(crdSchemaFile(yamlFiles(dir), `${family.label} CRDs (${family.dir}/)`)));
  }
  out.set('kubernetes.json', renderSchemaFile(kubernetesSchemaFile()));
  return out;
}
