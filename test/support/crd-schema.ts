/**
 * Strict JSON schemas from CustomResourceDefinitions (Istio, prometheus-operator, Argo CD,
 * Argo Rollouts, Gateway API): one per served version of each CRD, prepared for ajv and cached.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { hash, writeAtomically } from './k8s-schema';

/** What {@link loadCrdSchemas} returns (and what the cache file holds). */
export interface CrdSchemas {
  /** Prepared schemas by content hash: served versions that share a schema are compiled once. */
  readonly schemas: Record<string, Schema>;
  /** `<group>/<version>/<kind>` → key in `schemas`. */
  readonly kinds: Record<string, string>;
}

type Schema = { [keyword: string]: any };

/** Every `*.yaml`/`*.yml` file under `dir`, sorted. */
export function findYamlFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true })
    .flatMap(e => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return findYamlFiles(p);
      return e.isFile() && /\.ya?ml$/.test(e.name) ? [p] : [];
    })
    .sort();
}

/**
 * Reads the CRDs in `files` (other documents are ignored; a later file wins for the same
 * group/version/kind). The prepared result is cached in `cacheDir` under a hash of the file
 * contents and of this module, because parsing 3 MB of YAML takes most of a second.
 */
export function loadCrdSchemas(files: string[], cacheDir: string): CrdSchemas {
  const texts = files.map(f => fs.readFileSync(f, 'utf8'));
  const file = path.join(cacheDir, `crds-${hash([fs.readFileSync(__filename, 'utf8'), ...texts].join('\0'))}.json`);
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8'));

  const schemas: Record<string, Schema> = {};
  const kinds: Record<string, string> = {};
  for (const text of texts) {
    for (const doc of YAML.parseAllDocuments(text)) {
      const crd = doc.toJS();
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      for (const version of crd.spec.versions) {
        // apiextensions.k8s.io/v1 requires a schema for every version; v1beta1 CRDs are not supported.
        if (!version.served || !version.schema?.openAPIV3Schema) continue;
        const schema = prepareRoot(version.schema.openAPIV3Schema);
        const key = hash(JSON.stringify(schema));
        schemas[key] = schema;
        kinds[`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`] = key;
      }
    }
  }
  const result = { schemas, kinds };
  writeAtomically(file, JSON.stringify(result));
  return result;
}

/**
 * The CRD root lists only `spec` (and `status`): drop `status` (never authored), add
 * `apiVersion`/`kind`/`metadata` (metadata is checked by a separate schema, see schema.ts).
 */
function prepareRoot(openApi: Schema): Schema {
  const root = closeObjects(openApi);
  const { status, ...properties } = root.properties ?? {};
  return {
    ...root,
    properties: { ...properties, apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' } },
    required: [...new Set([...root.required ?? [], 'apiVersion', 'kind', 'metadata'])],
    additionalProperties: false,
  };
}

/**
 * Rejects unknown fields, like `kubectl apply --validate=strict` (the API server would silently
 * prune them): every object schema with `properties` and neither `additionalProperties` nor
 * `x-kubernetes-preserve-unknown-fields` is closed.
 *
 * Only the structural positions (properties, items, additionalProperties) are walked. In a
 * structural schema the anyOf/oneOf/allOf/not branches only add value constraints on fields
 * declared next to them (Gateway API lists `properties` inside oneOf branches); closing a branch
 * would reject fields the enclosing object allows, and inside `not` would invert the meaning.
 */
function closeObjects(schema: Schema): Schema {
  const out: Schema = { ...schema };
  if (out.properties) {
    out.properties = Object.fromEntries(Object.entries(out.properties).map(([k, v]) => [k, closeObjects(v as Schema)]));
    if (out['x-kubernetes-embedded-resource']) {
      // An embedded object (e.g. a template) implicitly allows the object header.
      out.properties = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, ...out.properties };
    }
    if (out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  }
  if (isSchema(out.items)) out.items = closeObjects(out.items);
  if (isSchema(out.additionalProperties)) out.additionalProperties = closeObjects(out.additionalProperties);
  // int-or-string is spelled twice (the extension plus an equivalent anyOf integer/string);
  // keep only the extension, which schema.ts validates with a single readable error.
  if (out['x-kubernetes-int-or-string'] && isIntOrStringAnyOf(out.anyOf)) delete out.anyOf;
  return out;
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIntOrStringAnyOf(anyOf: unknown): boolean {
  return Array.isArray(anyOf) && anyOf.length === 2
    && anyOf.every(b => isSchema(b) && Object.keys(b).length === 1)
    && anyOf.map(b => b.type).sort().join() === 'integer,string';
}
