// Internal: what allowFrom and JwtAuth.protect promise about requests, proven at synth with the request simulator.
import { AuthorizationMode, type AuthorizationPolicy } from './authorization-policy';
import type { IPeer } from './peer';
import type { MeshSimulator } from '../analysis/simulator';
import { decisionOf } from '../analysis/simulator';
import { examplePath } from '../analysis/simulator/examples';
import { pathMatches } from '../analysis/simulator/string-match';
import { JwtToken, RequestTrace, TraceRequest, TraceStepKind } from '../analysis/simulator/types';
import { gatewayEntriesFor } from '../edge/gateway-promises';
import { MeshService } from '../mesh/mesh-service';
import { brokeAt, callerOfPeer, declaredCallersOf, Declaration, Expectation, refused, RequestPromise, stepsOf } from '../mesh/promises';
import { isHttpProtocol } from '../mesh/protocol';
import type { MeshServicePort } from '../mesh/service-port';
import { ServiceVersion } from '../mesh/service-version';
import type { IWorkloadTarget } from '../mesh/workload-target';

/** One `allowFrom` call: the peer, what it may do, and the rule of `<service>-allow` it wrote. */
export interface AllowFromRecord {
  readonly peer: IPeer;
  readonly methods?: string[];
  readonly paths?: string[];
  readonly ports?: number[];
  readonly ruleIndex: number;
}

/** Methods tried, in this order, for one the peer was not given. */
const OTHER_METHODS = ['DELETE', 'PUT', 'PATCH', 'POST', 'GET', 'HEAD', 'OPTIONS'];
/** A path no one declares. */
const UNDECLARED_PATH = '/cdk8s-mesh/undeclared';

/**
 * `service.allowFrom(peer, { methods, paths, ports })` promises that the peer is admitted for each declared method,
 * path and port (unless a DENY policy refuses it: that is declared too), and, under the mesh's default-deny, that a
 * method or path the peer was given by none of its `allowFrom` calls is refused (unless another declared rule,
 * for another peer or in another policy, admits it).
 */
export function allowFromDeclaration(service: MeshService, policy: AuthorizationPolicy, record: AllowFromRecord,
  recordsOf: () => AllowFromRecord[]): Declaration {
  const what = `${service.name}.allowFrom(${describeCaller(record.peer)}${describeOptions(record)})`;
  return {
    code: 'CM332',
    what,
    fix: `let ${service.name}'s authorization come from its constructs only (another ALLOW policy or a JSON patch of ${policy.name} changes who is admitted), or change the allowFrom`,
    requests: (sim) => {
      const caller = callerFor(service, record.peer);
      if (!caller) return []; // a negation or a wildcard: no single caller stands for the peer
      const destination = `${service.mesh.namespaceName}/${service.name}`;
      const token = tokenFor(sim, destination, caller.token);
      // Each declared port (the Service port), on its own protocol; without ports, the primary port.
      const declaredPorts = record.ports?.length
        ? service.ports.filter((p) => record.ports!.some((n) => n === p.port || n === p.targetPort)) : [service.ports[0]];
      const onPort = (port: MeshServicePort): TraceRequest => ({
        ...caller, token, destination, port: service.ports.length > 1 ? port.port : undefined, tcp: !isHttpProtocol(port.protocol),
      });
      const out: RequestPromise[] = [];
      for (const port of declaredPorts) {
        const http = isHttpProtocol(port.protocol);
        for (const method of http ? record.methods ?? ['GET'] : ['GET']) {
          for (const path of http ? (record.paths ?? ['/']).map(examplePath) : ['/']) {
            out.push({ request: { ...onPort(port), method, path }, promise: 'gets through and is admitted', expect: getsThroughUnlessDenied });
          }
        }
      }
      // Negatives: once per peer (its first allowFrom), for the union of what all its allowFrom calls give it.
      const mine = recordsOf().filter((r) => r.peer === record.peer);
      if (service.mesh.authorization !== AuthorizationMode.DEFAULT_DENY || mine[0] !== record) return out;
      const own = mine.map((r) => r.ruleIndex);
      const refusedHere = refusedUnlessAdmittedElsewhere(policy.name, policy.namespaceName, own);
      if (mine.every((r) => r.ports?.length)) {
        const given = mine.flatMap((r) => r.ports!);
        const other = service.ports.find((p) => !given.includes(p.port) && !given.includes(p.targetPort));
        if (other) out.push({ request: { ...onPort(other), method: 'GET', path: '/' }, promise: `is refused (port ${other.port} is not declared)`, expect: refusedHere });
      }
      const first = declaredPorts[0];
      if (!first || !isHttpProtocol(first.protocol)) return out;
      const base = onPort(first);
      const methods = record.methods ?? ['GET'];
      const paths = (record.paths ?? ['/']).map(examplePath);
      if (mine.every((r) => r.methods)) {
        const given = new Set(mine.flatMap((r) => r.methods!));
        const other = OTHER_METHODS.find((m) => !given.has(m));
        if (other) out.push({ request: { ...base, method: other, path: paths[0] }, promise: `is refused (${other} is not declared)`, expect: refusedHere });
      }
      if (mine.every((r) => r.paths) && !mine.some((r) => r.paths!.some((p) => pathMatches(p, UNDECLARED_PATH)))) {
        out.push({ request: { ...base, method: methods[0], path: UNDECLARED_PATH }, promise: 'is refused (the path is not declared)', expect: refusedHere });
      }
      return out;
    },
  };
}

/**
 * `jwt.protect(target, { paths, exceptPaths, requiredClaims })` promises that a request without a token is refused
 * on the protected paths, that an invalid token is answered 401, and that a valid token with the required claims is
 * not refused by the policy; a request without a token on an excepted (or unprotected) path is not refused by it.
 */
export function jwtProtectDeclaration(issuers: string[], target: IWorkloadTarget, policy: AuthorizationPolicy,
  options: { paths?: string[]; exceptPaths?: string[] }): Declaration {
  const service = target instanceof MeshService ? target : target instanceof ServiceVersion ? target.service : undefined;
  return {
    code: 'CM333',
    what: `the JWT requirement ${policy.name}`,
    fix: 'let the token requirement come from the JwtAuth only (another RequestAuthentication or a JSON patch of its objects changes which tokens pass), or change protect()',
    requests: (sim) => {
      if (!service || !isHttpProtocol(service.protocol)) return [];
      const destination = target instanceof ServiceVersion
        ? `${service.mesh.namespaceName}/${target.deployment.name}`
        : `${service.mesh.namespaceName}/${service.name}`;
      const token = sim._tokensFor(destination).find((t) => issuers.includes(t.issuer));
      const caller: Partial<TraceRequest> = callerFor(service, declaredCallersOf(service).find((c) => c !== service)) ?? {};
      const port = target instanceof ServiceVersion ? service.targetPort : undefined;
      const base: TraceRequest = { ...caller, destination, port };
      const protectedPath = pickPath(options.paths, options.exceptPaths);
      const out: RequestPromise[] = [];
      const notByThis = notRefusedBy(policy.name, policy.namespaceName);
      if (protectedPath !== undefined) {
        out.push({ request: { ...base, path: protectedPath }, promise: 'is refused (no token)', expect: refused });
        // Ingress traffic too: it must meet the requirement wherever it is enforced (in ambient mode, the gateway
        // reaches the waypoint only for a Service labelled istio.io/ingress-use-waypoint).
        for (const entry of target instanceof MeshService ? gatewayEntriesFor(service) : []) {
          // A path the gateway routes to the service and the requirement covers.
          const path = entry.paths.find((p) => (options.paths ?? ['*']).some((pattern) => pathMatches(pattern, p))
            && !(options.exceptPaths ?? []).some((e) => pathMatches(e, p)));
          if (path === undefined) continue;
          out.push({
            request: { ...entry.request, path },
            promise: 'is refused (no token)',
            expect: (t) => (t.allowed ? `traced, it is admitted: ${t.explanation}` : undefined),
          });
        }
        if (token) {
          out.push({ request: { ...base, path: protectedPath, token: { ...token, valid: false } }, promise: 'is answered 401', expect: (t) => (t.status === 401 ? undefined : brokeAt(t)) });
          out.push({ request: { ...base, path: protectedPath, token }, promise: 'is not refused by the requirement', expect: notByThis });
        }
      }
      for (const open of openPaths(options.paths, options.exceptPaths)) {
        out.push({ request: { ...base, path: open }, promise: 'is not refused by the requirement (the path is open)', expect: notByThis });
      }
      return out;
    },
  };
}

/** A path the requirement covers: the first of `paths` (or `/`) that no except path matches. */
function pickPath(paths: string[] | undefined, exceptPaths: string[] | undefined): string | undefined {
  const candidates = paths ? paths.map(examplePath) : ['/', '/cdk8s-mesh/protected'];
  return candidates.find((p) => !(exceptPaths ?? []).some((e) => pathMatches(e, p)));
}

/** Paths the requirement leaves open: each except path, and a path outside `paths`. */
function openPaths(paths: string[] | undefined, exceptPaths: string[] | undefined): string[] {
  const open = (exceptPaths ?? []).map(examplePath);
  if (paths && !paths.some((p) => pathMatches(p, UNDECLARED_PATH))) open.push(UNDECLARED_PATH);
  return open;
}

/** A request's source standing for a peer: a MeshService's workloads, else the identity, token and address the peer names. */
function callerFor(service: MeshService, peer: IPeer | undefined): Partial<TraceRequest> | undefined {
  if (peer instanceof MeshService) return { source: `${peer.mesh.namespaceName}/${peer.name}` };
  if (!peer) return { sourcePrincipal: `${service.mesh.trustDomain}/ns/${service.mesh.namespaceName}/sa/default` };
  return callerOfPeer(peer.toPeerConfig(), service.mesh.trustDomain, service.mesh.namespaceName);
}

/** The token a request carries: the one the peer names (completed with what the destination asks for), else one the destination accepts. */
function tokenFor(sim: MeshSimulator, destination: string, named: JwtToken | undefined): JwtToken | undefined {
  const accepted = sim._tokensFor(destination);
  if (!named) return accepted[0];
  const same = accepted.find((t) => t.issuer === named.issuer);
  return same ? { ...same, subject: named.subject === 'caller' ? same.subject : named.subject } : named;
}

/**
 * Every step of the trace passes (the caller's proxy lets it out, a route takes it, a pod is Ready, mTLS agrees, a rule
 * admits it), except a refusal by a DENY or CUSTOM rule (declared too) or a declared fault.
 */
const getsThroughUnlessDenied: Expectation = (t) => {
  const steps = stepsOf(t);
  const failed = steps.find((s) => !s.passed && !(s.kind === TraceStepKind.AUTHORIZATION && s.field !== undefined));
  return failed ? brokeAt(t) : undefined;
};

/** Refused, or admitted by a rule that is not one of `own` in policy `name` (a rule declared for another peer, or another policy). */
function refusedUnlessAdmittedElsewhere(name: string, namespaceName: string, own: number[]): Expectation {
  return (t: RequestTrace) => {
    if (!t.allowed) return undefined;
    const d = decisionOf(t);
    const ours = d.policy?.name === name && d.policy?.namespaceName === namespaceName;
    if (d.policy && !(ours && (d.ruleIndex === undefined || own.includes(d.ruleIndex)))) return undefined;
    return `traced, it is admitted: ${d.policy ? `rule ${d.ruleIndex} of AuthorizationPolicy ${d.policy.namespaceName}/${d.policy.name} matches it` : t.explanation}`;
  };
}

/** Not refused by policy `name`, and its token not rejected (401). */
function notRefusedBy(name: string, namespaceName: string): Expectation {
  return (t) => {
    const steps = stepsOf(t);
    const bad = steps.find((s) => !s.passed && (s.kind === TraceStepKind.AUTHENTICATION
      || (s.kind === TraceStepKind.AUTHORIZATION && s.object?.name === name && s.object?.namespaceName === namespaceName)));
    return bad ? brokeAt(t) : undefined;
  };
}

function describeCaller(peer: IPeer): string {
  const named = peer as { name?: unknown };
  return typeof named.name === 'string' ? named.name : JSON.stringify(peer.toPeerConfig());
}

function describeOptions(r: AllowFromRecord): string {
  const parts = [r.methods && `methods: ${r.methods.join(', ')}`, r.paths && `paths: ${r.paths.join(', ')}`, r.ports && `ports: ${r.ports.join(', ')}`]
    .filter((x) => x);
  return parts.length ? `, { ${parts.join('; ')} }` : '';
}
