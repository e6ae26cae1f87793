/**
 * Schema validation for everything the tests synthesize (test/support/setup.ts runs it on every
 * chart): core Kubernetes 1.27 kinds against schemas derived from cdk8s-plus-27 (k8s-schema.ts),
 * custom resources against their CRDs (crd-schema.ts), `metadata` against the API server's name
 * and label rules. Unknown fields are rejected everywhere; an unknown apiVersion/kind is an error.
 *
 * CEL rules (`x-kubernetes-validations`) are not evaluated; test the ones that matter directly.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
// Default import on purpose: it is the real, shared `v8` module object (see workerValidator).
import v8 from 'v8';
import Ajv, { SchemaValidateFunction, ErrorObject, KeywordDefinition, ValidateFunction } from 'ajv';
import { CrdSchemas, findYamlFiles, loadCrdSchemas } from './crd-schema';
import { CoreSchemas, loadCoreSchemas } from './k8s-schema';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const CACHE_DIR = path.join(REPO_ROOT, 'node_modules', '.cache', 'cdk8s-mesh-schemas');

/** Where the CRD schemas come from, what was missing, and which kinds have a schema. */
export interface SchemaSources {
  /** Every YAML file below it is searched for CRDs: `MESH_CRDS_DIR`, default `<repo>/../shared/crds`. */
  readonly crdsDir: string;
  /** The Istio CRD bundle: `ISTIO_CRDS`, default `<crdsDir>/istio/customresourcedefinitions.gen.yaml`. */
  readonly istioCrds: string;
  /** Which of the two do not exist. When any does, custom resources without a schema are not checked. */
  readonly missing: string[];
  /** `<apiVersion>/<kind>` of every kind with a schema: core kinds, then the CRDs' served versions. */
  readonly kinds: string[];
}

/** The CRD sources the validator of this test file uses (they come from the environment). */
export function schemaSources(): SchemaSources {
  return workerValidator().sources;
}

/**
 * Validates each manifest by its apiVersion/kind. Returns one line per problem,
 * `<Kind>/<name> <JSON pointer>: <message>`, or nothing when all are valid.
 */
export function schemaErrors(manifests: any[]): string[] {
  const validator = workerValidator();
  return manifests.flatMap(m => validator.errors(m));
}

/** Throws, listing every problem, unless all manifests are schema-valid. */
export function expectSchemaValid(manifests: any[], what = 'manifests'): void {
  const errors = schemaErrors(manifests);
  if (errors.length) {
    throw new Error(`${what}: ${errors.length} schema error(s):\n${errors.map(e => `  - ${e}`).join('\n')}`);
  }
}

/**
 * The validator for the configured CRD sources, one per jest worker.
 *
 * Jest gives every test file its own module registry and global object, so a module-level cache
 * would load and compile the schemas again for each test file. Built-in Node modules are the one
 * thing jest shares between the test files of a worker (it hands out the real module object), so
 * the cache hangs off `v8` under a private symbol. It is keyed by the CRD sources, so a test that
 * points the environment elsewhere gets its own validator.
 */
function workerValidator(): Validator {
  const crdsDir = path.resolve(process.env.MESH_CRDS_DIR ?? path.join(REPO_ROOT, '..', 'shared', 'crds'));
  const istioCrds = path.resolve(process.env.ISTIO_CRDS ?? path.join(crdsDir, 'istio', 'customresourcedefinitions.gen.yaml'));
  const holder = v8 as unknown as Record<symbol, Map<string, Validator> | undefined>;
  const validators = holder[WORKER_CACHE] ??= new Map();
  const key = `${crdsDir}\0${istioCrds}`;
  let validator = validators.get(key);
  if (!validator) {
    validator = new Validator(crdsDir, istioCrds);
    validators.set(key, validator);
  }
  return validator;
}
const WORKER_CACHE = Symbol.for('cdk8s-mesh/test/support/schema');

/** Kinds whose API server validates `metadata.name` differently from the DNS-subdomain default. */
const NAME_RULES: Record<string, string> = {
  '/Namespace': 'dns-label',
  '/Service': 'dns-1035-label',
  'rbac.authorization.k8s.io/Role': 'path-segment',
  'rbac.authorization.k8s.io/ClusterRole': 'path-segment',
  'rbac.authorization.k8s.io/RoleBinding': 'path-segment',
  'rbac.authorization.k8s.io/ClusterRoleBinding': 'path-segment',
};
const NAME_SCHEMAS: Record<string, object> = {
  'dns-subdomain': { type: 'string', maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' },
  'dns-label': { type: 'string', maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
  'dns-1035-label': { type: 'string', maxLength: 63, pattern: '^[a-z]([-a-z0-9]*[a-z0-9])?$' },
  'path-segment': { type: 'string', minLength: 1, pattern: '^(?!\\.\\.?$)[^/%]*$' },
};
/** Label and annotation keys: an optional DNS-subdomain prefix and `/`, then a name of at most 63 characters. */
const QUALIFIED_NAME = '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';

function metadataSchema(nameRule: string): object {
  return {
    $id: `metadata-${nameRule}.json`,
    // ObjectMeta from the core schemas closes metadata; the rules below are what the API server adds.
    allOf: [{ $ref: 'k8s.json#/definitions/ObjectMeta' }],
    type: 'object',
    required: ['name'],
    properties: {
      name: NAME_SCHEMAS[nameRule],
      namespace: NAME_SCHEMAS['dns-label'],
      labels: {
        type: 'object',
        propertyNames: { pattern: QUALIFIED_NAME },
        additionalProperties: { type: 'string', maxLength: 63, pattern: '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$' },
      },
      annotations: { type: 'object', propertyNames: { pattern: QUALIFIED_NAME }, additionalProperties: { type: 'string' } },
    },
  };
}

class Validator {
  public readonly sources: SchemaSources;
  private readonly ajv: Ajv;
  private readonly core: CoreSchemas;
  private readonly crds: CrdSchemas;
  /** API groups of the core kinds: an unknown kind there is an error even without CRDs. */
  private readonly coreGroups: Set<string>;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(crdsDir: string, istioCrds: string) {
    const missing = [crdsDir, istioCrds].filter(p => !fs.existsSync(p));
    // The Istio bundle goes last, so ISTIO_CRDS wins over an Istio bundle inside the directory.
    const files = [
      ...fs.existsSync(crdsDir) ? findYamlFiles(crdsDir).filter(f => f !== istioCrds) : [],
      ...fs.existsSync(istioCrds) ? [istioCrds] : [],
    ];
    this.crds = loadCrdSchemas(files, CACHE_DIR);
    this.core = loadCoreSchemas(CACHE_DIR);
    this.coreGroups = new Set(Object.keys(this.core.kinds).map(k => groupOf(k.split('/').slice(0, -1).join('/'))));
    this.sources = { crdsDir, istioCrds, missing, kinds: [...Object.keys(this.core.kinds), ...Object.keys(this.crds.kinds)] };
    if (missing.length) warnCrdsMissing(missing);

    this.ajv = new Ajv({
      allErrors: true,
      verbose: true, // errors carry the offending value, shown in the messages
      // Structural schemas put `properties`/`required` without `type` inside anyOf/oneOf
      // branches; strictTypes would log a warning for each. Every other strict check stays on.
      strictTypes: false,
      allowUnionTypes: true,
      code: { regExp: goRegExp },
      formats: FORMATS,
      keywords: KUBERNETES_KEYWORDS,
    });
    this.ajv.addSchema({ $id: 'k8s.json', definitions: this.core.definitions });
    for (const rule of Object.keys(NAME_SCHEMAS)) this.ajv.addSchema(metadataSchema(rule));
  }

  public errors(manifest: any): string[] {
    // Validate what would be written: JSON drops undefined members and turns Dates into strings.
    const m = JSON.parse(JSON.stringify(manifest ?? null));
    const who = `${m?.kind ?? '<no kind>'}/${m?.metadata?.name ?? '<no name>'}`;
    const apiVersion = m?.apiVersion, kind = m?.kind;
    const validate = typeof apiVersion === 'string' && typeof kind === 'string' ? this.validatorFor(apiVersion, kind) : undefined;
    if (!validate) {
      const skipped = this.sources.missing.length && typeof apiVersion === 'string' && !this.coreGroups.has(groupOf(apiVersion));
      return skipped ? [] : [`${who}: no schema for ${apiVersion} ${kind}`];
    }
    return validate(m) ? [] : describe(validate.errors ?? []).map(e => `${who} ${e}`);
  }

  /** Compiles on first use: a test file pays only for the kinds it synthesizes. */
  private validatorFor(apiVersion: string, kind: string): ValidateFunction | undefined {
    const id = `${apiVersion}/${kind}`;
    const coreDef = this.core.kinds[id];
    const crdKey = this.crds.kinds[id];
    if (!coreDef && !crdKey) return undefined;
    const metadata = { $ref: `metadata-${NAME_RULES[`${groupOf(apiVersion)}/${kind}`] ?? 'dns-subdomain'}.json` };
    const cacheKey = `${coreDef ?? crdKey}\0${metadata.$ref}`;
    let validate = this.compiled.get(cacheKey);
    if (!validate) {
      if (coreDef) {
        validate = this.ajv.compile({
          allOf: [{ $ref: `k8s.json#/definitions/${coreDef}` }],
          required: ['apiVersion', 'kind', 'metadata'],
          properties: { metadata },
        });
      } else {
        const schema = this.crds.schemas[crdKey];
        validate = this.ajv.compile({ ...schema, properties: { ...schema.properties, metadata } });
      }
      this.compiled.set(cacheKey, validate);
    }
    return validate;
  }
}

function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
}

function warnCrdsMissing(missing: string[]): void {
  const bar = '!'.repeat(100);
  console.warn([
    bar,
    '!!! SCHEMA VALIDATION OF CUSTOM RESOURCES IS OFF: CRDs not found',
    ...missing.map(p => `!!!   missing: ${p}`),
    '!!! Istio / prometheus-operator / Argo CD / Argo Rollouts / Gateway API objects without a schema are NOT checked.',
    '!!! Core Kubernetes objects still are. To fix, set MESH_CRDS_DIR to the CRD directory (shared/crds)',
    '!!! and/or ISTIO_CRDS to the Istio bundle (customresourcedefinitions.gen.yaml).',
    bar,
  ].join('\n'));
}

/** The OpenAPI formats the CRDs use (ajv strict mode rejects unknown formats). */
const FORMATS = {
  'int32': { type: 'number' as const, validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 },
  'int64': { type: 'number' as const, validate: (n: number) => Number.isInteger(n) },
  'float': { type: 'number' as const, validate: (n: number) => Number.isFinite(n) },
  'double': { type: 'number' as const, validate: (n: number) => Number.isFinite(n) },
  'byte': /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
  'date-time': /^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$/,
  'ipv4': (s: string) => net.isIPv4(s),
  'ipv6': (s: string) => net.isIPv6(s),
};

/**
 * CRD patterns are Go (RE2) regular expressions. The one construct the CRDs use that JS lacks
 * is a leading flag group, as in prometheus-operator's `^(?i)(abort|warn)?$`: turn it into
 * RegExp flags. Anything else JS cannot parse still fails the compile, loudly.
 */
const goRegExp = Object.assign((pattern: string, flags: string) => {
  const m = /^(\^?)\(\?([ims]+)\)/.exec(pattern);
  return m ? new RegExp(m[1] + pattern.slice(m[0].length), flags + m[2]) : new RegExp(pattern, flags);
}, { code: 'new RegExp' });

const intOrString: SchemaValidateFunction = (flag: boolean, data: unknown) => {
  if (!flag || typeof data === 'string' || Number.isInteger(data)) return true;
  intOrString.errors = [{ message: 'must be an integer or a string' }];
  return false;
};

/** `set`: items are unique; `map`: items are unique by the `x-kubernetes-list-map-keys` fields. */
const listType: SchemaValidateFunction = (type: string, list: unknown[], parent, cxt) => {
  const keys: string[] | undefined = type === 'map' ? parent?.['x-kubernetes-list-map-keys'] : undefined;
  if (type !== 'set' && !keys) return true;
  const seen = new Map<string, number>();
  listType.errors = [];
  list.forEach((item: any, i) => {
    const id = JSON.stringify(keys ? keys.map(k => item?.[k]) : item);
    const first = seen.get(id);
    if (first === undefined) {
      seen.set(id, i);
    } else {
      const what = keys ? `the same ${keys.map(k => `${k}=${JSON.stringify(item?.[k])}`).join(', ')} as item ${first}` : `a duplicate of item ${first}`;
      listType.errors!.push({ instancePath: `${cxt?.instancePath}/${i}`, message: `is ${what} (x-kubernetes-list-type: ${type})` });
    }
  });
  return listType.errors.length === 0;
};

/** Kubernetes' extensions: two are validated, the rest are annotations ajv must accept. */
const KUBERNETES_KEYWORDS: KeywordDefinition[] = [
  { keyword: 'x-kubernetes-int-or-string', schemaType: 'boolean', validate: intOrString },
  { keyword: 'x-kubernetes-list-type', type: 'array', schemaType: 'string', validate: listType },
  ...['x-kubernetes-list-map-keys', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource',
    'x-kubernetes-map-type', 'x-kubernetes-validations'].map(keyword => ({ keyword })),
];

/** Turns ajv errors into `<JSON pointer>: <message>` lines. */
function describe(errors: ErrorObject[]): string[] {
  // A failed anyOf/oneOf also reports why each alternative failed. Those errors contradict each
  // other (a "missing" field in one branch is "forbidden" in the next); fold them into the summary.
  const alternatives = errors.filter(e => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const inBranch = (e: ErrorObject, a: ErrorObject) => e !== a && e.schemaPath.startsWith(`${a.schemaPath}/`) && e.instancePath.startsWith(a.instancePath);
  const lines = errors
    // propertyNames reports the key's own error and then a generic one; keep the first.
    .filter(e => e.keyword !== 'propertyNames' && !alternatives.some(a => inBranch(e, a)))
    .map(e => {
      const branchErrors = e.keyword === 'anyOf' || e.keyword === 'oneOf' ? errors.filter(b => inBranch(b, e)) : [];
      const key = e.propertyName === undefined ? '' : `key ${JSON.stringify(e.propertyName)} `;
      return `${e.instancePath || '/'}: ${key}${message(e, branchErrors)}`;
    });
  return [...new Set(lines)];
}

function message(e: ErrorObject, branchErrors: ErrorObject[]): string {
  const got = ` (got ${show(e.data)})`;
  const p = e.params as any;
  switch (e.keyword) {
    case 'additionalProperties': return `unknown field ${JSON.stringify(p.additionalProperty)}`;
    case 'required': return `missing required field ${JSON.stringify(p.missingProperty)}`;
    case 'type': return `must be ${String(p.type).split(',').join(' or ')}${got}`;
    case 'enum': return `must be one of ${p.allowedValues.map((v: unknown) => JSON.stringify(v)).join(', ')}${got}`;
    case 'pattern': return `must match /${p.pattern}/${got}`;
    case 'format': return `must be a valid ${p.format}${got}`;
    case 'anyOf':
    case 'oneOf': {
      const fields = [...new Set(requiredFields(e.schema))];
      const detail = fields.length ? `fields involved: ${fields.join(', ')}` : [...new Set(branchErrors.map(b => b.message))].join(' | ');
      const matched = e.keyword === 'oneOf' && p.passingSchemas ? `, but matches ${p.passingSchemas.length}` : '';
      return `must match ${e.keyword === 'oneOf' ? 'exactly one' : 'at least one'} ${e.keyword} alternative${matched} (${detail})`;
    }
    default: return `${e.message}${typeof e.data === 'object' && e.data !== null ? '' : got}`;
  }
}

/** Field names the anyOf/oneOf branches require (Istio spells "at most one of a, b" this way). */
function requiredFields(branches: unknown): string[] {
  if (Array.isArray(branches)) return branches.flatMap(requiredFields);
  if (!branches || typeof branches !== 'object') return [];
  const b = branches as Record<string, unknown>;
  return [...Array.isArray(b.required) ? b.required : [], ...['not', 'anyOf', 'oneOf', 'allOf'].flatMap(k => requiredFields(b[k]))];
}

function show(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value && typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
