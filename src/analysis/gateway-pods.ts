// Where the pods of an Istio Gateway run and as whom, when the manifests do not hold them (a gateway deployed
// elsewhere, such as Istio's shared ingress gateway): read from annotations the library writes on such a Gateway,
// else Istio's defaults for its own ingress gateway. The request simulator traces through a stand-in with them.

/** The namespace of the gateway pods a Gateway selects. */
export const GATEWAY_POD_NAMESPACE = 'gateway.cdk8s-mesh.dev/pod-namespace';
/** The ServiceAccount (the mTLS identity) of those pods. */
export const GATEWAY_SERVICE_ACCOUNT = 'gateway.cdk8s-mesh.dev/service-account';

/** The annotations that say where a Gateway's pods, deployed elsewhere, run. */
export function existingGatewayAnnotations(podNamespace: string, serviceAccountName: string): { [key: string]: string } {
  return { [GATEWAY_POD_NAMESPACE]: podNamespace, [GATEWAY_SERVICE_ACCOUNT]: serviceAccountName };
}

/**
 * The namespace and ServiceAccount of the pods of a Gateway the manifests have no workload for: its annotations, else,
 * for Istio's ingress gateway (`istio: ingressgateway`, installed by istioctl and the Helm chart in the root
 * namespace), `<root>/istio-ingressgateway-service-account`, else the Gateway's namespace and `default`.
 */
export function gatewayPodsOf(annotations: { [key: string]: unknown } | undefined, selector: { [key: string]: string },
  gatewayNamespace: string, rootNamespace: string): { namespaceName: string; serviceAccountName: string } {
  const text = (key: string) => (typeof annotations?.[key] === 'string' && annotations[key] !== '' ? annotations[key] as string : undefined);
  const istioDefault = selector.istio === 'ingressgateway';
  return {
    namespaceName: text(GATEWAY_POD_NAMESPACE) ?? (istioDefault ? rootNamespace : gatewayNamespace),
    serviceAccountName: text(GATEWAY_SERVICE_ACCOUNT) ?? (istioDefault ? 'istio-ingressgateway-service-account' : 'default'),
  };
}
