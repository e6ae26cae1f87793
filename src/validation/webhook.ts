// Istio's validating webhook (istio/istio 1.30.3 pkg/config/validation): the rules the CRDs do not
// encode, for VirtualService, Gateway, DestinationRule and AuthorizationPolicy (research notes,
// section D). Errors refuse the object (IST0106 in the analysis); warnings admit it (IST0133).
import { re2Error } from './regex';
import { Violation, ViolationKind } from './validator';

type Report = (path: string, message: string, fix: string, severity?: 'error' | 'warning') => void;

/** The webhook's errors and warnings for an (admitted) Istio object; none for other kinds. */
export function istioWebhookViolations(object: any): Violation[] {
  const out: Violation[] = [];
  const report: Report = (path, message, fix, severity = 'error') => out.push({ kind: ViolationKind.WEBHOOK, severity, path, message, fix });
  const group = typeof object?.apiVersion === 'string' ? object.apiVersion.split('/')[0] : '';
  const spec = isObject(object?.spec) ? object.spec : {};
  if (group === 'networking.istio.io') {
    switch (object.kind) {
      case 'VirtualService': virtualService(spec, report); break;
      case 'Gateway': gateway(object, spec, report); break;
      case 'DestinationRule': destinationRule(spec, report); break;
    }
  } else if (group === 'security.istio.io' && object.kind === 'AuthorizationPolicy') {
    authorizationPolicy(spec, report);
  }
  return out;
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;
const PSEUDO_HEADERS = new Set([':method', ':scheme', ':authority', ':path', ':status']);
const RETRY_ON = new Set(['5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream',
  'retriable-status-codes', 'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure', 'cancelled', 'deadline-exceeded',
  'internal', 'resource-exhausted', 'unavailable']);
const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
const PROTOCOLS = new Set(['HTTP', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'MONGO', 'REDIS', 'MYSQL', 'TCP', 'TLS', 'UDP', 'HTTP_PROXY']);

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function list(v: unknown): any[] {
  return Array.isArray(v) ? v : [];
}

/** Whole milliseconds, at least 1ms (the CRD checks only the lower bound). */
function checkDuration(value: unknown, path: string, report: Report): void {
  if (typeof value !== 'string' || !DURATION.test(value)) return;
  const ms = durationMs(value);
  if (ms !== undefined && ms >= 1 && !Number.isInteger(Math.round(ms * 1e6) / 1e6)) {
    report(path, `duration ${JSON.stringify(value)} is not a whole number of milliseconds: only durations to ms precision are supported`, `Round it to whole milliseconds (e.g. "${Math.round(ms)}ms").`);
  }
}

function durationMs(value: string): number | undefined {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 };
  let total = 0;
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * units[m[2]];
  return total;
}

function checkRegex(value: unknown, path: string, report: Report): void {
  if (typeof value !== 'string') return;
  if (value.length > 1024) report(path, `regex is ${value.length} characters long: at most 1024 are allowed`, 'Shorten the regular expression.');
  const problem = re2Error(value);
  if (problem) report(path, `${JSON.stringify(value)} is not a valid RE2 regular expression: ${problem}`, 'Use RE2 syntax (no lookaround, no backreferences).');
}

function checkStringMatch(match: unknown, path: string, report: Report, emptyPrefixAllowed: boolean): void {
  if (!isObject(match)) return;
  if (match.prefix === '' && !emptyPrefixAllowed) report(`${path}.prefix`, 'an empty prefix is not allowed (it matches everything)', 'Remove the match, or give a non-empty prefix.');
  checkRegex(match.regex, `${path}.regex`, report);
}

function virtualService(spec: Record<string, any>, report: Report): void {
  const gateways = list(spec.gateways);
  const meshOnly = gateways.length === 0 || gateways.every((g) => g === 'mesh');
  if (spec.http === undefined && spec.tcp === undefined && spec.tls === undefined && list(spec.hosts).length > 0) {
    report('spec', 'http, tcp or tls must be provided in a virtual service', 'Add a route (http, tcp or tls).');
  }
  list(spec.hosts).forEach((h, i) => {
    if (h === '*' && meshOnly) report(`spec.hosts[${i}]`, 'wildcard host * is not allowed for virtual services bound to the mesh gateway', 'Name the hosts, or bind the VirtualService to a Gateway.');
  });
  list(spec.http).forEach((rule, i) => {
    if (!isObject(rule)) return;
    const path = `spec.http[${i}]`;
    const actions = ['route', 'redirect', 'directResponse'].filter((k) => rule[k] !== undefined);
    if (actions.length === 0 && rule.delegate === undefined) report(path, 'HTTP route, redirect or direct response is required', 'Add a route (or a redirect, or a directResponse).');
    if (actions.length > 1) report(path, `only one of ${actions.join(', ')} may be set`, `Keep one of ${actions.join(', ')}.`);
    if (rule.redirect !== undefined && (rule.fault !== undefined || rule.rewrite !== undefined)) report(`${path}.redirect`, 'HTTP route cannot contain both redirect and fault or rewrite', 'Remove fault/rewrite from the redirect rule.');
    if (rule.mirror !== undefined && rule.mirrors !== undefined) report(`${path}.mirror`, 'mirror and mirrors cannot both be set', 'Use mirrors.');
    const routes = list(rule.route);
    routes.forEach((r, j) => {
      if (isObject(r) && typeof r.weight === 'number' && r.weight < 0) report(`${path}.route[${j}].weight`, `weight ${r.weight} is negative`, 'Use a weight of 0 or more.');
    });
    if (routes.length > 1 && routes.every((r) => !isObject(r) || (r.weight ?? 0) === 0)) {
      report(`${path}.route`, 'total destination weight = 0', 'Give at least one destination a positive weight.');
    }
    list(rule.match).forEach((m, k) => {
      if (!isObject(m)) return;
      const mp = `${path}.match[${k}]`;
      checkStringMatch(m.uri, `${mp}.uri`, report, true);
      for (const field of ['scheme', 'method', 'authority']) checkStringMatch(m[field], `${mp}.${field}`, report, false);
      for (const field of ['headers', 'withoutHeaders']) {
        for (const [name, hm] of Object.entries(isObject(m[field]) ? m[field] : {})) {
          const hp = `${mp}.${field}[${name}]`;
          const claim = /^@request\.auth\.claims(\.|\[)/.test(name);
          if (!claim && !PSEUDO_HEADERS.has(name) && !HEADER_NAME.test(name)) report(hp, `header name ${JSON.stringify(name)} is not a valid HTTP header name`, 'Use a header name of token characters (letters, digits, !#$%&\'*+-.^_`|~).');
          if (claim && meshOnly) report(hp, `JWT claim based routing (${name}) is only supported for gateways`, 'Bind the VirtualService to a Gateway, or match on a header.');
          checkStringMatch(hm, hp, report, false);
        }
      }
      for (const [name, qm] of Object.entries(isObject(m.queryParams) ? m.queryParams : {})) checkStringMatch(qm, `${mp}.queryParams[${name}]`, report, false);
    });
    checkDuration(rule.timeout, `${path}.timeout`, report);
    const retries = rule.retries;
    if (isObject(retries)) {
      checkDuration(retries.perTryTimeout, `${path}.retries.perTryTimeout`, report);
      const tuned = retries.perTryTimeout !== undefined || retries.retryOn !== undefined || retries.retryRemoteLocalities !== undefined;
      if (retries.attempts === 0 && tuned) {
        report(`${path}.retries`, 'http retry policy configured when attempts are set to 0 (disabled)', 'Remove perTryTimeout/retryOn, or allow some attempts.');
      }
      if (typeof retries.retryOn === 'string') {
        for (const item of retries.retryOn.split(',').map((s: string) => s.trim()).filter(Boolean)) {
          if (!RETRY_ON.has(item) && !/^[1-5][0-9][0-9]$/.test(item)) report(`${path}.retries.retryOn`, `${JSON.stringify(item)} is not a valid retryOn value`, `Use HTTP status codes or ${[...RETRY_ON].join(', ')}.`);
        }
      }
    }
    const fault = rule.fault;
    if (isObject(fault)) {
      if (fault.abort === undefined && fault.delay === undefined) report(`${path}.fault`, 'fault must have an abort and/or a delay', 'Add an abort or a delay.');
      if (isObject(fault.abort) && typeof fault.abort.httpStatus === 'number' && (fault.abort.httpStatus < 200 || fault.abort.httpStatus > 600)) {
        report(`${path}.fault.abort.httpStatus`, 'abort http status must be in range 200-599', 'Use an HTTP status between 200 and 599.');
      }
      if (isObject(fault.delay)) checkDuration(fault.delay.fixedDelay, `${path}.fault.delay.fixedDelay`, report);
      for (const which of ['abort', 'delay']) {
        const value = isObject(fault[which]) && isObject(fault[which].percentage) ? fault[which].percentage.value : undefined;
        if (typeof value === 'number' && (value < 0 || value > 100)) report(`${path}.fault.${which}.percentage.value`, `percentage ${value} is not in range 0..100`, 'Use a percentage between 0 and 100.');
      }
    }
    if (isObject(rule.redirect) && typeof rule.redirect.redirectCode === 'number' && (rule.redirect.redirectCode < 300 || rule.redirect.redirectCode > 399)) {
      report(`${path}.redirect.redirectCode`, `redirect code ${rule.redirect.redirectCode} must be 3xx`, 'Use a 3xx status (301, 302, 307, 308).');
    }
  });
}

function gateway(object: any, spec: Record<string, any>, report: Report): void {
  const name = object?.metadata?.name;
  if (typeof name === 'string' && name.includes('.')) report('metadata.name', `Gateway name ${JSON.stringify(name)} must be a DNS label: dots are not allowed`, 'Use a name without dots (e.g. replace "." with "-").');
  const servers = list(spec.servers);
  if (servers.length === 0) report('spec.servers', 'gateway must have at least one server', 'Add a server.');
  const portNames = new Map<string, number>();
  servers.forEach((server, i) => {
    if (!isObject(server)) return;
    const path = `spec.servers[${i}]`;
    const port = isObject(server.port) ? server.port : {};
    const protocol = typeof port.protocol === 'string' ? port.protocol.toUpperCase() : undefined;
    if (protocol !== undefined && !PROTOCOLS.has(protocol)) report(`${path}.port.protocol`, `unrecognized protocol ${JSON.stringify(port.protocol)}`, `Use one of ${[...PROTOCOLS].join(', ')}.`);
    if (typeof port.number === 'number' && (port.number < 1 || port.number > 65535) && !(port.number === 0 && typeof server.bind === 'string' && server.bind.startsWith('unix://'))) {
      report(`${path}.port.number`, `port number ${port.number} must be in the range 1..65535`, 'Use a port between 1 and 65535.');
    }
    if (typeof port.name === 'string') {
      const first = portNames.get(port.name);
      if (first !== undefined) report(`${path}.port.name`, `port names in servers must be unique: duplicate name ${port.name} (also server ${first})`, 'Give each server port its own name.');
      else portNames.set(port.name, i);
    }
    list(server.hosts).forEach((h, j) => {
      if (typeof h !== 'string') return;
      const host = h.includes('/') ? h.slice(h.indexOf('/') + 1) : h;
      if (host !== '*' && !host.includes('.') && !/^[0-9a-fA-F:.]+$/.test(host)) report(`${path}.hosts[${j}]`, `short names (non FQDN) are not allowed: ${JSON.stringify(h)}`, 'Use a fully qualified host name (e.g. shop.example.com) or "*".');
      if (/^.+\*|\*[^.]/.test(host) && host !== '*') report(`${path}.hosts[${j}]`, `partial wildcard ${JSON.stringify(h)} not allowed`, 'Use a wildcard only as the first label ("*.example.com").');
    });
    const tls = isObject(server.tls) ? server.tls : undefined;
    if ((protocol === 'HTTPS' || protocol === 'TLS') && !tls) {
      report(`${path}.tls`, 'server must have TLS settings for HTTPS/TLS protocols', 'Add tls (e.g. mode: SIMPLE with credentialName), or use protocol HTTP.');
    } else if (tls && protocol !== undefined && protocol !== 'HTTPS' && protocol !== 'TLS') {
      const redirectOnly = protocol === 'HTTP' && Object.keys(tls).every((k) => k === 'httpsRedirect');
      if (!redirectOnly) report(`${path}.tls`, `server cannot have TLS settings for plain text ${protocol} ports`, 'Remove tls (only httpsRedirect is allowed on HTTP), or use protocol HTTPS/TLS.');
    }
    if (tls && (protocol === 'HTTPS' || protocol === 'TLS')) {
      const mode = tls.mode ?? 'SIMPLE';
      const credential = tls.credentialName !== undefined || tls.credentialNames !== undefined || tls.tlsCertificates !== undefined;
      const files = tls.serverCertificate !== undefined || tls.privateKey !== undefined;
      if (mode === 'ISTIO_MUTUAL' && (credential || files || tls.caCertificates !== undefined)) {
        report(`${path}.tls`, 'ISTIO_MUTUAL TLS cannot have associated private key, certificate, CA certificates or credential names', 'Remove the certificates: Istio provides them.');
      }
      if ((mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL') && !credential && !(tls.serverCertificate && tls.privateKey)) {
        report(`${path}.tls`, `${mode} TLS requires a credentialName, or a serverCertificate and privateKey`, 'Set tls.credentialName to the Secret with the certificate.');
      }
      if ((mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL') && !credential && tls.caCertificates === undefined) {
        report(`${path}.tls`, `${mode} TLS requires caCertificates (or a credentialName holding the CA)`, 'Set tls.credentialName, or tls.caCertificates.');
      }
    }
  });
}

function destinationRule(spec: Record<string, any>, report: Report): void {
  const policies: Array<[string, any]> = [['spec.trafficPolicy', spec.trafficPolicy]];
  list(spec.subsets).forEach((s, i) => { if (isObject(s)) policies.push([`spec.subsets[${i}].trafficPolicy`, s.trafficPolicy]); });
  const names = new Map<string, number>();
  list(spec.subsets).forEach((s, i) => {
    if (!isObject(s) || typeof s.name !== 'string') return;
    if (names.has(s.name)) report(`spec.subsets[${i}].name`, `duplicate subset names: ${s.name}`, 'Give each subset its own name.');
    names.set(s.name, i);
  });
  for (const [path, policy] of policies) {
    if (!isObject(policy)) continue;
    if (Object.keys(policy).length === 0) report(path, 'traffic policy must have at least one field', 'Remove the empty trafficPolicy, or set a field.');
    const od = policy.outlierDetection;
    if (isObject(od)) {
      if (od.consecutiveErrors !== undefined) report(`${path}.outlierDetection.consecutiveErrors`, 'outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead', 'Use consecutive5xxErrors.', 'warning');
      for (const f of ['interval', 'baseEjectionTime']) checkDuration(od[f], `${path}.outlierDetection.${f}`, report);
    }
    const pool = policy.connectionPool;
    if (isObject(pool)) {
      if (pool.tcp === undefined && pool.http === undefined) report(`${path}.connectionPool`, 'must have at least one of tcp or http', 'Set connectionPool.tcp or connectionPool.http.');
      if (isObject(pool.http) && pool.http.h2UpgradePolicy === 'UPGRADE' && pool.http.useClientProtocol === true) {
        report(`${path}.connectionPool.http`, 'use client protocol must not be true when H2UpgradePolicy is UPGRADE', 'Remove one of useClientProtocol and h2UpgradePolicy.');
      }
      if (isObject(pool.tcp)) checkDuration(pool.tcp.connectTimeout, `${path}.connectionPool.tcp.connectTimeout`, report);
    }
    const tls = policy.tls;
    if (isObject(tls) && tls.mode === 'MUTUAL' && tls.credentialName === undefined && (tls.clientCertificate === undefined || tls.privateKey === undefined)) {
      report(`${path}.tls`, 'client certificate and private key are required for mutual TLS (or a credentialName)', 'Set tls.credentialName to the Secret with the client certificate.');
    }
  }
}

function authorizationPolicy(spec: Record<string, any>, report: Report): void {
  const action = spec.action ?? 'ALLOW';
  if (action === 'DENY' && spec.rules === undefined) {
    report('spec.rules', 'DENY action without rules is never triggered', 'Add rules ([{}] denies everything).');
  }
  if (action === 'CUSTOM' && !isObject(spec.provider)) report('spec.provider', 'CUSTOM action requires a provider', 'Set provider.name to an extension provider.');
  if (action !== 'CUSTOM' && spec.provider !== undefined) report('spec.provider', `provider is only allowed with the CUSTOM action (not ${action})`, 'Remove provider, or use action CUSTOM.');
  list(spec.rules).forEach((rule, i) => {
    if (!isObject(rule)) return;
    const path = `spec.rules[${i}]`;
    for (const field of ['from', 'to']) {
      if (rule[field] !== undefined && list(rule[field]).length === 0) report(`${path}.${field}`, `${field} must not be empty`, `Remove ${field}, or add an entry.`);
    }
    list(rule.from).forEach((f, j) => {
      if (!isObject(f) || !isObject(f.source) || Object.keys(f.source).length === 0) report(`${path}.from[${j}]`, '`from.source` must not be empty', 'Give the source a field (principals, namespaces, ipBlocks...).');
    });
    list(rule.to).forEach((t, j) => {
      if (!isObject(t) || !isObject(t.operation) || Object.keys(t.operation).length === 0) {
        report(`${path}.to[${j}]`, '`to.operation` must not be empty', 'Give the operation a field (methods, paths, ports...).');
        return;
      }
      for (const field of ['paths', 'notPaths']) {
        list(t.operation[field]).forEach((p, k) => {
          if (typeof p !== 'string') return;
          const problem = pathProblem(p);
          if (problem) report(`${path}.to[${j}].operation.${field}[${k}]`, problem, 'Use "*" only as a whole prefix or suffix ("/api/*", "*.json"), or the templates {*} / {**} as whole segments.');
        });
      }
      list(t.operation.ports).forEach((p, k) => {
        if (typeof p === 'string' && (!/^[0-9]+$/.test(p) || Number(p) > 65535)) report(`${path}.to[${j}].operation.ports[${k}]`, `port ${JSON.stringify(p)} must be a number between 0 and 65535`, 'Write the port number as a string, e.g. "8080".');
      });
    });
    list(rule.when).forEach((c, j) => {
      if (isObject(c) && c.values === undefined && c.notValues === undefined) report(`${path}.when[${j}]`, 'at least one of values or notValues must be set for key', 'Add values or notValues.');
    });
  });
}

/**
 * Istio accepts `*` in a path only as the whole path, a prefix (`/api/*`) or a suffix (`*.json`),
 * and the templates `{*}` and `{**}` only as whole segments, `{**}` last.
 */
function pathProblem(p: string): string | undefined {
  if (p.includes('{')) {
    const segments = p.split('/');
    const bad = segments.find((s) => s.includes('{') && s !== '{*}' && s !== '{**}');
    if (bad !== undefined) return `invalid path template ${JSON.stringify(p)}: {*} and {**} must be whole segments`;
    const multi = segments.indexOf('{**}');
    if (multi >= 0 && segments.slice(multi + 1).some((s) => s === '{*}' || s === '{**}')) return `invalid path template ${JSON.stringify(p)}: {**} must be the last operator`;
    return undefined;
  }
  if (p === '*' || !p.includes('*')) return undefined;
  const stars = p.split('*').length - 1;
  if (stars === 1 && (p.startsWith('*') || p.endsWith('*'))) return undefined;
  return `path ${JSON.stringify(p)} uses "*" inside: only exact, prefix ("/api/*"), suffix ("*.json") and presence ("*") matches are supported`;
}
