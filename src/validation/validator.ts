// Validates one object as the Kubernetes API server would: the served kind and version, ObjectMeta,
// the structural schema (defaults first, unknown fields pruned, types, enums, patterns, ranges,
// list types) and the CEL rules (`x-kubernetes-validations`).
import { CompiledExpression, compileCel } from './cel';
import { compileRe2 } from './regex';
import { KindSchema, Schema, ValidationRule, groupOf, kindSchema, kindsOf, knownGroup, objectMetaSchema, servedVersions } from './schemas';

/** What a violation is about. */
export enum ViolationKind {
  /** The apiVersion/kind is not served (the API server answers "no matches for kind"). */
  KIND = 'kind',
  /** The structural schema or ObjectMeta rules reject a value. */
  SCHEMA = 'schema',
  /** A CEL rule (`x-kubernetes-validations`) rejects a value, or cannot be evaluated. */
  RULE = 'rule',
  /** A field the schema does not declare: the API server prunes it. */
  UNKNOWN_FIELD = 'unknown-field',
  /** Istio's validating webhook rejects (error) or warns about (warning) the object. */
  WEBHOOK = 'webhook',
  /** The served version is deprecated. */
  DEPRECATED = 'deprecated',
}

export interface Violation {
  readonly kind: ViolationKind;
  /** `error`: the object is refused (or, for unknown fields, changed); `warning`: admitted with a warning. */
  readonly severity: 'error' | 'warning';
  /** Field path, as the API server writes it: `spec.http[0].route[1].weight` (`` for the object). */
  readonly path: string;
  /** What is wrong, in the API server's words where it has them. */
  readonly message: string;
  /** What to change. */
  readonly fix: string;
  /** The CEL rule, for rule violations. */
  readonly rule?: string;
}

export interface ValidationResult {
  /** Every problem found, in field order. */
  readonly violations: Violation[];
  /** True when the API server (or Istio's webhook) would refuse the object. */
  readonly refused: boolean;
  /** True when the package has a schema for the object's kind (false: not checked at all). */
  readonly known: boolean;
  /** The object as the API server would store it when admitted: unknown fields pruned, defaults applied. */
  readonly admitted?: any;
}

/** Kinds whose API server validates `metadata.name` differently from the DNS-subdomain default. */
const NAME_RULES: Record<string, 'dns-label' | 'dns-1035-label' | 'path-segment'> = {
  '/Namespace': 'dns-label',
  '/Service': 'dns-1035-label',
  'rbac.authorization.k8s.io/Role': 'path-segment',
  'rbac.authorization.k8s.io/ClusterRole': 'path-segment',
  'rbac.authorization.k8s.io/RoleBinding': 'path-segment',
  'rbac.authorization.k8s.io/ClusterRoleBinding': 'path-segment',
};
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** CEL reserved words: a property with such a name is `__name__` in rules. */
const CEL_RESERVED = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if',
  'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);

interface Walk {
  readonly violations: Violation[];
  /** Built-in kinds: `null` is unset (Go's decoder), never a type error. */
  readonly builtin: boolean;
  readonly typeErrors: { count: number };
}

/** Validates one object (a plain JSON value). Never throws. */
export function validateObject(object: unknown): ValidationResult {
  try {
    return validate(object);
  } catch (e) {
    // A bug here must not stop an analysis: report it as what it is.
    return {
      violations: [{ kind: ViolationKind.SCHEMA, severity: 'error', path: '', message: `internal error while validating: ${(e as Error).message}`, fix: 'Report this as a cdk8s-mesh bug.' }],
      refused: false,
      known: false,
      admitted: object,
    };
  }
}

function validate(object: unknown): ValidationResult {
  const violations: Violation[] = [];
  if (!isObject(object)) {
    violations.push({ kind: ViolationKind.SCHEMA, severity: 'error', path: '', message: `a Kubernetes object must be a mapping, not ${jsonType(object)}`, fix: 'Write the object as a YAML mapping with apiVersion, kind and metadata.' });
    return { violations, refused: true, known: false };
  }
  const { apiVersion, kind } = object as any;
  if (typeof apiVersion !== 'string' || apiVersion === '' || typeof kind !== 'string' || kind === '') {
    const missing = typeof apiVersion !== 'string' || apiVersion === '' ? 'apiVersion' : 'kind';
    violations.push({ kind: ViolationKind.KIND, severity: 'error', path: missing, message: `${missing}: Object '${missing === 'apiVersion' ? 'apiVersion' : 'Kind'}' is missing`, fix: `Set ${missing} (a string, e.g. ${missing === 'apiVersion' ? '"networking.istio.io/v1"' : '"VirtualService"'}).` });
    return { violations, refused: true, known: false };
  }
  const group = groupOf(apiVersion);
  const entry = kindSchema(apiVersion, kind);
  if (!entry) {
    if (!knownGroup(group)) return { violations, refused: false, known: false, admitted: object };
    const versions = servedVersions(group, kind);
    const close = versions.length ? '' : closest(kind, kindsOf(group));
    violations.push({
      kind: ViolationKind.KIND,
      severity: 'error',
      path: 'apiVersion',
      message: `no matches for kind "${kind}" in version "${apiVersion}"`,
      fix: versions.length ? `Use a served version: ${versions.join(', ')}.` : close ? `Did you mean kind "${close}"?` : `Use a kind the ${group || 'core'} API group serves.`,
    });
    return { violations, refused: true, known: false };
  }
  if (entry.deprecated) {
    violations.push({ kind: ViolationKind.DEPRECATED, severity: 'warning', path: 'apiVersion', message: entry.deprecated, fix: `Use another served version: ${servedVersions(group, kind).filter((v) => v !== apiVersion).join(', ')}.` });
  }
  const walk: Walk = { violations, builtin: entry.builtin, typeErrors: { count: 0 } };
  const { metadata, status: _status, ...rest } = object as any;
  const admitted: any = walkValue(rest, entry.schema, '', walk, true) ?? {};
  admitted.metadata = validateMetadata(metadata, entry, walk);
  if (entry.builtin) checkPodTemplate(admitted, entry.kind, walk);
  if ((object as any).status !== undefined) admitted.status = (object as any).status;
  return { violations, refused: violations.some(refuses), known: true, admitted };
}

/** Whether a violation makes the API server refuse the object (unknown fields are pruned instead). */
export function refuses(v: Violation): boolean {
  return v.severity === 'error' && v.kind !== ViolationKind.UNKNOWN_FIELD;
}

function validateMetadata(metadata: unknown, entry: KindSchema, walk: Walk): any {
  const meta: any = walkValue(metadata ?? {}, objectMetaSchema(), 'metadata', { ...walk, builtin: true }, false) ?? {};
  const report = (path: string, message: string, fix: string) =>
    walk.violations.push({ kind: ViolationKind.SCHEMA, severity: 'error', path, message, fix });
  const rule = NAME_RULES[`${groupOf(entry.apiVersion)}/${entry.kind}`] ?? 'dns-subdomain';
  const name = meta.name;
  if (name === undefined || name === '') {
    if (!meta.generateName) report('metadata.name', 'metadata.name: Required value: name or generateName is required', 'Set metadata.name.');
  } else if (typeof name === 'string') {
    const problem = nameProblem(name, rule);
    if (problem) report('metadata.name', `metadata.name: Invalid value: ${JSON.stringify(name)}: ${problem}`, nameFix(rule));
  }
  if (typeof meta.namespace === 'string' && meta.namespace !== '' && entry.namespaced) {
    const problem = nameProblem(meta.namespace, 'dns-label');
    if (problem) report('metadata.namespace', `metadata.namespace: Invalid value: ${JSON.stringify(meta.namespace)}: ${problem}`, nameFix('dns-label'));
  }
  for (const [field, isLabel] of [['labels', true], ['annotations', false]] as const) {
    const map = meta[field];
    if (!isObject(map)) continue;
    let size = 0;
    for (const [key, value] of Object.entries(map)) {
      const keyProblem = qualifiedNameProblem(key);
      if (keyProblem) report(`metadata.${field}`, `metadata.${field}: Invalid value: ${JSON.stringify(key)}: ${keyProblem}`, 'Use a key of at most 63 characters (letters, digits, \'-\', \'_\', \'.\'), optionally prefixed by a DNS subdomain and \'/\'.');
      if (isLabel && typeof value === 'string' && (value.length > 63 || !LABEL_VALUE.test(value))) {
        report(`metadata.labels[${key}]`, `metadata.labels: Invalid value: ${JSON.stringify(value)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63 characters)`, 'Shorten the value or replace the other characters.');
      }
      if (!isLabel && typeof value === 'string') size += key.length + value.length;
    }
    if (size > 256 * 1024) report('metadata.annotations', 'metadata.annotations: Too long: must have at most 262144 bytes', 'Move large data out of annotations (into a ConfigMap).');
  }
  return meta;
}

/** Where the built-in workload kinds keep their pod spec. */
const POD_SPECS: Record<string, string[]> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  PodTemplate: ['template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

/**
 * What the API server's Go validation checks in a pod spec beyond its types and that the analysis
 * relies on: the service account name (the workload's mTLS identity) is a DNS subdomain.
 */
function checkPodTemplate(object: any, kind: string, walk: Walk): void {
  const location = POD_SPECS[kind];
  if (!location) return;
  const spec = location.reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), object);
  if (!spec || typeof spec !== 'object') return;
  for (const field of ['serviceAccountName', 'serviceAccount']) {
    const name = spec[field];
    const path = `${location.join('.')}.${field}`;
    const problem = typeof name === 'string' && name !== '' ? nameProblem(name, 'dns-subdomain') : undefined;
    if (problem) schemaError(walk, path, `${path}: Invalid value: ${JSON.stringify(name)}: ${problem}`, nameFix('dns-subdomain'));
  }
}

function nameProblem(name: string, rule: string): string | undefined {
  switch (rule) {
    case 'dns-label':
      return name.length > 63 || !DNS_LABEL.test(name) ? "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (at most 63 characters)" : undefined;
    case 'dns-1035-label':
      return name.length > 63 || !DNS_1035_LABEL.test(name) ? "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (at most 63 characters)" : undefined;
    case 'path-segment':
      return name === '.' || name === '..' ? `may not be '${name}'` : /[/%]/.test(name) ? "may not contain '/' or '%'" : undefined;
    default:
      return name.length > 253 || !DNS_SUBDOMAIN.test(name) ? "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (at most 253 characters)" : undefined;
  }
}

function nameFix(rule: string): string {
  switch (rule) {
    case 'dns-label': return 'Use lower-case letters, digits and "-" (at most 63 characters), starting and ending with a letter or digit.';
    case 'dns-1035-label': return 'Use lower-case letters, digits and "-" (at most 63 characters), starting with a letter and ending with a letter or digit.';
    case 'path-segment': return 'Remove "/" and "%" from the name.';
    default: return 'Use lower-case letters, digits, "-" and "." (at most 253 characters), starting and ending with a letter or digit.';
  }
}

function qualifiedNameProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const [prefix, name] = slash >= 0 ? [key.slice(0, slash), key.slice(slash + 1)] : [undefined, key];
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return 'prefix part must be a lowercase RFC 1123 subdomain';
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63 characters)";
  return undefined;
}

/**
 * Validates `value` at `path` against `schema`; returns the value as admitted (pruned, defaulted),
 * or undefined when it is absent or has the wrong type.
 */
function walkValue(value: unknown, schema: Schema, path: string, walk: Walk, root = false): unknown {
  if (value === null) {
    if (schema.nullable) return null;
    if (walk.builtin) return undefined;
    if (schema['x-kubernetes-preserve-unknown-fields'] && !schema.type) return null;
    schemaError(walk, path, `${at(path)}in body must be of type ${schema.type ?? (schema['x-kubernetes-int-or-string'] ? 'integer-or-string' : 'object')}: "null"`, `Give ${path || 'it'} a value, or remove it.`);
    return undefined;
  }
  const typeErrorsBefore = walk.typeErrors.count;
  const typeProblem = checkType(value, schema);
  if (typeProblem) {
    walk.typeErrors.count++;
    schemaError(walk, path, `${at(path)}in body must be of type ${typeProblem}: "${jsonType(value)}"`, typeFix(path, schema, value));
    return undefined;
  }
  let out: unknown = value;
  if (isObject(value) && (schema.type === 'object' || schema.properties || schema.additionalProperties !== undefined)) {
    out = walkObject(value, schema, path, walk, root);
  } else if (Array.isArray(value) && schema.type === 'array') {
    out = walkArray(value, schema, path, walk);
  } else {
    checkScalar(value, schema, path, walk);
  }
  checkAlternatives(out, schema, path, walk);
  // CEL sees the value as the API server decoded it: not when a value inside has the wrong type.
  if (walk.typeErrors.count === typeErrorsBefore) checkRules(out, schema, path, walk);
  return out;
}

function walkObject(value: Record<string, unknown>, schema: Schema, path: string, walk: Walk, root: boolean): Record<string, unknown> {
  const properties = schema.properties;
  const additional = schema.additionalProperties;
  const mapValues = isSchema(additional) ? additional : undefined;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true || additional === true;
  const embedded = schema['x-kubernetes-embedded-resource'] === true;
  // Copy on write: an object nothing is pruned from or defaulted in is admitted as it is.
  let out: Record<string, unknown> | undefined;
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const child = value[key];
    // JSON has no undefined: a JavaScript object's undefined field is not written (JSON.stringify, cdk8s drop it), so
    // the admitted object has no such key either (a reader asking `key in object` sees what the cluster would store).
    if (child === undefined) {
      if (!out) {
        out = {};
        for (let j = 0; j < i; j++) out[keys[j]] = value[keys[j]];
      }
      continue;
    }
    const propertySchema = properties?.[key];
    let v: unknown;
    if (propertySchema) {
      v = walkValue(child, propertySchema, path ? `${path}.${key}` : key, walk);
    } else if (mapValues) {
      v = walkValue(child, mapValues, `${path}[${key}]`, walk);
    } else if (preserve || (embedded && (key === 'apiVersion' || key === 'kind' || key === 'metadata'))) {
      v = child;
    } else {
      v = undefined;
      const childPath = join(path, key);
      const suggestion = closest(key, Object.keys(properties ?? {}));
      walk.violations.push({
        kind: ViolationKind.UNKNOWN_FIELD,
        severity: 'error',
        path: childPath,
        message: `unknown field "${childPath}"`,
        fix: suggestion ? `Did you mean "${suggestion}"? Fix the spelling, or remove the field.` : properties && Object.keys(properties).length
          ? `Remove it; ${path || 'the object'} has the fields ${Object.keys(properties).filter((k) => !root || (k !== 'apiVersion' && k !== 'kind')).join(', ')}.`
          : 'Remove it.',
      });
    }
    if (v !== child && !out) {
      out = {};
      for (let j = 0; j < i; j++) out[keys[j]] = value[keys[j]];
    }
    if (out && v !== undefined) out[key] = v;
  }
  const admitted: Record<string, unknown> = out ?? value;
  // Defaults (after pruning, before validation of what is required).
  let result = admitted;
  for (const [key, propertySchema] of defaultedProperties(schema)) {
    if (result[key] === undefined && (value[key] === undefined || value[key] === null)) {
      const v = walkValue(structuredClone(propertySchema.default), propertySchema, join(path, key), walk);
      if (v !== undefined) {
        if (result === value) result = { ...value };
        result[key] = v;
      }
    }
  }
  for (const key of schema.required ?? []) {
    if (root && key === 'metadata') continue;
    if (result[key] === undefined && value[key] === undefined) {
      schemaError(walk, join(path, key), `${join(path, key)}: Required value`, `Set ${join(path, key)}.`);
    }
  }
  const count = schema.minProperties !== undefined || schema.maxProperties !== undefined ? Object.keys(result).length : 0;
  if (schema.minProperties !== undefined && count < schema.minProperties) {
    schemaError(walk, path, `${at(path)}in body should have at least ${schema.minProperties} properties`, `Give ${path} at least ${schema.minProperties} entr${schema.minProperties === 1 ? 'y' : 'ies'}, or remove it.`);
  }
  if (schema.maxProperties !== undefined && count > schema.maxProperties) {
    schemaError(walk, path, `${at(path)}in body should have at most ${schema.maxProperties} properties`, `Give ${path} at most ${schema.maxProperties} entries.`);
  }
  return result;
}

const DEFAULTED = new WeakMap<Schema, Array<[string, Schema]>>();

/** The properties of an object schema that have a default (computed once per schema node). */
function defaultedProperties(schema: Schema): Array<[string, Schema]> {
  let list = DEFAULTED.get(schema);
  if (!list) {
    list = Object.entries(schema.properties ?? {}).filter(([, p]) => p.default !== undefined);
    DEFAULTED.set(schema, list);
  }
  return list;
}

function walkArray(value: unknown[], schema: Schema, path: string, walk: Walk): unknown[] {
  let out: unknown[] = value;
  if (schema.items) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      // Go's decoder makes a null item of a list of structs a zero-valued struct (built-in kinds).
      const input = item === null && walk.builtin && schema.items.type === 'object' ? {} : item;
      const walked = walkValue(input, schema.items, `${path}[${i}]`, walk);
      const v = walked === undefined ? null : walked;
      if (v !== item && out === value) out = value.slice(0, i);
      if (out !== value) out.push(v);
    }
  }
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    schemaError(walk, path, `${at(path)}in body should have at least ${schema.minItems} items`, `Give ${path} at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}.`);
  }
  if (schema.maxItems !== undefined && value.length > schema.maxItems) {
    schemaError(walk, path, `${path}: Too many: ${value.length}: must have at most ${schema.maxItems} items`, `Give ${path} at most ${schema.maxItems} items.`);
  }
  const listType = schema['x-kubernetes-list-type'];
  const keys = listType === 'map' ? schema['x-kubernetes-list-map-keys'] ?? [] : undefined;
  if (listType === 'set' || keys) {
    const seen = new Map<string, number>();
    out.forEach((item, i) => {
      const id = canonicalJson(keys ? keys.map((k) => (isObject(item) ? (item as any)[k] : undefined)) : item);
      const first = seen.get(id);
      if (first === undefined) {
        seen.set(id, i);
        return;
      }
      const what = keys ? keys.map((k) => `${k}: ${JSON.stringify(isObject(item) ? (item as any)[k] : undefined)}`).join(', ') : JSON.stringify(item);
      schemaError(walk, `${path}[${i}]`, `${path}[${i}]: Duplicate value: ${keys ? `map[${what}]` : what}`,
        `Remove the duplicate (item ${first} has the same ${keys ? keys.join(' and ') : 'value'}; x-kubernetes-list-type ${listType}).`);
    });
  }
  return out;
}

function checkScalar(value: unknown, schema: Schema, path: string, walk: Walk): void {
  if (schema.enum && !schema.enum.some((e) => e === value)) {
    schemaError(walk, path, `${path}: Unsupported value: ${JSON.stringify(value)}: supported values: ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`,
      `Use one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}${closestEnum(value, schema.enum)}.`);
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) {
      schemaError(walk, path, `${at(path)}in body should be at least ${schema.minLength} chars long`, schema.minLength === 1 ? `Give ${path} a non-empty value, or remove it.` : `Make ${path} at least ${schema.minLength} characters long.`);
    }
    if (schema.maxLength !== undefined && length > schema.maxLength) {
      schemaError(walk, path, `${path}: Too long: may not be more than ${schema.maxLength} bytes`, `Shorten ${path} to at most ${schema.maxLength} characters.`);
    }
    if (schema.pattern !== undefined) {
      const re = compileRe2(schema.pattern);
      if (re instanceof Error) {
        walk.violations.push({ kind: ViolationKind.RULE, severity: 'error', path, message: `${path}: the schema's pattern ${JSON.stringify(schema.pattern)} cannot be compiled: ${re.message}`, fix: 'Report this as a cdk8s-mesh bug.' });
      } else if (!re.test(value)) {
        schemaError(walk, path, `${at(path)}in body should match '${schema.pattern}'`, `Change ${path} (${JSON.stringify(value)}) to match ${schema.pattern}.`);
      }
    }
    const formatProblem = schema.format ? checkStringFormat(value, schema.format) : undefined;
    if (formatProblem) schemaError(walk, path, `${at(path)}in body must be of type ${schema.format}: ${JSON.stringify(value)}`, formatProblem);
  }
  if (typeof value === 'number') {
    if (schema.format === 'int32' && (value < -(2 ** 31) || value >= 2 ** 31)) {
      schemaError(walk, path, `${at(path)}in body must be of type int32: "${value}"`, `Use a value between ${-(2 ** 31)} and ${2 ** 31 - 1}.`);
    }
    if (schema.minimum !== undefined && (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum)) {
      schemaError(walk, path, `${path}: Invalid value: ${value}: ${at(path)}in body should be greater than ${schema.exclusiveMinimum ? '' : 'or equal to '}${schema.minimum}`, `Use a value of at least ${schema.minimum}${schema.exclusiveMinimum ? ' (exclusive)' : ''}.`);
    }
    if (schema.maximum !== undefined && (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum)) {
      schemaError(walk, path, `${path}: Invalid value: ${value}: ${at(path)}in body should be less than ${schema.exclusiveMaximum ? '' : 'or equal to '}${schema.maximum}`, `Use a value of at most ${schema.maximum}${schema.exclusiveMaximum ? ' (exclusive)' : ''}.`);
    }
    if (schema.multipleOf !== undefined && value % schema.multipleOf !== 0) {
      schemaError(walk, path, `${at(path)}in body should be a multiple of ${schema.multipleOf}`, `Use a multiple of ${schema.multipleOf}.`);
    }
  }
}

function checkStringFormat(value: string, format: string): string | undefined {
  switch (format) {
    case 'byte': return /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value) ? undefined : 'Write base64 (standard alphabet, padded).';
    case 'date-time': return /^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$/.test(value) ? undefined : 'Write an RFC 3339 timestamp, e.g. 2026-01-31T12:00:00Z.';
    case 'ipv4': return /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(value) ? undefined : 'Write an IPv4 address.';
    case 'ipv6': return /^[0-9a-fA-F:.]+$/.test(value) && value.includes(':') ? undefined : 'Write an IPv6 address.';
    default: return undefined;
  }
}

/** The schema type a value fails (undefined when it fits). */
function checkType(value: unknown, schema: Schema): string | undefined {
  if (schema['x-kubernetes-int-or-string']) {
    return typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value)) ? undefined : 'integer-or-string';
  }
  switch (schema.type) {
    case undefined: return undefined;
    case 'object': return isObject(value) ? undefined : 'object';
    case 'array': return Array.isArray(value) ? undefined : 'array';
    case 'string': return typeof value === 'string' ? undefined : 'string';
    case 'boolean': return typeof value === 'boolean' ? undefined : 'boolean';
    case 'integer': return typeof value === 'number' && Number.isInteger(value) ? undefined : 'integer';
    case 'number': return typeof value === 'number' && Number.isFinite(value) ? undefined : 'number';
    default: return undefined;
  }
}

function typeFix(path: string, schema: Schema, value: unknown): string {
  const want = schema['x-kubernetes-int-or-string'] ? 'an integer or a string' : schema.type === 'object' ? 'a mapping' : schema.type === 'array' ? 'a list' : `a${schema.type === 'integer' ? 'n' : ''} ${schema.type}`;
  const hint = schema.type === 'integer' && typeof value === 'string' && /^-?\d+$/.test(value) ? ` (${value}, not "${value}")`
    : schema.type === 'string' && (typeof value === 'number' || typeof value === 'boolean') ? ` (quote it: "${value}")`
      : schema.type === 'array' && !Array.isArray(value) ? ` (e.g. [${JSON.stringify(value)}])` : '';
  return `Write ${path || 'the object'} as ${want}${hint}.`;
}

/** allOf/anyOf/oneOf/not: value constraints on fields declared next to them (structural schemas). */
function checkAlternatives(value: unknown, schema: Schema, path: string, walk: Walk): void {
  if (value === undefined || value === null) return;
  for (const branch of schema.allOf ?? []) {
    if (!satisfies(value, branch)) {
      schemaError(walk, path, `${at(path)}in body must validate all the schemas (allOf)`, describeBranches(path, [branch], 'satisfy'));
    }
  }
  if (schema.anyOf && !schema.anyOf.some((b) => satisfies(value, b))) {
    schemaError(walk, path, `${at(path)}in body must validate at least one schema (anyOf)`, describeBranches(path, schema.anyOf, 'set one of'));
  }
  if (schema.oneOf) {
    const passing = schema.oneOf.filter((b) => satisfies(value, b)).length;
    if (passing !== 1) {
      const fields = [...new Set(schema.oneOf.flatMap(requiredFields))];
      schemaError(walk, path, `${at(path)}in body must validate one and only one schema (oneOf)${fields.length ? `: set at most one of ${fields.join(', ')}` : ''}`,
        fields.length ? `Set only one of ${fields.join(', ')} in ${path || 'the object'}.` : `Make ${path} match exactly one alternative of its schema.`);
    }
  }
  if (schema.not && satisfies(value, schema.not)) {
    const fields = requiredFields(schema.not);
    schemaError(walk, path, `${at(path)}in body must not validate the schema (not)${fields.length ? `: ${fields.join(', ')}` : ''}`, fields.length ? `Do not combine ${fields.join(', ')}.` : `Change ${path}.`);
  }
}

function describeBranches(path: string, branches: Schema[], verb: string): string {
  const fields = [...new Set(branches.flatMap(requiredFields))];
  return fields.length ? `In ${path || 'the object'}, ${verb} ${fields.join(', ')}.` : `Change ${path || 'the object'} to fit its schema.`;
}

/** Field names the branches require (Istio writes "at most one of a, b" as oneOf of `required`s). */
function requiredFields(schema: Schema): string[] {
  return [...schema.required ?? [], ...(schema.anyOf ?? []).flatMap(requiredFields), ...(schema.oneOf ?? []).flatMap(requiredFields),
    ...(schema.allOf ?? []).flatMap(requiredFields), ...(schema.not ? requiredFields(schema.not) : [])];
}

/** True when `value` meets the value validations of a (branch) schema. */
function satisfies(value: unknown, schema: Schema): boolean {
  const probe: Walk = { violations: [], builtin: false, typeErrors: { count: 0 } };
  if (checkType(value, schema)) return false;
  if (isObject(value)) {
    for (const key of schema.required ?? []) if ((value as any)[key] === undefined) return false;
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      const v = (value as any)[key];
      if (v !== undefined && !satisfies(v, child)) return false;
    }
    const count = Object.keys(value).length;
    if (schema.minProperties !== undefined && count < schema.minProperties) return false;
    if (schema.maxProperties !== undefined && count > schema.maxProperties) return false;
  } else if (Array.isArray(value)) {
    if (schema.items && !value.every((v) => satisfies(v, schema.items!))) return false;
    if (schema.minItems !== undefined && value.length < schema.minItems) return false;
    if (schema.maxItems !== undefined && value.length > schema.maxItems) return false;
  } else {
    checkScalar(value, schema, '', probe);
    if (probe.violations.length) return false;
  }
  if (schema.allOf && !schema.allOf.every((b) => satisfies(value, b))) return false;
  if (schema.anyOf && !schema.anyOf.some((b) => satisfies(value, b))) return false;
  if (schema.oneOf && schema.oneOf.filter((b) => satisfies(value, b)).length !== 1) return false;
  if (schema.not && satisfies(value, schema.not)) return false;
  return true;
}

/** The CEL rules of a node, on the (defaulted, pruned) value, with `self` typed by the schema. */
function checkRules(value: unknown, schema: Schema, path: string, walk: Walk): void {
  const rules = schema['x-kubernetes-validations'];
  if (!rules || value === undefined) return;
  let self: unknown;
  for (const rule of rules) {
    // Transition rules compare with the stored object: an object on its own has none (creation).
    if (/\boldSelf\b/.test(rule.rule)) continue;
    const compiled = compileCel(rule.rule);
    if (typeof compiled === 'string') {
      ruleViolation(walk, path, value, rule, `the rule cannot be compiled (${compiled}), so the object cannot be checked against it`, 'Report this as a cdk8s-mesh bug: the CEL evaluator does not support this rule.');
      continue;
    }
    self ??= toCel(value, schema);
    const result = compiled(self);
    if (result.error !== undefined) {
      ruleViolation(walk, path, value, rule, `${result.error} evaluating rule: ${rule.rule.replace(/\s+/g, ' ').trim()}${rule.message ? ` (${rule.message})` : ''}`, ruleFix(rule));
    } else if (result.value !== true) {
      ruleViolation(walk, path, value, rule, messageOf(rule, self), ruleFix(rule));
    }
  }
}

function messageOf(rule: ValidationRule, self: unknown): string {
  if (rule.messageExpression) {
    const compiled = compileCel(rule.messageExpression);
    if (typeof compiled !== 'string') {
      const result = compiled(self);
      if (typeof result.value === 'string' && result.value.trim() !== '') return result.value;
    }
  }
  return rule.message ?? `failed rule: ${rule.rule}`;
}

function ruleFix(rule: ValidationRule): string {
  return `Change the value so that the CRD's rule holds: ${rule.rule.replace(/\s+/g, ' ').trim()}`;
}

function ruleViolation(walk: Walk, path: string, value: unknown, rule: ValidationRule, message: string, fix: string): void {
  const fieldPath = rule.fieldPath ? join(path, rule.fieldPath.replace(/^\./, '')) : path;
  walk.violations.push({ kind: ViolationKind.RULE, severity: 'error', path: fieldPath, message: `${fieldPath || '<object>'}: Invalid value: "${jsonType(value)}": ${message}`, fix, rule: rule.rule });
}

/**
 * The value as CEL sees it: integers as int (bigint), numbers as double, declared object
 * properties under their escaped names (`__dash__`, `__dot__`, `__namespace__`…), maps and
 * preserved fields as they are.
 */
export function toCel(value: unknown, schema: Schema | undefined): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') {
    if (schema?.type === 'number') return value;
    return Number.isInteger(value) ? BigInt(value) : value;
  }
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => toCel(v, schema?.items));
  const out: Record<string, unknown> = {};
  const properties = schema?.properties;
  const additional = schema?.additionalProperties;
  for (const [key, v] of Object.entries(value)) {
    const declared = properties?.[key];
    if (declared) {
      const name = escapeCelName(key);
      if (name !== undefined) out[name] = toCel(v, declared);
    } else {
      out[key] = toCel(v, isSchema(additional) ? additional : undefined);
    }
  }
  return out;
}

/** Kubernetes' escaping of property names in CEL (apiserver/pkg/cel/escaping.go); undefined: not accessible. */
export function escapeCelName(name: string): string | undefined {
  if (CEL_RESERVED.has(name)) return `__${name}__`;
  if (!/^[a-zA-Z_.\-/][a-zA-Z0-9_.\-/]*$/.test(name)) return undefined;
  return name.replace(/__/g, '__underscores__').replace(/\./g, '__dot__').replace(/-/g, '__dash__').replace(/\//g, '__slash__');
}

function schemaError(walk: Walk, path: string, message: string, fix: string): void {
  walk.violations.push({ kind: ViolationKind.SCHEMA, severity: 'error', path, message, fix });
}

function at(path: string): string {
  return path ? `${path} ` : '';
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  return JSON.stringify(value) ?? 'undefined';
}

/** The candidate within edit distance 2 (a misspelling), if exactly one is closest. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.min(2, Math.floor(word.length / 2)) ? best : undefined;
}

function closestEnum(value: unknown, values: unknown[]): string {
  if (typeof value !== 'string') return '';
  const upper = values.find((v) => typeof v === 'string' && v.toLowerCase() === value.toLowerCase());
  if (upper) return ` (${JSON.stringify(upper)}: the values are case-sensitive)`;
  const near = closest(value, values.filter((v): v is string => typeof v === 'string'));
  return near ? ` (did you mean ${JSON.stringify(near)}?)` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_v, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

export type { CompiledExpression };
