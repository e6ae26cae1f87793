import * as path from 'path';
import { ApiObject, App, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { IgnoreDifference } from './ignore-differences';
import { CLUSTER_SCOPED } from '../analysis/manifests';
import { formatMessage, meshError } from '../errors';
import { requireDnsLabel, requireDnsSubdomain } from '../internal/names';
import { compareText } from '../internal/order';

const ARGO_API_VERSION = 'argoproj.io/v1alpha1';
/** The Kubernetes API server of the cluster Argo CD runs in. */
const IN_CLUSTER = 'https://kubernetes.default.svc';

/**
 * Where an Application deploys to, or (in an `ArgoCdProject`) where the project's Applications
 * may deploy to. Give the cluster by `server` or by `clusterName`, not both.
 */
export interface ApplicationDestination {
  /**
   * The cluster's Kubernetes API server URL. In a project, a glob (`*` matches anything).
   * @default - 'https://kubernetes.default.svc' (the cluster Argo CD runs in), unless clusterName is given
   */
  readonly server?: string;
  /**
   * The cluster's name in Argo CD, instead of `server`. In a project, a glob.
   * @default - the cluster is given by server
   */
  readonly clusterName?: string;
  /**
   * The namespace of objects that name none. In a project, a glob of the namespaces
   * Applications may deploy to (a leading `!` denies).
   * @default - objects must name their namespace (cdk8s-mesh's always do); in a project, '*'
   */
  readonly namespaceName?: string;
}

/** A cluster-scoped kind a project's Applications may create. */
export interface ProjectClusterResource {
  /** The API group (`''` for the core group). */
  readonly group: string;
  /** The kind. */
  readonly kind: string;
}

/** Properties of an {@link ArgoCdProject}. */
export interface ArgoCdProjectProps {
  /**
   * The AppProject's name.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * The namespace Argo CD runs in.
   * @default 'argocd'
   */
  readonly namespaceName?: string;
  /**
   * What the project is for.
   * @default - none
   */
  readonly description?: string;
  /** Git (or Helm, OCI) repositories the project's Applications may read; globs allowed. */
  readonly sourceRepos: string[];
  /** Clusters and namespaces the project's Applications may deploy to. */
  readonly destinations: ApplicationDestination[];
  /**
   * Cluster-scoped kinds the Applications may create. Argo CD allows none unless listed, and a
   * `Mesh` writes its Namespace.
   * @default - the core Namespace kind only
   */
  readonly clusterResources?: ProjectClusterResource[];
}

/**
 * An Argo CD `AppProject`: which repositories the Applications of a team may read and where they
 * may deploy. `ArgoCdApplication` checks at synthesis that its source and destination are
 * permitted, the check Argo CD would otherwise only make when it syncs.
 *
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/projects/
 */
export class ArgoCdProject extends Construct {
  /** The AppProject's name. */
  public readonly name: string;
  /** The namespace it lives in (Argo CD's). */
  public readonly namespaceName: string;
  /** Repositories the project's Applications may read. */
  public readonly sourceRepos: string[];
  /** Where the project's Applications may deploy. */
  public readonly destinations: ApplicationDestination[];
  /** The cluster-scoped kinds the project's Applications may create. */
  public readonly clusterResources: ProjectClusterResource[];
  /** The AppProject object (escape hatch: `addJsonPatch`). */
  public readonly apiObject: ApiObject;

  public constructor(scope: Construct, id: string, props: ArgoCdProjectProps) {
    super(scope, id);
    this.name = props.name ?? id;
    this.namespaceName = props.namespaceName ?? 'argocd';
    requireDnsSubdomain(this, 'AppProject name', this.name);
    requireDnsLabel(this, 'Argo CD namespace', this.namespaceName);
    this.sourceRepos = [...props.sourceRepos];
    this.destinations = props.destinations.map((d) => checkDestination(this, d));
    const clusterResources = props.clusterResources ?? [{ group: '', kind: 'Namespace' }];
    this.clusterResources = clusterResources.map((r) => ({ group: r.group, kind: r.kind }));
    this.apiObject = new ApiObject(this, 'Resource', {
      apiVersion: ARGO_API_VERSION,
      kind: 'AppProject',
      metadata: { name: this.name, namespace: this.namespaceName },
      spec: {
        description: props.description,
        sourceRepos: this.sourceRepos,
        destinations: this.destinations.map(renderDestination),
        clusterResourceWhitelist: clusterResources.map((r) => ({ group: r.group, kind: r.kind })),
      },
    });
  }
}

/** Where an Application's manifests come from: a Git repository, a revision and a folder. */
export interface GitSourceOptions {
  /** The repository URL, as Argo CD knows it (`https://…` or `git@…`). */
  readonly repoUrl: string;
  /** The folder in the repository, relative to its root (`manifests/shop`). */
  readonly path: string;
  /**
   * Branch, tag or commit.
   * @default 'HEAD'
   */
  readonly targetRevision?: string;
}

/** A folder of plain YAML or JSON manifests. */
export interface DirectorySourceOptions extends GitSourceOptions {
  /**
   * Read subfolders too.
   * @default false
   */
  readonly recurse?: boolean;
}

/** A folder whose manifests a Config Management Plugin generates (e.g. a cdk8s app). */
export interface PluginSourceOptions extends GitSourceOptions {
  /**
   * The plugin's name (`Cdk8sPlugin.pluginName`).
   * @default 'cdk8s'
   */
  readonly pluginName?: string;
  /**
   * Environment variables for the plugin's commands (Argo CD prefixes their names with `ARGOCD_ENV_`).
   * @default - none
   */
  readonly env?: { [name: string]: string };
}

/**
 * Where an Application's manifests come from: YAML that CI rendered and committed
 * ({@link ApplicationSource.directory}), or a cdk8s app Argo CD renders itself with a Config
 * Management Plugin ({@link ApplicationSource.plugin}).
 */
export class ApplicationSource {
  /** Plain manifests in a folder of the repository (the "render in CI and commit" workflow). */
  public static directory(options: DirectorySourceOptions): ApplicationSource {
    return new ApplicationSource(options, options.recurse ? { directory: { recurse: true } } : {});
  }

  /** A folder rendered by a Config Management Plugin in Argo CD's repo server (see `Cdk8sPlugin`). */
  public static plugin(options: PluginSourceOptions): ApplicationSource {
    const env = Object.entries(options.env ?? {}).sort(([a], [b]) => compareText(a, b)).map(([name, value]) => ({ name, value }));
    return new ApplicationSource(options, { plugin: { name: options.pluginName ?? 'cdk8s', env: env.length ? env : undefined } });
  }

  /** The repository URL. */
  public readonly repoUrl: string;
  /** The folder in the repository. */
  public readonly path: string;
  /** The branch, tag or commit. */
  public readonly targetRevision: string;

  private constructor(options: GitSourceOptions, private readonly extra: { [key: string]: any }) {
    this.repoUrl = options.repoUrl;
    this.path = options.path;
    this.targetRevision = options.targetRevision ?? 'HEAD';
  }

  /** @internal */
  public _render(): any {
    return { repoURL: this.repoUrl, targetRevision: this.targetRevision, path: this.path, ...this.extra };
  }

  /**
   * True for a folder of plain manifests (not rendered by a plugin).
   * @internal
   */
  public get _isDirectory(): boolean {
    return this.extra.plugin === undefined;
  }
}

/** How Argo CD keeps an Application in sync. */
export interface ApplicationSyncPolicy {
  /**
   * Sync every change of the repository without waiting for someone to press Sync.
   * @default true
   */
  readonly automated?: boolean;
  /**
   * Delete objects that are no longer in the repository (automated sync only).
   * @default true
   */
  readonly prune?: boolean;
  /**
   * Revert changes made to live objects by hand (automated sync only).
   * @default true
   */
  readonly selfHeal?: boolean;
  /**
   * Further sync options, e.g. `ServerSideApply=true`.
   * @default - only those the library sets: PruneLast=true, and RespectIgnoreDifferences=true when there are ignoreDifferences
   */
  readonly syncOptions?: string[];
}

/** Properties of an {@link ArgoCdApplication}. */
export interface ArgoCdApplicationProps {
  /**
   * The Application's name.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * The namespace Argo CD runs in.
   * @default - the project's namespace, or 'argocd'
   */
  readonly namespaceName?: string;
  /**
   * The project; its repositories and destinations must permit this Application's.
   * @default - Argo CD's `default` project
   */
  readonly project?: ArgoCdProject;
  /** Where the manifests come from. */
  readonly source: ApplicationSource;
  /**
   * Where they are deployed.
   * @default - the cluster Argo CD runs in; objects name their own namespaces
   */
  readonly destination?: ApplicationDestination;
  /**
   * How Argo CD keeps it in sync.
   * @default - automated, with prune and self-heal
   */
  readonly syncPolicy?: ApplicationSyncPolicy;
  /**
   * Fields controllers change, which Argo CD must neither diff nor revert.
   * @default - none
   */
  readonly ignoreDifferences?: IgnoreDifference[];
}

/**
 * An Argo CD `Application`: a folder of a repository (plain manifests, or a cdk8s app rendered by
 * a plugin) kept in sync with a cluster.
 *
 * Written for cdk8s-mesh's output: `PruneLast=true` (objects removed from the repository are
 * deleted after every sync wave is applied, see `SyncWaves`), and `RespectIgnoreDifferences=true`
 * whenever there are `ignoreDifferences`, so a sync does not reset what a controller owns.
 *
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/application-specification/
 */
export class ArgoCdApplication extends Construct {
  /** The Application's name. */
  public readonly name: string;
  /** The namespace it lives in (Argo CD's). */
  public readonly namespaceName: string;
  /** The Application object (escape hatch: `addJsonPatch`). */
  public readonly apiObject: ApiObject;

  public constructor(scope: Construct, id: string, props: ArgoCdApplicationProps) {
    super(scope, id);
    this.name = props.name ?? id;
    this.namespaceName = props.namespaceName ?? props.project?.namespaceName ?? 'argocd';
    requireDnsSubdomain(this, 'Application name', this.name);
    requireDnsLabel(this, 'Argo CD namespace', this.namespaceName);
    checkSource(this, props.source);
    const destination = checkDestination(this, props.destination ?? {});
    const sync = props.syncPolicy ?? {};
    const automated = sync.automated ?? true;
    if (!automated && (sync.prune || sync.selfHeal)) {
      throw meshError(this, 'CM907', 'prune or selfHeal is set but automated sync is off, and Argo CD applies them only to automated syncs',
        'set automated: true, or drop prune and selfHeal (a manual sync can still prune when asked to)');
    }
    if (props.project) {
      const project = props.project;
      this.node.addValidation({ validate: () => permissionProblems(project, props.source, destination) });
      if (props.source._isDirectory) this.node.addValidation({ validate: () => refusedInOwnFolder(this, project, props.source, destination) });
    }
    const differences = props.ignoreDifferences ?? [];
    this.apiObject = new ApiObject(this, 'Resource', {
      apiVersion: ARGO_API_VERSION,
      kind: 'Application',
      metadata: { name: this.name, namespace: this.namespaceName },
      spec: Lazy.any({
        produce: () => {
          const ignoreDifferences = IgnoreDifference.render(differences);
          const syncOptions = [...new Set(['PruneLast=true', ...ignoreDifferences.length ? ['RespectIgnoreDifferences=true'] : [], ...sync.syncOptions ?? []])];
          return {
            project: props.project?.name ?? 'default',
            source: props.source._render(),
            destination: renderDestination(destination),
            syncPolicy: {
              automated: automated ? { prune: sync.prune ?? true, selfHeal: sync.selfHeal ?? true } : undefined,
              syncOptions,
            },
            ignoreDifferences: ignoreDifferences.length ? ignoreDifferences : undefined,
          };
        },
      }),
    });
  }
}

/**
 * CM910: the app is being synthesized into the very folder `source` names (`cdk8s synth --output
 * manifests/shop` of a program that also holds this Application), so Argo CD would deploy
 * everything the app writes, the Argo CD objects included, and refuse the sync over every
 * object the project does not permit (typically the Application and AppProject themselves, in
 * Argo CD's namespace).
 */
function refusedInOwnFolder(scope: Construct, project: ArgoCdProject, source: ApplicationSource, destination: ApplicationDestination): string[] {
  const root = scope.node.root;
  if (!(root instanceof App)) return [];
  const folder = source.path.split('/').filter((s) => s !== '' && s !== '.');
  const outdir = path.resolve(root.outdir).split(path.sep);
  if (folder.length === 0 || outdir.slice(-folder.length).join('/') !== folder.join('/')) return [];
  const refused = root.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject).filter((o) => {
    if (CLUSTER_SCOPED.has(o.kind)) {
      const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
      return !project.clusterResources.some((r) => globMatch(r.group, group) && globMatch(r.kind, o.kind));
    }
    const namespace = o.metadata.namespace ?? destination.namespaceName;
    return namespace !== undefined && !projectPermits(project, destination, namespace);
  }).map((o) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.name}`);
  if (refused.length === 0) return [];
  const shown = refused.length > 4 ? [...refused.slice(0, 4), `${refused.length - 4} more`] : refused;
  return [formatMessage('CM910', `the app is synthesized into ${root.outdir}, the folder "${source.path}" this Application deploys, so Argo CD would deploy everything the app writes there, and AppProject "${project.name}" does not permit ${shown.join(', ')}: Argo CD would refuse the sync`,
    'synthesize the Argo CD objects in a program of their own and apply them once (docs/gitops.md, "Way 1"), so the folder holds only what the Application delivers; or permit those objects in the project')];
}

function checkSource(scope: Construct, source: ApplicationSource): void {
  if (!source.repoUrl.trim()) {
    throw meshError(scope, 'CM905', 'the source has an empty repoUrl', "give the repository's URL as Argo CD knows it, e.g. 'https://github.com/example/shop.git'");
  }
  if (source.path.startsWith('/') || source.path.split('/').includes('..')) {
    throw meshError(scope, 'CM905', `the source path "${source.path}" leaves the repository`,
      "give the folder relative to the repository's root, without '..', e.g. 'manifests/shop'");
  }
}

function checkDestination(scope: Construct, destination: ApplicationDestination): ApplicationDestination {
  if (destination.server !== undefined && destination.clusterName !== undefined) {
    throw meshError(scope, 'CM906', `the destination names the cluster twice (server "${destination.server}" and clusterName "${destination.clusterName}")`,
      'give either server or clusterName');
  }
  return destination.clusterName === undefined ? { ...destination, server: destination.server ?? IN_CLUSTER } : { ...destination };
}

function renderDestination(d: ApplicationDestination): any {
  return { server: d.server, name: d.clusterName, namespace: d.namespaceName };
}

/** Why Argo CD would refuse to sync `source` → `destination` in `project` (empty: it would not). */
function permissionProblems(project: ArgoCdProject, source: ApplicationSource, destination: ApplicationDestination): string[] {
  const problems: string[] = [];
  if (!globsPermit(project.sourceRepos, source.repoUrl)) {
    problems.push(formatMessage('CM908', `the repository "${source.repoUrl}" is not among the source repositories of AppProject "${project.name}" (${project.sourceRepos.join(', ')})`,
      'add it (or a glob that matches it) to the project\'s sourceRepos, or use a project that permits it'));
  }
  const permitted = destination.namespaceName === undefined
    ? project.destinations.some((d) => sameCluster(d, destination))
    : projectPermits(project, destination, destination.namespaceName);
  if (!permitted) {
    const where = destination.clusterName ?? destination.server;
    problems.push(formatMessage('CM908', `the destination ${where}${destination.namespaceName ? ` namespace "${destination.namespaceName}"` : ''} is not among the destinations of AppProject "${project.name}"`,
      "add it to the project's destinations, or deploy where the project permits"));
  }
  return problems;
}

/** True when one of the project's destinations names the cluster of `destination`. */
function sameCluster(permitted: ApplicationDestination, destination: ApplicationDestination): boolean {
  if (permitted.server !== undefined && destination.server !== undefined) return globMatch(permitted.server, destination.server);
  if (permitted.clusterName !== undefined && destination.clusterName !== undefined) return globMatch(permitted.clusterName, destination.clusterName);
  return true; // one names the cluster by server, the other by name: only Argo CD can resolve that
}

/** True when the project lets its Applications deploy to `namespace` of the destination's cluster. */
function projectPermits(project: ArgoCdProject, destination: ApplicationDestination, namespace: string): boolean {
  return project.destinations.some((d) => sameCluster(d, destination) && globsPermit([d.namespaceName ?? '*'], namespace));
}

/** Argo CD's allow-list semantics: some pattern matches, and no `!pattern` does. */
function globsPermit(patterns: string[], value: string): boolean {
  const denied = patterns.some((p) => p.startsWith('!') && globMatch(p.slice(1), value));
  return !denied && patterns.some((p) => !p.startsWith('!') && globMatch(p, value));
}

function globMatch(pattern: string, value: string): boolean {
  const re = pattern.split('').map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${re}$`).test(value);
}
