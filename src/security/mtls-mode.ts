/**
 * How a workload accepts inbound connections from other proxies.
 *
 * @see https://istio.io/latest/docs/reference/config/security/peer_authentication/#PeerAuthentication-MutualTLS-Mode
 */
export enum MtlsMode {
  /** Only mutual TLS: plaintext connections are refused. */
  STRICT = 'STRICT',
  /** Mutual TLS and plaintext are both accepted (use while migrating). */
  PERMISSIVE = 'PERMISSIVE',
  /** Plaintext only. Not supported in ambient mode. */
  DISABLE = 'DISABLE',
  /** Inherit the mode of the enclosing scope (namespace, then mesh). */
  UNSET = 'UNSET',
}
