import { PEER_FIELDS, RuleProblem, describePeer } from './internal';

/**
 * Who a request comes from, as one Istio authorization `source`: every field that is set must
 * match (AND); the values within one field are alternatives (OR).
 *
 * Peer identities (`principals`, `namespaces`, `serviceAccounts`) come from the caller's mTLS
 * certificate, so they only exist when the callee accepts mutual TLS. `requestPrincipals` come from
 * a validated JWT (`<issuer>/<subject>`).
 *
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/#Source
 */
export interface PeerConfig {
  /**
   * Workload identities `<trustDomain>/ns/<namespace>/sa/<serviceAccount>`.
   * @default - any
   */
  readonly principals?: string[];
  /**
   * Workload identities that must NOT match.
   * @default - none excluded
   */
  readonly notPrincipals?: string[];
  /**
   * Namespaces of the calling workloads.
   * @default - any
   */
  readonly namespaces?: string[];
  /**
   * Namespaces that must NOT match.
   * @default - none excluded
   */
  readonly notNamespaces?: string[];
  /**
   * Kubernetes service accounts `<namespace>/<name>` (trust-domain independent). Istio forbids
   * combining them with `principals` or `namespaces` in one source.
   * @default - any
   */
  readonly serviceAccounts?: string[];
  /**
   * Service accounts that must NOT match.
   * @default - none excluded
   */
  readonly notServiceAccounts?: string[];
  /**
   * Source IPs or CIDR blocks (the peer address of the connection).
   * @default - any
   */
  readonly ipBlocks?: string[];
  /**
   * Source IPs or CIDR blocks that must NOT match.
   * @default - none excluded
   */
  readonly notIpBlocks?: string[];
  /**
   * Original client IPs or CIDR blocks (from X-Forwarded-For or the PROXY protocol, as the
   * gateway's `numTrustedProxies` configures).
   * @default - any
   */
  readonly remoteIpBlocks?: string[];
  /**
   * Original client IPs or CIDR blocks that must NOT match.
   * @default - none excluded
   */
  readonly notRemoteIpBlocks?: string[];
  /**
   * JWT request principals `<issuer>/<subject>`; `*` means "any valid token".
   * @default - any (with or without a token)
   */
  readonly requestPrincipals?: string[];
  /**
   * Request principals that must NOT match (`*`: requests without a valid token).
   * @default - none excluded
   */
  readonly notRequestPrincipals?: string[];
}

/**
 * Something that can call a workload: a service (its ServiceAccount's principal), a mesh (its
 * namespace), the authenticated users of a {@link JwtAuth}, an ingress gateway, or one of the
 * {@link Peer} factories.
 */
export interface IPeer {
  /** The authorization `source` this peer stands for. */
  toPeerConfig(): PeerConfig;
}

/** Options of {@link Peer.authenticated}. */
export interface AuthenticatedPeerOptions {
  /**
   * The token issuer (`iss` claim).
   * @default - any issuer the workload's RequestAuthentication accepts
   */
  readonly issuer?: string;
  /**
   * The token subject (`sub` claim).
   * @default - any subject
   */
  readonly subject?: string;
}

/**
 * Callers that are not constructs of this app: namespaces, IP blocks, end users, raw identities,
 * and their negations and combinations.
 *
 * @example
 * svc.allowFrom(Peer.namespace('monitoring'));
 * new AuthorizationPolicy(chart, 'deny-outside', { mesh, action: AuthorizationAction.DENY,
 *   rules: [{ sources: [Peer.noneOf(Peer.namespace('shop'), Peer.namespace('istio-system'))] }] });
 */
export class Peer implements IPeer {
  /**
   * Raw workload identities `<trustDomain>/ns/<namespace>/sa/<serviceAccount>`: an escape hatch.
   * Prefer passing the calling {@link MeshService} (its principal is derived from its
   * ServiceAccount, so it cannot be misspelled).
   */
  public static principal(...principals: string[]): IPeer {
    return new Peer({ principals });
  }

  /**
   * Raw JWT request principals `<issuer>/<subject>` (`*` wildcards allowed at either end): an
   * escape hatch. Prefer a {@link JwtAuth} (its issuers) or {@link Peer.authenticated}.
   */
  public static requestPrincipal(...requestPrincipals: string[]): IPeer {
    return new Peer({ requestPrincipals });
  }

  /** Any workload of these namespaces (needs mutual TLS, like every identity). */
  public static namespace(...namespaceNames: string[]): IPeer {
    return new Peer({ namespaces: namespaceNames });
  }

  /**
   * A Kubernetes service account, independent of the trust domain (Istio's `serviceAccounts`).
   *
   * @param namespaceName the service account's namespace
   * @param serviceAccountName the service account's name
   */
  public static serviceAccount(namespaceName: string, serviceAccountName: string): IPeer {
    return new Peer({ serviceAccounts: [`${namespaceName}/${serviceAccountName}`] });
  }

  /** Connections from these IPs or CIDR blocks (the immediate peer address). */
  public static ipBlock(...cidrs: string[]): IPeer {
    return new Peer({ ipBlocks: cidrs });
  }

  /**
   * Requests whose original client IP (X-Forwarded-For / PROXY protocol, at a gateway) is in
   * these IPs or CIDR blocks.
   */
  public static remoteIpBlock(...cidrs: string[]): IPeer {
    return new Peer({ remoteIpBlocks: cidrs });
  }

  /**
   * End users with a valid JWT (Istio's `requestPrincipals`), optionally of one issuer and subject.
   * A RequestAuthentication (see {@link JwtAuth}) must validate the token on the target.
   */
  public static authenticated(options: AuthenticatedPeerOptions = {}): IPeer {
    const { issuer, subject } = options;
    const principal = issuer === undefined && subject === undefined ? '*' : `${issuer ?? '*'}/${subject ?? '*'}`;
    return new Peer({ requestPrincipals: [principal] });
  }

  /**
   * Any caller that is none of `peers`: their attributes, negated (`notPrincipals`,
   * `notNamespaces`, ...). Each peer must have a single kind of attribute and no negation.
   *
   * @example Peer.noneOf(Peer.namespace('shop'))   // callers outside namespace shop
   */
  public static noneOf(...peers: IPeer[]): IPeer {
    return new Peer(() => {
      const merged: Record<string, string[]> = {};
      for (const peer of peers) {
        const config = peer.toPeerConfig() as Record<string, string[] | undefined>;
        const fields = PEER_FIELDS.filter(([yes, no]) => config[yes]?.length || config[no]?.length);
        if (fields.length !== 1 || config[fields[0][1]]?.length) {
          throw new RuleProblem('CM325', `Peer.noneOf() got a peer with ${describePeer(config)}, whose negation is not one Istio source`,
            'negate one kind of attribute at a time, e.g. Peer.noneOf(Peer.namespace("a")), and combine with Peer.allOf()');
        }
        const [yes, no] = fields[0];
        merged[no] = [...(merged[no] ?? []), ...config[yes]!];
      }
      return merged;
    });
  }

  /**
   * A caller that matches ALL of `peers` at once (one Istio source), e.g. a namespace except one
   * service: `Peer.allOf(Peer.namespace('shop'), Peer.noneOf(legacy))`. Two peers may not set the
   * same attribute (that would need one value to equal two).
   */
  public static allOf(...peers: IPeer[]): IPeer {
    return new Peer(() => {
      const merged: Record<string, string[]> = {};
      for (const peer of peers) {
        for (const [field, values] of Object.entries(peer.toPeerConfig())) {
          if (!values?.length) continue;
          if (merged[field]) {
            throw new RuleProblem('CM325', `Peer.allOf() got two peers that both set ${field}; one value cannot equal both`,
              'to accept either, list them as separate sources instead of combining them with Peer.allOf()');
          }
          merged[field] = [...values];
        }
      }
      return merged;
    });
  }

  private readonly config: PeerConfig | (() => PeerConfig);

  private constructor(config: PeerConfig | (() => PeerConfig)) {
    this.config = config;
  }

  /** The authorization source this peer stands for. */
  public toPeerConfig(): PeerConfig {
    return typeof this.config === 'function' ? this.config() : this.config;
  }
}
