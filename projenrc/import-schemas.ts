/**
 * Regenerates src/schemas/*.json (see projenrc/schemas.ts) from the CRDs in MESH_CRDS_DIR, or
 * ../shared/crds next to this checkout, and from cdk8s-plus-27. The CRDs are never copied into
 * the repository.
 */
import * as fs from 'fs';
import * as path from 'path';
import { generateSchemaFiles } from './schemas';

const root = path.resolve(__dirname, '..');
const crdsDir = path.resolve(process.env.MESH_CRDS_DIR ?? path.join(root, '..', 'shared', 'crds'));
const out = path.join(root, 'src', 'schemas');
fs.mkdirSync(out, { recursive: true });
for (const [file, text] of generateSchemaFiles(crdsDir)) {
  fs.writeFileSync(path.join(out, file), text);
  const data = JSON.parse(text);
  console.log(`${file}: ${Object.keys(data.kinds).length} kinds, ${data.nodes.length} nodes, ${(text.length / 1024).toFixed(0)} KiB`);
}
