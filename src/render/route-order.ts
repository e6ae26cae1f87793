import { IConstruct } from 'constructs';
import { renderRouteMatches } from './http-route';
import { orderHttpRules } from '../analysis/simulator/route-match';
import { meshError } from '../errors';
import { toJson_VirtualServiceSpecHttpMatch, VirtualServiceSpecHttpMatch } from '../imports/networking.istio.io';
import type { MeshService } from '../mesh/mesh-service';
import type { TrafficSplit } from '../traffic/traffic-split';

/** One http rule to place: who declared it, and its matches as Istio reads them (none: a catch-all). */
export interface RuleToOrder {
  readonly declaredBy: IConstruct;
  /** A short description for errors, e.g. `route "jason" of service "reviews"`. */
  readonly description: string;
  readonly matches?: VirtualServiceSpecHttpMatch[];
}

/**
 * Orders the http rules of one VirtualService so that none is shadowed by an earlier, broader one: Istio uses the
 * first rule that matches, so `/` before `/api` sends every `/api` request to the first. Which rule takes which
 * request is the request simulator's question (`orderHttpRules`), asked on the matches as rendered. Two rules with
 * the same matches cannot both be served: that is an error naming both declarations.
 */
export function orderRules<T extends RuleToOrder>(rules: T[], what: string): T[] {
  const json = rules.map((r) => ({ match: r.matches?.length ? r.matches.map((m) => toJson_VirtualServiceSpecHttpMatch(m)) : undefined }));
  const { order, duplicates } = orderHttpRules(json);
  if (duplicates.length > 0) {
    const [a, b] = duplicates[0];
    throw meshError(rules[b].declaredBy, 'CM227',
      `${rules[b].description} takes exactly the requests of ${rules[a].description} (${rules[a].declaredBy.node.path}) in ${what}, so one of them could never be used`,
      'give one of them different matches (a path, header, method or query parameter), or merge them into one route');
  }
  return order.map((i) => rules[i]);
}

/** The routes of one host in the order they are written: most specific first, the catch-all last. */
export function orderRoutes(service: MeshService, routes: TrafficSplit[]): TrafficSplit[] {
  const rules = routes.map((route, i) => ({
    route,
    declaredBy: route,
    description: route._options.name ? `route "${route._options.name}"` : `route ${i + 1} of service "${service.name}"`,
    matches: renderRouteMatches(service, route._options.matches, route.servicePort?.port),
  }));
  return orderRules(rules, `the VirtualService of service "${service.name}"`).map((r) => r.route);
}
