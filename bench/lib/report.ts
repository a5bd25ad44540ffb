/**
 * Aggregates rounds into medians and judges targets on them; renders the JSON and the markdown
 * table that `npm run bench` writes to bench/results/.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { median, percentile, round3 } from './stats.js';
import type { Benchmark, Measurement, Target } from './types.js';

export type Verdict = 'met' | 'not met' | '';

export interface MetricResult {
  metric: string;
  unit: string;
  values: number[];
  median: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
  baseline?: { label: string; values: number[]; median: number };
  /** median value ÷ median baseline. */
  ratio?: number;
  target?: Target;
  targetText?: string;
  verdict: Verdict;
  note?: string;
}

export interface BenchmarkResult {
  name: string;
  id: string;
  title: string;
  rounds: number;
  seconds: number;
  error?: string;
  metrics: MetricResult[];
}

export interface Results {
  generatedAt: string;
  quick: boolean;
  commit: string;
  machine: {
    cpus: number;
    cpuModel: string;
    totalMemBytes: number;
    node: string;
    platform: string;
    release: string;
    loadAvgAtStart: number[];
  };
  benchmarks: BenchmarkResult[];
}

export function machineInfo(): Results['machine'] {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    totalMemBytes: os.totalmem(),
    node: process.version,
    platform: os.platform(),
    release: os.release(),
    loadAvgAtStart: os.loadavg().map((v) => round3(v)),
  };
}

export function gitCommit(cwd: string): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd,
      encoding: 'utf8',
    }).trim();
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

export function targetText(t: Target, unit: string): string {
  switch (t.kind) {
    case 'atLeast':
      return `≥ ${t.value} ${unit}`;
    case 'atMost':
      return `≤ ${t.value} ${unit}`;
    case 'ratioAtLeast':
      return `≥ ${t.value} × baseline`;
    case 'ratioAtMost':
      return `≤ ${t.value} × baseline`;
    case 'addedAtMost':
      return `baseline + ≤ ${t.value} ${unit}`;
  }
}

function judge(t: Target, value: number, baseline: number | undefined): Verdict {
  if (!Number.isFinite(value)) return 'not met';
  const needsBaseline = t.kind === 'ratioAtLeast' || t.kind === 'ratioAtMost' || t.kind === 'addedAtMost';
  if (needsBaseline && (baseline === undefined || !Number.isFinite(baseline))) return 'not met';
  const b = baseline as number;
  switch (t.kind) {
    case 'atLeast':
      return value >= t.value ? 'met' : 'not met';
    case 'atMost':
      return value <= t.value ? 'met' : 'not met';
    case 'ratioAtLeast':
      return value / b >= t.value ? 'met' : 'not met';
    case 'ratioAtMost':
      return value / b <= t.value ? 'met' : 'not met';
    case 'addedAtMost':
      return value - b <= t.value ? 'met' : 'not met';
  }
}

/** Folds the rounds of one benchmark (metrics in the order first seen). */
export function aggregate(rounds: Measurement[][]): MetricResult[] {
  const byMetric = new Map<string, Measurement[]>();
  for (const round of rounds) {
    for (const m of round) {
      const list = byMetric.get(m.metric) ?? [];
      list.push(m);
      byMetric.set(m.metric, list);
    }
  }
  const out: MetricResult[] = [];
  for (const [metric, list] of byMetric) {
    const first = list[0] as Measurement;
    const values = list.map((m) => m.value);
    const med = median(values);
    const baseValues = list.flatMap((m) => (m.baseline ? [m.baseline.value] : []));
    const baseline = first.baseline
      ? { label: first.baseline.label, values: baseValues, median: median(baseValues) }
      : undefined;
    const ratio = baseline ? med / baseline.median : undefined;
    const r: MetricResult = {
      metric,
      unit: first.unit,
      values,
      median: med,
      p50: percentile(values, 50),
      p99: percentile(values, 99),
      min: Math.min(...values),
      max: Math.max(...values),
      verdict: first.target ? judge(first.target, med, baseline?.median) : '',
    };
    if (baseline) r.baseline = baseline;
    if (ratio !== undefined) r.ratio = ratio;
    if (first.target) {
      r.target = first.target;
      r.targetText = targetText(first.target, first.unit);
    }
    const note = list.map((m) => m.note).find((n) => n !== undefined);
    if (note !== undefined) r.note = note;
    out.push(r);
  }
  return out;
}

export function benchmarkResult(
  b: Benchmark,
  rounds: Measurement[][],
  seconds: number,
  error?: string,
): BenchmarkResult {
  const r: BenchmarkResult = {
    name: b.name,
    id: b.id,
    title: b.title,
    rounds: rounds.length,
    seconds: round3(seconds),
    metrics: aggregate(rounds),
  };
  if (error !== undefined) r.error = error;
  return r;
}

const fmt = (v: number | undefined, unit = ''): string => {
  if (v === undefined) return '';
  if (!Number.isFinite(v)) return String(v);
  return `${round3(v)}${unit ? ` ${unit}` : ''}`;
};

export function markdown(results: Results): string {
  const m = results.machine;
  const lines = [
    `# Benchmarks${results.quick ? ' (quick mode: small sizes, figures not comparable to targets)' : ''}`,
    '',
    `${results.generatedAt} · commit ${results.commit} · ${m.cpus} × ${m.cpuModel} · ${Math.round(m.totalMemBytes / 2 ** 30)} GiB · Node ${m.node} · load at start ${m.loadAvgAtStart.join(' ')}`,
    '',
    'Values are medians over the rounds shown; baselines are measured in the same rounds.',
    '',
    '| # | benchmark | metric | value | baseline | ratio | target | verdict |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const b of results.benchmarks) {
    if (b.error)
      lines.push(
        `| ${b.id} | ${b.name} | **failed** | ${b.error.replace(/\|/g, '/').replace(/\n/g, ' ').slice(0, 200)} | | | | not met |`,
      );
    for (const r of b.metrics) {
      const base = r.baseline ? `${fmt(r.baseline.median, r.unit)} (${r.baseline.label})` : '';
      const ratio = r.ratio === undefined ? '' : `${fmt(r.ratio)}×`;
      const note = r.note ? ` — ${r.note}` : '';
      lines.push(
        `| ${b.id} | ${b.name} ×${b.rounds} | ${r.metric}${note} | ${fmt(r.median, r.unit)} | ${base} | ${ratio} | ${r.targetText ?? ''} | ${r.verdict} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
