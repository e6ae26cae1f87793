// Internal: the least-privilege ALLOW policy behind MeshService.allowFrom. Not exported from the package.
import { AllowFromOptions, AuthorizationPolicy } from './authorization-policy';
import { Operation } from './operation';
import { IPeer } from './peer';
import { MeshService } from '../mesh/mesh-service';

const POLICIES = new WeakMap<MeshService, AuthorizationPolicy>();

/**
 * Allows `peer` to call `service`: one ALLOW policy per callee, `<callee>-allow`, with one rule
 * per call of allowFrom (the caller, and what it may do). One object per service keeps the name
 * independent of who the callers are and makes "who may call X" one object to read. A calling
 * MeshService also declares the call (`callsTo`), which scopes its proxy.
 */
export function allowFrom(service: MeshService, peer: IPeer, options: AllowFromOptions): AuthorizationPolicy {
  let policy = POLICIES.get(service);
  if (!policy) {
    policy = new AuthorizationPolicy(service, 'AllowFrom', { mesh: service.mesh, name: `${service.name}-allow`, target: service });
    POLICIES.set(service, policy);
  }
  // A service allowed to call declares the call too, so its proxy knows the callee's host.
  if (peer instanceof MeshService && peer !== service) peer.callsTo(service);
  const { methods, paths, ports } = options;
  const restricted = methods !== undefined || paths !== undefined || ports !== undefined;
  policy.addRule({ sources: [peer], operations: restricted ? [Operation.of({ methods, paths, ports })] : undefined });
  return policy;
}
