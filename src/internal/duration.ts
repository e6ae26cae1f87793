import { Duration } from 'cdk8s';

/**
 * Renders a duration the way Istio's own samples write it (`0.5s`, `7s`, `3m`, `1h`).
 *
 * Istio accepts Go duration strings of at least 1ms in whole milliseconds; callers validate
 * with {@link durationProblem} first, so this never loses precision.
 */
export function istioDuration(duration: Duration): string {
  const ms = duration.toMilliseconds({ integral: false });
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

/**
 * The longest duration Istio accepts, in whole milliseconds: Go's `time.Duration` is an int64 of
 * nanoseconds (at most 2562047h47m16.854775807s), and the CRDs' CEL rule
 * `duration(self) >= duration('1ms')` cannot parse a longer one, so the API server rejects it.
 */
export const MAX_ISTIO_DURATION_MS = 9_223_372_036_854;

/** Why Istio would reject `duration`, or undefined when it is fine. */
export function durationProblem(duration: Duration): string | undefined {
  const ms = duration.toMilliseconds({ integral: false });
  if (!(ms >= 1)) return `${duration.toHumanString()} is shorter than Istio's minimum of 1ms`;
  if (!Number.isInteger(ms)) return `${duration.toHumanString()} is not a whole number of milliseconds, which Istio requires`;
  if (ms > MAX_ISTIO_DURATION_MS) return `${duration.toHumanString()} is longer than Istio's maximum of 2562047h47m16.854s (Go's longest duration)`;
  return undefined;
}
