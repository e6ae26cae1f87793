import { Check } from './check';
import { isControlPlane } from './service';

const PROXY_UID = 1337;
const PROXY_CONTAINERS = new Set(['istio-proxy', 'istio-operator']);

/** IST0144: application pods must not run as UID 1337, which the sidecar uses to exempt its own traffic. */
export const applicationUid: Check = {
  analyzer: 'applicationUID.Analyzer',
  run(ctx) {
    for (const w of ctx.index.workloads) {
      if (isControlPlane(w.res)) continue;
      const paths: string[] = [];
      if (w.podSpec.securityContext?.runAsUser === PROXY_UID) paths.push(`${w.podSpecPath}.securityContext.runAsUser`);
      (w.podSpec.containers ?? []).forEach((c: any, i: number) => {
        if (!PROXY_CONTAINERS.has(c?.name) && c?.securityContext?.runAsUser === PROXY_UID) {
          paths.push(`${w.podSpecPath}.containers[${i}].securityContext.runAsUser`);
        }
      });
      if (paths.length === 0) continue;
      ctx.report('IST0144', w.res, paths[0],
        `The pod runs as user ID 1337 (${paths.join(', ')}), which is reserved for the sidecar proxy: its traffic bypasses the proxy.`,
        'Run the application as another user ID.');
    }
  },
};
