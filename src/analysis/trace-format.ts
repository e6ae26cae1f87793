import { RequestTrace, TraceStep } from './simulator/types';

const where = (s: TraceStep) => (s.object ? ` [${s.object.kind} ${s.object.namespaceName ? `${s.object.namespaceName}/` : ''}${s.object.name}${s.field ? ` ${s.field}` : ''}]` : '');

/** A trace as numbered lines: the shared steps, the route in effect, then each weighted destination's steps and outcome. */
export function formatTrace(trace: RequestTrace): string {
  const lines: string[] = [];
  const status = trace.status !== undefined ? ` (${trace.status})` : '';
  lines.push(`${trace.outcome}${status}${trace.allowed ? '' : ' — not delivered'}`);
  let n = 0;
  const stepLine = (s: TraceStep, indent: string) => `${indent}${++n}. ${s.kind.padEnd(14)} ${s.passed ? '' : '✗ '}${s.proxy}: ${s.summary}${where(s)}`;
  for (const s of trace.steps) lines.push(stepLine(s, '  '));
  const r = trace.route;
  if (r) {
    const parts = [
      `timeout ${r.timeout ?? 'none'}`,
      r.retries ? `retries ${r.retries.attempts}${r.retries.retryOn ? ` on ${r.retries.retryOn}` : ''}${r.retries.perTryTimeout ? ` (${r.retries.perTryTimeout} per try)` : ''}${r.retries.isDefault ? " (Istio's default)" : ''}` : undefined,
      r.fault ? `fault: ${r.fault}` : undefined,
      r.mirrors.length ? `mirror to ${r.mirrors.join(', ')}` : undefined,
      r.rewrite ? `rewrite ${r.rewrite}` : undefined,
      r.corsPolicy ? `cors: origins ${r.corsPolicy.allowOrigins.join(', ')}${r.corsPolicy.allowCredentials ? ' with credentials' : ''}` : undefined,
    ].filter((x) => x);
    lines.push(`  route: ${parts.join('; ')}`);
  }
  for (const d of trace.destinations) {
    const dest = d.destination;
    lines.push(`  → ${dest.weightPercent}% ${dest.host}${dest.subset ? ` subset ${dest.subset}` : ''} port ${dest.port}: ${d.outcome}${d.status !== undefined ? ` (${d.status})` : ''}`);
    for (const s of d.steps) lines.push(stepLine(s, '    '));
    lines.push(`    ${d.explanation}`);
  }
  if (trace.steps.length > 0 && trace.destinations.length === 0) lines.push(`  ${trace.explanation.split('; ').slice(-1)[0]}`);
  for (const u of trace.undecided) lines.push(`  undecided: ${u}`);
  return lines.join('\n') + '\n';
}
