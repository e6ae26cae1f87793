import { HeaderMatch, HttpMatch, QueryParamMatch, StringMatchKind } from '../traffic/match';
import type { TrafficSplit } from '../traffic/traffic-split';

/**
 * Orders the routes of one host so that no route is shadowed by an earlier, broader one:
 * Istio uses the first rule that matches, so `/api` before `/api/v1` makes `/api/v1`
 * unreachable (IST0130/IST0131). Routes keep their declaration order unless a later route is
 * strictly more specific than an earlier one; the catch-all route is always last.
 */
export function orderRoutes(routes: TrafficSplit[]): TrafficSplit[] {
  const ordered = routes.filter((r) => !r.isCatchAll);
  let moved = true;
  // At most n² moves: each move puts a strictly more specific route first.
  for (let guard = ordered.length * ordered.length; moved && guard > 0; guard--) {
    moved = false;
    for (let j = 1; j < ordered.length && !moved; j++) {
      for (let i = 0; i < j; i++) {
        if (shadows(ordered[i], ordered[j]) && !shadows(ordered[j], ordered[i])) {
          const [later] = ordered.splice(j, 1);
          ordered.splice(i, 0, later);
          moved = true;
          break;
        }
      }
    }
  }
  return [...ordered, ...routes.filter((r) => r.isCatchAll)];
}

/** True when some request of `later` would be taken by `earlier`. */
function shadows(earlier: TrafficSplit, later: TrafficSplit): boolean {
  const a = earlier._options.matches ?? [];
  const b = later._options.matches ?? [];
  return b.some((mb) => a.some((ma) => covers(ma, mb)));
}

/** True when every request matching `b` also matches `a`. */
export function covers(a: HttpMatch, b: HttpMatch): boolean {
  if (a.path) {
    if (!b.path || (a.ignoreUriCase ?? false) !== (b.ignoreUriCase ?? false)) return false;
    const { kind, value } = a.path;
    if (kind === StringMatchKind.PREFIX) {
      if (b.path.kind === StringMatchKind.REGEX || !b.path.value.startsWith(value)) return false;
    } else if (b.path.kind !== kind || b.path.value !== value) {
      return false;
    }
  }
  if (a.method !== undefined && a.method !== b.method) return false;
  if (!(a.headers ?? []).every((ha) => (b.headers ?? []).some((hb) => headerCovers(ha, hb)))) return false;
  const sameParam = (qa: QueryParamMatch, qb: QueryParamMatch) => qa.name === qb.name && qa.kind === qb.kind && qa.value === qb.value;
  if (!(a.queryParams ?? []).every((qa) => (b.queryParams ?? []).some((qb) => sameParam(qa, qb)))) return false;
  if (a.sourceWorkload) {
    const sa = a.sourceWorkload.toWorkloadSelector();
    const sb = b.sourceWorkload?.toWorkloadSelector();
    if (!sb || sa.namespaceName !== sb.namespaceName
      || !Object.entries(sa.matchLabels).every(([k, v]) => sb.matchLabels[k] === v)) return false;
  }
  return true;
}

function headerCovers(a: HeaderMatch, b: HeaderMatch): boolean {
  if (a.name !== b.name || a.isAbsent !== b.isAbsent) return false;
  if (a.kind === undefined) return true; // presence (or absence) covers any condition on the header
  if (a.kind === StringMatchKind.PREFIX) return b.kind !== undefined && b.kind !== StringMatchKind.REGEX && b.value.startsWith(a.value);
  return a.kind === b.kind && a.value === b.value;
}
