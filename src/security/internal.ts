// Internal helpers shared by the security constructs (not exported from the package).
import { isIP } from 'net';
import { IConstruct } from 'constructs';
import { gatewayApiTargetRef } from '../edge/gateway-api-target';
import { ErrorCode, meshError } from '../errors';
import type { MtlsPolicy } from './mtls-policy';
import { isDnsLabel, suggestDnsLabel } from '../internal/names';
import type { Mesh } from '../mesh/mesh';
import { MeshService } from '../mesh/mesh-service';
import { ServiceVersion } from '../mesh/service-version';
import { IWorkloadTarget } from '../mesh/workload-target';

/**
 * A bad-input problem found by a value type that has no construct (Peer, Operation, Condition).
 * The construct using the value catches it and reports it with its own path.
 */
export class RuleProblem extends Error {
  public constructor(public readonly code: ErrorCode, public readonly problem: string, public readonly fix: string) {
    super(`${code}: ${problem}`);
  }
}

/** Runs `fn`, turning a {@link RuleProblem} into an error that names `scope`'s construct path. */
export function withScope<T>(scope: IConstruct, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RuleProblem) throw meshError(scope, e.code, e.problem, e.fix);
    throw e;
  }
}

/** The fields of a PeerConfig (an Istio `source`), each with its negation. */
export const PEER_FIELDS = [
  ['principals', 'notPrincipals'],
  ['namespaces', 'notNamespaces'],
  ['serviceAccounts', 'notServiceAccounts'],
  ['ipBlocks', 'notIpBlocks'],
  ['remoteIpBlocks', 'notRemoteIpBlocks'],
  ['requestPrincipals', 'notRequestPrincipals'],
] as const;

/** "principals [a] and notNamespaces [b]", for messages. */
export function describePeer(config: object): string {
  const parts = Object.entries(config).filter(([, v]) => v?.length).map(([k, v]) => `${k} [${v.join(', ')}]`);
  return parts.join(' and ') || 'no attributes';
}

/** The service a target stands for, when it is a MeshService or one of its versions. */
export function serviceOf(target: IWorkloadTarget | undefined): MeshService | undefined {
  if (target instanceof MeshService) return target;
  if (target instanceof ServiceVersion) return target.service;
  return undefined;
}

/** A short, DNS-safe description of a target for generated object names: `reviews`, `reviews-v2`, `ingress`. */
export function targetLabel(target: IWorkloadTarget): string {
  if (target instanceof MeshService) return target.name;
  if (target instanceof ServiceVersion) return `${target.service.name}-${target.name}`;
  const named = (target as { name?: unknown }).name;
  if (typeof named === 'string' && isDnsLabel(named)) return named;
  const construct = target as Partial<IConstruct>;
  if (construct.node?.id) return suggestDnsLabel(construct.node.id);
  const labels = target.toWorkloadSelector().matchLabels;
  return suggestDnsLabel(Object.keys(labels).sort().map((k) => labels[k]).join('-'));
}

/** How a policy attaches to what it protects. */
export interface Attachment {
  /** The namespace the policy object lives in (the target's). */
  readonly namespaceName: string;
  /** Workload selector (sidecars, gateways, ztunnel). */
  readonly selector?: { matchLabels: { [key: string]: string } };
  /** Gateway API references (ambient waypoint). */
  readonly targetRefs?: { group: string; kind: string; name: string }[];
  /** The MeshService behind the target, if any. */
  readonly service?: MeshService;
}

/**
 * Where a policy goes and how it selects its workloads.
 *
 * Sidecar mode: a workload selector (or none: the whole namespace). Ambient mode: ztunnel
 * enforces selector policies at L4 only, so a policy with L7 attributes (`l7Feature`) needs the
 * namespace waypoint and attaches to it with `targetRefs` (the Service, or the waypoint itself for
 * the whole namespace). Gateways run their own Envoy and keep their selector.
 *
 * @param l7Feature the first L7 attribute the policy uses, e.g. "methods", or undefined
 */
export function attach(scope: IConstruct, mesh: Mesh, target: IWorkloadTarget | undefined, l7Feature: string | undefined, kind: string): Attachment {
  const service = serviceOf(target);
  const owner = service?.mesh ?? mesh;
  const namespaceName = target ? target.toWorkloadSelector().namespaceName : mesh.namespaceName;
  // A Gateway API gateway's pods are Istio's: policies attach to the Gateway (a selector is ignored there, IST0166).
  const gatewayRef = gatewayApiTargetRef(target);
  if (gatewayRef) return { namespaceName, targetRefs: [{ ...gatewayRef }] };
  const selector = target ? { matchLabels: { ...target.toWorkloadSelector().matchLabels } } : undefined;
  const onPods = !target || service !== undefined;
  if (!owner.dataplane.isAmbient || !onPods) return { namespaceName, selector, service };

  if (!owner.waypoint) {
    if (l7Feature) {
      throw meshError(scope, 'CM322', `the ${kind} uses ${l7Feature}, an L7 feature, but namespace "${owner.namespaceName}" is in ambient mode without a waypoint: ztunnel enforces L4 only (an L7 ALLOW rule then matches nothing, an L7 DENY rule is not enforced at all)`,
        'deploy a waypoint with Dataplane.ambient({ waypoint: true }), or keep to L4 attributes (principals, namespaces, IP blocks, ports)');
    }
    return { namespaceName, selector, service };
  }
  // A waypoint carries every call to the namespace's services: ztunnel then sees the waypoint's
  // identity, so callers can only be told apart at the waypoint.
  if (target instanceof ServiceVersion) {
    throw meshError(scope, 'CM322', `the ${kind} targets version "${target.name}" of service "${target.service.name}", but in ambient mode with a waypoint, policies attach to a whole Service`,
      `target the service (${target.service.name}) instead of one version`);
  }
  const targetRefs = service
    ? [{ group: '', kind: 'Service', name: service.name }]
    : [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: owner.waypoint.name }];
  return { namespaceName, targetRefs, service };
}

/** Object names per kind and namespace, per construct tree: two objects with one name overwrite each other. */
const NAMES = new WeakMap<IConstruct, Map<string, IConstruct>>();

/**
 * Claims the name `name` for a `kind` object in `namespaceName`, or throws CM324 naming the
 * construct that has it.
 */
export function claimName(scope: IConstruct, kind: string, namespaceName: string, name: string): void {
  const root = scope.node.root;
  let names = NAMES.get(root);
  if (!names) {
    names = new Map();
    NAMES.set(root, names);
  }
  const key = `${kind}/${namespaceName}/${name}`;
  const existing = names.get(key);
  if (existing !== undefined) {
    throw meshError(scope, 'CM324', `namespace "${namespaceName}" already has a ${kind} "${name}" (${existing.node.path}); the second would replace the first when applied`,
      'give this policy another name (the `name` property)');
  }
  // The construct, not its path: a path is worked out walking to the root, and only an error needs it.
  names.set(key, scope);
}

/** Throws CM309 for an empty list and CM310 for an empty string in it. */
export function requireValues(what: string, values: readonly string[]): void {
  if (values.length === 0) {
    throw new RuleProblem('CM309', `${what} is an empty list`, `give at least one value, or leave ${what} out`);
  }
  if (values.some((v) => typeof v !== 'string' || v.trim() === '')) {
    throw new RuleProblem('CM310', `${what} contains an empty value (${JSON.stringify(values)})`, 'remove the empty string: Istio rejects it');
  }
}

/** Throws CM106 unless every port is a whole number from 1 to 65535. */
export function requirePorts(what: string, ports: readonly (number | string)[]): void {
  for (const port of ports) {
    const n = typeof port === 'number' ? port : (/^[0-9]+$/.test(port) ? Number(port) : NaN);
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      throw new RuleProblem('CM106', `${what} has ${JSON.stringify(port)}, which is not a TCP port number`, 'use a whole number from 1 to 65535');
    }
  }
}

/** Throws CM314 unless every value is an IPv4/IPv6 address or CIDR block. */
export function requireIps(what: string, values: readonly string[]): void {
  for (const value of values) {
    const [address, prefix, ...rest] = value.split('/');
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^[0-9]+$/.test(prefix) && Number(prefix) <= bits);
    if (!family || !prefixOk || rest.length > 0) {
      throw new RuleProblem('CM314', `${what} has "${value}", which is not an IP address or CIDR block`,
        'write an address such as "10.1.2.3" or a block such as "10.1.0.0/16" (IPv6 too)');
    }
  }
}

/** Values in first-seen order, without repeats. */
export function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/** The pod labels of a version's Deployment. */
export function podLabelsOf(version: ServiceVersion): { [key: string]: string } {
  return { ...version.deployment.podMetadata.toJson().labels };
}

/** True when a `matchLabels` selector selects pods with `labels`. */
export function selects(matchLabels: { [key: string]: string }, labels: { [key: string]: string }): boolean {
  return Object.entries(matchLabels).every(([k, v]) => labels[k] === v);
}

/** Every MtlsPolicy of a construct tree, in creation order. */
const MTLS_POLICIES = new WeakMap<IConstruct, MtlsPolicy[]>();

/** Records an MtlsPolicy for conflict checks and the effective-mode lookup. */
export function registerMtlsPolicy(policy: MtlsPolicy): void {
  const root = policy.node.root;
  const policies = MTLS_POLICIES.get(root);
  if (policies) policies.push(policy);
  else MTLS_POLICIES.set(root, [policy]);
}

/** The MtlsPolicies of the construct tree `scope` belongs to. */
export function mtlsPoliciesOf(scope: IConstruct): MtlsPolicy[] {
  return MTLS_POLICIES.get(scope.node.root) ?? [];
}

