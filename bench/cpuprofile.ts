// Summarizes a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time
// and the most total (inclusive) time, with their source locations.
//
//   node --cpu-prof --cpu-prof-dir=/tmp/prof -r ts-node/register/transpile-only bench/run.ts 1000
//   npx ts-node --transpile-only bench/cpuprofile.ts /tmp/prof/<file>.cpuprofile [top]
import * as fs from 'fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: number[];
}
interface Profile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

/** Self and inclusive milliseconds per function (by name and location). */
export function summarize(profile: Profile): { name: string; selfMs: number; totalMs: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const label = (n: ProfileNode) => {
    const f = n.callFrame;
    const file = f.url.replace(/^.*\/(node_modules\/)?/, (m) => (m.includes('node_modules') ? 'node_modules/' : ''));
    return `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const [id, us] of selfUs) {
    self.set(label(byId.get(id)!), (self.get(label(byId.get(id)!)) ?? 0) + us);
    // Inclusive time: once per distinct function on the stack (recursion counted once).
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!);
      if (seen.has(l)) continue;
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + us);
    }
  }
  return [...total.keys()].map((name) => ({ name, selfMs: (self.get(name) ?? 0) / 1000, totalMs: total.get(name)! / 1000 }));
}

if (require.main === module) {
  const [file, top = '30'] = process.argv.slice(2);
  const rows = summarize(JSON.parse(fs.readFileSync(file, 'utf8')));
  const print = (title: string, key: 'selfMs' | 'totalMs') => {
    console.log(`\n${title}`);
    for (const r of [...rows].sort((a, b) => b[key] - a[key]).slice(0, Number(top))) {
      console.log(`${r[key].toFixed(0).padStart(8)} ms  ${r.name}`);
    }
  };
  print('self time', 'selfMs');
  print('total time', 'totalMs');
}
