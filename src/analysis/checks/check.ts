import { Severity } from '../finding';
import { Res } from '../manifests';
import { MeshIndex } from '../model';

export interface CheckContext {
  readonly index: MeshIndex;
  report(code: string, res: Res, path: string, message: string, fix: string, severity?: Severity): void;
}

/**
 * One analyzer. `analyzer` is the name `istioctl analyze` gives the analyzer it re-implements
 * (so the Istio grid test can run exactly one), or `cdk8s-mesh.*` for checks Istio does not have.
 */
export interface Check {
  readonly analyzer: string;
  run(ctx: CheckContext): void;
}

/** `[a, b, c]` as text, for messages. */
export function list(values: Array<string | number>): string {
  return values.join(', ');
}
