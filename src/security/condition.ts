import { RuleProblem, requireIps, requirePorts, requireValues, unique } from './internal';
import { AuthorizationPolicySpecRulesWhen } from '../imports/security.istio.io';

/** Keys whose values are IP addresses or CIDR blocks. */
const IP_KEYS = ['source.ip', 'remote.ip', 'destination.ip'];
/** Keys Istio accepts as they are. */
const PLAIN_KEYS = [...IP_KEYS, 'source.namespace', 'source.principal', 'source.serviceAccount', 'source.trustDomain',
  'request.auth.principal', 'request.auth.audiences', 'request.auth.presenter', 'destination.port', 'connection.sni'];
/** Keys of the form `prefix[name]`. */
const MAP_KEY_PREFIXES = ['request.headers', 'request.auth.claims', 'experimental.envoy.filters.'];
/** Keys Istio used to accept, and what replaces them. */
const REPLACED_KEYS: { [key: string]: string } = {
  'destination.namespace': 'the policy namespace (the target\'s)',
  'destination.labels': 'the policy target',
  'destination.name': 'the policy target',
  'destination.user': 'the policy target',
};

/**
 * An attribute a {@link Condition} tests, e.g. a request header or a JWT claim. Turn it into a
 * condition with {@link ConditionKey.oneOf} or {@link ConditionKey.noneOf}.
 */
export class ConditionKey {
  /** @internal */
  public static _of(key: string): ConditionKey {
    return new ConditionKey(key);
  }

  private constructor(
    /** The Istio attribute name, e.g. `request.headers[x-token]`. */
    public readonly key: string,
  ) {}

  /** The attribute has one of `values` (for a list-valued claim: one of its items does). */
  public oneOf(...values: string[]): Condition {
    return Condition._of(this.key, values, undefined);
  }

  /** The attribute has none of `values` (also true when the attribute is absent). */
  public noneOf(...values: string[]): Condition {
    return Condition._of(this.key, undefined, values);
  }
}

/**
 * An extra requirement of an {@link AuthorizationRule} (Istio's `when`): an attribute of the
 * request or connection with one of some values, or none of them.
 *
 * @example
 * Condition.requestHeader('x-token').noneOf('admin')
 * Condition.jwtClaim('groups').oneOf('group1')
 * @see https://istio.io/latest/docs/reference/config/security/conditions/
 */
export class Condition {
  /** A request header (HTTP only). */
  public static requestHeader(name: string): ConditionKey {
    return ConditionKey._of(`request.headers[${name}]`);
  }

  /** A claim of the validated JWT; nested claims are given as a path, e.g. `jwtClaim('realm_access', 'roles')`. */
  public static jwtClaim(claim: string, ...nested: string[]): ConditionKey {
    return ConditionKey._of(`request.auth.claims${[claim, ...nested].map((c) => `[${c}]`).join('')}`);
  }

  /** The JWT request principal `<issuer>/<subject>`. */
  public static requestPrincipal(): ConditionKey {
    return ConditionKey._of('request.auth.principal');
  }

  /** The JWT audiences (`aud`). */
  public static jwtAudiences(): ConditionKey {
    return ConditionKey._of('request.auth.audiences');
  }

  /** The JWT authorized presenter (`azp`). */
  public static jwtPresenter(): ConditionKey {
    return ConditionKey._of('request.auth.presenter');
  }

  /** The peer IP of the connection (IPs or CIDR blocks). */
  public static sourceIp(): ConditionKey {
    return ConditionKey._of('source.ip');
  }

  /** The original client IP (X-Forwarded-For / PROXY protocol; IPs or CIDR blocks). */
  public static remoteIp(): ConditionKey {
    return ConditionKey._of('remote.ip');
  }

  /** The namespace of the calling workload (needs mutual TLS). */
  public static sourceNamespace(): ConditionKey {
    return ConditionKey._of('source.namespace');
  }

  /** The identity of the calling workload (needs mutual TLS). */
  public static sourcePrincipal(): ConditionKey {
    return ConditionKey._of('source.principal');
  }

  /** The IP the connection was made to (IPs or CIDR blocks). */
  public static destinationIp(): ConditionKey {
    return ConditionKey._of('destination.ip');
  }

  /** The port the connection was made to (the container port the proxy sees). */
  public static destinationPort(): ConditionKey {
    return ConditionKey._of('destination.port');
  }

  /** The TLS server name (SNI) of the connection. */
  public static sni(): ConditionKey {
    return ConditionKey._of('connection.sni');
  }

  /**
   * Any attribute Istio knows, by its name: an escape hatch for attributes without a factory.
   * The key is checked against Istio's list when the condition is used.
   */
  public static attribute(key: string): ConditionKey {
    return ConditionKey._of(key);
  }

  /** @internal */
  public static _of(key: string, values: string[] | undefined, notValues: string[] | undefined): Condition {
    return new Condition(key, values, notValues);
  }

  private constructor(
    /** The Istio attribute name. */
    public readonly key: string,
    /** The attribute must have one of these. */
    public readonly values?: string[],
    /** The attribute must have none of these. */
    public readonly notValues?: string[],
  ) {}

  /**
   * The opposite condition (values ⇄ notValues).
   * @internal
   */
  public _negate(): Condition {
    return new Condition(this.key, this.notValues, this.values);
  }

  /** @internal */
  public _isHttp(): boolean {
    return this.key.startsWith('request.') || this.key.startsWith('experimental.');
  }

  /**
   * Validates the key and values and renders Istio's `when` entry.
   * @internal
   */
  public _render(): AuthorizationPolicySpecRulesWhen {
    checkKey(this.key);
    const values = this.values ?? this.notValues ?? [];
    const what = `condition "${this.key}"`;
    requireValues(what, values);
    if (IP_KEYS.includes(this.key)) requireIps(what, values);
    if (this.key === 'destination.port') requirePorts(what, values);
    return { key: this.key, values: this.values && unique(this.values), notValues: this.notValues && unique(this.notValues) };
  }
}

/** Istio's attribute names (pkg/config/security ValidateAttribute). */
function checkKey(key: string): void {
  const fail = (problem: string, fix: string) => {
    throw new RuleProblem('CM313', `condition key "${key}" ${problem}`, fix);
  };
  const base = key.replace(/\[.*$/, '');
  const replaced = REPLACED_KEYS[base];
  if (replaced) fail('is not supported by Istio\'s AuthorizationPolicy', `express it with ${replaced}`);
  if (PLAIN_KEYS.includes(key)) return;
  const prefix = MAP_KEY_PREFIXES.find((p) => key.startsWith(p));
  if (!prefix) {
    fail('is not an Istio authorization attribute',
      'use a Condition factory (requestHeader, jwtClaim, sourceIp, ...) or one of the keys listed at https://istio.io/latest/docs/reference/config/security/conditions/');
  }
  const rest = key.slice(prefix!.length);
  const wellFormed = prefix!.endsWith('.') ? /^[^[\]]+(\[[^[\]]+\])+$/.test(rest) : /^(\[[^[\]]+\])+$/.test(rest);
  if (!wellFormed) {
    fail('is malformed: it must name its entry in brackets, e.g. request.headers[x-token] or request.auth.claims[groups]',
      'use Condition.requestHeader(name) or Condition.jwtClaim(claim)');
  }
  if (prefix === 'request.headers' && rest.split('[').length > 2) {
    fail('names more than one header', 'test one header per condition');
  }
}
