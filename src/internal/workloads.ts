// Internal: the library's defaults for the containers and pods it writes. Not exported from the package.
import { ApiObject, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';

/**
 * Resources of an application container when the user sets none: a modest request the
 * scheduler can place (a toy mesh of seven Deployments × 2 replicas asks for 1.4 CPUs, not 14),
 * no CPU limit (CPU throttling adds latency to every request the proxy forwards), and a memory
 * limit that stops a leak from taking the node.
 */
export function defaultContainerResources(): kplus.ContainerResources {
  return {
    cpu: { request: kplus.Cpu.millis(100) },
    memory: { request: Size.mebibytes(128), limit: Size.mebibytes(512) },
  };
}

/**
 * cdk8s-plus labels every pod template with `cdk8s.io/metadata.addr`, a hash of the construct
 * path, whether or not anything selects it. The library's objects are selected by their
 * `app`/`version` labels, and their names and labels are exact and stable, never hashed: the
 * label is removed from the written object.
 */
export function removeAddressLabel(deployment: kplus.Deployment): void {
  ApiObject.of(deployment).addJsonPatch(JsonPatch.remove(`/spec/template/metadata/labels/${kplus.Pod.ADDRESS_LABEL.replace(/\//g, '~1')}`));
}

/**
 * cdk8s-plus writes `imagePullPolicy: Always` when none is given; without the field Kubernetes
 * applies its own default (Always for a `:latest` or untagged image, IfNotPresent otherwise).
 */
export function removeImagePullPolicy(deployment: kplus.Deployment, containerIndex: number): void {
  ApiObject.of(deployment).addJsonPatch(JsonPatch.remove(`/spec/template/spec/containers/${containerIndex}/imagePullPolicy`));
}
