#!/usr/bin/env node
import * as fs from 'fs';
import { MeshAnalysis } from './analysis';
import { GraphOptions, TopologyGraph } from './graph';
import { parseManifestText } from './manifests';
import { JwtToken, MeshSimulator, RequestTrace, TraceRequest } from './simulator';
import { formatTrace } from './trace-format';

const USAGE = `Usage:
  cdk8s-mesh analyze <files or folders...> [--output human|json]
  cdk8s-mesh graph <files or folders...> [--format mermaid|dot] [--no-access]
  cdk8s-mesh trace <source> <files or folders...> (--host H | --to DESTINATION) [request options] [--output human|json]
  cdk8s-mesh can-call <source> <destination> <files or folders...> [request options] [--output human|json]

Folders are read recursively (*.yaml, *.yml, *.json). <source> is a workload, Service or ServiceAccount (name or
namespace/name), or "-" for a client outside the mesh. A destination is a Service, workload or host.

Request options:
  --gateway GW             enter through this ingress gateway (an Istio Gateway, name or namespace/name)
  --host H                 the Host header (a short name, name.namespace, an FQDN or an external host)
  --method M               (default GET)       --path P   (default /, a query string allowed)
  --port N                 the port connected to (default: the destination's first port)
  --header name:value      a request header; repeat for more (the same name twice is joined with a comma)
  --source-ip IP           the caller's address
  --token-issuer ISS       send a JWT: its iss; with --token-subject SUB, --token-audience AUD (repeatable),
                           --token-claim name=value (repeatable; a repeated name makes a list), --token-invalid

Common options:
  --default-namespace NS   namespace of objects that name none (default: default)
  --root-namespace NS      Istio's root namespace (default: istio-system)
  --trust-domain TD        trust domain of workload identities (default: cluster.local)
  --mesh-config FILE       a MeshConfig YAML document, for the checks that read it

Exit status: analyze 1 when a finding is an Error; trace and can-call 1 when the request is not delivered; 2 on usage errors.
`;

class UsageError extends Error {}

interface Parsed {
  readonly positional: string[];
  readonly options: Map<string, string[]>;
}

const FLAGS = ['--no-access', '--token-invalid'];

function parse(args: string[], allowed: string[]): Parsed {
  const positional: string[] = [];
  const options = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (!allowed.includes(name)) throw new UsageError(`unknown option ${name}`);
    if (FLAGS.includes(name)) {
      options.set(name, ['true']);
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined) throw new UsageError(`${name} needs a value`);
    options.set(name, [...(options.get(name) ?? []), value]);
  }
  return { positional, options };
}

function one(p: Parsed, name: string, choices?: string[]): string | undefined {
  const value = p.options.get(name)?.slice(-1)[0];
  if (value !== undefined && choices && !choices.includes(value)) throw new UsageError(`${name} must be one of ${choices.join(', ')}`);
  return value;
}

function optionsOf(p: Parsed): GraphOptions {
  const meshConfigFile = one(p, '--mesh-config');
  return {
    defaultNamespace: one(p, '--default-namespace'),
    rootNamespace: one(p, '--root-namespace'),
    trustDomain: one(p, '--trust-domain'),
    meshConfig: meshConfigFile ? parseManifestText(fs.readFileSync(meshConfigFile, 'utf8'), meshConfigFile)[0] : undefined,
    includeAccess: !p.options.has('--no-access'),
  };
}

function load(paths: string[]): any[] {
  if (paths.length === 0) throw new UsageError('no files or folders given');
  for (const p of paths) if (!fs.existsSync(p)) throw new UsageError(`no such file or folder: ${p}`);
  return MeshAnalysis.loadFiles(paths);
}

const COMMON = ['--default-namespace', '--root-namespace', '--trust-domain', '--mesh-config'];
const REQUEST = ['--gateway', '--host', '--method', '--path', '--port', '--header', '--source-ip',
  '--token-issuer', '--token-subject', '--token-audience', '--token-claim', '--token-invalid'];

/** The request the options describe (`-` as source: a client outside the mesh). */
function requestOf(p: Parsed, source: string): TraceRequest {
  const port = one(p, '--port');
  if (port !== undefined && !/^\d+$/.test(port)) throw new UsageError('--port must be a number');
  const headers: Record<string, string> = {};
  for (const h of p.options.get('--header') ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) throw new UsageError(`--header must be name:value, got "${h}"`);
    const name = h.slice(0, i).trim();
    const value = h.slice(i + 1).trim();
    const existing = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
    if (existing) headers[existing] = `${headers[existing]},${value}`;
    else headers[name] = value;
  }
  return {
    source: source === '-' ? undefined : source,
    gateway: one(p, '--gateway'),
    host: one(p, '--host'),
    method: one(p, '--method'),
    path: one(p, '--path'),
    port: port ? Number(port) : undefined,
    headers,
    sourceIp: one(p, '--source-ip'),
    token: tokenOf(p),
  };
}

function tokenOf(p: Parsed): JwtToken | undefined {
  const issuer = one(p, '--token-issuer');
  if (issuer === undefined) {
    if (['--token-subject', '--token-audience', '--token-claim', '--token-invalid'].some((o) => p.options.has(o))) throw new UsageError('the token options need --token-issuer');
    return undefined;
  }
  const claims: Record<string, unknown> = {};
  for (const c of p.options.get('--token-claim') ?? []) {
    const i = c.indexOf('=');
    if (i <= 0) throw new UsageError(`--token-claim must be name=value, got "${c}"`);
    const name = c.slice(0, i);
    const value = c.slice(i + 1);
    const existing = claims[name];
    claims[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return {
    issuer,
    subject: one(p, '--token-subject') ?? issuer,
    audiences: p.options.get('--token-audience'),
    claims,
    valid: !p.options.has('--token-invalid'),
  };
}

function describeOutcome(trace: RequestTrace): string {
  return `outcome: ${trace.outcome}${trace.status !== undefined ? ` (${trace.status})` : ''}\n`;
}

/** Runs the command line; returns the exit status (exported for tests that run it in-process). */
export function main(args: string[], out: (text: string) => void, err: (text: string) => void): number {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case 'analyze': {
        const p = parse(rest, [...COMMON, '--output']);
        const json = one(p, '--output', ['human', 'json']) === 'json';
        if (p.positional.length === 0) throw new UsageError('no files or folders given');
        for (const f of p.positional) if (!fs.existsSync(f)) throw new UsageError(`no such file or folder: ${f}`);
        // Syntax errors and templates are findings with their file and line, not a failed run.
        const findings = MeshAnalysis.analyzeFiles(p.positional, optionsOf(p));
        out(json ? JSON.stringify(findings, null, 2) + '\n' : MeshAnalysis.format(findings));
        return MeshAnalysis.hasErrors(findings) ? 1 : 0;
      }
      case 'graph': {
        const p = parse(rest, [...COMMON, '--format', '--no-access']);
        const format = one(p, '--format', ['mermaid', 'dot']) ?? 'mermaid';
        const manifests = load(p.positional);
        out(format === 'dot' ? TopologyGraph.dot(manifests, optionsOf(p)) : TopologyGraph.mermaid(manifests, optionsOf(p)));
        return 0;
      }
      case 'trace': {
        const p = parse(rest, [...COMMON, ...REQUEST, '--to', '--output']);
        const [source, ...paths] = p.positional;
        if (!source) throw new UsageError('trace needs <source> and the manifests');
        const destination = one(p, '--to');
        if (!destination && one(p, '--host') === undefined && !p.options.has('--gateway')) throw new UsageError('trace needs --host or --to');
        const trace = new MeshSimulator(load(paths), optionsOf(p)).trace({ ...requestOf(p, source), destination });
        out(one(p, '--output', ['human', 'json']) === 'json' ? JSON.stringify(trace, null, 2) + '\n' : formatTrace(trace));
        return trace.allowed ? 0 : 1;
      }
      case 'can-call': {
        const p = parse(rest, [...COMMON, ...REQUEST, '--output']);
        const json = one(p, '--output', ['human', 'json']) === 'json';
        const [source, destination, ...paths] = p.positional;
        if (!source || !destination) throw new UsageError('can-call needs <source> <destination> and the manifests');
        const decision = new MeshSimulator(load(paths), optionsOf(p)).decide({ ...requestOf(p, source), destination });
        const { trace, ...verdict } = decision;
        out(json ? JSON.stringify({ ...verdict, trace }, null, 2) + '\n' : `${decision.kind}: ${decision.explanation}\n${describeOutcome(trace)}`);
        return decision.allowed ? 0 : 1;
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        (command ? out : err)(USAGE);
        return command ? 0 : 2;
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (e) {
    // Bad arguments, unreadable or unparseable files, unknown workloads: no result, so status 2 (not 1).
    err(`cdk8s-mesh: ${(e as Error).message}\n${e instanceof UsageError ? `\n${USAGE}` : ''}`);
    return 2;
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2), (t) => process.stdout.write(t), (t) => process.stderr.write(t));
}
