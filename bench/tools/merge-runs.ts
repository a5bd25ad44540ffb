/**
 * Folds several `npm run bench` results (their latest.json) into one table: for each figure the
 * median over runs of the per-run medians (×N: how many runs had it), the verdict on that, and
 * each run's own verdict, so
 * "three runs give the same verdicts" can be read off directly.
 *
 *   node --import tsx bench/tools/merge-runs.ts <dir-or-json>... [--out file.md]
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BenchmarkResult, Results } from '../lib/report.js';
import { median, round3 } from '../lib/stats.js';

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args[outAt + 1] : undefined;
const inputs = args.filter((a, i) => a !== '--out' && i !== outAt + 1);
const runs = inputs.map(
  (p) => JSON.parse(fs.readFileSync(p.endsWith('.json') ? p : path.join(p, 'latest.json'), 'utf8')) as Results,
);
if (runs.length === 0) throw new Error('usage: merge-runs.ts <dir-or-json>... [--out file.md]');

const fmt = (v: number, unit = '') => (Number.isFinite(v) ? `${round3(v)}${unit ? ` ${unit}` : ''}` : String(v));
const lines = [
  `# Benchmarks: median of ${runs.length} runs`,
  '',
  `Runs: ${runs.map((r) => `${r.generatedAt} (${r.commit.slice(0, 7)})`).join(', ')} · ${runs[0]?.machine.cpus} cores · Node ${runs[0]?.machine.node}`,
  '',
  '| # | benchmark | metric | value | baseline | ratio | target | verdict | per run |',
  '|---|---|---|---|---|---|---|---|---|',
];
// Every benchmark that ran without error in some input, in order of first appearance; a
// benchmark can come from separate runs of it alone (`npm run bench -- logins`).
const byName = new Map<string, BenchmarkResult[]>();
for (const r of runs) {
  for (const b of r.benchmarks) {
    if (b.error) continue;
    const list = byName.get(b.name) ?? [];
    list.push(b);
    byName.set(b.name, list);
  }
}
for (const [name, results] of byName) {
  const b = results[0] as BenchmarkResult;
  for (const m of b.metrics) {
    const same = results.map((x) => x.metrics.find((y) => y.metric === m.metric));
    const values = same.flatMap((x) => (x ? [x.median] : []));
    const bases = same.flatMap((x) => (x?.baseline ? [x.baseline.median] : []));
    const value = median(values);
    const base = bases.length > 0 ? median(bases) : undefined;
    const ratio = base === undefined ? '' : `${fmt(value / base)}×`;
    let verdict = '';
    if (m.target) {
      const t = m.target;
      const b0 = base ?? Number.NaN;
      const ok =
        t.kind === 'atLeast'
          ? value >= t.value
          : t.kind === 'atMost'
            ? value <= t.value
            : t.kind === 'ratioAtLeast'
              ? value / b0 >= t.value
              : t.kind === 'ratioAtMost'
                ? value / b0 <= t.value
                : value - b0 <= t.value;
      verdict = ok ? 'met' : 'not met';
    }
    const perRun = m.target ? same.map((x) => (x ? x.verdict : '—')).join(' / ') : '';
    const baseText = base === undefined ? '' : `${fmt(base, m.unit)} (${m.baseline?.label})`;
    lines.push(
      `| ${b.id} | ${name} ×${results.length} | ${m.metric} | ${fmt(value, m.unit)} | ${baseText} | ${ratio} | ${m.targetText ?? ''} | ${verdict} | ${perRun} |`,
    );
  }
}
const table = `${lines.join('\n')}\n`;
if (out) fs.writeFileSync(out, table);
process.stdout.write(table);
