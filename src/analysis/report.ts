import { Finding, Severity } from './finding';
import { Res } from './manifests';
import { compareText } from '../internal/order';

/** Default severity of every code the analysis emits (Istio's level for IST codes). */
export const CODE_SEVERITY: Record<string, Severity> = {
  IST0001: Severity.ERROR,
  IST0002: Severity.WARNING,
  IST0101: Severity.ERROR,
  IST0102: Severity.INFO,
  IST0106: Severity.ERROR,
  IST0109: Severity.ERROR,
  IST0110: Severity.ERROR,
  IST0111: Severity.ERROR,
  IST0112: Severity.ERROR,
  IST0116: Severity.WARNING,
  IST0118: Severity.INFO,
  IST0123: Severity.WARNING,
  IST0128: Severity.WARNING,
  IST0129: Severity.WARNING,
  IST0130: Severity.WARNING,
  IST0131: Severity.INFO,
  IST0132: Severity.WARNING,
  IST0133: Severity.WARNING,
  IST0134: Severity.WARNING,
  IST0137: Severity.WARNING,
  IST0138: Severity.WARNING,
  IST0140: Severity.WARNING,
  IST0144: Severity.WARNING,
  IST0145: Severity.ERROR,
  IST0150: Severity.WARNING,
  IST0151: Severity.WARNING,
  IST0152: Severity.ERROR,
  IST0153: Severity.ERROR,
  IST0154: Severity.ERROR,
  IST0155: Severity.WARNING,
  IST0157: Severity.WARNING,
  IST0160: Severity.ERROR,
  IST0165: Severity.WARNING,
  IST0173: Severity.ERROR,
  IST0174: Severity.WARNING,
  IST0175: Severity.WARNING,
  CMA101: Severity.WARNING,
  CMA102: Severity.ERROR,
  CMA103: Severity.WARNING,
  CMA104: Severity.WARNING,
  CMA105: Severity.WARNING,
  CMA106: Severity.WARNING,
  CMA107: Severity.ERROR,
  CMA108: Severity.ERROR,
  CMA110: Severity.ERROR,
  CMA111: Severity.WARNING,
  CMA112: Severity.ERROR,
  CMA113: Severity.INFO,
  CMA114: Severity.WARNING,
  CMA115: Severity.WARNING,
  CMA116: Severity.WARNING,
  CMA117: Severity.WARNING,
  CMA118: Severity.WARNING,
  CMA119: Severity.WARNING,
  CMA120: Severity.WARNING,
  CMA122: Severity.ERROR,
  CMA123: Severity.ERROR,
  CMA124: Severity.ERROR,
  CMA125: Severity.WARNING,
  CMA126: Severity.WARNING,
  CMA127: Severity.WARNING,
  CMA128: Severity.WARNING,
  CMA129: Severity.WARNING,
  CMA130: Severity.ERROR,
  CMA131: Severity.ERROR,
  CMA132: Severity.WARNING,
  CMA140: Severity.ERROR,
  CMA141: Severity.ERROR,
  CMA142: Severity.ERROR,
  CMA150: Severity.WARNING,
};

/** Collects findings; `severity` overrides the code's default where a check grades one code by impact. */
export class Reporter {
  readonly findings: Finding[] = [];

  report(code: string, res: Res, path: string, message: string, fix: string, severity?: Severity): void {
    const severityOf = severity ?? CODE_SEVERITY[code];
    if (!severityOf) throw new Error(`unknown finding code ${code}`);
    this.findings.push({
      code,
      severity: severityOf,
      kind: res.kind,
      namespaceName: res.ns || undefined,
      name: res.name,
      path,
      message,
      fix,
      source: res.source,
    });
  }
}

const SUMMARY: Array<[Severity, string, string]> = [
  [Severity.ERROR, 'error', 'errors'], [Severity.WARNING, 'warning', 'warnings'], [Severity.INFO, 'info', 'info'],
];

/** Deterministic order: by object (kind, namespace, name), then path, code and message. */
export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort((a, b) =>
    compareText(a.kind, b.kind)
    || compareText(a.namespaceName ?? '', b.namespaceName ?? '')
    || compareText(a.name, b.name)
    || compareText(a.path, b.path)
    || compareText(a.code, b.code)
    || compareText(a.message, b.message));
}

/** Human-readable report, grouped by object. */
export function formatFindings(findings: Finding[]): string {
  if (findings.length === 0) return 'No problems found.\n';
  const lines: string[] = [];
  let current = '';
  for (const f of sortFindings(findings)) {
    const object = `${f.kind} ${f.namespaceName ? `${f.namespaceName}/` : ''}${f.name}`;
    if (object !== current) {
      if (current) lines.push('');
      lines.push(f.source ? `${object} (${f.source})` : object);
      current = object;
    }
    lines.push(`  ${f.severity.padEnd(7)} ${f.code}  ${f.path}`);
    lines.push(`          ${f.message}`);
    lines.push(`          fix: ${f.fix}`);
  }
  lines.push('');
  lines.push(SUMMARY.map(([severity, one, many]) => {
    const n = findings.filter((f) => f.severity === severity).length;
    return `${n} ${n === 1 ? one : many}`;
  }).join(', '));
  return lines.join('\n') + '\n';
}
