import { IConstruct } from 'constructs';

/**
 * Every bad-input rule the library enforces, with a stable code.
 *
 * The code is printed with each message, documented in docs/errors.md (a test keeps the two in
 * step), and never reused for another rule. Ranges: CM1xx mesh and services, CM2xx traffic,
 * CM3xx security, CM4xx observability, CM5xx ingress and egress, CM9xx delivery.
 */
export const ERROR_CATALOGUE = {
  // ---- mesh and services ----
  CM101: 'Invalid Kubernetes name',
  CM102: 'Mesh namespace cannot be determined',
  CM103: 'Mesh used from a chart of another namespace',
  CM104: 'Two meshes for one namespace',
  CM105: 'Duplicate service version',
  CM106: 'Port out of range',
  CM107: 'Empty container image',
  CM108: 'Invalid replica count',
  CM109: 'Sidecar-only option in ambient mode',
  CM110: 'Conflicting pod annotation',
  CM111: 'Invalid trust domain',
  CM112: 'Reserved label',
  CM113: 'Two services with one name in a namespace',
  CM114: 'Unsupported proxy resource',
  CM115: 'Invalid scratch directory',

  // ---- security ----
  CM301: 'mTLS DISABLE in ambient mode',
} as const;

/** A code from {@link ERROR_CATALOGUE}. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/**
 * Formats a bad-input message: the code, what is wrong, and how to fix it.
 *
 * Used both for errors thrown at construction (see {@link meshError}, which adds the construct
 * path) and for messages returned by `node.addValidation` (cdk8s adds the path itself).
 */
export function formatMessage(code: ErrorCode, problem: string, fix: string): string {
  return `${code} ${ERROR_CATALOGUE[code]}: ${problem}. Fix: ${fix}`;
}

/**
 * An error for bad input detected while a construct is being built, prefixed with the path of
 * the construct at fault so the user can find the line that made it.
 */
export function meshError(scope: IConstruct, code: ErrorCode, problem: string, fix: string): Error {
  return new Error(`[${scope.node.path}] ${formatMessage(code, problem, fix)}`);
}
