/** The part of a lezer tree the tests walk. */
interface SyntaxTree {
  iterate(spec: { enter: (node: { type: { isError: boolean }; from: number; to: number }) => void }): void;
}

// lezer-promql is an ES module with a CommonJS build; jest and ts-jest load the CommonJS one.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { parser } = require('@prometheus-io/lezer-promql') as { parser: { parse(input: string): SyntaxTree } };

/**
 * Grafana replaces its interval macros before a query reaches Prometheus; the tests do the
 * same so the PromQL parser sees what Prometheus would.
 */
export function interpolateGrafana(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m');
}

/** The syntax errors lezer-promql finds in `expr` (the text around each error node). */
export function promqlErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(`error at ${node.from}: …${expr.slice(Math.max(0, node.from - 20), node.to + 20)}…`);
    },
  });
  return errors;
}

/** Every panel of a Grafana dashboard, rows' panels included. */
export function dashboardPanels(dashboard: any): any[] {
  return dashboard.panels.flatMap((p: any) => (p.type === 'row' ? [p, ...(p.panels ?? [])] : [p]));
}

/** Every PromQL query of a dashboard, as Prometheus receives it after Grafana's interpolation. */
export function dashboardQueries(dashboard: any): string[] {
  return dashboardPanels(dashboard).flatMap((p) => (p.targets ?? []).map((t: any) => interpolateGrafana(t.expr)));
}

/** Fails the test unless every expression parses as PromQL. */
export function expectValidPromQL(expressions: string[]): void {
  expect(expressions.length).toBeGreaterThan(0);
  for (const expr of expressions) {
    expect({ expr, errors: promqlErrors(expr) }).toEqual({ expr, errors: [] });
  }
}
