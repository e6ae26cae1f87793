import { IConstruct } from 'constructs';
import { ErrorCode, meshError } from '../errors';
import { isDnsLabel } from '../internal/names';

/**
 * Throws `code` unless `host` is a host name Istio accepts for a Gateway or ServiceEntry:
 * DNS labels, a wildcard only as the whole first label (`*.example.com`), a dot somewhere
 * (short names are rejected on gateways), or `*` alone when `allowStar`.
 */
export function checkExternalHost(scope: IConstruct, code: ErrorCode, what: string, host: string, allowStar: boolean): void {
  if (host === '*') {
    if (allowStar) return;
    throw meshError(scope, code, `${what} "*" would capture every host`, 'list the host names, e.g. "api.example.com", or a domain wildcard "*.example.com"');
  }
  const labels = host.split('.');
  const body = labels[0] === '*' ? labels.slice(1) : labels;
  if (host.length > 255 || labels.length < 2 || !body.every(isDnsLabel) || /^\d+$/.test(labels[labels.length - 1])) {
    throw meshError(scope, code, `${what} "${host}" is not a fully qualified domain name`,
      `use lower-case DNS labels separated by dots (e.g. "${labels.length < 2 ? `${host}.example.com` : 'api.example.com'}"); a wildcard may only be the whole first label ("*.example.com")`);
  }
}

/** True when the gateway host pattern `pattern` (`*`, `*.example.com` or a name) serves `host`. */
export function hostCovers(pattern: string, host: string): boolean {
  if (pattern === '*' || pattern === host) return true;
  if (pattern.startsWith('*.')) {
    const suffix = pattern.slice(1);
    return host.endsWith(suffix) || (host.startsWith('*.') && host.slice(1).endsWith(suffix));
  }
  return false;
}
