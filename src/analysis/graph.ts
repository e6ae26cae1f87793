import { buildTopology, GraphEdge, GraphNode, Topology } from './graph-model';
import { MeshIndex, push } from './model';
import { AnalysisOptions } from './options';
import { resolveOptions } from './run';

/** Options of the topology picture. */
export interface GraphOptions extends AnalysisOptions {
  /**
   * Draw, for each Service whose workloads have AuthorizationPolicies, the Services allowed to call it.
   * @default true
   */
  readonly includeAccess?: boolean;
}

/**
 * The mesh as a picture: Services and their versions (subsets), weighted routes, Gateways, external hosts
 * (ServiceEntries) and allowed calls. The text is deterministic, so it can be committed and diffed.
 */
export class TopologyGraph {
  /** A Mermaid flowchart (renders in GitHub Markdown). */
  public static mermaid(manifests: any[], options?: GraphOptions): string {
    const t = topology(manifests, options);
    const shape = (n: GraphNode) => {
      const label = JSON.stringify(n.label);
      switch (n.kind) {
        case 'gateway': return `${n.id}{{${label}}}`;
        case 'external': return `${n.id}[/${label}/]`;
        case 'version': return `${n.id}([${label}])`;
        default: return `${n.id}[${label}]`;
      }
    };
    const arrow = (e: GraphEdge) => {
      const label = e.label ? `|${JSON.stringify(e.label)}|` : '';
      switch (e.kind) {
        case 'version': return `${e.from} --- ${e.to}`;
        case 'access': return `${e.from} -.->${label} ${e.to}`;
        case 'mirror':
        case 'egress': return `${e.from} -.->${label} ${e.to}`;
        default: return `${e.from} -->${label} ${e.to}`;
      }
    };
    const lines = ['flowchart LR'];
    for (const [ns, nodes] of byNamespace(t)) {
      if (!ns) {
        lines.push(...nodes.map((n) => `  ${shape(n)}`));
        continue;
      }
      lines.push(`  subgraph ns_${ns.replace(/[^A-Za-z0-9]/g, '_')}[${JSON.stringify(`namespace ${ns}`)}]`, ...nodes.map((n) => `    ${shape(n)}`), '  end');
    }
    lines.push(...t.edges.map((e) => `  ${arrow(e)}`));
    return lines.join('\n') + '\n';
  }

  /** A Graphviz DOT digraph. */
  public static dot(manifests: any[], options?: GraphOptions): string {
    const t = topology(manifests, options);
    const SHAPES: Record<string, string> = { service: 'box', version: 'ellipse', gateway: 'hexagon', external: 'parallelogram' };
    const node = (n: GraphNode) => `"${n.id}" [label=${JSON.stringify(n.label)}, shape=${SHAPES[n.kind]}];`;
    const STYLES: Record<string, string[]> = { route: [], mirror: ['style=dashed'], version: ['arrowhead=none'], access: ['style=dotted', 'color=gray40'], egress: ['style=dashed', 'color=gray40'] };
    const edge = (e: GraphEdge) => {
      const attrs = [...(e.label ? [`label=${JSON.stringify(e.label)}`] : []), ...STYLES[e.kind]];
      return `"${e.from}" -> "${e.to}"${attrs.length ? ` [${attrs.join(', ')}]` : ''};`;
    };
    const lines = ['digraph mesh {', '  rankdir=LR;'];
    for (const [ns, nodes] of byNamespace(t)) {
      if (!ns) {
        lines.push(...nodes.map((n) => `  ${node(n)}`));
        continue;
      }
      lines.push(`  subgraph "cluster_${ns}" {`, `    label=${JSON.stringify(`namespace ${ns}`)};`, ...nodes.map((n) => `    ${node(n)}`), '  }');
    }
    lines.push(...t.edges.map((e) => `  ${edge(e)}`));
    lines.push('}');
    return lines.join('\n') + '\n';
  }

  private constructor() {}
}

function topology(manifests: any[], options: GraphOptions = {}): Topology {
  return buildTopology(new MeshIndex(manifests, resolveOptions(options)), options.includeAccess ?? true);
}

function byNamespace(t: Topology): Map<string, GraphNode[]> {
  const out = new Map<string, GraphNode[]>();
  for (const n of t.nodes) push(out, n.ns, n);
  return out;
}
