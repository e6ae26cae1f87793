import { blockedCidrs } from './checks/authn';
import { Check } from './checks/check';
import { deprecatedFields } from './checks/deprecation';
import { caCertificates, subsetsSelectPods } from './checks/destination-rule';
import { envoyFilterPatches } from './checks/envoy-filter';
import { conflictingGateways, duplicateCertificates } from './checks/gateway';
import { namespaceInjection } from './checks/namespace';
import { retriesAndFaults } from './checks/resilience';
import { ambientL7Policies, tlsConflicts, uncallableServices, unenforcedJwt, unknownPrincipals } from './checks/security';
import { portNames, servicesPerWorkload } from './checks/service';
import { serviceEntryAddresses } from './checks/service-entry';
import { sidecarDefaultSelector, sidecarEgress } from './checks/sidecar';
import { lightstepProvider, telemetryDefaultSelector, telemetryProviders } from './checks/telemetry';
import { conflictingMeshHosts, destinationHosts, destinationSubsets, gatewayReferences, unreachableRules } from './checks/virtual-service';
import { applicationUid } from './checks/workload';
import { Finding, formatFindings, Reporter, Severity, sortFindings } from './findings';
import { loadManifestFiles, parseManifestText } from './manifests';
import { MeshIndex, ResolvedOptions } from './model';

/** Every analyzer, Istio's (named as istioctl names them) and ours (`cdk8s-mesh.*`). */
export const ALL_CHECKS: Check[] = [
  destinationHosts, destinationSubsets, conflictingMeshHosts, gatewayReferences, unreachableRules, deprecatedFields,
  caCertificates, subsetsSelectPods, conflictingGateways, duplicateCertificates, portNames, servicesPerWorkload,
  applicationUid, serviceEntryAddresses, envoyFilterPatches, telemetryProviders, telemetryDefaultSelector,
  lightstepProvider, sidecarDefaultSelector, namespaceInjection, blockedCidrs,
  unenforcedJwt, tlsConflicts, retriesAndFaults, unknownPrincipals, uncallableServices, ambientL7Policies, sidecarEgress,
];

/** Options of the analysis, the policy simulator and the topology graph. */
export interface AnalysisOptions {
  /**
   * Namespace of objects that name none (what `kubectl apply -n` would give them).
   * `''` leaves them namespace-less, as Istio's analyzer test harness does.
   * @default 'default'
   */
  readonly defaultNamespace?: string;
  /**
   * Istio's root namespace: policies there without a selector apply mesh-wide.
   * @default 'istio-system'
   */
  readonly rootNamespace?: string;
  /**
   * Trust domain of the workloads' identities (`<trustDomain>/ns/<ns>/sa/<sa>`).
   * @default 'cluster.local'
   */
  readonly trustDomain?: string;
  /**
   * The mesh config (a MeshConfig document: `defaultProviders`, `extensionProviders`, `defaultConfig`...),
   * for the checks that depend on it.
   * @default - Istio's defaults
   */
  readonly meshConfig?: any;
}

export function resolveOptions(options: AnalysisOptions = {}): ResolvedOptions {
  return {
    defaultNamespace: options.defaultNamespace ?? 'default',
    rootNamespace: options.rootNamespace ?? 'istio-system',
    trustDomain: options.trustDomain ?? 'cluster.local',
    meshConfig: options.meshConfig ?? {},
  };
}

/** Runs the checks of the named analyzers (all by default) over the manifests. */
export function runChecks(manifests: any[], options?: AnalysisOptions, analyzers?: string[]): Finding[] {
  const index = new MeshIndex(manifests, resolveOptions(options));
  const reporter = new Reporter();
  const ctx = { index, report: reporter.report.bind(reporter) };
  for (const check of ALL_CHECKS) {
    if (!analyzers || analyzers.includes(check.analyzer)) check.run(ctx);
  }
  return sortFindings(reporter.findings);
}

/**
 * Finds broken Istio configuration in Kubernetes manifests before they reach a cluster: the checks of
 * `istioctl analyze` that plain manifests can decide (IST codes), and cdk8s-mesh's own (CMA codes).
 */
export class MeshAnalysis {
  /**
   * Analyzes plain Kubernetes and Istio objects (synthesized by cdk8s, or parsed YAML; `kind: List` is flattened).
   * @returns the findings, in a deterministic order
   */
  public static analyze(manifests: any[], options?: AnalysisOptions): Finding[] {
    return runChecks(manifests, options);
  }

  /** Reads YAML/JSON files and folders (recursively, `*.yaml`, `*.yml`, `*.json`) into plain objects. */
  public static loadFiles(paths: string[]): any[] {
    return loadManifestFiles(paths);
  }

  /** Parses a multi-document YAML (or JSON) text into plain objects. */
  public static parseYaml(text: string): any[] {
    return parseManifestText(text);
  }

  /** A human-readable report of findings, grouped by object, with each finding's fix. */
  public static format(findings: Finding[]): string {
    return formatFindings(findings);
  }

  /** True when any finding has severity Error. */
  public static hasErrors(findings: Finding[]): boolean {
    return findings.some((f) => f.severity === Severity.ERROR);
  }

  private constructor() {}
}
