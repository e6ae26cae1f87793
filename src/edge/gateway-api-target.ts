// Internal: the workload targets that are Kubernetes Gateway API Gateways (an IngressGateway rendered with the Gateway
// API). Istio deploys their pods itself and ignores a `selector` on them: AuthorizationPolicy, RequestAuthentication
// (and Telemetry, WasmPlugin) must attach with `targetRefs` (istioctl analyze IST0166 IneffectiveSelector).

/** A Gateway API reference, as policies' `targetRefs` write it. */
export interface GatewayApiRef {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
}

const REFS = new WeakMap<object, GatewayApiRef>();

/** Records that policies on `target` attach to the Gateway `name`. */
export function registerGatewayApiTarget(target: object, name: string): void {
  REFS.set(target, { group: 'gateway.networking.k8s.io', kind: 'Gateway', name });
}

/** The Gateway a target stands for, when policies on it must attach with targetRefs. */
export function gatewayApiTargetRef(target: object | undefined): GatewayApiRef | undefined {
  return target ? REFS.get(target) : undefined;
}
