import { IConstruct } from 'constructs';
import { meshError } from '../errors';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** True for an RFC 1123 label: what Kubernetes requires of Service and Namespace names. */
export function isDnsLabel(value: string): boolean {
  return value.length <= 63 && DNS_LABEL.test(value);
}

/** True for an RFC 1123 subdomain: what Kubernetes requires of most object names. */
export function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && value.split('.').every(isDnsLabel);
}

/** A lower-case, dash-separated version of `value`, to suggest in error messages. */
export function suggestDnsLabel(value: string): string {
  const label = value
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return label || 'my-name';
}

/**
 * Throws CM101 unless `value` is a DNS label. `what` names the field, e.g. "service name".
 * Service names must also start with a letter (RFC 1035), which `startWithLetter` enforces.
 */
export function requireDnsLabel(scope: IConstruct, what: string, value: string, startWithLetter = false): void {
  if (!isDnsLabel(value) || (startWithLetter && !/^[a-z]/.test(value))) {
    throw meshError(scope, 'CM101', `${what} "${value}" is not a valid DNS label`,
      `use at most 63 lower-case letters, digits and '-'${startWithLetter ? ', starting with a letter' : ''}`
      + `, ending with a letter or digit, e.g. "${suggestDnsLabel(value)}"`);
  }
}

/** Throws CM101 unless `value` is a DNS subdomain. */
export function requireDnsSubdomain(scope: IConstruct, what: string, value: string): void {
  if (!isDnsSubdomain(value)) {
    throw meshError(scope, 'CM101', `${what} "${value}" is not a valid DNS subdomain`,
      `use dot-separated DNS labels (lower-case letters, digits and '-'), at most 253 characters, e.g. "${suggestDnsLabel(value)}"`);
  }
}
