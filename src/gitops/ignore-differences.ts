import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { formatMessage } from '../errors';
import type { MeshService } from '../mesh/mesh-service';

/**
 * One entry of an Argo CD Application's `spec.ignoreDifferences`: fields of the matching live
 * objects that Argo CD leaves out of its diff (and, with the sync option
 * `RespectIgnoreDifferences=true`, does not overwrite when it syncs).
 *
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/diffing/
 */
export interface IgnoreDifferenceEntry {
  /**
   * The API group of the objects (`apps`, `networking.istio.io`).
   * @default - the core group
   */
  readonly group?: string;
  /** The kind of the objects. */
  readonly kind: string;
  /**
   * Only the object with this name.
   * @default - every object of the kind
   */
  readonly name?: string;
  /**
   * Only objects in this namespace.
   * @default - any namespace
   */
  readonly namespaceName?: string;
  /**
   * JSON pointers (RFC 6901) of the ignored fields, e.g. `/spec/replicas`.
   * @default - none
   */
  readonly jsonPointers?: string[];
  /**
   * jq path expressions of the ignored fields, e.g. `.spec.http[].route[].weight`.
   * @default - none
   */
  readonly jqPathExpressions?: string[];
  /**
   * Ignore every field these field managers own (server-side apply), e.g. `rollouts-controller`.
   * @default - none
   */
  readonly managedFieldsManagers?: string[];
}

/**
 * Fields that a controller changes after Argo CD applies an object, so the Application would
 * otherwise show OutOfSync forever (or, with self-heal, fight the controller). Give them to
 * `ArgoCdApplication` (`ignoreDifferences`), or call {@link IgnoreDifference.toEntries} for an
 * Application you write yourself.
 *
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/diffing/
 */
export class IgnoreDifference {
  /**
   * `spec.replicas` of every Deployment or StatefulSet that a HorizontalPodAutoscaler under
   * `scope` scales: the autoscaler owns the replica count. The autoscalers are looked up when the
   * entries are rendered, so they may be declared after this call.
   */
  public static autoscaledReplicas(scope: IConstruct): IgnoreDifference {
    return new IgnoreDifference(() => hpaTargets(scope).map((target) => ({ ...target, jsonPointers: ['/spec/replicas'] })));
  }

  /**
   * What istiod writes on its own webhook configurations, for an Application that installs
   * Istio (its `base` and `istiod` charts): the CA bundle of every webhook, and the failure
   * policy istiod switches to `Fail` once its validation webhook is ready.
   */
  public static istioWebhooks(): IgnoreDifference {
    const admission = 'admissionregistration.k8s.io';
    return new IgnoreDifference(() => [
      { group: admission, kind: 'MutatingWebhookConfiguration', jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle'] },
      { group: admission, kind: 'ValidatingWebhookConfiguration', jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle', '.webhooks[]?.failurePolicy'] },
    ]);
  }

  /**
   * What Argo Rollouts changes when a Rollout's Istio traffic routing owns this service's
   * routing: the route weights of its VirtualService and, with subset-level splitting, the
   * `rollouts-pod-template-hash` label it adds to the subsets of its DestinationRule.
   *
   * @see https://argoproj.github.io/argo-rollouts/features/traffic-management/istio/
   */
  public static rolloutTrafficRouting(service: MeshService): IgnoreDifference {
    const namespaceName = service.mesh.namespaceName;
    return new IgnoreDifference(() => [
      {
        group: 'networking.istio.io',
        kind: 'DestinationRule',
        name: service.destinationRule.name,
        namespaceName,
        jqPathExpressions: ['.spec.subsets[].labels["rollouts-pod-template-hash"]'],
      },
      service.virtualService ? {
        group: 'networking.istio.io',
        kind: 'VirtualService',
        name: service.virtualService.name,
        namespaceName,
        jqPathExpressions: ['.spec.http[].route[].weight'],
      } : {
        group: 'gateway.networking.k8s.io',
        kind: service.gatewayRoute?.kind ?? 'HTTPRoute',
        name: service.gatewayRoute?.name ?? service.name,
        namespaceName,
        jqPathExpressions: ['.spec.rules[].backendRefs[].weight'],
      },
    ]);
  }

  /** Any other field. It must name at least one field (a pointer, a jq path or a field manager). */
  public static custom(entry: IgnoreDifferenceEntry): IgnoreDifference {
    const where = `IgnoreDifference.custom({ kind: '${entry.kind}' })`;
    if (!entry.jsonPointers?.length && !entry.jqPathExpressions?.length && !entry.managedFieldsManagers?.length) {
      throw new Error(`[${where}] ${formatMessage('CM903', 'the entry names no field, so Argo CD would ignore nothing',
        "give jsonPointers (e.g. ['/spec/replicas']), jqPathExpressions or managedFieldsManagers")}`);
    }
    for (const pointer of entry.jsonPointers ?? []) {
      if (!/^(\/([^~]|~[01])*)+$/.test(pointer)) {
        throw new Error(`[${where}] ${formatMessage('CM904', `"${pointer}" is not a JSON pointer`,
          `start it with "/" and escape "~" as "~0" and "/" as "~1" inside a key, e.g. "/${pointer.replace(/^[./]*/, '').replace(/\./g, '/')}"`)}`);
      }
    }
    const copy = { ...entry };
    return new IgnoreDifference(() => [copy]);
  }

  /**
   * The entries of several differences, sorted and without duplicates, ready for an
   * Application's `spec.ignoreDifferences` (with `namespace` spelled as Argo CD does).
   */
  public static render(differences: IgnoreDifference[]): any[] {
    const entries = differences.flatMap((d) => d.toEntries()).map((e) => prune({
      group: e.group || undefined,
      kind: e.kind,
      name: e.name,
      namespace: e.namespaceName,
      jsonPointers: e.jsonPointers,
      jqPathExpressions: e.jqPathExpressions,
      managedFieldsManagers: e.managedFieldsManagers,
    }));
    const byKey = new Map(entries.map((e) => [JSON.stringify(e), e]));
    return [...byKey.keys()].sort().map((k) => byKey.get(k));
  }

  private constructor(private readonly produce: () => IgnoreDifferenceEntry[]) {}

  /** The entries, as of now (autoscalers are looked up when this is called). */
  public toEntries(): IgnoreDifferenceEntry[] {
    return this.produce();
  }
}

/** The objects HorizontalPodAutoscalers under `scope` scale, as `{ group, kind, name, namespaceName }`. */
function hpaTargets(scope: IConstruct): IgnoreDifferenceEntry[] {
  const hpas = scope.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject && c.kind === 'HorizontalPodAutoscaler');
  return hpas.map((hpa) => {
    const json = hpa.toJson();
    const ref = json.spec?.scaleTargetRef ?? {};
    const apiVersion: string = ref.apiVersion ?? 'apps/v1';
    return {
      group: apiVersion.includes('/') ? apiVersion.split('/')[0] : undefined,
      kind: ref.kind,
      name: ref.name,
      namespaceName: json.metadata?.namespace,
    };
  });
}

/** `obj` without its undefined members. */
function prune(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}
