// Internal: what each declaration promises about requests, proven at synth on the synthesized output by the
// request simulator. A promise that does not hold fails synthesis with the declaring construct's path, the
// request, and the step of its trace that broke it.
import { IConstruct } from 'constructs';
import { _meshesOf, type Mesh } from './mesh';
import type { MeshService } from './mesh-service';
import { synthesisSimulator } from './synth-analysis';
import type { MeshSimulator } from '../analysis/simulator';
import { RequestTrace, TraceRequest, TraceStep, TraceStepKind } from '../analysis/simulator/types';
import { ErrorCode, formatMessage } from '../errors';
import { currentSynthesis, validateOncePerSynthesis } from '../internal/synthesis';
import type { PeerConfig } from '../security/peer';

/** What must be true of a request's trace, or why it is not (undefined when it holds). */
export type Expectation = (trace: RequestTrace) => string | undefined;

/** One request a declaration promises something about. */
export interface RequestPromise {
  /** The request, as the simulator takes it. */
  readonly request: TraceRequest;
  /** What the declaration promises of it, for the message: `reaches version v2`, `is refused`. */
  readonly promise: string;
  readonly expect: Expectation;
}

/** The promises of one declaration (produced at synth, when everything it depends on is declared). */
export interface Declaration {
  readonly code: ErrorCode;
  /** The declaration in words: `route 1 of service "reviews"`, `reviews.allowFrom(productpage)`. */
  readonly what: string;
  /** How to fix a broken promise. */
  readonly fix: string;
  /** The requests and what each must do; called at synth. */
  readonly requests: (sim: MeshSimulator) => RequestPromise[];
}

const DECLARATIONS = new WeakMap<IConstruct, { mesh: Mesh; list: Declaration[] }>();
/** Every declaration of a construct tree, in declaration order, for the migration proof. */
const BY_ROOT = new WeakMap<IConstruct, Array<{ declaredBy: IConstruct; declaration: Declaration }>>();

/**
 * Every declaration of the construct tree `scope` belongs to, with the construct that declared it, in declaration
 * order: what the tests trace on two outputs of one program (sidecar and ambient) to prove they behave alike.
 * @internal
 */
export function _declarationsOf(scope: IConstruct): Array<{ declaredBy: IConstruct; declaration: Declaration }> {
  return [...(BY_ROOT.get(scope.node.root) ?? [])];
}

/**
 * Registers what `declaredBy` promises. The first declaration of a construct adds one validation to it that, once
 * per synthesis, traces every request of its declarations on the synthesized output (unless the Mesh's
 * `checkDeclarations` is off): cdk8s then reports each broken promise with the construct's path.
 */
export function declare(declaredBy: IConstruct, mesh: Mesh, declaration: Declaration): void {
  let entry = DECLARATIONS.get(declaredBy);
  if (!entry) {
    const created = { mesh, list: [] as Declaration[] };
    entry = created;
    DECLARATIONS.set(declaredBy, entry);
    const validate = () => (created.mesh.checkDeclarations ? _proofs.prove(created.mesh, created.list) : []);
    declaredBy.node.addValidation(validateOncePerSynthesis(declaredBy, validate));
  }
  entry.list.push(declaration);
  const all = BY_ROOT.get(declaredBy.node.root) ?? [];
  BY_ROOT.set(declaredBy.node.root, all);
  all.push({ declaredBy, declaration });
}

/** The broken promises of some declarations, as error messages. */
function prove(mesh: Mesh, declarations: Declaration[]): string[] {
  const sim = synthesisSimulator(mesh);
  const errors: string[] = [];
  for (const d of declarations) {
    for (const p of d.requests(sim)) {
      const trace = sim.trace(p.request);
      const broken = p.expect(trace);
      if (broken === undefined) continue;
      errors.push(formatMessage(d.code, `${d.what} promises that ${describeRequest(p.request)} ${p.promise}, but ${broken}`, d.fix));
    }
  }
  return errors;
}

/** `GET shop.example.com/api through gateway shop/gateway`, `POST /orders from shop/web to api.shop`. */
export function describeRequest(r: TraceRequest): string {
  const from = r.gateway ? ` through gateway ${r.gateway}${r.source ? ` from ${r.source}` : ''}` : r.source ? ` from ${r.source}` : r.sourcePrincipal ? ` from ${r.sourcePrincipal}` : ' from outside the mesh';
  const to = r.gateway ? '' : ` to ${r.host ?? r.destination}${r.port ? `:${r.port}` : ''}`;
  const token = r.token ? ` with ${r.token.valid === false ? 'an invalid' : 'a'} token of ${r.token.issuer}` : '';
  const headers = Object.entries(r.headers ?? {}).map(([k, v]) => ` ${k}: ${v}`).join(',');
  return `${r.method ?? 'GET'} ${r.gateway ? r.host ?? '' : ''}${r.path ?? '/'}${from}${to}${headers ? ` (headers${headers})` : ''}${token}`;
}

/** The proof, called through this object so that the bench can time it. @internal */
export const _proofs = { prove };

/** What usually mends a trace that broke at a step of this kind. */
const HINTS: Partial<Record<TraceStepKind, string>> = {
  [TraceStepKind.EGRESS]: 'the caller must declare the call: caller.callsTo(callee), or callee.allowFrom(caller)',
  [TraceStepKind.AUTHORIZATION]: 'the callee must admit it: callee.allowFrom(caller, ...)',
  [TraceStepKind.DESTINATION]: 'the destination needs pods that become Ready on the port',
  [TraceStepKind.MTLS]: 'the two sides must agree on mutual TLS',
  [TraceStepKind.AUTHENTICATION]: 'the token must be one the RequestAuthentication accepts',
};

/** The hint for a failed step: a refusal by a rule (DENY, CUSTOM: the step names its field) is not mended by an ALLOW. */
function hintFor(step: { kind: TraceStepKind; field?: string }): string | undefined {
  if (step.kind === TraceStepKind.AUTHORIZATION && step.field !== undefined) return 'a DENY or CUSTOM rule refuses it: the request must not match it';
  return HINTS[step.kind];
}

/** Every step of a trace, in order: those before the destinations, then each destination's. */
export function stepsOf(trace: RequestTrace): TraceStep[] {
  return [...trace.steps, ...trace.destinations.flatMap((d) => d.steps)];
}

/** Where a trace broke: its outcome and the first step that did not pass (with what usually mends it). */
export function brokeAt(trace: RequestTrace): string {
  const failed = stepsOf(trace).find((s) => !s.passed);
  const outcome = `${trace.outcome}${trace.status !== undefined ? ` (${trace.status})` : ''}`;
  return failed
    ? `traced, it ends ${outcome} at step ${failed.kind}: ${failed.proxy}: ${failed.summary}${hintFor(failed) ? ` (${hintFor(failed)})` : ''}`
    : `traced, it ends ${outcome}: ${trace.explanation}`;
}

/** The request must reach its destination. */
export const reached: Expectation = (t) => (t.allowed ? undefined : brokeAt(t));

/** The request must be refused by authorization (or never get there), not reach the application. */
export const refused: Expectation = (t) => (t.allowed ? `traced, it is admitted: ${t.explanation}` : undefined);

/**
 * The caller a peer stands for, as a request's source: a workload identity it names (a principal, a service account,
 * a namespace's default service account), a token it asks for, an address it admits. Undefined when a peer can only
 * be written as a negation or a wildcard (no single caller stands for it).
 */
export function callerOfPeer(config: PeerConfig, trustDomain: string, namespaceName: string): Partial<TraceRequest> | undefined {
  const first = (values?: string[]) => values?.find((v) => !v.includes('*'));
  if (Object.entries(config).some(([k, v]) => k.startsWith('not') && v?.length)) return undefined;
  const principal = first(config.principals);
  const serviceAccount = first(config.serviceAccounts);
  const ns = first(config.namespaces);
  const sourcePrincipal = principal?.replace(/^spiffe:\/\//, '')
    ?? (serviceAccount ? `${trustDomain}/ns/${serviceAccount.split('/')[0]}/sa/${serviceAccount.split('/')[1]}` : undefined)
    ?? (ns ? `${trustDomain}/ns/${ns}/sa/default` : undefined);
  if ((config.principals?.length || config.serviceAccounts?.length || config.namespaces?.length) && !sourcePrincipal) return undefined;
  const rp = config.requestPrincipals?.[0];
  const token = rp === undefined ? undefined : (() => {
    const slash = rp.lastIndexOf('/');
    const issuer = slash > 0 ? rp.slice(0, slash) : rp;
    const subject = slash > 0 ? rp.slice(slash + 1) : '*';
    return issuer.includes('*') ? undefined : { issuer, subject: subject === '*' ? 'caller' : subject };
  })();
  if (rp !== undefined && !token) return undefined;
  const ip = (config.ipBlocks ?? config.remoteIpBlocks)?.[0]?.split('/')[0];
  return {
    // An in-mesh identity also gets through STRICT mTLS for peers that name only a token or an address.
    sourcePrincipal: sourcePrincipal ?? `${trustDomain}/ns/${namespaceName}/sa/default`,
    token,
    sourceIp: ip,
  };
}

/**
 * The services of the app that declared a call to `service` (`callsTo`, or an `allowFrom` naming them), found once
 * per synthesis.
 */
export function declaredCallersOf(service: object & IConstruct): MeshService[] {
  const memo = currentSynthesis(service)?.memo;
  let callers = memo?.get(CALLERS) as Map<object, MeshService[]> | undefined;
  if (!callers) {
    callers = new Map();
    for (const mesh of _meshesOf(service)) {
      for (const caller of mesh.services) {
        for (const callee of caller.dependencies) {
          if ((callee as unknown) === caller) continue;
          const list = callers.get(callee) ?? [];
          list.push(caller);
          callers.set(callee, list);
        }
      }
    }
    memo?.set(CALLERS, callers);
  }
  return callers.get(service) ?? [];
}

const CALLERS = 'promises|callers';
