// GitOps delivery: Argo CD sync waves, ignoreDifferences, Applications, projects and the cdk8s plugin.
export * from './sync-waves';
export * from './ignore-differences';
export * from './argocd';
export * from './cdk8s-plugin';
