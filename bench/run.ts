/**
 * `npm run bench [-- --quick] [--rounds N] [--out DIR] [name ...]`
 *
 * Runs every benchmark (or the named ones) for several rounds, each beside its baseline in the
 * same round, then writes DIR/latest.json (every round's value, medians, p50/p99 over rounds,
 * the machine and the git commit) and DIR/latest.md (the table, also printed). DIR defaults to
 * bench/results. --quick shrinks every size so the whole suite takes well under a minute (the
 * test suite runs it to keep the benchmarks working; its figures are not the real ones).
 */
import fs from 'node:fs';
import path from 'node:path';
import { BENCH_DIR, GatewayPool } from './lib/gateway.js';
import { type BenchmarkResult, benchmarkResult, gitCommit, machineInfo, markdown, type Results } from './lib/report.js';
import type { BenchContext, Measurement } from './lib/types.js';
import { SUITE } from './suite.js';

/** A round that takes longer than this is abandoned (reported as failed), so a run always ends. */
const ROUND_TIMEOUT_MS = { quick: 60_000, full: 20 * 60_000 };

interface Args {
  quick: boolean;
  rounds: number | undefined;
  out: string;
  names: string[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, rounds: undefined, out: path.join(BENCH_DIR, 'results'), names: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--quick') args.quick = true;
    else if (a === '--rounds') args.rounds = Number(argv[++i]);
    else if (a === '--out') args.out = path.resolve(argv[++i] as string);
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else args.names.push(a);
  }
  const known = new Set(SUITE.map((b) => b.name));
  for (const n of args.names)
    if (!known.has(n)) throw new Error(`unknown benchmark ${n} (known: ${[...known].join(', ')})`);
  return args;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const selected = args.names.length > 0 ? SUITE.filter((b) => args.names.includes(b.name)) : SUITE;
  const t0 = performance.now();
  const log = (msg: string) =>
    process.stderr.write(`[bench +${((performance.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);
  const results: Results = {
    generatedAt: new Date().toISOString(),
    quick: args.quick,
    commit: gitCommit(path.resolve(BENCH_DIR, '..')),
    machine: machineInfo(),
    benchmarks: [],
  };
  // Shared by all benchmarks: e.g. history-persist reuses the throughput benchmark's streams.
  const cache = new Map<string, unknown>();
  const pool = new GatewayPool(args.quick);
  let failed = 0;
  for (const b of selected) {
    const rounds = args.rounds ?? (args.quick ? b.rounds.quick : b.rounds.full);
    const measured: Measurement[][] = [];
    const started = performance.now();
    let error: string | undefined;
    for (let round = 0; round < rounds; round++) {
      log(`${b.name}: round ${round + 1}/${rounds}`);
      const ctx: BenchContext = {
        quick: args.quick,
        round,
        rounds,
        log: (m) => log(`${b.name}: ${m}`),
        cache,
        gateway: (env) => pool.lease(env),
      };
      try {
        const ms = await withTimeout(
          b.run(ctx),
          args.quick ? ROUND_TIMEOUT_MS.quick : ROUND_TIMEOUT_MS.full,
          `${b.name} round ${round + 1}`,
        );
        for (const m of ms)
          log(`${b.name}: ${m.metric} = ${m.value}${m.baseline ? ` (baseline ${m.baseline.value})` : ''}`);
        measured.push(ms);
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
        log(`${b.name}: FAILED: ${err instanceof Error ? err.stack : error}`);
        failed++;
        break;
      }
    }
    const r: BenchmarkResult = benchmarkResult(b, measured, (performance.now() - started) / 1000, error);
    results.benchmarks.push(r);
  }
  await pool.close();
  fs.mkdirSync(args.out, { recursive: true });
  fs.writeFileSync(path.join(args.out, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  const table = markdown(results);
  fs.writeFileSync(path.join(args.out, 'latest.md'), table);
  process.stdout.write(table);
  log(`results written to ${path.join(args.out, 'latest.json')} and latest.md`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[bench] ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
