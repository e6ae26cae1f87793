import { Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { buildMesh, meshSpec } from './mesh-spec';
import { mutations } from './mutations';
import { MeshAnalysis, Severity } from '../../src';
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
  // Who may call whom: test/properties/least-privilege.test.ts.
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

