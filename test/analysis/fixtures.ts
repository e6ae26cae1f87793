// YAML builders for the Namespaces, Services and workloads the analysis tests keep needing. Policies and
// routes stay written out in each test: they are what the tests are about.

/** A Namespace; sidecar-injected unless other labels are given. */
export function namespace(name: string, labels = 'istio-injection: enabled'): string {
  return `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${name}, labels: { ${labels} } }\n`;
}

/** A Service selecting `app: <name>` (or `selector`), with `ports` in flow style. */
export function service(ns: string, name: string, ports = '[{ name: http, port: 80 }]', selector = `{ app: ${name} }`): string {
  return `apiVersion: v1\nkind: Service\nmetadata: { name: ${name}, namespace: ${ns} }\nspec: { selector: ${selector}, ports: ${ports} }\n`;
}

export interface WorkloadOptions {
  /** Pod labels, in flow style without braces. @default `app: <name>` */
  readonly labels?: string;
  readonly serviceAccount?: string;
  readonly annotations?: string;
  readonly containerPort?: number;
}

/** A Deployment whose pod template has the given labels, service account and annotations. */
export function deployment(ns: string, name: string, options: WorkloadOptions = {}): string {
  const labels = options.labels ?? `app: ${name}`;
  const meta = `labels: { ${labels} }${options.annotations ? `, annotations: { ${options.annotations} }` : ''}`;
  const sa = options.serviceAccount ? `serviceAccountName: ${options.serviceAccount}, ` : '';
  const ports = options.containerPort ? `, ports: [{ containerPort: ${options.containerPort} }]` : '';
  return `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: ${name}, namespace: ${ns} }\n`
    + `spec: { selector: { matchLabels: { ${labels} } }, template: { metadata: { ${meta} }, spec: { ${sa}containers: [{ name: ${name}, image: ${name}:1${ports} }] } } }\n`;
}

/** Joins YAML documents. */
export function docs(...parts: string[]): string {
  return parts.join('---\n');
}
