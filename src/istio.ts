// Typed bindings for every Istio kind (one version per kind: v1 where Istio serves it),
// generated from Istio's CRDs by `npx projen import:istio`. Exported as the `istio`
// submodule so users can write any Istio resource with types:
//   import { istio } from 'cdk8s-mesh';
//   new istio.WasmPlugin(chart, 'plugin', { spec: { ... } });
export * from './imports/networking.istio.io';
export * from './imports/security.istio.io';
export * from './imports/telemetry.istio.io';
export * from './imports/extensions.istio.io';
