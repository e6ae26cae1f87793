import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { formatMessage, meshError } from '../errors';
import { Condition } from './condition';
import { _effectiveMtls } from './effective-mtls';
import {
  Attachment, PEER_FIELDS, RuleProblem, attach, claimName, describePeer, requireIps, requireValues,
  unique, withScope,
} from './internal';
import { MtlsMode } from './mtls-mode';
import { Operation } from './operation';
import { IPeer, PeerConfig } from './peer';
import {
  AuthorizationPolicy as IstioAuthorizationPolicy, AuthorizationPolicySpec, AuthorizationPolicySpecAction,
  AuthorizationPolicySpecRules, AuthorizationPolicySpecRulesFromSource,
} from '../imports/security.istio.io';
import { requireDnsSubdomain, suggestDnsLabel } from '../internal/names';
import { validateOncePerSynthesis } from '../internal/synthesis';
import { HttpMethod } from '../mesh/http-method';
import type { Mesh } from '../mesh/mesh';
import { MeshService } from '../mesh/mesh-service';
import { isHttpProtocol } from '../mesh/protocol';
import { describePorts } from '../mesh/service-port';
import { ServiceVersion } from '../mesh/service-version';
import { IWorkloadTarget } from '../mesh/workload-target';

/**
 * What a policy does with the requests its rules match. Istio evaluates CUSTOM policies first,
 * then DENY, then ALLOW: a request matched by a DENY rule is refused whatever the ALLOW policies
 * say; when a workload has ALLOW policies, a request must match one of their rules.
 *
 * @see https://istio.io/latest/docs/concepts/security/#authorization-policy-precedence
 */
export enum AuthorizationAction {
  /** Allow matching requests (and, once a workload has any ALLOW policy, only those). */
  ALLOW = 'ALLOW',
  /** Refuse matching requests, whatever the ALLOW policies say. */
  DENY = 'DENY',
  /** Log matching requests to the audit provider (does not allow or deny). */
  AUDIT = 'AUDIT',
  /** Delegate matching requests to an external authorizer (an extension provider of the mesh config). */
  CUSTOM = 'CUSTOM',
}

/**
 * The namespace-wide authorization stance of a {@link Mesh}.
 */
export enum AuthorizationMode {
  /**
   * An `allow-nothing` AuthorizationPolicy for the namespace: a service is reachable only by the
   * callers declared with `allowFrom` (or other ALLOW policies).
   */
  DEFAULT_DENY = 'DEFAULT_DENY',
  /**
   * No namespace-wide policy (Istio's default): a service without ALLOW policies accepts every
   * caller; one with ALLOW policies (e.g. from `allowFrom`) accepts only what they allow.
   */
  NONE = 'NONE',
}

/**
 * One authorization rule. A request matches when it comes from one of the `sources` AND does
 * one of the `operations` AND meets every one of the `conditions`. A field left out matches
 * everything; a rule with no field at all cannot be written (use
 * {@link AuthorizationPolicy.allowAll} or {@link AuthorizationPolicy.denyAll}).
 *
 * (Istio's YAML writes these as `from`, `to` and `when`, where a `from` and a `to` written as two
 * list items become two rules joined by OR; here a rule is one object, so that cannot happen.)
 */
export interface AuthorizationRule {
  /**
   * Who the request comes from (any of them).
   * @default - any source
   */
  readonly sources?: IPeer[];
  /**
   * What the request does (any of them).
   * @default - any operation
   */
  readonly operations?: Operation[];
  /**
   * Extra requirements (all of them).
   * @default - none
   */
  readonly conditions?: Condition[];
}

/** Options shared by every way to create an {@link AuthorizationPolicy}. */
export interface AuthorizationPolicyOptions {
  /** The mesh the policy belongs to (its namespace, when there is no target). */
  readonly mesh: Mesh;
  /**
   * The object name.
   * @default - the construct id as a DNS name
   */
  readonly name?: string;
  /**
   * The workloads the policy applies to: a service, one version, or a gateway. The policy is
   * written in the target's namespace.
   * @default - every workload of the mesh namespace
   */
  readonly target?: IWorkloadTarget;
  /**
   * Evaluate and log the policy without enforcing it (annotation `istio.io/dry-run`; ALLOW and
   * DENY only).
   * @default false
   */
  readonly dryRun?: boolean;
}

/** Properties of an {@link AuthorizationPolicy}. */
export interface AuthorizationPolicyProps extends AuthorizationPolicyOptions {
  /**
   * What to do with matching requests.
   * @default AuthorizationAction.ALLOW
   */
  readonly action?: AuthorizationAction;
  /**
   * The extension provider (mesh config `extensionProviders[].name`) a CUSTOM policy delegates to.
   * @default - none; required for CUSTOM
   */
  readonly provider?: string;
  /**
   * The rules; more can be added with {@link AuthorizationPolicy.addRule}.
   * @default - none (at least one rule is required by synthesis)
   */
  readonly rules?: AuthorizationRule[];
}

/** Options of {@link MeshService.allowFrom}: what the caller may do (all of it when left out). */
export interface AllowFromOptions {
  /**
   * HTTP methods the caller may use.
   * @default - any
   */
  readonly methods?: HttpMethod[];
  /**
   * Paths the caller may request (Istio wildcards or `{*}`/`{**}` templates).
   * @default - any
   */
  readonly paths?: string[];
  /**
   * Ports the caller may connect to (the Service port; written as the container port).
   * @default - any
   */
  readonly ports?: number[];
}

/** A policy whose meaning is fixed by its named constructor. */
enum Fixed { NOTHING = 'allowNothing', ALL = 'allowAll', DENY_ALL = 'denyAll' }
interface FixedProps extends AuthorizationPolicyProps { readonly fixed?: Fixed }

/** Source fields that identify a caller by its certificate or token (not allowed with CUSTOM). */
const IDENTITY_FIELDS = ['principals', 'notPrincipals', 'namespaces', 'notNamespaces', 'serviceAccounts', 'notServiceAccounts',
  'requestPrincipals', 'notRequestPrincipals'];
const IDENTITY_KEYS = /^(source\.(namespace|principal|serviceAccount)|request\.auth\..*)$/;

/**
 * Who may do what to a set of workloads: an Istio AuthorizationPolicy with typed rules.
 *
 * Istio evaluates the policies of a workload in this order: CUSTOM, then DENY (a match refuses
 * the request), then ALLOW (if the workload has any ALLOW policy, the request must match one of
 * their rules; otherwise it is allowed).
 *
 * @example
 * new AuthorizationPolicy(chart, 'deny-method-get', { mesh, target: httpbin, action: AuthorizationAction.DENY,
 *   rules: [{ operations: [Operation.of({ methods: [HttpMethod.GET] })],
 *             conditions: [Condition.requestHeader('x-token').noneOf('admin')] }] });
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/
 */
export class AuthorizationPolicy extends Construct {
  /**
   * A policy that allows nothing (`spec: {}`): every request to the target (or the whole
   * namespace) is refused unless another ALLOW policy allows it.
   */
  public static allowNothing(scope: Construct, id: string, options: AuthorizationPolicyOptions): AuthorizationPolicy {
    return new AuthorizationPolicy(scope, id, { ...options, fixed: Fixed.NOTHING } as FixedProps);
  }

  /**
   * A policy that allows every request (`rules: [{}]`). Beware: ALLOW policies add up, so this
   * makes every other ALLOW policy of its target meaningless (DENY policies still apply).
   */
  public static allowAll(scope: Construct, id: string, options: AuthorizationPolicyOptions): AuthorizationPolicy {
    return new AuthorizationPolicy(scope, id, { ...options, fixed: Fixed.ALL } as FixedProps);
  }

  /** A policy that refuses every request, whatever the ALLOW policies say (DENY, `rules: [{}]`). */
  public static denyAll(scope: Construct, id: string, options: AuthorizationPolicyOptions): AuthorizationPolicy {
    return new AuthorizationPolicy(scope, id, { ...options, action: AuthorizationAction.DENY, fixed: Fixed.DENY_ALL } as FixedProps);
  }

  /** The object name. */
  public readonly name: string;
  /** The namespace the policy is written in. */
  public readonly namespaceName: string;
  /** What the policy does with matching requests. */
  public readonly action: AuthorizationAction;
  /** The workloads the policy applies to (undefined: the whole namespace). */
  public readonly target?: IWorkloadTarget;
  /** The extension provider of a CUSTOM policy. */
  public readonly provider?: string;
  /** Whether the policy is only evaluated and logged, not enforced. */
  public readonly dryRun: boolean;
  /** The generated Istio AuthorizationPolicy (escape hatch). */
  public readonly apiObject: ApiObject;

  private readonly mesh: Mesh;
  private readonly fixed?: Fixed;
  private readonly attachment: Attachment;
  private readonly rendered: AuthorizationPolicySpecRules[] = [];
  /** Rules decided at synth, when what they depend on is known (e.g. a gateway's rule, unless the user wrote one). */
  private readonly deferred: Array<() => AuthorizationRule | undefined> = [];

  public constructor(scope: Construct, id: string, props: AuthorizationPolicyProps) {
    super(scope, id);
    const { fixed } = props as FixedProps;
    this.fixed = fixed;
    this.mesh = props.mesh;
    this.action = props.action ?? AuthorizationAction.ALLOW;
    this.target = props.target;
    this.provider = props.provider;
    this.dryRun = props.dryRun ?? false;
    this.name = props.name ?? suggestDnsLabel(id);
    requireDnsSubdomain(this, 'policy name', this.name);

    if (this.action === AuthorizationAction.CUSTOM && !this.provider?.trim()) {
      throw meshError(this, 'CM307', 'a CUSTOM policy has no provider',
        'set provider to the name of an extension provider declared in the mesh config (meshConfig.extensionProviders), e.g. provider: "my-ext-authz"');
    }
    if (this.provider !== undefined && this.action !== AuthorizationAction.CUSTOM) {
      throw meshError(this, 'CM307', `provider "${this.provider}" is set but the action is ${this.action}; only CUSTOM policies use a provider`,
        'set action: AuthorizationAction.CUSTOM, or remove provider');
    }
    if (this.dryRun && this.action !== AuthorizationAction.ALLOW && this.action !== AuthorizationAction.DENY) {
      throw meshError(this, 'CM329', `dryRun is set on a ${this.action} policy; Istio supports dry-run for ALLOW and DENY only`,
        'remove dryRun, or use an ALLOW or DENY policy');
    }
    const l7 = this.action === AuthorizationAction.CUSTOM || this.action === AuthorizationAction.AUDIT ? `action ${this.action}` : undefined;
    this.attachment = attach(this, this.mesh, this.target, l7, 'AuthorizationPolicy');
    this.namespaceName = this.attachment.namespaceName;
    claimName(this, 'AuthorizationPolicy', this.namespaceName, this.name);

    for (const rule of props.rules ?? []) this.addRule(rule);
    if (fixed === Fixed.ALL || fixed === Fixed.DENY_ALL) this.rendered.push({});

    this.apiObject = new IstioAuthorizationPolicy(this, 'Resource', {
      metadata: {
        name: this.name,
        namespace: this.namespaceName,
        annotations: this.dryRun ? { 'istio.io/dry-run': 'true' } : undefined,
      },
      spec: Lazy.any({ produce: () => this.renderSpec() }) as AuthorizationPolicySpec,
    });
    this.node.addValidation(validateOncePerSynthesis(this, () => this.validateRules()));
  }

  /**
   * Adds a rule: a request matching it (one of its sources AND one of its operations AND all
   * its conditions) gets the policy's action.
   */
  public addRule(rule: AuthorizationRule): void {
    if (this.fixed) {
      throw meshError(this, 'CM326', `rules cannot be added to a policy made with AuthorizationPolicy.${this.fixed}(), whose meaning is fixed`,
        'create a separate AuthorizationPolicy with `new AuthorizationPolicy(...)` for these rules');
    }
    this.rendered.push(withScope(this, () => this.renderRule(rule)));
  }

  private renderRule(rule: AuthorizationRule): AuthorizationPolicySpecRules {
    const { sources, operations, conditions } = rule;
    if (sources === undefined && operations === undefined && conditions === undefined) {
      throw new RuleProblem('CM308', 'a rule has no sources, operations or conditions, so it matches every request',
        `say so by name: AuthorizationPolicy.${this.action === AuthorizationAction.DENY ? 'denyAll' : 'allowAll'}()`);
    }
    for (const [field, list] of Object.entries({ sources, operations, conditions })) {
      if (list !== undefined && list.length === 0) {
        throw new RuleProblem('CM309', `a rule has an empty ${field} list; Istio rejects it`, `give at least one entry, or leave ${field} out to match any`);
      }
    }
    const from = sources && mergeSources(sources.map((peer) => this.renderSource(peer.toPeerConfig())));
    const to = operations?.map((op) => ({ operation: op._render((port) => this.containerPort(port)) }));
    const when = conditions?.map((condition) => {
      const rendered = condition._render();
      if (this.action === AuthorizationAction.CUSTOM && IDENTITY_KEYS.test(condition.key)) {
        throw customIdentity(`condition "${condition.key}"`);
      }
      return rendered;
    });
    this.checkL7(from, operations, conditions);
    return { from: from?.map((source) => ({ source })), to, when };
  }

  /** One Istio source: validated, with values de-duplicated. */
  private renderSource(config: PeerConfig): AuthorizationPolicySpecRulesFromSource {
    const source: { [field: string]: string[] } = {};
    for (const [field, values] of Object.entries(config)) {
      if (values === undefined) continue;
      requireValues(`source ${field}`, values);
      source[field] = unique(values);
    }
    if (Object.keys(source).length === 0) {
      throw new RuleProblem('CM309', 'a source has no attributes; Istio rejects an empty source',
        'leave sources out to match any caller, or give the peer at least one attribute');
    }
    for (const field of ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks']) {
      if (source[field]) requireIps(`source ${field}`, source[field]);
    }
    checkServiceAccounts(source);
    if (this.action === AuthorizationAction.CUSTOM) {
      const identity = IDENTITY_FIELDS.find((f) => source[f]);
      if (identity) throw customIdentity(`source ${identity}`);
    }
    return source;
  }

  /**
   * The port the enforcing proxy sees: a sidecar (or ztunnel) sees the container port, a waypoint
   * the Service port. Either may be given for a MeshService target.
   */
  private containerPort(port: number): number {
    const service = this.attachment.service;
    if (!service || !Number.isInteger(port)) return port;
    const found = service.findPort(port);
    if (!found) {
      throw new RuleProblem('CM304', `port ${port} is not a port of service "${service.name}" (${describePorts(service)})`,
        `use ${service.ports.map((p) => p.port).join(' or ')}`);
    }
    return this.attachment.targetRefs ? found.port : found.targetPort;
  }

  /** L7 attributes need an HTTP service, and a waypoint in ambient mode. */
  private checkL7(from: AuthorizationPolicySpecRulesFromSource[] | undefined, operations?: Operation[], conditions?: Condition[]): void {
    const l7 = operations?.map((op) => op._httpField()).find((f) => f)
      ?? (from?.some((s) => s.requestPrincipals || s.notRequestPrincipals || s.remoteIpBlocks || s.notRemoteIpBlocks) ? 'request principals or remote IP blocks' : undefined)
      ?? conditions?.find((c) => c._isHttp())?.key;
    if (!l7) return;
    const service = this.attachment.service;
    if (service && !isHttpProtocol(service.protocol)) {
      const effect = this.action === AuthorizationAction.DENY ? 'Istio would deny every connection to it' : 'the rule would never match';
      throw new RuleProblem('CM323', `the rule uses ${l7}, an HTTP attribute, but service "${service.name}" speaks ${service.protocol}: ${effect}`,
        'match TCP traffic with ports, principals, namespaces or IP blocks only');
    }
    attach(this, this.mesh, this.target, l7, 'AuthorizationPolicy');
  }

  private validateRules(): string[] {
    if ((this._specRules() ?? []).length > 0) return this.validateIdentityNeedsMtls();
    if (this.fixed) return [];
    if (this.action === AuthorizationAction.ALLOW) {
      return [formatMessage('CM306', 'an ALLOW policy without rules allows nothing: every request to its target is refused',
        'add rules, or write AuthorizationPolicy.allowNothing() if that is the intent')];
    }
    return [formatMessage('CM306', `a ${this.action} policy without rules never matches (Istio rejects it)`,
      this.action === AuthorizationAction.DENY ? 'add rules, or use AuthorizationPolicy.denyAll() to refuse every request' : 'add rules')];
  }

  /**
   * Peer identities (principals, namespaces, service accounts) come from the caller's mTLS
   * certificate: on a workload that accepts plaintext only, a rule on them can never match
   * (an ALLOW refuses everyone, a DENY on `notPrincipals` refuses everyone too).
   */
  private validateIdentityNeedsMtls(): string[] {
    const target = this.target;
    const service = target instanceof MeshService ? target : target instanceof ServiceVersion ? target.service : undefined;
    if (!service) return [];
    const needsIdentity = (source: object | undefined) => PEER_IDENTITY_FIELDS.some((f) => (source as any)?.[f] !== undefined);
    const identity = (this._specRules() ?? []).some((rule) => rule.from?.some(({ source }) => needsIdentity(source)));
    const mode = _effectiveMtls(service, service.port, target instanceof ServiceVersion ? target : undefined);
    if (!identity || mode !== MtlsMode.DISABLE) return [];
    return [formatMessage('CM331', `the policy matches callers by identity, but "${service.name}" accepts plaintext only (mTLS DISABLE), so callers have no identity and the rule can never match`,
      'use mTLS STRICT or PERMISSIVE for the service, or match callers by IP block instead of identity')];
  }

  /**
   * How many rules are written so far (those added with addRule).
   * @internal
   */
  public _ruleCount(): number {
    return this.rendered.length;
  }

  /**
   * Adds a rule decided at synth: `produce` answers the rule, or nothing.
   * @internal
   */
  public _addDeferredRule(produce: () => AuthorizationRule | undefined): void {
    this.deferred.push(produce);
  }

  /**
   * The rules as written in the spec (none for allow-nothing), without rendering the object.
   * @internal
   */
  public _specRules(): AuthorizationPolicySpecRules[] | undefined {
    if (this.fixed === Fixed.NOTHING) return undefined;
    if (this.deferred.length === 0) return this.rendered;
    const later = this.deferred.map((produce) => produce()).filter((rule): rule is AuthorizationRule => rule !== undefined);
    return [...this.rendered, ...later.map((rule) => withScope(this, () => this.renderRule(rule)))];
  }

  private renderSpec(): AuthorizationPolicySpec {
    const { selector, targetRefs } = this.attachment;
    // allow-nothing is written as Istio documents it: no action, no rules.
    const nothing = this.fixed === Fixed.NOTHING;
    return {
      selector,
      targetRefs,
      action: nothing ? undefined : this.action as string as AuthorizationPolicySpecAction,
      provider: this.provider ? { name: this.provider } : undefined,
      rules: this._specRules(),
    };
  }
}

/** Source fields that need the caller's mTLS certificate. */
const PEER_IDENTITY_FIELDS = ['principals', 'notPrincipals', 'namespaces', 'notNamespaces', 'serviceAccounts', 'notServiceAccounts'];

function customIdentity(what: string): RuleProblem {
  return new RuleProblem('CM315', `a CUSTOM policy uses ${what}, an identity attribute the external authorizer runs before`,
    'match CUSTOM policies on operations, IP blocks and headers only, and put identity rules in an ALLOW or DENY policy');
}

/** Istio: serviceAccounts excludes principals and namespaces; at most 16 of `sa` or `ns/sa`, no wildcard. */
function checkServiceAccounts(source: { [field: string]: string[] }): void {
  for (const field of ['serviceAccounts', 'notServiceAccounts']) {
    const accounts = source[field];
    if (!accounts) continue;
    const clash = ['principals', 'notPrincipals', 'namespaces', 'notNamespaces'].find((f) => source[f]);
    if (clash) {
      throw new RuleProblem('CM311', `a source combines ${field} with ${clash} (${describePeer(source)}); Istio forbids that`,
        'use service accounts or principals/namespaces in one source, not both: put them in separate sources or use the MeshService itself as the peer');
    }
    const bad = accounts.find((a) => a.includes('*') || a.length > 320 || !/^([^/]+\/)?[^/]+$/.test(a));
    if (bad !== undefined || accounts.length > 16) {
      throw new RuleProblem('CM311', bad !== undefined ? `service account "${bad}" is not of the form "<namespace>/<name>" (no wildcard)` : `${accounts.length} service accounts in one source; Istio allows 16`,
        'use Peer.serviceAccount(namespaceName, name) for each, at most 16 per source');
    }
  }
}

/**
 * Sources in order. Peers that set only one positive attribute of the same kind are merged into
 * one source (`principals: [a, b]`): alternatives either way, and what a person would write.
 */
function mergeSources(sources: AuthorizationPolicySpecRulesFromSource[]): AuthorizationPolicySpecRulesFromSource[] {
  const merged: { [field: string]: string[] }[] = [];
  const positive = new Set<string>(PEER_FIELDS.map(([yes]) => yes));
  for (const source of sources as { [field: string]: string[] }[]) {
    const fields = Object.keys(source);
    const single = fields.length === 1 && positive.has(fields[0]) ? fields[0] : undefined;
    const into = single && merged.find((m) => Object.keys(m).length === 1 && m[single]);
    if (into) into[single!] = unique([...into[single!], ...source[single!]]);
    else merged.push({ ...source });
  }
  return merged;
}
