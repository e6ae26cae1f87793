import * as fs from 'fs';
import * as path from 'path';
import * as fc from 'fast-check';
import { MeshAnalysis, MeshSimulator, TopologyGraph } from '../../src';
import { readManifestText } from '../../src/analysis/manifests';

/**
 * The analysis never crashes: whatever a (mutated) manifest holds, it answers with findings. The
 * inputs are the objects of the bookinfo example's golden output (every kind the library writes)
 * plus hand-written Istio objects of the kinds it does not, each mutated at a random field: wrong
 * types, nulls, a map for a list, a list for a scalar, a removed or an unknown field. The test task
 * runs FC_NUM_RUNS=200 cases per property; `npm run fuzz` runs 10,000.
 */
const numRuns = Number(process.env.FC_NUM_RUNS ?? 200);
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
const params = { numRuns, seed, path: process.env.FC_PATH, endOnFailure: process.env.FC_SHRINK === '0' };
const TIMEOUT = Math.max(120_000, numRuns * 100);

const GOLDEN = path.join(__dirname, '..', 'examples', 'golden', 'bookinfo', 'bookinfo.k8s.yaml');
const EXTRA = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: db, namespace: bookinfo }
spec: { hosts: [db.example.com], addresses: [240.0.0.1], ports: [{ number: 5432, name: tcp, protocol: TCP }], resolution: DNS, exportTo: [".", "other"] }
---
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: { name: lua, namespace: bookinfo }
spec: { priority: 1, workloadSelector: { labels: { app: reviews } }, configPatches: [{ applyTo: HTTP_FILTER, match: { context: SIDECAR_INBOUND }, patch: { operation: INSERT_BEFORE, value: { name: envoy.lua } } }] }
---
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata: { name: auth, namespace: bookinfo }
spec: { selector: { matchLabels: { app: productpage } }, url: oci://ghcr.io/example/auth:1, pluginConfig: { a: [1, 2] } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: reviews, namespace: bookinfo }
spec: { parentRefs: [{ group: "", kind: Service, name: reviews, port: 9080 }], rules: [{ backendRefs: [{ name: reviews-v1, port: 9080, weight: 90 }, { name: reviews-v2, port: 9080, weight: 10 }] }] }
---
apiVersion: v1
kind: Pod
metadata: { name: sleep, namespace: bookinfo, labels: { app: sleep } }
spec: { serviceAccountName: sleep, containers: [{ name: sleep, image: curl, ports: [{ containerPort: 80 }] }] }
`;

const BASE: any[] = [...readManifestText(fs.readFileSync(GOLDEN, 'utf8')).objects, ...readManifestText(EXTRA).objects];

/** Every field path of a value (object keys and list indices), the root excluded. */
function paths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...prefix, i], ...paths(v, [...prefix, i])]);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...paths(v, [...prefix, k])]);
  return [];
}

type Mutation = (old: unknown) => unknown;
const DELETE = Symbol('delete');
const MUTATIONS: Array<[string, Mutation]> = [
  ['null', () => null],
  ['a number', () => 42],
  ['a negative fraction', () => -1.5],
  ['a string', () => 'x'],
  ['an empty string', () => ''],
  ['a boolean', () => true],
  ['an empty list', () => []],
  ['an empty map', () => ({})],
  ['a list of it', (old) => [old]],
  ['a map of it', (old) => ({ key: old })],
  ['a list for a map', (old) => (old && typeof old === 'object' ? Object.values(old) : [old, old])],
  ['a map for a list', (old) => (Array.isArray(old) ? Object.fromEntries(old.map((v, i) => [`k${i}`, v])) : { 0: old })],
  ['a huge number', () => 1e300],
  ['a wildcard', () => '*'],
  ['removed', () => DELETE],
  ['a deep structure', () => ({ a: [{ b: { c: [null, 1, 'x'] } }] })],
];

/** A copy of `object` with the value at `at` replaced (or removed). */
function mutate(object: any, at: Array<string | number>, mutation: Mutation): any {
  const copy = structuredClone(object);
  let parent: any = copy;
  for (const key of at.slice(0, -1)) parent = parent[key];
  const last = at[at.length - 1];
  const value = mutation(parent[last]);
  if (value === DELETE) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else {
    parent[last] = value;
  }
  return copy;
}

const mutatedManifests = fc.tuple(
  fc.subarray(BASE.map((_o, i) => i), { minLength: 1, maxLength: 25 }),
  fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat({ max: MUTATIONS.length - 1 })), { minLength: 1, maxLength: 4 }),
).map(([picked, edits]) => {
  const manifests = picked.map((i) => BASE[i]);
  const applied: string[] = [];
  for (const [which, where, how] of edits) {
    const i = which % manifests.length;
    const candidates = paths(manifests[i]);
    if (candidates.length === 0) continue;
    const at = candidates[where % candidates.length];
    manifests[i] = mutate(manifests[i], at, MUTATIONS[how][1]);
    applied.push(`${manifests[i]?.kind}/${manifests[i]?.metadata?.name} ${at.join('.')} := ${MUTATIONS[how][0]}`);
  }
  return { manifests, applied };
});

describe('the analysis of mutated manifests', () => {
  test('never throws: every input gives findings, and the analysis reports no internal error', () => {
    fc.assert(fc.property(mutatedManifests, ({ manifests, applied }) => {
      let findings;
      try {
        findings = MeshAnalysis.analyze(manifests);
        MeshAnalysis.format(findings);
        TopologyGraph.mermaid(manifests);
        new MeshSimulator(manifests).accessMatrix();
      } catch (e) {
        throw new Error(`mutations [${applied.join('; ')}] crashed the analysis: ${(e as Error).stack}`);
      }
      expect({ applied, internal: findings.filter((f) => f.code === 'IST0001') }).toEqual({ applied, internal: [] });
    }), params);
  }, TIMEOUT);

  test('a mutation the API server refuses is reported (the analysis does not silently accept it)', () => {
    const deployment = BASE.find((o) => o.kind === 'Deployment');
    const broken = mutate(deployment, ['spec', 'replicas'], () => 'three');
    const findings = MeshAnalysis.analyze([broken]);
    expect(findings).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'IST0106', path: 'spec.replicas', message: expect.stringContaining('must be of type') })]));
  });
});

describe('the reader of mutated YAML text', () => {
  // The first documents of the golden output (a Namespace, policies, a service): quick to re-read.
  const text = fs.readFileSync(GOLDEN, 'utf8').split(/^---$/m).slice(0, 12).join('---');
  test('never throws: a cut, spliced or garbled text gives objects and problems with their line', () => {
    fc.assert(fc.property(fc.nat({ max: text.length }), fc.nat({ max: text.length }), fc.string({ maxLength: 12 }), (a, b, junk) => {
      const [from, to] = a < b ? [a, b] : [b, a];
      const garbled = text.slice(0, from) + junk + text.slice(to);
      const { objects, problems } = readManifestText(garbled, 'garbled.yaml');
      for (const p of problems) expect(p.line).toBeGreaterThanOrEqual(1);
      expect(() => MeshAnalysis.analyze(objects)).not.toThrow();
    }), { ...params, numRuns: Math.min(numRuns, 2000) });
  }, TIMEOUT);
});
