import { Chart, Testing } from 'cdk8s';
import { AuthorizationMode, Dataplane, IWorkloadTarget, Mesh, MeshService, MeshServiceProps, WorkloadSelector } from '../../src';
import { Manifest } from '../support/manifests';

/** A chart with a Mesh for `namespaceName` (no namespace-wide authorization unless asked). */
export function meshChart(namespaceName = 'foo', options: { authorization?: AuthorizationMode; dataplane?: Dataplane } = {}) {
  const chart = Testing.chart();
  const mesh = new Mesh(chart, 'mesh', { namespaceName, authorization: options.authorization ?? AuthorizationMode.NONE, dataplane: options.dataplane });
  return { chart, mesh };
}

/** A service as Istio's samples declare it. */
export function service(chart: Chart, mesh: Mesh, name: string, props: Partial<MeshServiceProps> = {}): MeshService {
  return new MeshService(chart, name, { mesh, name, image: `example/${name}:1`, port: 9080, ...props });
}

/** httpbin: Service port 8000, container port 8080, as in samples/httpbin. */
export function httpbin(chart: Chart, mesh: Mesh): MeshService {
  return service(chart, mesh, 'httpbin', { port: 8000, targetPort: 8080 });
}

/** A hand-made workload target (e.g. a gateway's pods), for workloads the app does not declare. */
export function workload(namespaceName: string, matchLabels: { [key: string]: string }): IWorkloadTarget {
  return { toWorkloadSelector: (): WorkloadSelector => ({ namespaceName, matchLabels }) };
}

export const synth = (chart: Chart) => Testing.synth(chart) as Manifest[];

/** The spec of the one object of `kind` named `name`. */
export function specOf(manifests: Manifest[], kind: string, name: string, namespace?: string): any {
  const found = manifests.filter((m) => m.kind === kind && m.metadata.name === name
    && (namespace === undefined || m.metadata.namespace === namespace));
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${found.length}`);
  return found[0].spec;
}

/** Istio's JWT test issuer (security/tools/jwt/samples in istio/istio). */
export const TEST_ISSUER = 'testing@secure.istio.io';
export const TEST_JWKS = 'https://raw.githubusercontent.com/istio/istio/release-1.30/security/tools/jwt/samples/jwks.json';
