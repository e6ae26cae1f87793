// Progressive delivery with Argo Rollouts (issue 17, part 1): a version's Deployment becomes an Argo `Rollout` whose canary
// strategy moves the weights of the host's VirtualService (Istio subset-level traffic splitting), gated by an
// `AnalysisTemplate` built from the service's objectives.
//
// Sources: Argo Rollouts' docs, "Istio" (https://argoproj.github.io/argo-rollouts/features/traffic-management/istio/,
// "Subset-level Traffic Splitting"), "Canary" (features/canary: setWeight, pause with and without duration, analysis
// steps), "Analysis & Progressive Delivery" (features/analysis: templates, args, `valueFrom.podTemplateHashValue`) and
// "Prometheus Metrics" (analysis/prometheus); the Rollout CRD v1.9.1 (../shared/crds/argo-rollouts).
import { ApiObject, Duration, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { formatMessage, meshError } from '../errors';
import { IgnoreDifference } from '../gitops/ignore-differences';
import { istioDuration } from '../internal/duration';
import { validateOncePerSynthesis } from '../internal/synthesis';
import type { MeshService } from '../mesh/mesh-service';
import { isHttpProtocol } from '../mesh/protocol';
import type { ServiceVersion } from '../mesh/service-version';
import { objectivesOf } from '../observability/objective';
import { errorBudget, errorRatio, latencyQuantile, promNumber, promString, regexLiteral } from '../observability/promql';

const ARGO_API_VERSION = 'argoproj.io/v1alpha1';
/** The argument of the AnalysisTemplate naming the canary ReplicaSet's pod template hash. */
const CANARY_HASH_ARG = 'canary-hash';
/**
 * Istio's Prometheus addon: Service `prometheus` in `istio-system`, port 9090 (istio.io, "Querying Metrics from
 * Prometheus": `kubectl -n istio-system get svc prometheus`).
 */
const DEFAULT_PROMETHEUS = 'http://prometheus.istio-system.svc.cluster.local:9090';

/** One step of a canary: shift traffic, wait, or analyse. */
export class CanaryStep {
  /**
   * Sends `weightPercent` of the requests of the version's routes to the canary (Argo's `setWeight`; named `weight`
   * because jsii reserves `set…` names for Java setters); the rest stay on the stable pods. A whole number from 0 to
   * 100; the weights of a canary increase step by step.
   */
  public static weight(weightPercent: number): CanaryStep {
    return new CanaryStep('setWeight', weightPercent);
  }

  /**
   * Waits (Argo's `pause`): for `duration` (whole seconds), or, without one, until someone promotes the rollout
   * (`kubectl argo rollouts promote`).
   */
  public static pause(duration?: Duration): CanaryStep {
    return new CanaryStep('pause', undefined, duration);
  }

  /**
   * Runs the Canary's AnalysisTemplate (built from the service's objectives) on the canary's pods: the rollout goes on
   * when every measurement stays within the objectives, and is aborted (all traffic back to stable) when one does not.
   */
  public static analysis(): CanaryStep {
    return new CanaryStep('analysis');
  }

  private constructor(
    /** `setWeight`, `pause` or `analysis`. */
    public readonly kind: string,
    /** The canary's share, for `setWeight`. */
    public readonly weightPercent?: number,
    /** How long to wait, for a `pause` (none: until promoted). */
    public readonly duration?: Duration,
  ) {}
}

/** How the canary's analysis measures (the AnalysisTemplate's metrics, one per objective and kind). */
export interface CanaryAnalysisOptions {
  /**
   * The Prometheus that scrapes the mesh's proxies.
   *
   * @default 'http://prometheus.istio-system.svc.cluster.local:9090' (Istio's Prometheus addon)
   */
  readonly prometheusAddress?: string;
  /**
   * Time between measurements, and the window of each query's `rate()`. Whole seconds, at least 30s (two scrapes of
   * Istio's 15s interval).
   *
   * @default Duration.minutes(1)
   */
  readonly interval?: Duration;
  /**
   * Measurements per analysis step.
   *
   * @default 5
   */
  readonly count?: number;
  /**
   * Failed measurements tolerated before the analysis fails (Argo's `failureLimit`).
   *
   * @default 0 - the first measurement outside the objective aborts the rollout
   */
  readonly failureLimit?: number;
  /**
   * Time to wait before the first measurement (e.g. for the canary's caches to warm).
   *
   * @default - measure at once
   */
  readonly initialDelay?: Duration;
  /**
   * Timeout of each Prometheus query, whole seconds.
   *
   * @default - Argo's default
   */
  readonly queryTimeout?: Duration;
}

/** Options of {@link MeshService.deliverProgressively}. */
export interface CanaryOptions {
  /** The canary's steps, in order: weights that increase, pauses, analyses. */
  readonly steps: CanaryStep[];
  /**
   * How the analysis steps measure.
   *
   * @default - the defaults of each option
   */
  readonly analysis?: CanaryAnalysisOptions;
}

/** Properties of a {@link Canary}. */
export interface CanaryProps extends CanaryOptions {
  /** The service. */
  readonly service: MeshService;
  /**
   * The version Argo Rollouts delivers.
   *
   * @default - the service's default version
   */
  readonly version?: ServiceVersion;
}

/**
 * Delivers one version of a service with Argo Rollouts: the version's Deployment is replaced by an Argo `Rollout` of the
 * same name (same pod template, labels, ServiceAccount, probes and ports) whose canary strategy uses Istio subset-level
 * traffic splitting. The version's DestinationRule subset is the stable subset; a second subset `<version>-canary`
 * selects the same pods (the controller adds each ReplicaSet's `rollouts-pod-template-hash` to both at run time); every
 * route of the VirtualService to that version alone becomes stable 100 / canary 0, named, and is listed in the Rollout.
 * With analysis steps, an `AnalysisTemplate` measures the canary's pods against the service's objectives.
 *
 * What is written is the Rollout's initial state (every request on the stable pods), and that is what the synth-time
 * analysis and the promises trace. The weights and subset labels the controller changes afterwards are in
 * {@link Canary.ignoreDifferences} for Argo CD.
 *
 * Refused: a Gateway API mesh (the library does not write the Gateway API traffic router plugin's configuration), a
 * non-HTTP service, a route splitting the version with other versions (Argo moves the weights of exactly a stable and a
 * canary destination), and a gateway route to the version (its ingress traffic would never move to the canary).
 *
 * @example reviews.deliverProgressively(v3, { steps: [CanaryStep.weight(10), CanaryStep.pause(Duration.minutes(5)), CanaryStep.analysis()] });
 */
export class Canary extends Construct {
  /** The service. */
  public readonly service: MeshService;
  /** The version delivered. */
  public readonly version: ServiceVersion;
  /**
   * The Rollout (replaces the version's Deployment, same name). Its spec is rendered from the version's Deployment, so
   * settings made on `version.deployment` (and JSON patches of its spec through `ApiObject.of`) carry over.
   */
  public readonly rollout: ApiObject;
  /** The AnalysisTemplate, when a step analyses. */
  public readonly analysisTemplate?: ApiObject;
  /** The DestinationRule subset Argo points at the stable ReplicaSet: the version's own. */
  public readonly stableSubsetName: string;
  /** The DestinationRule subset Argo points at the canary ReplicaSet: `<version>-canary`. */
  public readonly canarySubsetName: string;

  private readonly steps: CanaryStep[];
  private readonly analysis: CanaryAnalysisOptions;

  public constructor(scope: Construct, id: string, props: CanaryProps) {
    super(scope, id);
    const service = props.service;
    const version = props.version ?? service.defaultVersion;
    this.service = service;
    this.version = version;
    this.steps = [...props.steps];
    this.analysis = props.analysis ?? {};
    if (version.service !== service) {
      throw meshError(this, 'CM260', `version "${version.name}" belongs to service "${version.service.name}", not "${service.name}"`,
        `pass a version of "${service.name}" (${service.versions.map((v) => v.name).join(', ')})`);
    }
    if (service._routing.usesGatewayApi) {
      throw meshError(this, 'CM261', `the mesh routes with the Gateway API (RoutingApi.GATEWAY_API${service.mesh.dataplane.isAmbient ? ', the default in ambient mode' : ''}), `
        + 'and the library writes Argo Rollouts\' Istio traffic routing only (VirtualService and DestinationRule subsets), not the Gateway API plugin',
      'route the mesh with VirtualServices (new Mesh(..., { routingApi: RoutingApi.ISTIO })), or configure the Gateway API traffic router plugin yourself');
    }
    const opaque = service.ports.find((p) => !isHttpProtocol(p.protocol));
    if (opaque) {
      const what = service.ports.length > 1 ? `port ${opaque.port} of service "${service.name}"` : `service "${service.name}"`;
      throw meshError(this, 'CM263', `${what} speaks ${opaque.protocol}; the library hands only HTTP routes to Argo Rollouts, so its connections would stay on the stable pods while the canary takes requests`,
        service.ports.length > 1 ? 'give the TCP and TLS ports a service of their own, or deliver the version by editing weights (routeTraffic)' : 'deliver HTTP, HTTP/2 or gRPC services progressively');
    }
    this.checkSteps();
    this.stableSubsetName = version.name;
    this.canarySubsetName = `${version.name}-canary`;
    const taken = service.versions.find((v) => v.name === this.canarySubsetName);
    if (taken) {
      throw meshError(this, 'CM260', `the canary subset of version "${version.name}" would be "${this.canarySubsetName}", which is a version of service "${service.name}" (${taken.node.path})`,
        'rename that version');
    }
    service._routing.addCanary(this);

    const deploymentObject = ApiObject.of(version.deployment);
    // The Deployment is replaced: its object leaves the tree (nothing synthesizes it), and the Rollout renders its spec.
    version.deployment.node.tryRemoveChild(deploymentObject.node.id);
    const name = version.deployment.name;
    const namespace = service.mesh.namespaceName;
    const hasAnalysis = this.steps.some((s) => s.kind === 'analysis');
    if (hasAnalysis) {
      this.analysisTemplate = new ApiObject(this, 'AnalysisTemplate', {
        apiVersion: ARGO_API_VERSION,
        kind: 'AnalysisTemplate',
        metadata: { name, namespace },
        spec: Lazy.any({ produce: () => this.renderAnalysisTemplate() }),
      });
    }
    this.rollout = new ApiObject(this, 'Rollout', {
      apiVersion: ARGO_API_VERSION,
      kind: 'Rollout',
      metadata: { name, namespace, labels: { app: service.name, version: version.name } },
      spec: Lazy.any({ produce: () => this.renderRollout(deploymentObject.toJson().spec) }),
    });
    this.node.addValidation(validateOncePerSynthesis(this, () => this.validateRoutes()));
  }

  /**
   * What Argo Rollouts changes at run time, for an Argo CD Application (`ignoreDifferences`): the route weights of the
   * service's VirtualService and the `rollouts-pod-template-hash` labels of its DestinationRule's subsets.
   */
  public get ignoreDifferences(): IgnoreDifference {
    return IgnoreDifference.rolloutTrafficRouting(this.service);
  }

  /** The names of the VirtualService's routes the Rollout moves. */
  public get routeNames(): string[] {
    return this.service._routing.rolloutRouteNames(this.version);
  }

  private checkSteps(): void {
    if (this.steps.length === 0) {
      throw meshError(this, 'CM264', 'the canary has no steps, so Argo Rollouts would move every request to a new revision at once',
        'give steps, e.g. [CanaryStep.weight(10), CanaryStep.pause(Duration.minutes(5)), CanaryStep.weight(50), CanaryStep.pause()]');
    }
    let last = -1;
    for (const [i, step] of this.steps.entries()) {
      if (step.kind === 'setWeight') {
        const w = step.weightPercent!;
        if (!(Number.isInteger(w) && w >= 0 && w <= 100)) {
          throw meshError(this, 'CM264', `step ${i + 1} sets the canary's weight to ${w}`, 'use a whole percentage from 0 to 100');
        }
        if (w <= last) {
          throw meshError(this, 'CM265', `step ${i + 1} sets the canary's weight to ${w} after ${last}: a canary's share only grows (an abort, not a step, sends traffic back)`,
            `order the weights from low to high, e.g. ${[...new Set([last, w])].sort((a, b) => a - b).join(', ')}`);
        }
        last = w;
      } else if (step.kind === 'pause' && step.duration) {
        const ms = step.duration.toMilliseconds({ integral: false });
        if (!(ms >= 1000 && ms % 1000 === 0)) {
          throw meshError(this, 'CM266', `step ${i + 1} pauses for ${step.duration.toHumanString()}; Argo Rollouts pauses in whole seconds`,
            'use a duration of whole seconds, e.g. Duration.minutes(5), or no duration to wait until promoted');
        }
      }
    }
    const a = this.analysis;
    const interval = a.interval ?? Duration.minutes(1);
    const wholeSeconds = (d: Duration) => d.toMilliseconds({ integral: false }) % 1000 === 0;
    if (!(interval.toSeconds({ integral: false }) >= 30 && wholeSeconds(interval))) {
      throw meshError(this, 'CM268', `analysis interval is ${interval.toHumanString()}; each measurement's rate() needs two scrapes of Istio's 15s interval`,
        'use whole seconds, at least Duration.seconds(30)');
    }
    for (const [what, d] of [['initialDelay', a.initialDelay], ['queryTimeout', a.queryTimeout]] as const) {
      if (d && !(d.toMilliseconds({ integral: false }) >= 1000 && wholeSeconds(d))) {
        throw meshError(this, 'CM268', `analysis ${what} is ${d.toHumanString()}`, 'use whole seconds, at least 1s');
      }
    }
    for (const [what, n, min] of [['count', a.count, 1], ['failureLimit', a.failureLimit, 0]] as const) {
      if (n !== undefined && !(Number.isInteger(n) && n >= min)) {
        throw meshError(this, 'CM268', `analysis ${what} is ${n}`, `use a whole number of at least ${min}`);
      }
    }
    if (a.prometheusAddress !== undefined && !/^https?:\/\/[^\s/]+/.test(a.prometheusAddress)) {
      throw meshError(this, 'CM268', `prometheusAddress "${a.prometheusAddress}" is not an http(s) URL`, `use e.g. "${DEFAULT_PROMETHEUS}"`);
    }
    if (this.steps.some((s) => s.kind === 'analysis') && this.service.mesh.dataplane.isAmbient) {
      throw meshError(this, 'CM267', `service "${this.service.name}" is in ambient namespace "${this.service.mesh.namespaceName}": its request metrics come from the waypoint, and cannot tell the canary's pods from the stable ones`,
        'remove the analysis steps (pause and promote by hand), or use Dataplane.sidecar() for the mesh');
    }
  }

  /** CM262, CM267, CM269: what Argo Rollouts could not take over, found once everything is declared. */
  private validateRoutes(): string[] {
    const service = this.service;
    const version = this.version;
    const errors: string[] = [];
    for (const route of service._routing.routesSplitting(version)) {
      const split = (route._options.destinations ?? []).map((d) => `${d.version.name} ${d.weight ?? 100}%`).join(' / ');
      errors.push(formatMessage('CM262', `route ${route.node.path} splits requests ${split}, and Argo Rollouts moves the weights of a route with exactly two destinations, the stable and the canary subset of version "${version.name}"`,
        `send that route's requests to version "${version.name}" alone and let the canary steps shift them, or deliver the split by hand with routeTraffic instead of a Canary`));
    }
    const clash = service.versions.find((v) => v.name === this.canarySubsetName);
    if (clash) {
      errors.push(formatMessage('CM260', `version "${clash.name}" of service "${service.name}" (${clash.node.path}) has the name of the canary subset of version "${version.name}"`,
        'rename that version'));
    }
    const names = (service.virtualService?.toJson().spec?.http ?? []).map((rule: any) => rule.name).filter((n: unknown) => n !== undefined);
    for (const name of this.routeNames.filter((n) => names.filter((m: string) => m === n).length > 1)) {
      errors.push(formatMessage('CM262', `the VirtualService of service "${service.name}" has several routes named "${name}", and Argo Rollouts finds the routes it moves by name`,
        'give each route of the service its own name'));
    }
    if (this.routeNames.length === 0) {
      errors.push(formatMessage('CM262', `no route of service "${service.name}" sends requests to version "${version.name}" alone, so the Rollout would have no route to move`,
        `route requests to version "${version.name}" (service.routeTraffic({ destinations: [{ version: ${version.name} }] })), or deliver another version`));
    }
    if (this.steps.some((s) => s.kind === 'analysis') && objectivesOf(service).length === 0) {
      errors.push(formatMessage('CM267', `the canary of service "${service.name}" has an analysis step, but the service has no objective to measure the canary against`,
        'add one, e.g. service.addObjective({ availabilityPercent: 99.9, latency: Duration.millis(300) }), or remove CanaryStep.analysis()'));
    }
    for (const vs of service.node.root.node.findAll()) {
      if (!(vs instanceof ApiObject) || vs.kind !== 'VirtualService' || vs === service.virtualService) continue;
      const routes = (vs.toJson().spec?.http ?? []).flatMap((rule: any) => rule.route ?? []);
      if (routes.some((d: any) => d.destination?.host === service.host && d.destination?.subset === version.name)) {
        errors.push(formatMessage('CM269', `VirtualService "${vs.name}" (${vs.node.path}) routes requests to version "${version.name}" of service "${service.name}", and the Rollout moves only the weights of the service's own VirtualService: those requests would stay on the stable pods`,
          'route the gateway to another version (exposeViaGateway(gateway, { destinations: [...] })), or deliver the version by hand'));
      }
    }
    return errors;
  }

  private renderRollout(deployment: any): any {
    const canary = {
      trafficRouting: {
        istio: {
          virtualService: { name: this.service.virtualService!.name, routes: this.routeNames },
          destinationRule: {
            name: this.service.destinationRule.name,
            canarySubsetName: this.canarySubsetName,
            stableSubsetName: this.stableSubsetName,
          },
        },
      },
      steps: this.steps.map((step) => this.renderStep(step)),
    };
    return {
      replicas: deployment.replicas,
      selector: deployment.selector,
      template: deployment.template,
      minReadySeconds: deployment.minReadySeconds,
      progressDeadlineSeconds: deployment.progressDeadlineSeconds,
      revisionHistoryLimit: deployment.revisionHistoryLimit,
      strategy: { canary },
    };
  }

  private renderStep(step: CanaryStep): any {
    switch (step.kind) {
      case 'setWeight': return { setWeight: step.weightPercent };
      case 'pause': return { pause: step.duration ? { duration: istioDuration(step.duration) } : {} };
      default: return {
        analysis: {
          templates: [{ templateName: this.analysisTemplate!.name }],
          args: [{ name: CANARY_HASH_ARG, valueFrom: { podTemplateHashValue: 'Latest' } }],
        },
      };
    }
  }

  /**
   * One metric per objective and kind, measured on the canary's pods only: the series of the server-side proxies, whose
   * `pod` label (set by Prometheus from the scraped pod) starts with the canary ReplicaSet's name,
   * `<rollout>-<pod template hash>`. A metric fails when the value crosses the objective; no requests, or no failed
   * requests, is not a failure (`or on() vector(0)`: Prometheus has no 5xx series until a request fails).
   */
  private renderAnalysisTemplate(): any {
    const service = this.service;
    const a = this.analysis;
    const window = istioDuration(a.interval ?? Duration.minutes(1));
    const canaryPods = `,pod=~${promString(`${regexLiteral(this.rollout.name)}-{{args.${CANARY_HASH_ARG}}}-.*`)}`;
    const measure = (name: string, query: string, failureCondition: string) => ({
      name,
      interval: window,
      initialDelay: a.initialDelay && istioDuration(a.initialDelay),
      count: a.count ?? 5,
      failureCondition,
      failureLimit: a.failureLimit,
      provider: {
        prometheus: {
          address: a.prometheusAddress ?? DEFAULT_PROMETHEUS,
          query: `(${query}) or on() vector(0)`,
          timeout: a.queryTimeout?.toSeconds(),
        },
      },
    });
    const metrics = objectivesOf(service).flatMap((o) => [
      ...(o.availabilityPercent !== undefined ? [measure(`${o.name}-error-ratio`, errorRatio(service, window, '', canaryPods),
        `result[0] > ${promNumber(errorBudget(o.availabilityPercent))}`)] : []),
      ...(o.latency !== undefined ? [measure(`${o.name}-latency`,
        latencyQuantile(service, o.latencyPercentile / 100, window, '', canaryPods), `result[0] > ${promNumber(o.latency.toMilliseconds({ integral: false }))}`)] : []),
    ]);
    return { args: [{ name: CANARY_HASH_ARG }], metrics };
  }
}
