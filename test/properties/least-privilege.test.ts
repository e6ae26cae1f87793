import { Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { EdgeSpec, JWT_ISSUER, MeshSpec, buildMesh, meshSpec } from './mesh-spec';
import { MeshSimulator, TraceRequest } from '../../src';
import { _proofs } from '../../src/mesh/promises';

/**
 * Least privilege as a property (issue 14, part 2), over random meshes with the Mesh's default-deny. Each mesh is
 * synthesized with every declaration's promise traced (a broken promise fails synthesis), and then every request the
 * test can think of is asked of the request simulator: it is admitted exactly when a declaration admits it. The
 * oracle below is written from the declarations alone (allowFrom's methods and paths, Istio's path semantics:
 * `/api/*` a prefix, else exact), not from the library's rendering.
 * The test task runs FC_NUM_RUNS=200 meshes; `npm run fuzz` runs 10,000.
 */
const numRuns = Number(process.env.FC_NUM_RUNS ?? 200);
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
const params = { numRuns, seed, path: process.env.FC_PATH, endOnFailure: process.env.FC_SHRINK === '0', interruptAfterTimeLimit: 90_000 + numRuns * 500, markInterruptAsFailure: true };
const TIMEOUT = Math.max(120_000, numRuns * 600);

const METHODS = ['GET', 'POST', 'DELETE'];
const PATHS = ['/', '/api/items', '/v1/orders', '/v1/orders/1', '/healthz', '/items/7', '/cdk8s-mesh/undeclared'];
const token = { issuer: JWT_ISSUER, subject: 'alice' };

let warn: jest.SpyInstance;
beforeAll(() => { warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined); });
afterAll(() => warn.mockRestore());

/** Does the declaration admit the method and path? (Istio: a trailing `*` is a prefix, else the path is exact.) */
function declares(edge: EdgeSpec, method: string, path: string): boolean {
  const methodOk = !edge.methods || edge.methods.includes(method as any);
  const pathOk = !edge.paths || edge.paths.some((p) => (p.endsWith('*') ? path.startsWith(p.slice(0, -1)) : path === p));
  return methodOk && pathOk;
}

function exposedThroughGateway(spec: MeshSpec, callee: number): boolean {
  const s = spec.services[callee];
  return spec.gateway && s.exposed && s.protocol !== 'tcp';
}

describe('least privilege over random meshes (default-deny)', () => {
  test('every promise holds at synth, and a request is admitted exactly when a declaration admits it', () => {
    const prove = jest.spyOn(_proofs, 'prove');
    fc.assert(fc.property(meshSpec(8), (spec) => {
      prove.mockClear();
      const { chart } = buildMesh(spec);
      const manifests = Testing.synth(chart);
      // The promises ran (the Mesh's mTLS mode is a declaration of every mesh) and none broke.
      expect(prove).toHaveBeenCalled();
      expect(prove.mock.results.every((r) => r.type === 'return' && (r.value as string[]).length === 0)).toBe(true);

      const sim = new MeshSimulator(manifests, { defaultNamespace: 'shop' });
      const names = spec.services.map((s) => s.name);
      const mismatches: string[] = [];
      const check = (who: string, request: TraceRequest, expected: boolean, allowed: boolean, why: string) => {
        if (allowed !== expected) mismatches.push(`${who} ${request.method ?? ''} ${request.path ?? ''}: expected ${expected ? 'admitted' : 'refused'}, ${why}`);
      };
      spec.services.forEach((calleeSpec, callee) => {
        const http = calleeSpec.protocol !== 'tcp';
        // Service to service: the declared edge (allowFrom), or the gateway's exposure.
        spec.services.forEach((_c, caller) => {
          if (caller === callee) return;
          const edge = spec.edges.find((e) => e.caller === caller && e.callee === callee);
          for (const method of http ? METHODS : ['GET']) {
            for (const path of http ? PATHS : ['/']) {
              const request: TraceRequest = http ? { method, path, token } : {};
              const d = sim.call(names[caller], names[callee], request);
              check(`${names[caller]} -> ${names[callee]}`, request, edge !== undefined && (!http || declares(edge, method, path)), d.allowed, d.explanation);
            }
          }
        });
        // The gateway's identity: admitted for the exposed host and prefix only (it forwards the client's Host).
        if (spec.gateway && spec.services.some((_s, i) => exposedThroughGateway(spec, i))) {
          for (const path of [`/${calleeSpec.name}`, `/${calleeSpec.name}/x`, '/cdk8s-mesh/undeclared']) {
            // To a pod of the service, as the gateway's Envoy sends it (on the pod's address, with the client's Host).
            const request: TraceRequest = {
              source: 'shop/gateway', destination: `shop/${calleeSpec.name}-v1`, port: calleeSpec.port, tcp: !http, ...(http ? { method: 'GET', host: 'shop.example.com', path, token } : {}),
            };
            const t = sim.trace(request);
            check(`gateway -> ${names[callee]}`, request, exposedThroughGateway(spec, callee) && path.startsWith(`/${calleeSpec.name}`), t.allowed, t.explanation);
          }
          if (http) {
            const otherHost: TraceRequest = { method: 'GET', host: `${calleeSpec.name}.shop`, path: `/${calleeSpec.name}`, token };
            const d = sim.call('gateway', names[callee], otherHost);
            check(`gateway -> ${names[callee]} (Host ${otherHost.host})`, otherHost, false, d.allowed, d.explanation);
          }
        }
        // A plaintext client outside the mesh, and a workload identity of another namespace: no declaration admits them.
        const outside: TraceRequest = { destination: names[callee], method: 'GET', path: '/', token };
        const fromOutside = sim.trace(outside);
        check(`outside -> ${names[callee]}`, outside, false, fromOutside.allowed, fromOutside.explanation);
        const stranger: TraceRequest = { sourcePrincipal: 'cluster.local/ns/elsewhere/sa/default', destination: names[callee], method: 'GET', path: '/', token };
        const fromStranger = sim.trace(stranger);
        check(`elsewhere -> ${names[callee]}`, stranger, false, fromStranger.allowed, fromStranger.explanation);
      });
      expect(mismatches).toEqual([]);
    }), params);
    prove.mockRestore();
  }, TIMEOUT);
});
