import { Finding, Severity } from './finding';
import { loadManifestFiles, parseManifestText } from './manifests';
import { AnalysisOptions } from './options';
import { formatFindings } from './report';
import { analyzeFiles, runChecks } from './run';

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

  /**
   * Reads YAML/JSON files and folders (recursively) and analyzes them, never failing on their
   * content: a YAML syntax error (CMA112) or a file that is no manifest, such as a Helm template
   * (CMA111), is a finding naming the file and line, and the rest is analyzed.
   * @returns the findings, in a deterministic order
   */
  public static analyzeFiles(paths: string[], options?: AnalysisOptions): Finding[] {
    return analyzeFiles(paths, options);
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
