/**
 * Summarises V8 .cpuprofile files (from `node --cpu-prof`): self time per function, and per
 * package/file, heaviest first. Used to find where the gateway and workers spend a benchmark.
 *
 *   node --import tsx bench/tools/cpu-profile-summary.ts <file.cpuprofile> [top=25]
 */
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  functions: { name: string; ms: number }[];
  files: { file: string; ms: number }[];
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const root = url.indexOf('/main/');
  return root >= 0 ? url.slice(root + '/main/'.length) : url || '(native)';
}

export function summarise(file: string, top = 25): ProfileSummary {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  }
  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  let idle = 0;
  let total = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id) as ProfileNode;
    total += ms;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') idle += ms;
    const url = shortUrl(n.callFrame.url);
    const key = `${name} ${url}:${n.callFrame.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + ms);
    const pkg = url.startsWith('@')
      ? url.split('/').slice(0, 2).join('/')
      : url.split('/')[0] === url
        ? url
        : url
            .split('/')
            .slice(0, url.includes('node_modules') ? 1 : 2)
            .join('/');
    files.set(pkg, (files.get(pkg) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
  return {
    totalMs: total,
    idleMs: idle,
    functions: sorted(fn).map(([name, ms]) => ({ name, ms })),
    files: sorted(files).map(([file, ms]) => ({ file, ms })),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: cpu-profile-summary.ts <file.cpuprofile> [top]');
  const s = summarise(file, Number(process.argv[3] ?? 25));
  const pct = (ms: number) => `${((100 * ms) / s.totalMs).toFixed(1)}%`;
  console.log(`${file}: ${s.totalMs.toFixed(0)} ms sampled, idle ${pct(s.idleMs)}`);
  console.log('-- by package / file');
  for (const f of s.files) console.log(`${pct(f.ms).padStart(6)} ${f.ms.toFixed(0).padStart(7)} ms  ${f.file}`);
  console.log('-- by function');
  for (const f of s.functions) console.log(`${pct(f.ms).padStart(6)} ${f.ms.toFixed(0).padStart(7)} ms  ${f.name}`);
}
