// Internal: what an mTLS declaration (an MtlsPolicy, or the Mesh's mtlsMode) promises, proven at synth with the
// request simulator.
import { IConstruct } from 'constructs';
import { _mtlsDecision } from './effective-mtls';
import { MtlsMode } from './mtls-mode';
import { TraceStepKind, type RequestTrace } from '../analysis/simulator/types';
import { _meshesOf, type Mesh } from '../mesh/mesh';
import { brokeAt, stepsOf, type Declaration, type Expectation, type RequestPromise } from '../mesh/promises';
import { isHttpProtocol } from '../mesh/protocol';

/**
 * An mTLS declaration promises, for every pod whose mode it decides (it is the most specific declaration that sets a
 * mode there: a workload policy's port-level mode, its mode, the namespace's, the mesh-wide one), that a plaintext
 * client outside the mesh calling the pod's port is refused at the mTLS step where the mode is STRICT, and gets past
 * that step where it is PERMISSIVE or DISABLE.
 */
export function mtlsDeclaration(declaredBy: IConstruct, mesh: Mesh, what: string): Declaration {
  return {
    code: 'CM334',
    what,
    fix: 'let mTLS modes come from the MtlsPolicy and Mesh constructs only (another PeerAuthentication, or a JSON patch of this one, changes what the pods accept), or change the mode',
    requests: () => {
      const out: RequestPromise[] = [];
      for (const m of _meshesOf(mesh)) {
        for (const service of m.services) {
          // Each container port of each version: a mode may be set per port (portOverrides).
          const ports = service.ports.filter((p, i) => service.ports.findIndex((q) => q.targetPort === p.targetPort) === i);
          for (const version of service.versions) {
            for (const port of ports) {
              const { mode, decidedBy } = _mtlsDecision(service, version, port.targetPort);
              if (decidedBy !== declaredBy) continue;
              const strict = mode === MtlsMode.STRICT;
              out.push({
                request: { destination: `${m.namespaceName}/${version.deployment.name}`, port: port.targetPort, tcp: !isHttpProtocol(port.protocol) },
                promise: strict ? `is refused (${mode}: plaintext is not accepted)` : `gets past mutual TLS (${mode}: plaintext is accepted)`,
                expect: strict ? refusedAtMtls : acceptedByMtls,
              });
            }
          }
        }
      }
      return out;
    },
  };
}

function mtlsSteps(t: RequestTrace) {
  return stepsOf(t).filter((s) => s.kind === TraceStepKind.MTLS);
}

const refusedAtMtls: Expectation = (t) => (mtlsSteps(t).some((s) => !s.passed) ? undefined
  : `traced, ${t.allowed ? 'it is admitted' : `it ends ${t.outcome}`} with no mTLS step refusing plaintext: ${t.explanation}`);

const acceptedByMtls: Expectation = (t) => (mtlsSteps(t).some((s) => !s.passed) ? brokeAt(t) : undefined);
