import { RuleProblem, requirePorts, requireValues, unique } from './internal';
import { AuthorizationPolicySpecRulesToOperation } from '../imports/security.istio.io';
import { HttpMethod } from '../mesh/http-method';

/**
 * What a request does: Istio's authorization `operation`. Every field that is set must match
 * (AND); the values within one field are alternatives (OR).
 *
 * Paths and hosts use Istio's wildcards: exact (`/ip`), prefix (`/api/*`), suffix (`*.png`) or
 * presence (`*`); paths may also be templates where `{*}` stands for exactly one segment and
 * `{**}` for any number of segments (`/books/{*}/pages`, `/static/{**}`).
 *
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/#Operation
 */
export interface OperationOptions {
  /**
   * HTTP methods (HTTP only; a gRPC call is a POST).
   * @default - any method
   */
  readonly methods?: HttpMethod[];
  /**
   * HTTP methods that must NOT match.
   * @default - none excluded
   */
  readonly notMethods?: HttpMethod[];
  /**
   * Request paths (HTTP only), with Istio's wildcards or `{*}` / `{**}` templates.
   * @default - any path
   */
  readonly paths?: string[];
  /**
   * Request paths that must NOT match.
   * @default - none excluded
   */
  readonly notPaths?: string[];
  /**
   * Destination ports. For a MeshService (or version) target, the Service port may be given:
   * it is written as the container port the proxy sees.
   * @default - any port
   */
  readonly ports?: number[];
  /**
   * Destination ports that must NOT match.
   * @default - none excluded
   */
  readonly notPorts?: number[];
  /**
   * Request hosts (the `Host`/`:authority` header; HTTP only), with prefix/suffix `*` wildcards.
   * @default - any host
   */
  readonly hosts?: string[];
  /**
   * Request hosts that must NOT match.
   * @default - none excluded
   */
  readonly notHosts?: string[];
}

/** Operation fields that only exist for HTTP requests. */
const HTTP_FIELDS = ['methods', 'notMethods', 'paths', 'notPaths', 'hosts', 'notHosts'] as const;

/**
 * What a request does (method, path, port, host), for an {@link AuthorizationRule}.
 *
 * @example Operation.of({ methods: [HttpMethod.GET], paths: ['/api/*'] })
 */
export class Operation {
  /** An operation: every field given must match. */
  public static of(options: OperationOptions): Operation {
    return new Operation(options);
  }

  /** The fields of this operation. */
  public readonly options: OperationOptions;

  private constructor(options: OperationOptions) {
    this.options = { ...options };
  }

  /**
   * The first HTTP-only field this operation uses, for L4-only enforcement checks.
   * @internal
   */
  public _httpField(): string | undefined {
    return HTTP_FIELDS.find((f) => this.options[f] !== undefined);
  }

  /**
   * Validates and renders the Istio operation; ports go through `port` (Service port → container port).
   * @internal
   */
  public _render(port: (value: number) => number): AuthorizationPolicySpecRulesToOperation {
    const o = this.options;
    const given = Object.entries(o).filter(([, v]) => v !== undefined);
    if (given.length === 0) {
      throw new RuleProblem('CM309', 'an operation has no fields, so it would match nothing Istio can express (Istio rejects an empty operation)',
        'set at least one of methods, paths, ports or hosts (or their not* forms), or leave operations out to match every request');
    }
    for (const [field, values] of given) requireValues(`operation ${field}`, (values as unknown[]).map(String));
    for (const field of ['paths', 'notPaths'] as const) for (const path of o[field] ?? []) checkPath(field, path);
    for (const field of ['hosts', 'notHosts'] as const) for (const host of o[field] ?? []) checkWildcard(field, host);
    for (const field of ['ports', 'notPorts'] as const) requirePorts(`operation ${field}`, o[field] ?? []);
    const ports = (values?: number[]) => values && unique(values.map((p) => String(port(p))));
    return {
      methods: o.methods && unique(o.methods),
      notMethods: o.notMethods && unique(o.notMethods),
      paths: o.paths && unique(o.paths),
      notPaths: o.notPaths && unique(o.notPaths),
      ports: ports(o.ports),
      notPorts: ports(o.notPorts),
      hosts: o.hosts && unique(o.hosts),
      notHosts: o.notHosts && unique(o.notHosts),
    };
  }
}

const TEMPLATE_ONE = '{*}';
const TEMPLATE_ANY = '{**}';

/**
 * Istio's path rules: a path template uses `{*}`/`{**}` as whole segments, `{**}` last; any other
 * path may only have one `*`, at its start (suffix match) or its end (prefix match). Anything else
 * would be compared literally and never match what it looks like.
 */
function checkPath(field: string, path: string): void {
  const fail = (problem: string, fix: string) => {
    throw new RuleProblem('CM312', `${field} "${path}" ${problem}`, fix);
  };
  if (path !== '*' && !path.startsWith('/') && !path.startsWith('*')) {
    fail('does not start with "/"', `write the path from its root, e.g. "/${path}"`);
  }
  if (path.includes(TEMPLATE_ONE) || path.includes(TEMPLATE_ANY)) {
    const operators = path.split('/').filter((segment) => /[{}*]/.test(segment));
    const bad = operators.find((segment) => segment !== TEMPLATE_ONE && segment !== TEMPLATE_ANY);
    if (bad !== undefined) {
      fail(`has the segment "${bad}": in a path template, {*} and {**} must each be a whole segment and no other wildcard or {name} is allowed`,
        'use "/a/{*}/c" for one segment or "/a/{**}" for the rest of the path');
    }
    const firstAny = operators.indexOf(TEMPLATE_ANY);
    if (firstAny !== -1 && firstAny < operators.length - 1) {
      fail('has an operator after {**}: {**} must be the last operator of a path template', 'move {**} to the end, e.g. "/a/{*}/{**}"');
    }
    return;
  }
  if (/[{}]/.test(path)) {
    fail('contains "{" or "}" but is not a {*}/{**} template: Istio would compare it literally', 'use {*} for one segment or {**} for the rest');
  }
  checkWildcard(field, path);
}

/** One `*` at most, only at the start or the end (Istio's suffix/prefix/presence matches). */
function checkWildcard(field: string, value: string): void {
  const stars = value.split('*').length - 1;
  if (stars === 0 || value === '*') return;
  if (stars > 1 || !(value.startsWith('*') || value.endsWith('*'))) {
    throw new RuleProblem('CM312', `${field} "${value}" has a "*" that is not its first or last character: Istio would compare it literally`,
      field.toLowerCase().includes('path')
        ? 'use a single leading or trailing "*" (e.g. "/api/*"), or a template with {*} (one segment) or {**} (the rest)'
        : 'use a single leading or trailing "*", e.g. "*.example.com"');
  }
}
