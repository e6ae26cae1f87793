// Argo CD delivery of the bookinfo mesh (examples/bookinfo), both ways people use Argo CD with cdk8s:
//
// 1. Render in CI and commit: CI runs `cdk8s synth --output manifests/bookinfo` and commits the
//    folder; the Application `bookinfo` watches it. Argo CD only ever sees plain YAML.
// 2. Render in Argo CD: the Application `bookinfo-cdk8s` points at the cdk8s app itself, and the
//    repo server runs `cdk8s synth` in a Config Management Plugin sidecar.
//
// See docs/gitops.md. (Inside this repository the library is imported from its sources; in your
// own app write `from 'cdk8s-mesh'`.)
import { App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { BookinfoChart } from '../bookinfo/bookinfo';
import { ApplicationSource, ArgoCdApplication, ArgoCdProject, Cdk8sPlugin, IgnoreDifference } from '../../src';

/** The repository holding the cdk8s app (examples/bookinfo) and, for way 1, the rendered manifests. */
export const REPO_URL = 'https://github.com/example/bookinfo-gitops.git';
/** Where the CI workflow writes bookinfo's YAML (docs/gitops.md), relative to the repository's root. */
export const MANIFESTS_PATH = 'manifests/bookinfo';
/** The cdk8s app Argo CD renders itself in way 2. */
export const APP_PATH = 'examples/bookinfo';
/** The namespace bookinfo's mesh lives in. */
export const NAMESPACE = 'bookinfo';

/** Both ways, as three charts: the project, way 1 and way 2. */
export class ArgoCdExample {
  public readonly project: ArgoCdProject;
  /** Way 1: plain YAML rendered by CI. */
  public readonly renderedInCi: ArgoCdApplication;
  /** Way 2: the cdk8s app, rendered by Argo CD's repo server. */
  public readonly renderedInArgoCd: ArgoCdApplication;
  public readonly plugin: Cdk8sPlugin;

  public constructor(scope: Construct) {
    // The mesh both Applications deliver (examples/bookinfo/main.ts), reviews v3 with Argo Rollouts. It is read here,
    // never synthesized: the Applications ignore the replica counts its autoscalers own (the ingress gateway's) and what
    // the Rollouts controller changes (reviews' route weights and subset labels).
    const bookinfo = new BookinfoChart(new App(), 'bookinfo', { namespaceName: NAMESPACE, progressiveDelivery: true });
    const ignoreDifferences = [IgnoreDifference.autoscaledReplicas(bookinfo), IgnoreDifference.rolloutTrafficRouting(bookinfo.reviews)];

    this.project = new ArgoCdProject(new Chart(scope, 'mesh-project'), 'mesh', {
      description: 'Service meshes written with cdk8s-mesh',
      sourceRepos: [REPO_URL],
      destinations: [{ namespaceName: NAMESPACE }],
      // The mesh writes its Namespace, a cluster-scoped object (the default).
    });

    this.renderedInCi = new ArgoCdApplication(new Chart(scope, 'render-in-ci'), 'bookinfo', {
      project: this.project,
      source: ApplicationSource.directory({ repoUrl: REPO_URL, path: MANIFESTS_PATH, targetRevision: 'main' }),
      destination: { namespaceName: NAMESPACE },
      ignoreDifferences,
    });

    const inArgoCd = new Chart(scope, 'render-in-argocd');
    this.plugin = new Cdk8sPlugin(inArgoCd, 'cdk8s-plugin', { image: 'registry.example.com/cdk8s-cmp:2' });
    this.renderedInArgoCd = new ArgoCdApplication(inArgoCd, 'bookinfo-cdk8s', {
      project: this.project,
      source: ApplicationSource.plugin({ repoUrl: REPO_URL, path: APP_PATH, targetRevision: 'main', pluginName: this.plugin.pluginName }),
      destination: { namespaceName: NAMESPACE },
      ignoreDifferences,
    });
  }
}
