import { admission } from './checks/admission';
import { blockedCidrs } from './checks/authn';
import { Check } from './checks/check';
import { deprecatedFields } from './checks/deprecation';
import { caCertificates, subsetsSelectPods } from './checks/destination-rule';
import { envoyFilterPatches } from './checks/envoy-filter';
import { conflictingGateways, duplicateCertificates } from './checks/gateway';
import { GATEWAY_API_CHECKS } from './checks/gateway-api';
import { namespaceInjection } from './checks/namespace';
import { REFERENCE_CHECKS } from './checks/references';
import { retriesAndFaults } from './checks/resilience';
import { rolloutTrafficRouting } from './checks/rollout';
import { ambientL7Policies, tlsConflicts, uncallableServices, unenforcedJwt, unknownPrincipals } from './checks/security';
import { portNames, servicesPerWorkload } from './checks/service';
import { serviceEntryAddresses } from './checks/service-entry';
import { sidecarDefaultSelector, sidecarEgress } from './checks/sidecar';
import { lightstepProvider, telemetryDefaultSelector, telemetryProviders } from './checks/telemetry';
import { conflictingMeshHosts, destinationHosts, destinationSubsets, gatewayReferences, shadowedRoutes, unreachableRules } from './checks/virtual-service';
import { applicationUid } from './checks/workload';
import { Finding } from './finding';
import { FileProblem, Res, readManifestFiles } from './manifests';
import { MeshIndex, ResolvedOptions } from './model';
import { AnalysisOptions } from './options';
import { Reporter, sortFindings } from './report';

/** Every analyzer, Istio's (named as istioctl names them) and ours (`cdk8s-mesh.*`). */
export const ALL_CHECKS: Check[] = [
  admission, destinationHosts, destinationSubsets, conflictingMeshHosts, gatewayReferences, unreachableRules, shadowedRoutes, deprecatedFields,
  caCertificates, subsetsSelectPods, conflictingGateways, duplicateCertificates, portNames, servicesPerWorkload,
  applicationUid, serviceEntryAddresses, envoyFilterPatches, telemetryProviders, telemetryDefaultSelector,
  lightstepProvider, sidecarDefaultSelector, namespaceInjection, blockedCidrs,
  unenforcedJwt, tlsConflicts, retriesAndFaults, unknownPrincipals, uncallableServices, ambientL7Policies, sidecarEgress,
  ...REFERENCE_CHECKS,
  ...GATEWAY_API_CHECKS,
  rolloutTrafficRouting,
];

export function resolveOptions(options: AnalysisOptions = {}): ResolvedOptions {
  return {
    defaultNamespace: options.defaultNamespace ?? 'default',
    rootNamespace: options.rootNamespace ?? 'istio-system',
    trustDomain: options.trustDomain ?? 'cluster.local',
    meshConfig: options.meshConfig ?? {},
    analyzeRefusedObjects: options.analyzeRefusedObjects ?? false,
  };
}

/** Runs the checks of the named analyzers (all by default) over the manifests. */
export function runChecks(manifests: any[], options?: AnalysisOptions, analyzers?: string[]): Finding[] {
  return runChecksOn(new MeshIndex(manifests, resolveOptions(options)), analyzers);
}

/** Runs the checks over an index built already (shared with the request simulator at synth). */
export function runChecksOn(index: MeshIndex, analyzers?: string[]): Finding[] {
  const reporter = new Reporter();
  const ctx = { index, report: reporter.report.bind(reporter) };
  for (const check of ALL_CHECKS) {
    if (analyzers && !analyzers.includes(check.analyzer)) continue;
    try {
      check.run(ctx);
    } catch (e) {
      // Never let one analyzer's bug stop the analysis of everything else: report it as what it is.
      reporter.report('IST0001', { kind: 'Analyzer', group: '', name: check.analyzer, ns: '', labels: {}, annotations: {}, spec: {}, raw: {} }, '',
        `Internal error in analyzer ${check.analyzer}: ${(e as Error).message}. Its other findings are missing.`,
        'Report this as a cdk8s-mesh bug, with the manifests.');
    }
  }
  return sortFindings(reporter.findings);
}


/**
 * Reads files and folders and analyzes what they hold, never throwing on their content: a YAML
 * syntax error (CMA112) or a file that is no manifest (a template, CMA111) is a finding with its
 * file and line, and the rest is analyzed.
 */
export function analyzeFiles(paths: string[], options?: AnalysisOptions): Finding[] {
  const { objects, problems } = readManifestFiles(paths);
  const reporter = new Reporter();
  for (const p of problems) reporter.report(p.code, fileRes(p), '', p.message, p.fix);
  return sortFindings([...reporter.findings, ...runChecks(objects, options)]);
}

/** A file, as the object a file finding is about. */
function fileRes(p: FileProblem): Res {
  return { kind: 'File', group: '', name: p.file, ns: '', labels: {}, annotations: {}, spec: {}, raw: {}, source: `${p.file}:${p.line}` };
}
