import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';

/** A synthesized or sample Kubernetes object. */
export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: any }; [k: string]: any };

/** All objects of one kind. */
export function ofKind(manifests: Manifest[], kind: string): Manifest[] {
  return manifests.filter((m) => m.kind === kind);
}

/** The one object of `kind` named `name` (fails the test when absent or ambiguous). */
export function one(manifests: Manifest[], kind: string, name: string, namespace?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && m.metadata?.name === name
    && (namespace === undefined || m.metadata?.namespace === namespace));
  if (found.length !== 1) {
    const names = ofKind(manifests, kind).map((m) => `${m.metadata?.namespace ?? ''}/${m.metadata?.name}`);
    throw new Error(`expected exactly one ${kind} "${name}", found ${found.length} (have: ${names.join(', ') || 'none'})`);
  }
  return found[0];
}

/** `kind/name` of every object, in output order. */
export function inventory(manifests: Manifest[]): string[] {
  return manifests.map((m) => `${m.kind}/${m.metadata?.name}`);
}

/**
 * Istio's sample files live in ../shared/istio-testdata (MESH_ISTIO_TESTDATA overrides it);
 * they are read at test time and never copied into the repository.
 */
export const ISTIO_TESTDATA = process.env.MESH_ISTIO_TESTDATA
  ?? path.resolve(__dirname, '..', '..', '..', 'shared', 'istio-testdata');

/**
 * True when Istio's samples are present. When they are not, test/conformance/conformance.test.ts
 * prints the one line that says what is skipped.
 */
export function samplesAvailable(): boolean {
  return fs.existsSync(path.join(ISTIO_TESTDATA, 'samples'));
}

/** `test` when Istio's samples are present, `test.skip` otherwise. */
export const sampleTest: jest.It = samplesAvailable() ? test : test.skip;

/** The objects of an Istio sample file, e.g. `bookinfo/networking/virtual-service-all-v1.yaml`. */
export function loadSample(relativePath: string): Manifest[] {
  const text = fs.readFileSync(path.join(ISTIO_TESTDATA, 'samples', relativePath), 'utf8');
  return YAML.parseAllDocuments(text).map((d) => d.toJS()).filter((m) => m && m.kind);
}

/**
 * A sample host (short name, as Istio's samples write it) as the FQDN the library writes.
 * Istio resolves a short host relative to the namespace of the object that names it.
 */
export function fqdn(host: string, namespace: string): string {
  return host.includes('.') || host === '*' ? host : `${host}.${namespace}.svc.cluster.local`;
}
