import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';

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
}

/** Flattens `kind: List` objects, drops non-objects and ignored namespaces, and fills in namespaces. */
export function toResources(manifests: any[], options: LoadOptions): Res[] {
  const out: Res[] = [];
  const add = (obj: any, source: string | undefined) => {
    if (!obj || typeof obj !== 'object' || typeof obj.kind !== 'string') return;
    if (obj.kind === 'List' || (obj.kind.endsWith('List') && Array.isArray(obj.items))) {
      for (const item of obj.items ?? []) add(item, origins.get(item) ?? source);
      return;
    }
    const meta = obj.metadata ?? {};
    const ns = CLUSTER_SCOPED.has(obj.kind) ? '' : (meta.namespace ?? options.defaultNamespace);
    if (IGNORED_NAMESPACES.has(ns)) return;
    const apiVersion: string = obj.apiVersion ?? '';
    out.push({
      kind: obj.kind,
      group: apiVersion.includes('/') ? apiVersion.split('/')[0] : '',
      name: meta.name ?? '',
      ns,
      labels: meta.labels ?? {},
      annotations: meta.annotations ?? {},
      spec: obj.spec ?? {},
      raw: obj,
      source: origins.get(obj) ?? source,
    });
  };
  for (const m of manifests) add(m, undefined);
  return out;
}

/** Parses a (multi-document) YAML or JSON text into plain objects. Throws on syntax errors, naming `fileName`. */
export function parseManifestText(text: string, fileName?: string): any[] {
  const out: any[] = [];
  const lines = lineCounter(text);
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      throw new Error(`${fileName ?? 'input'}: ${doc.errors[0].message}`);
    }
    const value = doc.toJS();
    if (value === null || value === undefined) continue;
    if (fileName && typeof value === 'object') {
      const line = lines(doc.contents?.range?.[0] ?? 0);
      origins.set(value, `${fileName}:${line}`);
      for (const item of Array.isArray(value.items) ? value.items : []) {
        if (item && typeof item === 'object') origins.set(item, `${fileName}:${line}`);
      }
    }
    out.push(value);
  }
  return out;
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
  return files.flatMap((f) => parseManifestText(fs.readFileSync(f, 'utf8'), f));
}
