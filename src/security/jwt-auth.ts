import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { formatMessage, meshError } from '../errors';
import { AuthorizationAction, AuthorizationPolicy, AuthorizationRule } from './authorization-policy';
import { jwtProtectDeclaration } from './authorization-promises';
import { Condition } from './condition';
import { RuleProblem, attach, claimName, requireValues, selects, targetLabel, unique, withScope } from './internal';
import { Operation } from './operation';
import { IPeer, Peer, PeerConfig } from './peer';
import { RequestAuthentication, RequestAuthenticationSpecJwtRules } from '../imports/security.istio.io';
import { requireDnsSubdomain, suggestDnsLabel } from '../internal/names';
import { validateOncePerSynthesis } from '../internal/synthesis';
import type { Mesh } from '../mesh/mesh';
import { declare } from '../mesh/promises';
import { IWorkloadTarget } from '../mesh/workload-target';

/** A header a JWT is read from. */
export interface JwtHeader {
  /** The header name, e.g. `x-jwt-assertion`. */
  readonly name: string;
  /**
   * The prefix before the token, e.g. `Bearer ` (note the space).
   * @default - none
   */
  readonly prefix?: string;
}

/** A claim copied into a request header after the token is validated. */
export interface JwtClaimToHeader {
  /** The claim, e.g. `sub`. */
  readonly claim: string;
  /** The header to write, e.g. `x-jwt-sub` (letters, digits, `-` and `_`). */
  readonly header: string;
}

/** One trusted token issuer and where its tokens are. */
export interface JwtIssuer {
  /** The `iss` claim of its tokens, e.g. `https://accounts.example.com`. */
  readonly issuer: string;
  /**
   * Where the issuer publishes its public keys (http or https). Fetched by istiod.
   * @default - none: give `jwks`, or Istio discovers it from `<issuer>/.well-known/openid-configuration`
   */
  readonly jwksUri?: string;
  /**
   * The public keys inline, as a JSON Web Key Set (never together with `jwksUri`).
   * @default - none
   */
  readonly jwks?: string;
  /**
   * Accepted `aud` values.
   * @default - any audience
   */
  readonly audiences?: string[];
  /**
   * Headers the token is read from.
   * @default - `Authorization: Bearer <token>`
   */
  readonly fromHeaders?: JwtHeader[];
  /**
   * Query parameters the token is read from.
   * @default - `access_token` (Istio's default, with the Authorization header)
   */
  readonly fromParams?: string[];
  /**
   * Cookies the token is read from.
   * @default - none
   */
  readonly fromCookies?: string[];
  /**
   * Keep the token in the request forwarded upstream (to the application, or from a gateway to the services behind it).
   *
   * A namespace-wide JwtAuth validates tokens at the namespace's gateway and again at each service: Istio's default
   * (remove the token once validated) would make the gateway strip it, and every request through the gateway to a
   * protected service would be refused. So it keeps the token there.
   *
   * @default - true for a JwtAuth without a target; false (Istio's default) for one with a target
   */
  readonly forwardOriginalToken?: boolean;
  /**
   * Claims copied into request headers for the application.
   * @default - none
   */
  readonly outputClaimToHeaders?: JwtClaimToHeader[];
}

/** Properties of a {@link JwtAuth}. */
export interface JwtAuthProps {
  /** The mesh the workloads belong to. */
  readonly mesh: Mesh;
  /** The trusted issuers. */
  readonly issuers: JwtIssuer[];
  /**
   * The workloads that validate tokens: a service, one version or a gateway.
   * @default - every workload of the mesh namespace
   */
  readonly target?: IWorkloadTarget;
  /**
   * The RequestAuthentication name.
   * @default - the construct id as a DNS name
   */
  readonly name?: string;
  /**
   * Validate tokens when present but let requests without a token through: a RequestAuthentication
   * alone. Without this, synthesis fails unless `protect()` requires a token somewhere (or the
   * JwtAuth is a source of an authorization rule), because a lone RequestAuthentication looks
   * like protection and is not.
   * @default false
   */
  readonly tokenOptional?: boolean;
}

/** Options of {@link JwtAuth.protect}. */
export interface JwtProtectOptions {
  /**
   * Require a token only on these paths (Istio wildcards or `{*}`/`{**}` templates).
   * Prefer `exceptPaths` where possible: a DENY on listed paths relies on the path matching the
   * way the application routes it (see docs/security.md, path normalization).
   * @default - every path
   */
  readonly paths?: string[];
  /**
   * Paths that need no token, e.g. `/healthz`.
   * @default - none
   */
  readonly exceptPaths?: string[];
  /**
   * Token attributes the request must have, e.g. `Condition.jwtClaim('groups').oneOf('admin')`.
   * Each is required on its own (all of them must hold).
   * @default - any valid token
   */
  readonly requiredClaims?: Condition[];
  /**
   * The AuthorizationPolicy name.
   * @default `<target>-require-jwt`
   */
  readonly name?: string;
}

/**
 * End-user authentication with JSON Web Tokens: an Istio RequestAuthentication that validates
 * tokens of the given issuers, and, for each {@link JwtAuth.protect}, the AuthorizationPolicy that
 * REQUIRES one (a RequestAuthentication alone only rejects invalid tokens: requests without a
 * token pass).
 *
 * `protect()` writes a DENY policy (`notRequestPrincipals`: none of this JwtAuth's issuers), so it
 * composes with any ALLOW policies: Istio evaluates DENY before ALLOW, so no ALLOW policy can let
 * a request without a token through, and a DENY policy never allows anything, so requiring a token
 * never widens who may call. Claims are required with one DENY rule each ("deny unless ...").
 *
 * @example
 * const jwt = new JwtAuth(chart, 'jwt', { mesh, issuers: [{ issuer: 'https://id.example.com',
 *   jwksUri: 'https://id.example.com/.well-known/jwks.json' }] });
 * jwt.protect(productpage, { exceptPaths: ['/healthz'] });
 * @see https://istio.io/latest/docs/reference/config/security/request_authentication/
 */
export class JwtAuth extends Construct implements IPeer {
  /** The RequestAuthentication name. */
  public readonly name: string;
  /** The namespace it is written in. */
  public readonly namespaceName: string;
  /** The trusted issuers. */
  public readonly issuers: string[];
  /** The workloads that validate tokens (undefined: the whole namespace). */
  public readonly target?: IWorkloadTarget;
  /** The generated RequestAuthentication (escape hatch). */
  public readonly requestAuthentication: ApiObject;

  private readonly mesh: Mesh;
  private readonly tokenOptional: boolean;
  private required = false;

  public constructor(scope: Construct, id: string, props: JwtAuthProps) {
    super(scope, id);
    this.mesh = props.mesh;
    this.target = props.target;
    this.tokenOptional = props.tokenOptional ?? false;
    this.name = props.name ?? suggestDnsLabel(id);
    requireDnsSubdomain(this, 'RequestAuthentication name', this.name);
    const attachment = attach(this, this.mesh, this.target, 'JWT validation', 'RequestAuthentication');
    this.namespaceName = attachment.namespaceName;
    claimName(this, 'RequestAuthentication', this.namespaceName, this.name);

    if (props.issuers.length === 0) {
      throw meshError(this, 'CM318', 'issuers is empty', 'give at least one issuer, e.g. { issuer: "https://id.example.com", jwksUri: "https://id.example.com/jwks.json" }');
    }
    const jwtRules = props.issuers.map((issuer) => withScope(this, () => renderIssuer(issuer, this.target === undefined)));
    this.issuers = jwtRules.map((r) => r.issuer!);
    const duplicate = this.issuers.find((issuer, i) => this.issuers.indexOf(issuer) !== i);
    if (duplicate !== undefined) {
      throw meshError(this, 'CM318', `issuer "${duplicate}" is listed twice`, 'list each issuer once, with all its settings');
    }

    this.requestAuthentication = new RequestAuthentication(this, 'Resource', {
      metadata: { name: this.name, namespace: this.namespaceName },
      spec: { selector: attachment.selector, targetRefs: attachment.targetRefs, jwtRules },
    });
    this.node.addValidation(validateOncePerSynthesis(this, () => this.validateRequired()));
  }

  /**
   * Requires a valid token of one of the issuers on `target` (a service, version or gateway
   * that this JwtAuth validates tokens for), optionally only on some paths and with required
   * claims. Writes a DENY AuthorizationPolicy; returns it.
   *
   * It restricts and never grants: the caller must still be allowed by the target's ALLOW
   * policies (e.g. `allowFrom`), and DENY policies are evaluated before ALLOW ones, so no ALLOW
   * policy can bypass it.
   */
  public protect(target: IWorkloadTarget, options: JwtProtectOptions = {}): AuthorizationPolicy {
    this.checkCovers(target);
    this.required = true;
    const name = options.name ?? `${targetLabel(target)}-require-jwt`;
    if (this.node.tryFindChild(name)) {
      throw meshError(this, 'CM324', `protect() already wrote a policy "${name}" (${this.node.path}/${name})`,
        'protect each target once, or pass a distinct name');
    }
    const { paths, exceptPaths, requiredClaims } = options;
    const scoped = paths !== undefined || exceptPaths !== undefined;
    const operations = scoped ? [Operation.of({ paths, notPaths: exceptPaths })] : undefined;
    // Rules are ORed: one rule refuses requests without a token of our issuers, and one rule per
    // required claim refuses requests whose token lacks it ("deny unless claim" = DENY with the
    // claim's values negated; a missing claim matches notValues, so it is refused too).
    const rules: AuthorizationRule[] = [
      { sources: [Peer.noneOf(this._issuerPeer())], operations },
      ...(requiredClaims ?? []).map((claim) => {
        if (!claim.key.startsWith('request.auth.')) {
          throw meshError(this, 'CM321', `requiredClaims has a condition on "${claim.key}", which is not an attribute of the token`,
            'use Condition.jwtClaim(...), requestPrincipal(), jwtAudiences() or jwtPresenter(); put other conditions in an AuthorizationPolicy');
        }
        return { operations, conditions: [claim._negate()] };
      }),
    ];
    const policy = new AuthorizationPolicy(this, name, {
      mesh: this.mesh,
      name,
      target,
      action: AuthorizationAction.DENY,
      rules,
    });
    declare(policy, this.mesh, jwtProtectDeclaration(this.issuers, target, policy, { paths, exceptPaths }));
    return policy;
  }

  /**
   * End users with a valid token of one of the issuers (`requestPrincipals: ['<issuer>/*']`), as a
   * source of an authorization rule.
   */
  public toPeerConfig(): PeerConfig {
    this.required = true;
    return this._issuerPeer().toPeerConfig();
  }

  /** End users with a valid token for `subject` from one of the issuers (`<issuer>/<subject>`). */
  public forSubject(subject: string): IPeer {
    this.required = true;
    return Peer.requestPrincipal(...this.issuers.map((issuer) => `${issuer}/${subject}`));
  }

  /**
   * The issuers as a peer, without marking the JwtAuth as required.
   * @internal
   */
  public _issuerPeer(): IPeer {
    return Peer.requestPrincipal(...this.issuers.map((issuer) => `${issuer}/*`));
  }

  /** The RequestAuthentication must validate tokens on the protected pods, or every request is refused. */
  private checkCovers(target: IWorkloadTarget): void {
    const protectedPods = target.toWorkloadSelector();
    const validating = this.target?.toWorkloadSelector();
    const covered = protectedPods.namespaceName === this.namespaceName
      && (!validating || selects(validating.matchLabels, protectedPods.matchLabels));
    if (!covered) {
      throw meshError(this, 'CM320', `protect() targets ${targetLabel(target)} in namespace "${protectedPods.namespaceName}", whose tokens this JwtAuth does not validate (it validates ${this.target ? targetLabel(this.target) : 'namespace'} in "${this.namespaceName}"): every request would be refused`,
        `protect a workload the JwtAuth targets, or create the JwtAuth with target: ${targetLabel(target)} (or no target, for the whole namespace)`);
    }
  }

  private validateRequired(): string[] {
    if (this.required || this.tokenOptional) return [];
    return [formatMessage('CM319', `JwtAuth "${this.name}" validates tokens but nothing requires one, so requests without a token pass`,
      'call jwt.protect(service) to require a token, use the JwtAuth as a rule source, or set tokenOptional: true if anonymous requests are intended')];
  }
}

/** Validates one issuer and renders Istio's jwtRule. */
function renderIssuer(issuer: JwtIssuer, namespaceWide: boolean): RequestAuthenticationSpecJwtRules {
  if (!issuer.issuer?.trim()) {
    throw new RuleProblem('CM318', 'an issuer has an empty `issuer`', 'set issuer to the `iss` claim of its tokens');
  }
  const what = `issuer "${issuer.issuer}"`;
  if (issuer.jwksUri !== undefined && issuer.jwks !== undefined) {
    throw new RuleProblem('CM317', `${what} sets both jwksUri and jwks`, 'keep one: jwksUri to fetch the keys, or jwks to inline them');
  }
  if (issuer.jwksUri !== undefined) checkJwksUri(what, issuer.jwksUri);
  if (issuer.jwks !== undefined) checkJwks(what, issuer.jwks);
  for (const field of ['audiences', 'fromParams', 'fromCookies'] as const) {
    if (issuer[field] !== undefined) requireValues(`${what} ${field}`, issuer[field]!);
  }
  if (issuer.fromHeaders !== undefined) requireValues(`${what} fromHeaders names`, issuer.fromHeaders.map((h) => h.name));
  for (const { claim, header } of issuer.outputClaimToHeaders ?? []) {
    requireValues(`${what} outputClaimToHeaders`, [claim, header]);
    if (!/^[-_A-Za-z0-9]+$/.test(header)) {
      throw new RuleProblem('CM327', `${what} copies claim "${claim}" to header "${header}", which is not a valid header name`,
        'use letters, digits, "-" and "_" only, e.g. "x-jwt-sub"');
    }
  }
  return {
    issuer: issuer.issuer,
    jwksUri: issuer.jwksUri,
    jwks: issuer.jwks,
    audiences: issuer.audiences && unique(issuer.audiences),
    fromHeaders: issuer.fromHeaders?.map((h) => ({ name: h.name, prefix: h.prefix })),
    fromParams: issuer.fromParams,
    fromCookies: issuer.fromCookies,
    forwardOriginalToken: issuer.forwardOriginalToken ?? (namespaceWide ? true : undefined),
    outputClaimToHeaders: issuer.outputClaimToHeaders?.map((o) => ({ header: o.header, claim: o.claim })),
  };
}

function checkJwksUri(what: string, uri: string): void {
  let scheme: string | undefined;
  try {
    scheme = new URL(uri).protocol;
  } catch {
    scheme = undefined;
  }
  if (scheme !== 'http:' && scheme !== 'https:') {
    throw new RuleProblem('CM316', `${what} has jwksUri "${uri}", which is not an http or https URL`,
      'give the https URL where the issuer publishes its keys, e.g. "https://id.example.com/.well-known/jwks.json", or inline them with jwks');
  }
}

function checkJwks(what: string, jwks: string): void {
  let keys: unknown;
  try {
    keys = JSON.parse(jwks).keys;
  } catch {
    keys = undefined;
  }
  if (!Array.isArray(keys)) {
    throw new RuleProblem('CM316', `${what} has a jwks that is not a JSON Web Key Set`,
      'give the JSON document {"keys": [...]} the issuer publishes, or its URL with jwksUri');
  }
}
