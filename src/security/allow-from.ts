// Internal: the least-privilege ALLOW policy behind MeshService.allowFrom. Not exported from the package.
import { AllowFromOptions, AuthorizationPolicy } from './authorization-policy';
import { AllowFromRecord, allowFromDeclaration } from './authorization-promises';
import { Operation } from './operation';
import { IPeer } from './peer';
import { MeshService } from '../mesh/mesh-service';
import { declare } from '../mesh/promises';

const POLICIES = new WeakMap<MeshService, AuthorizationPolicy>();
/** The peers each service was given an allowFrom for, by the user. */
const DECLARED = new WeakMap<MeshService, Set<IPeer>>();
/** Each allowFrom call of each service, with the rule it wrote (for the promises). */
const RECORDS = new WeakMap<MeshService, AllowFromRecord[]>();
/** What each gateway exposes of each service, for the gateway's rule in the service's policy. */
const EXPOSED = new WeakMap<MeshService, Map<IPeer, GatewayExposure[]>>();

/** What one exposeViaGateway call lets through: its hosts and, when they can be written as authorization paths, its paths. */
export interface GatewayExposure {
  /** Hosts the gateway forwards with (the exposed hosts, or the rewritten authority); undefined: any. */
  readonly hosts?: string[];
  /** Authorization paths (`/static*`); undefined: any. */
  readonly paths?: string[];
  /** The Service port the gateway sends to (a multi-port service); undefined: any. */
  readonly ports?: number[];
}

function policyOf(service: MeshService): AuthorizationPolicy {
  let policy = POLICIES.get(service);
  if (!policy) {
    policy = new AuthorizationPolicy(service, 'AllowFrom', { mesh: service.mesh, name: `${service.name}-allow`, target: service });
    POLICIES.set(service, policy);
  }
  return policy;
}

/**
 * Allows `peer` to call `service`: one ALLOW policy per callee, `<callee>-allow`, with one rule
 * per call of allowFrom (the caller, and what it may do). One object per service keeps the name
 * independent of who the callers are and makes "who may call X" one object to read. A calling
 * MeshService also declares the call (`callsTo`), which scopes its proxy.
 */
export function allowFrom(service: MeshService, peer: IPeer, options: AllowFromOptions): AuthorizationPolicy {
  const policy = policyOf(service);
  const declared = DECLARED.get(service) ?? new Set<IPeer>();
  DECLARED.set(service, declared);
  declared.add(peer);
  // A service allowed to call declares the call too, so its proxy knows the callee's host.
  if (peer instanceof MeshService && peer !== service) peer.callsTo(service);
  const { methods, paths, ports } = options;
  const restricted = methods !== undefined || paths !== undefined || ports !== undefined;
  policy.addRule({ sources: [peer], operations: restricted ? [Operation.of({ methods, paths, ports })] : undefined });
  const records = RECORDS.get(service) ?? [];
  RECORDS.set(service, records);
  const record: AllowFromRecord = { peer, methods, paths, ports, ruleIndex: policy._ruleCount() - 1 };
  records.push(record);
  // What the call promises about requests, traced on the output at synth (CM332).
  declare(policy, service.mesh, allowFromDeclaration(service, policy, record, () => records));
  return policy;
}

/** The peers `service.allowFrom(...)` named (their calls are proven by the allowFrom promise, CM332). */
export function allowFromPeersOf(service: MeshService): IPeer[] {
  return (RECORDS.get(service) ?? []).map((r) => r.peer);
}

/**
 * Lets a gateway call `service` for what it exposes: one rule for the gateway in `<service>-allow`, with an operation
 * per exposure (its hosts and paths), unless the user declared `service.allowFrom(gateway, ...)` themselves; then
 * their rule is the only one, so what they wrote (e.g. GET and HEAD only) is what the gateway may do.
 */
export function allowFromGateway(service: MeshService, gateway: IPeer, exposure: GatewayExposure): void {
  const exposed = EXPOSED.get(service) ?? new Map<IPeer, GatewayExposure[]>();
  EXPOSED.set(service, exposed);
  const list = exposed.get(gateway);
  if (list) {
    list.push(exposure);
    return;
  }
  const exposures = [exposure];
  exposed.set(gateway, exposures);
  policyOf(service)._addDeferredRule(() => {
    if (DECLARED.get(service)?.has(gateway)) return undefined;
    // An exposure with neither hosts nor paths lets the gateway do anything: one operation-less rule.
    if (exposures.some((e) => !e.hosts && !e.paths && !e.ports)) return { sources: [gateway] };
    return { sources: [gateway], operations: exposures.map((e) => Operation.of({ hosts: e.hosts, paths: e.paths, ports: e.ports })) };
  });
}
