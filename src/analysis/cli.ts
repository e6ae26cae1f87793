#!/usr/bin/env node
import * as fs from 'fs';
import { MeshAnalysis } from './analysis';
import { GraphOptions, TopologyGraph } from './graph';
import { parseManifestText } from './manifests';
import { PolicySimulator } from './simulator';

const USAGE = `Usage:
  cdk8s-mesh analyze <files or folders...> [--output human|json]
  cdk8s-mesh graph <files or folders...> [--format mermaid|dot] [--no-access]
  cdk8s-mesh can-call <source> <destination> <files or folders...> [--method M] [--path P] [--port N] [--header name:value]...

Folders are read recursively (*.yaml, *.yml, *.json). <source> is a workload, Service or ServiceAccount and
<destination> a Service or workload, as name or namespace/name.

Common options:
  --default-namespace NS   namespace of objects that name none (default: default)
  --root-namespace NS      Istio's root namespace (default: istio-system)
  --trust-domain TD        trust domain of workload identities (default: cluster.local)
  --mesh-config FILE       a MeshConfig YAML document, for the checks that read it

Exit status: analyze 1 when a finding is an Error; can-call 1 when the call is refused; 2 on usage errors.
`;

class UsageError extends Error {}

interface Parsed {
  readonly positional: string[];
  readonly options: Map<string, string[]>;
}

const FLAGS = ['--no-access'];

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
      case 'can-call': {
        const p = parse(rest, [...COMMON, '--method', '--path', '--port', '--header', '--output']);
        const json = one(p, '--output', ['human', 'json']) === 'json';
        const [source, destination, ...paths] = p.positional;
        if (!source || !destination) throw new UsageError('can-call needs <source> <destination> and the manifests');
        const port = one(p, '--port');
        if (port !== undefined && !/^\d+$/.test(port)) throw new UsageError('--port must be a number');
        const headers = Object.fromEntries((p.options.get('--header') ?? []).map((h) => {
          const i = h.indexOf(':');
          if (i <= 0) throw new UsageError(`--header must be name:value, got "${h}"`);
          return [h.slice(0, i).trim(), h.slice(i + 1).trim()];
        }));
        const decision = new PolicySimulator(load(paths), optionsOf(p))
          .call(source, destination, { method: one(p, '--method'), path: one(p, '--path'), port: port ? Number(port) : undefined, headers });
        out(json ? JSON.stringify(decision, null, 2) + '\n' : `${decision.kind}: ${decision.explanation}\n`);
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
