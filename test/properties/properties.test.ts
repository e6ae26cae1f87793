import { Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { JWT_ISSUER, MeshSpec, buildMesh, meshSpec } from './mesh-spec';
import { mutations } from './mutations';
import { MeshAnalysis, MeshSimulator, Severity } from '../../src';
import { schemaErrors } from '../support/schema';

/**
 * Properties of every mesh the library can build. The test task runs FC_NUM_RUNS=200 cases per
 * property; `npm run fuzz` runs 10,000. A failure prints the seed and the shrunk mesh spec;
 * replay it with FC_SEED=<seed> (and FC_PATH=<path>).
 */
const numRuns = Number(process.env.FC_NUM_RUNS ?? 200);
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
const path = process.env.FC_PATH;
// Shrinking a failing mesh can take long: it is bounded, and FC_SHRINK=0 skips it.
const params = { numRuns, seed, path, endOnFailure: process.env.FC_SHRINK === '0', interruptAfterTimeLimit: 90_000 + numRuns * 500, markInterruptAsFailure: true };
const TIMEOUT = Math.max(120_000, numRuns * 600);

let warn: jest.SpyInstance;
beforeAll(() => { warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined); });
afterAll(() => warn.mockRestore());

describe('properties of random valid meshes', () => {
  test('synthesis succeeds, every object is schema-valid, and the analysis reports no errors', () => {
    fc.assert(fc.property(meshSpec(), (spec) => {
      const { chart } = buildMesh(spec);
      const manifests = Testing.synth(chart);
      expect(manifests.length).toBeGreaterThan(spec.services.length * 5);
      expect(schemaErrors(manifests)).toEqual([]);
      const errors = MeshAnalysis.analyze(manifests, { defaultNamespace: 'shop' }).filter((f) => f.severity === Severity.ERROR);
      expect(MeshAnalysis.format(errors)).toEqual(MeshAnalysis.format([]));
    }), params);
  }, TIMEOUT);

  test('output is deterministic: two synths of the same program are byte-identical', () => {
    fc.assert(fc.property(meshSpec(12), (spec) => {
      expect(buildMesh(spec).app.synthYaml()).toEqual(buildMesh(spec).app.synthYaml());
    }), params);
  }, TIMEOUT);

  test('the policy simulator agrees with the declared graph: allowFrom edges can call, other pairs cannot', () => {
    fc.assert(fc.property(meshSpec(10), (spec) => {
      const { chart } = buildMesh(spec);
      const simulator = new MeshSimulator(Testing.synth(chart), { defaultNamespace: 'shop' });
      const token = { issuer: JWT_ISSUER, subject: 'alice' };
      for (const [caller, callee] of pairs(spec)) {
        const edge = spec.edges.find((e) => e.caller === caller && e.callee === callee);
        const http = spec.services[callee].protocol !== 'tcp';
        const request = http ? { method: edge?.methods?.[0] ?? 'GET', path: '/', token } : {};
        const decision = simulator.call(spec.services[caller].name, spec.services[callee].name, request);
        expect({ caller: spec.services[caller].name, callee: spec.services[callee].name, allowed: decision.allowed, why: decision.explanation })
          .toEqual(expect.objectContaining({ allowed: edge !== undefined }));
      }
    }), params);
  }, TIMEOUT);
});

describe('properties of invalid input', () => {
  test("a mutated mesh fails with the library's own error (code, construct path, fix), never a crash or a broken object", () => {
    fc.assert(fc.property(meshSpec(8), fc.constantFrom(...mutations), fc.nat(), (spec, mutation, pick) => {
      const broken = mutation.apply(spec, pick);
      fc.pre(broken !== undefined);
      let error: unknown;
      try {
        Testing.synth(buildMesh(broken!).chart);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(Error);
      const message = (error as Error).message;
      expect({ mutation: mutation.name, message }).toEqual({ mutation: mutation.name, message: expect.stringMatching(/\[[^\]]+\] .*CM\d{3} .*Fix: /s) });
      expect(error).not.toBeInstanceOf(TypeError);
    }), params);
  }, TIMEOUT);
});

/** Every ordered pair of distinct services. */
function pairs(spec: MeshSpec): Array<[number, number]> {
  const n = spec.services.length;
  return [...Array(n).keys()].flatMap((a) => [...Array(n).keys()].filter((b) => b !== a).map((b): [number, number] => [a, b]));
}
