// Internal: the least-privilege ALLOW policy behind MeshService.allowFrom. Not exported from the package.
import { AllowFromOptions, AuthorizationPolicy } from './authorization-policy';
import { Operation } from './operation';
import { IPeer } from './peer';
import type { MeshService } from '../mesh/mesh-service';

const POLICIES = new WeakMap<MeshService, AuthorizationPolicy>();

/**
 * Allows `peer` to call `service`: one ALLOW policy per callee, `<callee>-allow`, with one rule
 * per call of allowFrom (the caller, and what it may do). One object per service keeps the name
 * independent of who the callers are and makes "who may call X" one object to read.
 */
export function allowFrom(service: MeshService, peer: IPeer, options: AllowFromOptions): AuthorizationPolicy {
  let policy = POLICIES.get(service);
  if (!policy) {
    policy = new AuthorizationPolicy(service, 'AllowFrom', { mesh: service.mesh, name: `${service.name}-allow`, target: service });
    POLICIES.set(service, policy);
  }
  const { methods, paths, ports } = options;
  const restricted = methods !== undefined || paths !== undefined || ports !== undefined;
  policy.addRule({ sources: [peer], operations: restricted ? [Operation.of({ methods, paths, ports })] : undefined });
  return policy;
}
