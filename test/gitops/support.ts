/**
 * A strategic merge patch of a Deployment (e.g. `Cdk8sPlugin.repoServerPatch()`) as a whole
 * Deployment, for the schema check: the selector and labels a patch leaves out are filled in, and
 * the volumes the patched Deployment already has (Argo CD's `var-files` and `plugins`) are added.
 */
export function patchAsDeployment(patch: any, existingVolumes: string[] = ['var-files', 'plugins']): any {
  const labels = { 'app.kubernetes.io/name': patch.metadata.name };
  const podSpec = patch.spec.template.spec;
  return {
    ...patch,
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { ...podSpec, volumes: [...podSpec.volumes ?? [], ...existingVolumes.map((name) => ({ name, emptyDir: {} }))] },
      },
    },
  };
}
