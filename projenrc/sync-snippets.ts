/**
 * Copies each snippet file into the Markdown fences that name it:
 *
 *   <!-- snippet: test/docs/snippets/<file>.ts -->
 *   ```ts
 *   …replaced by the file's content…
 *   ```
 *
 * test/docs.test.ts fails when a fence and its file differ; this task makes them equal again
 * after a snippet (or eslint --fix) changed the file.
 */
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..');
const docs = ['README.md', ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
for (const doc of docs) {
  const file = path.join(root, doc);
  const text = fs.readFileSync(file, 'utf8');
  const synced = text.replace(/(<!-- snippet: (\S+) -->\n```ts\n)[\s\S]*?(\n```)/g,
    (_m, open: string, snippet: string, close: string) => open + fs.readFileSync(path.join(root, snippet), 'utf8').trimEnd() + close);
  if (synced !== text) {
    fs.writeFileSync(file, synced);
    console.log(`synced ${doc}`);
  }
}
