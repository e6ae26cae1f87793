import { ApiObject, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import * as YAML from 'yaml';
import { meshError } from '../errors';
import { requireDnsLabel } from '../internal/names';

/** Properties of a {@link Cdk8sPlugin}. */
export interface Cdk8sPluginProps {
  /**
   * The sidecar image: Node.js, npm and the cdk8s CLI (`npm install --global cdk8s-cli`), able
   * to run as user 999. Argo CD's `argocd-cmp-server` is not needed in it: the repo server
   * shares it through the `var-files` volume.
   */
  readonly image: string;
  /**
   * The plugin's name, which Applications give as `spec.source.plugin.name`.
   * @default 'cdk8s'
   */
  readonly name?: string;
  /**
   * The namespace Argo CD runs in.
   * @default 'argocd'
   */
  readonly namespaceName?: string;
  /**
   * Shell script run in the Application's folder before `generate`: installs the app's
   * dependencies. The repository arrives without `node_modules`.
   * @default - `npm ci --ignore-scripts` in the nearest folder upwards holding a package-lock.json (a monorepo's root)
   */
  readonly initScript?: string;
  /**
   * Shell script that prints the manifests to standard output (logs go to standard error).
   * @default - `cdk8s synth` into a temporary folder, then every YAML file it wrote, each document separated by `---`
   */
  readonly generateScript?: string;
  /**
   * The file whose presence in an Application's folder selects this plugin (a glob).
   * @default './cdk8s.yaml'
   */
  readonly discoverFileName?: string;
  /**
   * How long each command may run (`ARGOCD_EXEC_TIMEOUT` of the sidecar). Raise Argo CD's
   * `server.repo.server.timeout.seconds` and `controller.repo.server.timeout.seconds` with it.
   * @default - Argo CD's default, 90 seconds
   */
  readonly execTimeout?: Duration;
}

/**
 * The default init script. Argo CD runs it in the Application's folder; a cdk8s app in a
 * monorepo keeps its lock file at the repository's root. `--ignore-scripts`: no install script
 * of a dependency runs inside the repo server.
 */
const INIT_SCRIPT = `dir="$PWD"
while [ ! -f "$dir/package-lock.json" ] && [ "$dir" != / ]; do dir="$(dirname "$dir")"; done
if [ -f "$dir/package-lock.json" ]; then
  cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund >&2
fi
`;

/**
 * The default generate script. Not `cdk8s synth --stdout`: that prints the files of an app with
 * several charts back to back without a `---` between them, merging the last object of one file
 * with the first of the next.
 */
const GENERATE_SCRIPT = `set -eu
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cdk8s synth --no-check-upgrade --output "$out" >&2
find "$out" -name '*.yaml' | sort | while read -r file; do
  echo ---
  cat "$file"
done
`;

/** Where Argo CD's CMP server reads the plugin configuration. */
const CONFIG_PATH = '/home/argocd/cmp-server/config/plugin.yaml';

/**
 * An Argo CD Config Management Plugin that renders cdk8s apps in Argo CD itself: the Application
 * points at the folder holding `cdk8s.yaml`, and the repo server runs `cdk8s synth` in a sidecar.
 *
 * This construct writes the plugin configuration (a ConfigMap holding the `ConfigManagementPlugin`
 * file, which is not a custom resource); {@link Cdk8sPlugin.repoServerPatch} gives the patch that
 * adds the sidecar to Argo CD's `argocd-repo-server` Deployment, as Argo CD's documentation
 * describes. Plugins run the repository's code in the repo server: use them for repositories you
 * trust, or render in CI instead.
 *
 * @see https://argo-cd.readthedocs.io/en/stable/operator-manual/config-management-plugins/
 */
export class Cdk8sPlugin extends Construct {
  /** The name Applications use (`ApplicationSource.plugin({ pluginName })`). */
  public readonly pluginName: string;
  /** The namespace Argo CD runs in. */
  public readonly namespaceName: string;
  /** The sidecar image. */
  public readonly image: string;
  /** The ConfigMap holding `plugin.yaml`. */
  public readonly configMap: ApiObject;
  /** The `ConfigManagementPlugin` file, as mounted in the sidecar. */
  public readonly pluginConfig: string;

  private readonly execTimeout?: Duration;

  public constructor(scope: Construct, id: string, props: Cdk8sPluginProps) {
    super(scope, id);
    this.pluginName = props.name ?? 'cdk8s';
    this.namespaceName = props.namespaceName ?? 'argocd';
    requireDnsLabel(this, 'plugin name', this.pluginName);
    requireDnsLabel(this, 'Argo CD namespace', this.namespaceName);
    if (!props.image.trim()) {
      throw meshError(this, 'CM909', 'the sidecar image is empty', "give an image with Node.js, npm and the cdk8s CLI, e.g. one built FROM node:20 with 'npm install --global cdk8s-cli'");
    }
    this.image = props.image;
    if (props.execTimeout && props.execTimeout.toMilliseconds() < 1000) {
      throw meshError(this, 'CM909', `execTimeout is ${props.execTimeout.toMilliseconds()}ms`, 'give at least Duration.seconds(1); synthesis with npm ci usually needs minutes');
    }
    this.execTimeout = props.execTimeout;

    this.pluginConfig = YAML.stringify({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'ConfigManagementPlugin',
      metadata: { name: this.pluginName },
      spec: {
        init: { command: ['sh', '-c'], args: [props.initScript ?? INIT_SCRIPT] },
        generate: { command: ['sh', '-c'], args: [props.generateScript ?? GENERATE_SCRIPT] },
        discover: { fileName: props.discoverFileName ?? './cdk8s.yaml' },
      },
    }, { lineWidth: 0 });
    this.configMap = new ApiObject(this, 'Resource', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: this.configMapName, namespace: this.namespaceName },
      data: { 'plugin.yaml': this.pluginConfig },
    });
  }

  /** The ConfigMap's name, also the name of its volume in the repo server. */
  public get configMapName(): string {
    return `cmp-${this.pluginName}`;
  }

  /**
   * A strategic merge patch for Argo CD's `argocd-repo-server` Deployment that adds the plugin's
   * sidecar: `argocd-cmp-server` as its entrypoint, user 999, Argo CD's `var-files` and `plugins`
   * volumes, the plugin configuration, and a `/tmp` of its own. Apply it with
   * `kubectl -n argocd patch deployment argocd-repo-server --patch-file <file>` or as a
   * Kustomize patch.
   */
  public repoServerPatch(): any {
    const tmpVolume = `${this.configMapName}-tmp`;
    const env = [
      // npm needs a writable home and cache; user 999 has neither in most images.
      { name: 'HOME', value: '/tmp' },
      { name: 'npm_config_cache', value: '/tmp/.npm' },
      ...this.execTimeout ? [{ name: 'ARGOCD_EXEC_TIMEOUT', value: goDuration(this.execTimeout) }] : [],
    ];
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'argocd-repo-server', namespace: this.namespaceName },
      spec: {
        template: {
          spec: {
            containers: [{
              name: `cmp-${this.pluginName}`,
              image: this.image,
              command: ['/var/run/argocd/argocd-cmp-server'],
              env,
              securityContext: { runAsNonRoot: true, runAsUser: 999, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              volumeMounts: [
                { name: 'var-files', mountPath: '/var/run/argocd' },
                { name: 'plugins', mountPath: '/home/argocd/cmp-server/plugins' },
                { name: this.configMapName, mountPath: CONFIG_PATH, subPath: 'plugin.yaml' },
                // Not the repo server's /tmp: Argo CD separates them against path traversal.
                { name: tmpVolume, mountPath: '/tmp' },
              ],
            }],
            volumes: [
              { name: this.configMapName, configMap: { name: this.configMapName } },
              { name: tmpVolume, emptyDir: {} },
            ],
          },
        },
      },
    };
  }
}

/** A Go duration string (`300s`, `1500ms`), as Argo CD parses ARGOCD_EXEC_TIMEOUT. */
function goDuration(d: Duration): string {
  const ms = d.toMilliseconds();
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
