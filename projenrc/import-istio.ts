/**
 * Regenerates the typed Istio bindings in src/imports from Istio's CRD bundle.
 *
 * Each kind keeps one version: `v1` where Istio serves it, otherwise the storage version
 * (EnvoyFilter v1alpha3, ProxyConfig v1beta1, WasmPlugin/TrafficExtension v1alpha1). Every
 * served version of a kind has the same schema, so nothing is lost, and the bindings stay a
 * third of the size of an all-versions import.
 *
 * The CRD file is read from ISTIO_CRDS, or from ../shared/crds/istio next to this checkout.
 * It is never copied into the repository.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { convertLinearly } from './linear-conversions';

const root = path.resolve(__dirname, '..');
const crdFile = process.env.ISTIO_CRDS
  ?? path.resolve(root, '..', 'shared', 'crds', 'istio', 'customresourcedefinitions.gen.yaml');
if (!fs.existsSync(crdFile)) {
  throw new Error(`Istio CRD bundle not found at ${crdFile}; set ISTIO_CRDS to its path`);
}

/**
 * Istio keeps deprecated snake_case aliases next to some fields (`jwks_uri` / `jwksUri`,
 * `mirror_percent` / `mirrorPercent`). cdk8s import camel-cases both to one TypeScript name and
 * would write the deprecated spelling (cdk8s-team/cdk8s#2158); drop each alias whose
 * camelCase twin exists.
 */
function dropSnakeCaseAliases(schema: any): any {
  if (Array.isArray(schema)) return schema.map(dropSnakeCaseAliases);
  if (!schema || typeof schema !== 'object') return schema;
  const out: any = {};
  for (const [key, value] of Object.entries(schema)) out[key] = dropSnakeCaseAliases(value);
  if (out.properties && typeof out.properties === 'object') {
    for (const name of Object.keys(out.properties)) {
      const camel = name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
      if (camel !== name && camel in out.properties) {
        delete out.properties[name];
        dropped.add(name);
      }
    }
  }
  return out;
}
const dropped = new Set<string>();

const kept: string[] = [];
const docs = YAML.parseAllDocuments(fs.readFileSync(crdFile, 'utf8'))
  .map((d) => d.toJS())
  .filter((crd) => crd?.kind === 'CustomResourceDefinition')
  .map((crd) => {
    const versions: any[] = crd.spec.versions;
    const chosen = versions.find((v) => v.name === 'v1' && v.served) ?? versions.find((v) => v.storage);
    kept.push(`${crd.spec.names.kind} ${crd.spec.group}/${chosen.name}`);
    const version = { ...chosen, storage: true, schema: dropSnakeCaseAliases(chosen.schema) };
    return { ...crd, spec: { ...crd.spec, versions: [version] } };
  });

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'istio-crds-'));
const filtered = path.join(tmp, 'istio-crds.yaml');
fs.writeFileSync(filtered, docs.map((d) => YAML.stringify(d)).join('---\n'));

const out = path.join(root, 'src', 'imports');
fs.rmSync(out, { recursive: true, force: true });
execFileSync('npx', ['cdk8s', 'import', filtered, '-o', out, '-l', 'typescript', '--no-check-upgrade'], {
  cwd: root,
  stdio: 'inherit',
});
fs.rmSync(tmp, { recursive: true, force: true });

// Fixes to the generated code:
// - cdk8s import spells an underscore inside an enum literal as `_UNDERSCORE_`
//   (MESH_UNDERSCORE_EXTERNAL); give members the names of the Istio literals (MESH_EXTERNAL);
// - the toJson_* conversions (run for every object at every synthesis) build each object with
//   every field, then drop the undefined ones by rebuilding it once per key (`reduce` with a
//   spread: quadratic in the keys; maps the same); write each defined field once instead, with
//   the same output. See convertLinearly in projenrc/linear-conversions.ts.
for (const file of fs.readdirSync(out)) {
  const target = path.join(out, file);
  const generated = fs.readFileSync(target, 'utf8');
  const source = convertLinearly(generated.replace(/^(\s+)([A-Z0-9_]+) = "/gm,
    (_match, indent: string, member: string) => `${indent}${member.replace(/_UNDERSCORE_/g, '_')} = "`), file);
  if (/_UNDERSCORE_/.test(source)) throw new Error(`${file}: an _UNDERSCORE_ name is left outside an enum member`);
  fs.writeFileSync(target, source);
}

console.log(`imported ${kept.length} kinds from ${crdFile}:\n  ${kept.sort().join('\n  ')}`);
console.log(`dropped deprecated snake_case aliases: ${[...dropped].sort().join(', ')}`);
