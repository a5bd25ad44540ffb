/**
 * The interface every benchmark module implements, and the shape of what one round reports.
 * The runner (bench/run.ts) repeats rounds, takes medians and judges targets; a module only
 * measures.
 */
import type { BenchGateway } from './gateway.js';

/**
 * How a figure is judged against its target, using the medians over rounds:
 * - `atLeast` / `atMost`: the value itself (e.g. lag p99 ≤ 10 ms);
 * - `ratioAtLeast` / `ratioAtMost`: value ÷ baseline (e.g. ≥ 0.8 × baseline);
 * - `addedAtMost`: value − baseline (e.g. echo p99 adds ≤ 1 ms to the in-process echo).
 */
export type Target =
  | { kind: 'atLeast'; value: number }
  | { kind: 'atMost'; value: number }
  | { kind: 'ratioAtLeast'; value: number }
  | { kind: 'ratioAtMost'; value: number }
  | { kind: 'addedAtMost'; value: number };

/** One figure of one round. */
export interface Measurement {
  /** Stable within a benchmark, e.g. "MB/s" or "echo p99 (8 streams)". */
  metric: string;
  unit: string;
  value: number;
  /** The same figure measured on the baseline in the same round. */
  baseline?: { label: string; value: number };
  target?: Target;
  /** Short context shown beside the row (e.g. what was counted). */
  note?: string;
}

export interface BenchContext {
  quick: boolean;
  /** 0-based round number, and how many rounds this benchmark runs. */
  round: number;
  rounds: number;
  /** Progress lines on stderr (the table goes to stdout). */
  log(message: string): void;
  /** Scratch state a module keeps between its rounds (fixtures built once). */
  cache: Map<string, unknown>;
  /**
   * A real gateway for this round: a fresh one (with `env`) in full mode, released (stopped)
   * by `release()`; in quick mode one gateway shared by the whole run, so that the suite fits
   * in a minute (`env` is then ignored; the shared one runs with BCRYPT_ROUNDS=12).
   */
  gateway(env?: Record<string, string>): Promise<GatewayLease>;
}

export interface GatewayLease {
  gw: BenchGateway;
  release(): Promise<void>;
}

export interface Benchmark {
  /** CLI name, e.g. "throughput". */
  name: string;
  /** The target row(s) of issue 6 this covers ("1", "2", …) or the issue it comes from. */
  id: string;
  title: string;
  rounds: { quick: number; full: number };
  run(ctx: BenchContext): Promise<Measurement[]>;
}
