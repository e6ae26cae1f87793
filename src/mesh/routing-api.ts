/**
 * Which API a mesh's service routes are written with. Istio supports both for sidecars; in ambient mode, L7 routing
 * happens at a waypoint, which Istio configures with the Kubernetes Gateway API (VirtualService on waypoints is Alpha,
 * and mixing VirtualService and HTTPRoute for one workload is undefined): istio.io "Use Layer 7 features".
 */
export enum RoutingApi {
  /** One VirtualService per host (`networking.istio.io/v1`), with subsets of the host's DestinationRule. */
  ISTIO = 'istio',
  /**
   * Kubernetes Gateway API mesh routes (GAMMA): an HTTPRoute (or TCPRoute) attached to the Service (`parentRefs` kind
   * Service), with a Service per version (`<service>-<version>`) where a route needs one. DestinationRules stay, for
   * traffic policies. An IngressGateway is then a Gateway API `Gateway` of class `istio` with HTTPRoutes bound to it.
   */
  GATEWAY_API = 'gateway-api',
}
