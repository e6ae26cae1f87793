import * as fs from 'fs';
import * as path from 'path';
import { Scalar, isScalar, parseAllDocuments, visit } from 'yaml';

/** One Kubernetes object as the analysis sees it. */
export interface Res {
  readonly kind: string;
  /** API group (`networking.istio.io`, `apps`, `` for core). */
  readonly group: string;
  readonly name: string;
  /** '' for cluster-scoped objects (and, with `defaultNamespace: ''`, for objects that name none). */
  readonly ns: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly spec: any;
  readonly raw: any;
  /** `file:line` when the object was read from a file by `loadManifestFiles`. */
  readonly source?: string;
}

/** Kinds that never live in a namespace. */
export const CLUSTER_SCOPED = new Set([
  'Namespace', 'Node', 'CustomResourceDefinition', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration',
  'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass', 'PriorityClass', 'GatewayClass', 'IngressClass',
]);

/** Istio drops objects in these namespaces when it loads files (pkg/config/analysis/local). */
const IGNORED_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage']);

/** Where the CLI read each object; kept aside so the user's objects are never modified. */
const origins = new WeakMap<object, string>();

export interface LoadOptions {
  readonly defaultNamespace: string;
  /** Keep objects without a string kind too (for admission to report them); default: drop them. */
  readonly keepInvalid?: boolean;
}

/** Flattens `kind: List` objects, drops non-objects and ignored namespaces, and fills in namespaces. */
export function toResources(manifests: any[], options: LoadOptions): Res[] {
  const out: Res[] = [];
  const add = (obj: any, source: string | undefined) => {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return;
    const kind = typeof obj.kind === 'string' ? obj.kind : undefined;
    if (kind === undefined && !options.keepInvalid) return;
    if (kind && (kind === 'List' || kind.endsWith('List')) && Array.isArray(obj.items)) {
      for (const item of obj.items) add(item, origins.get(item) ?? source);
      return;
    }
    const meta = obj.metadata && typeof obj.metadata === 'object' && !Array.isArray(obj.metadata) ? obj.metadata : {};
    const namespace = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : undefined;
    const ns = kind !== undefined && CLUSTER_SCOPED.has(kind) ? '' : (namespace ?? options.defaultNamespace);
    if (IGNORED_NAMESPACES.has(ns)) return;
    const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
    out.push({
      kind: kind ?? '',
      group: apiVersion.includes('/') ? apiVersion.split('/')[0] : '',
      name: typeof meta.name === 'string' ? meta.name : '',
      ns,
      labels: meta.labels && typeof meta.labels === 'object' ? meta.labels : {},
      annotations: meta.annotations && typeof meta.annotations === 'object' ? meta.annotations : {},
      spec: obj.spec && typeof obj.spec === 'object' ? obj.spec : {},
      raw: obj,
      source: origins.get(obj) ?? source,
    });
  };
  for (const m of manifests) add(m, undefined);
  return out;
}

/** A file (or a document of it) the analysis cannot read as Kubernetes objects. */
export interface FileProblem {
  /** `CMA111` (not a manifest: a template, or not Kubernetes objects) or `CMA112` (YAML syntax error). */
  readonly code: 'CMA111' | 'CMA112';
  readonly file: string;
  readonly line: number;
  readonly message: string;
  readonly fix: string;
}

/** What a YAML or JSON text holds: its objects, and what could not be read. */
export interface ParsedText {
  readonly objects: any[];
  readonly problems: FileProblem[];
}

/**
 * YAML as the Kubernetes tools read it (sigs.k8s.io/yaml, that is go-yaml v2, a YAML 1.1 reader):
 * `yes`/`no`/`on`/`off`/`y`/`n` are booleans, `0777` is octal, `1_000` is 1000, but times
 * (`1:20`) and dates stay strings.
 */
const GO_YAML_OPTIONS = {
  version: '1.1' as const,
  customTags: (tags: any[]) => {
    const kept = tags.filter((t) => t.format !== 'TIME' && t.tag !== 'tag:yaml.org,2002:timestamp');
    // go-yaml's float syntax (yamlStyleFloat): `.` or `1.2.3` are strings, not numbers.
    const float = kept.find((t) => t.tag === 'tag:yaml.org,2002:float' && !t.format && t.test?.source.includes('[0-9]'));
    return kept.filter((t) => t.tag !== 'tag:yaml.org,2002:float' || String(t.test).includes('inf')).concat(float ? [{
      ...float,
      test: /^[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?$/,
      resolve: (text: string) => parseFloat(text.replace(/_/g, '')),
    }] : []);
  },
};

/** Where a Go/Helm template action starts outside string values, if anywhere. */
function templateOffset(text: string, docs: any[]): number | undefined {
  const first = text.indexOf('{{');
  if (first < 0) return undefined;
  if (docs.length === 0 || docs.some((d) => d.errors?.length > 0)) {
    // Text that does not parse: a template when some `{{` stands outside quotes on its line.
    for (const m of text.matchAll(/\{\{/g)) {
      const before = text.slice(text.lastIndexOf('\n', m.index) + 1, m.index);
      if ((before.split('"').length - 1) % 2 === 0 && (before.split("'").length - 1) % 2 === 0) return m.index;
    }
    return undefined;
  }
  let found: number | undefined;
  for (const doc of docs) {
    visit(doc, {
      Map(_k, node: any) {
        if (node.flow && node.range && text.startsWith('{{', node.range[0])) {
          found = Math.min(found ?? Infinity, node.range[0]);
          return visit.BREAK;
        }
        return undefined;
      },
    });
  }
  return found;
}

/**
 * Parses a (multi-document) YAML or JSON text into plain objects, never throwing: syntax errors
 * and templates are problems with their file and line.
 */
export function readManifestText(text: string, fileName?: string): ParsedText {
  const file = fileName ?? 'input';
  const objects: any[] = [];
  const problems: FileProblem[] = [];
  const lines = lineCounter(text);
  let docs: any[];
  try {
    docs = parseAllDocuments(text, GO_YAML_OPTIONS) as any[];
  } catch (e) {
    docs = [];
    problems.push({ code: 'CMA112', file, line: 1, message: `YAML syntax error: ${(e as Error).message}`, fix: 'Fix the YAML syntax.' });
  }
  // A Go/Helm template: `{{ … }}` where YAML would read structure (a flow mapping, or text that does
  // not parse), not inside a string value (Prometheus annotations and Grafana legends hold `{{ }}` too).
  const templateAt = templateOffset(text, docs);
  if (templateAt !== undefined) {
    const snippet = /\{\{[^]*?\}\}/.exec(text.slice(templateAt))?.[0] ?? text.slice(templateAt, templateAt + 20);
    return {
      objects,
      problems: [{
        code: 'CMA111',
        file,
        line: lineOf(text, templateAt),
        message: `not a manifest: the file is a Go/Helm template (${JSON.stringify(snippet.length > 40 ? `${snippet.slice(0, 37)}...` : snippet)}); it was not analyzed`,
        fix: 'Render it first (helm template, kustomize build) and analyze the output.',
      }],
    };
  }
  if (problems.length) return { objects, problems };
  for (const doc of docs) {
    if (doc.errors?.length > 0) {
      const error = doc.errors[0];
      const line = error.linePos?.[0]?.line ?? lineOf(text, error.pos?.[0] ?? 0);
      problems.push({ code: 'CMA112', file, line, message: `YAML syntax error: ${String(error.message).split('\n')[0]}`, fix: 'Fix the YAML syntax (the document is not analyzed until it parses).' });
      continue;
    }
    readFlowScalarsAsGo(doc, text);
    let value: any;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      problems.push({ code: 'CMA112', file, line: lines(doc.contents?.range?.[0] ?? 0), message: `YAML error: ${(e as Error).message}`, fix: 'Fix the YAML (aliases, tags).' });
      continue;
    }
    if (value === null || value === undefined) continue;
    const line = lines(doc.contents?.range?.[0] ?? 0);
    if (typeof value !== 'object' || Array.isArray(value)) {
      problems.push({
        code: 'CMA111',
        file,
        line,
        message: `not a manifest: the document is ${Array.isArray(value) ? 'a list' : `a ${typeof value}`}, not a Kubernetes object`,
        fix: 'Write each object as a mapping with apiVersion, kind and metadata (use kind: List for several).',
      });
      continue;
    }
    if (fileName !== undefined) {
      origins.set(value, `${fileName}:${line}`);
      for (const item of Array.isArray(value.items) ? value.items : []) {
        if (item && typeof item === 'object') origins.set(item, `${fileName}:${line}`);
      }
    }
    objects.push(value);
  }
  return { objects, problems };
}

/** Parses a (multi-document) YAML or JSON text into plain objects. Throws on syntax errors, naming `fileName` and the line. */
export function parseManifestText(text: string, fileName?: string): any[] {
  const { objects, problems } = readManifestText(text, fileName);
  const syntax = problems.find((p) => p.code === 'CMA112');
  if (syntax) throw new Error(`${fileName ?? 'input'}:${syntax.line}: ${syntax.message}`);
  return objects;
}

/**
 * Go's YAML reader ends a plain scalar at `:` only when a blank follows, so in a flow collection
 * `[1.2.3.4, 001:db8::]` holds the string `001:db8::`; a YAML 1.2 reader (npm's yaml) reads the
 * trailing `:` as a mapping indicator and makes `{"001:db8:": null}` of it. Turn such one-pair
 * mappings back into the string the API server sees.
 */
function readFlowScalarsAsGo(doc: any, text: string): void {
  visit(doc, {
    Map(_key, node: any) {
      // An implicit one-pair mapping inside a flow sequence (not a `{...}` mapping).
      if (node.flow && node.items.length === 1 && text[node.range?.[0]] !== '{') {
        const [pair] = node.items;
        const key = pair.key;
        const valueEmpty = pair.value === null || (isScalar(pair.value) && (pair.value as any).source === '' && pair.value.value === null);
        if (isScalar(key) && key.type === 'PLAIN' && valueEmpty && key.range) {
          const end = key.range[1];
          if (text[end] === ':' && /[,\]}]/.test(text[end + 1] ?? '')) {
            const scalar = new Scalar(`${key.source ?? String(key.value)}:`);
            (scalar as any).range = [key.range[0], end + 1, end + 1];
            return scalar;
          }
        }
      }
      return undefined;
    },
  });
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Line numbers for increasing offsets, in one pass over the text. */
function lineCounter(text: string): (offset: number) => number {
  let pos = 0;
  let line = 1;
  return (offset) => {
    for (; pos < offset && pos < text.length; pos++) if (text.charCodeAt(pos) === 10) line++;
    return line;
  };
}

const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];

/** Reads files and folders (recursively, `*.yaml|*.yml|*.json`, in sorted order) into plain objects. */
export function loadManifestFiles(paths: string[]): any[] {
  return manifestFiles(paths).flatMap((f) => parseManifestText(fs.readFileSync(f, 'utf8'), f));
}

/** Reads files and folders like {@link loadManifestFiles}, never throwing on their content. */
export function readManifestFiles(paths: string[]): ParsedText {
  const objects: any[] = [];
  const problems: FileProblem[] = [];
  for (const f of manifestFiles(paths)) {
    const parsed = readManifestText(fs.readFileSync(f, 'utf8'), f);
    objects.push(...parsed.objects);
    problems.push(...parsed.problems);
  }
  return { objects, problems };
}

function manifestFiles(paths: string[]): string[] {
  const files: string[] = [];
  const walk = (p: string) => {
    const stat = fs.statSync(p);
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(p).sort()) {
        const child = path.join(p, entry);
        if (fs.statSync(child).isDirectory() || MANIFEST_EXTENSIONS.includes(path.extname(entry))) walk(child);
      }
    } else {
      files.push(p);
    }
  };
  paths.forEach(walk);
  return files;
}
