import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { formatMessage, meshError } from '../errors';
import type { MeshService } from './mesh-service';
import { explicitProbePort, probeDefaultingTo } from './probes';
import { IWorkloadTarget, WorkloadSelector } from './workload-target';
import { requireDnsLabel, suggestDnsLabel } from '../internal/names';
import { validateOncePerSynthesis } from '../internal/synthesis';
import { defaultContainerResources, removeAddressLabel, removeImagePullPolicy } from '../internal/workloads';

/**
 * The workload settings shared by a service and each of its versions. A version inherits
 * every setting of its service that it does not set itself.
 */
export interface WorkloadOptions {
  /**
   * Number of pods.
   *
   * @default 2 (the cdk8s-plus default)
   */
  readonly replicas?: number;

  /**
   * When the kubelet pulls the image.
   *
   * @default - not written: Kubernetes pulls a `:latest` or untagged image every time and
   * any other tag only when the node lacks it (IfNotPresent)
   */
  readonly imagePullPolicy?: kplus.ImagePullPolicy;

  /**
   * Writable scratch directories (emptyDir volumes) mounted into the application container,
   * e.g. `/tmp`. Declaring them makes the container's root filesystem read-only (unless
   * `securityContext.readOnlyRootFilesystem` says otherwise): the application writes only
   * where it said it would.
   *
   * @default - none, and a writable root filesystem
   */
  readonly scratchDirectories?: string[];

  /**
   * Environment variables of the application container.
   *
   * @default - none
   */
  readonly env?: { [name: string]: string };

  /**
   * CPU and memory of the application container; replaces the default as a whole.
   *
   * @default - requests 100m CPU and 128Mi memory, a memory limit of 512Mi, no CPU limit
   */
  readonly resources?: kplus.ContainerResources;

  /**
   * Security context of the application container; fields left out keep their defaults.
   *
   * @default - non-root, no privilege escalation, not privileged; the root filesystem is
   * read-only only with `scratchDirectories`
   */
  readonly securityContext?: kplus.ContainerSecurityContextProps;

  /**
   * Command (entrypoint) of the application container.
   *
   * @default - the image's entrypoint
   */
  readonly command?: string[];

  /**
   * Arguments of the application container.
   *
   * @default - the image's command
   */
  readonly args?: string[];

  /**
   * Readiness probe. An HTTP or TCP probe without a `port` probes the container port
   * (`targetPort`); a probe on another port must name a port the container exposes. Istio
   * rewrites HTTP probes so they work under STRICT mTLS.
   *
   * @default - none
   */
  readonly readiness?: kplus.Probe;

  /**
   * Liveness probe; ports as for `readiness`.
   *
   * @default - none
   */
  readonly liveness?: kplus.Probe;

  /**
   * CPU and memory of the injected Istio sidecar, written as Istio's
   * `sidecar.istio.io/proxyCPU`, `proxyCPULimit`, `proxyMemory` and `proxyMemoryLimit`
   * pod annotations. Sidecar mode only.
   *
   * @default - the mesh-wide proxy defaults
   */
  readonly proxyResources?: kplus.ContainerResources;

  /**
   * Start the application container only once the sidecar is ready, so the application never
   * sees a network without its proxy. Sidecar mode only.
   *
   * @default false
   */
  readonly holdApplicationUntilProxyStarts?: boolean;

  /**
   * Extra pod labels (merged with `app` and `version`, which cannot be overridden).
   *
   * @default - none
   */
  readonly podLabels?: { [key: string]: string };

  /**
   * Extra pod annotations.
   *
   * @default - none
   */
  readonly podAnnotations?: { [key: string]: string };
}

/** Options of {@link MeshService.addVersion}. */
export interface ServiceVersionOptions extends WorkloadOptions {
  /**
   * Container image of this version.
   *
   * @default - the service's image
   */
  readonly image?: string;
}

/** Properties of a {@link ServiceVersion}. */
export interface ServiceVersionProps extends ServiceVersionOptions {
  /** The service this is a version of. */
  readonly service: MeshService;
  /**
   * The version name: the `version` pod label, the DestinationRule subset name and the
   * Deployment name suffix (`<service>-<version>`). A DNS label such as `v2`.
   */
  readonly name: string;
}

/**
 * One version of a {@link MeshService}: a Deployment `<service>-<version>` whose pods carry the
 * `app` and `version` labels, and the DestinationRule subset of the same name.
 *
 * Routes name versions by object, never by string, so a route to a subset that does not exist
 * cannot be written. Usually created with {@link MeshService.addVersion}.
 */
export class ServiceVersion extends Construct implements IWorkloadTarget {
  /** The version name: the `version` label and the DestinationRule subset name. */
  public readonly name: string;
  /** The service this version belongs to. */
  public readonly service: MeshService;
  /** The version's Deployment (escape hatch for settings the library does not model). */
  public readonly deployment: kplus.Deployment;
  /** The application container. */
  public readonly container: kplus.Container;

  public constructor(scope: Construct, id: string, props: ServiceVersionProps) {
    super(scope, id);
    this.service = props.service;
    this.name = props.name;
    requireDnsLabel(this, 'version name', props.name);
    const workload = mergeWorkload(props.service._workloadDefaults, props);
    this.deployment = buildDeployment(this, props.service, props.name, workload);
    this.container = this.deployment.containers[0];
    const probes = { readiness: workload.readiness, liveness: workload.liveness };
    this.node.addValidation(validateOncePerSynthesis(this, () => this.validateProbePorts(probes)));
    props.service._registerVersion(this);
  }

  /**
   * CM116: a probe on a port the container does not expose. The kubelet (or, with a sidecar,
   * Istio's agent) would probe a port nothing declared, and the pods would never be Ready.
   */
  private validateProbePorts(probes: { [kind: string]: kplus.Probe | undefined }): string[] {
    const exposed = this.container.ports.map((p) => p.number);
    return Object.entries(probes).flatMap(([kind, probe]) => {
      const port = probe && explicitProbePort(probe);
      if (port === undefined || exposed.includes(port)) return [];
      return [formatMessage('CM116', `the ${kind} probe of version "${this.name}" of service "${this.service.name}" probes port ${port}, but the container exposes only ${exposed.join(', ')}`,
        `leave the probe's port out to probe the container port ${this.service.targetPort}, or expose port ${port} with version.container.addPort({ number: ${port} })`)];
    });
  }

  /** The pod labels that select exactly this version. */
  public get podLabels(): { [key: string]: string } {
    return { app: this.service.name, version: this.name };
  }

  /** Selects the pods of this version. */
  public toWorkloadSelector(): WorkloadSelector {
    return { namespaceName: this.service.mesh.namespaceName, matchLabels: this.podLabels };
  }
}

/** A version's settings: its own, else its service's. */
function mergeWorkload(service: ServiceVersionOptions, version: ServiceVersionOptions): ServiceVersionOptions {
  const merged: { [key: string]: any } = { ...service };
  for (const [key, value] of Object.entries(version)) {
    if (value === undefined) continue;
    const isMap = key === 'env' || key === 'podLabels' || key === 'podAnnotations';
    merged[key] = isMap ? { ...merged[key], ...value } : value;
  }
  return merged;
}

/** The Deployment `<service>-<version>` with the labels and annotations Istio and Kiali rely on. */
function buildDeployment(version: ServiceVersion, service: MeshService, name: string, workload: ServiceVersionOptions): kplus.Deployment {
  const image = (workload.image ?? '').trim();
  if (!image) {
    throw meshError(version, 'CM107', `version "${name}" of service "${service.name}" has an empty container image`,
      'pass image, e.g. { image: "docker.io/istio/examples-bookinfo-reviews-v2:1.20.3" }');
  }
  const replicas = workload.replicas;
  if (replicas !== undefined && !(Number.isInteger(replicas) && replicas >= 0)) {
    throw meshError(version, 'CM108', `replicas is ${replicas}`, 'use a whole number of pods, 0 or more');
  }
  const labels = { app: service.name, version: name };
  for (const reserved of Object.keys(labels)) {
    if (workload.podLabels?.[reserved] !== undefined) {
      throw meshError(version, 'CM112', `podLabels sets "${reserved}", which the library sets to select this version`,
        `remove "${reserved}" from podLabels; use the service name and version name instead`);
    }
  }
  const annotations = { ...workload.podAnnotations, ...sidecarAnnotations(version, service, workload) };
  const deployment = new kplus.Deployment(version, 'Deployment', {
    metadata: { name: `${service.name}-${name}`, namespace: service.mesh.namespaceName, labels },
    replicas,
    select: false,
    serviceAccount: service.serviceAccount,
    podMetadata: {
      labels: {
        ...workload.podLabels,
        ...labels,
        // Istio derives these from app/version; writing them makes telemetry and Kiali
        // independent of that fallback.
        'service.istio.io/canonical-name': service.name,
        'service.istio.io/canonical-revision': name,
      },
      annotations,
    },
    containers: [{
      name: service.name,
      image,
      imagePullPolicy: workload.imagePullPolicy,
      ports: [...new Set(service.ports.map((p) => p.targetPort))].map((number) => ({ number })),
      envVariables: Object.fromEntries(Object.entries(workload.env ?? {}).map(([k, v]) => [k, kplus.EnvValue.fromValue(v)])),
      resources: workload.resources ?? defaultContainerResources(),
      securityContext: {
        // cdk8s-plus would make every root filesystem read-only, and most images write somewhere.
        readOnlyRootFilesystem: (workload.scratchDirectories ?? []).length > 0,
        ...workload.securityContext,
      },
      command: workload.command,
      args: workload.args,
      // cdk8s-plus would send a probe without a port to port 80.
      readiness: workload.readiness && probeDefaultingTo(workload.readiness, service.targetPort),
      liveness: workload.liveness && probeDefaultingTo(workload.liveness, service.targetPort),
    }],
  });
  deployment.select(kplus.LabelSelector.of({ labels }));
  removeAddressLabel(deployment);
  if (workload.imagePullPolicy === undefined) removeImagePullPolicy(deployment, 0);
  for (const directory of workload.scratchDirectories ?? []) {
    const volumeName = suggestDnsLabel(directory.replace(/\//g, '-'));
    if (!directory.startsWith('/')) {
      throw meshError(version, 'CM115', `scratch directory "${directory}" is not an absolute path`, 'use a path such as "/tmp"');
    }
    const volume = kplus.Volume.fromEmptyDir(version, `Scratch-${volumeName}`, volumeName);
    deployment.containers[0].mount(directory, volume);
  }
  return deployment;
}

/** Istio's sidecar annotations for proxy resources and start-up ordering. */
function sidecarAnnotations(version: ServiceVersion, service: MeshService, workload: WorkloadOptions): { [key: string]: string } {
  const proxy = workload.proxyResources;
  const hold = workload.holdApplicationUntilProxyStarts ?? false;
  if (service.mesh.dataplane.isAmbient && (proxy || hold)) {
    throw meshError(version, 'CM109', `${proxy ? 'proxyResources' : 'holdApplicationUntilProxyStarts'} configures the sidecar, but namespace "${service.mesh.namespaceName}" is in ambient mode, which has no sidecars`,
      'remove the option, or use Dataplane.sidecar() for the mesh');
  }
  const annotations: { [key: string]: string } = {};
  if (proxy?.ephemeralStorage) {
    throw meshError(version, 'CM114', 'proxyResources.ephemeralStorage has no Istio sidecar annotation',
      'set only cpu and memory for the proxy');
  }
  if (proxy?.cpu?.request) annotations['sidecar.istio.io/proxyCPU'] = proxy.cpu.request.amount;
  if (proxy?.cpu?.limit) annotations['sidecar.istio.io/proxyCPULimit'] = proxy.cpu.limit.amount;
  if (proxy?.memory?.request) annotations['sidecar.istio.io/proxyMemory'] = proxy.memory.request.asString();
  if (proxy?.memory?.limit) annotations['sidecar.istio.io/proxyMemoryLimit'] = proxy.memory.limit.asString();
  if (hold) {
    if (workload.podAnnotations?.['proxy.istio.io/config'] !== undefined) {
      throw meshError(version, 'CM110', 'holdApplicationUntilProxyStarts and podAnnotations both set "proxy.istio.io/config"',
        'add "holdApplicationUntilProxyStarts: true" to your proxy.istio.io/config annotation instead of the option');
    }
    annotations['proxy.istio.io/config'] = '{"holdApplicationUntilProxyStarts":true}';
  }
  for (const key of Object.keys(annotations)) {
    if (key !== 'proxy.istio.io/config' && workload.podAnnotations?.[key] !== undefined) {
      throw meshError(version, 'CM110', `proxyResources and podAnnotations both set "${key}"`, 'set the proxy resources in one place');
    }
  }
  return annotations;
}
