/**
 * Benchmark 8: gateway start to ready (DB open, migrations, workers forked and ready, port
 * listening), on a fresh data folder (migrations run) and again on the same folder (restart).
 * Two figures: the wall time from fork to the `gateway_ready` IPC message (includes Node and
 * tsx loading the sources, as `npm run dev` and the tests run it), and the gateway's own
 * measurement in its `gateway ready` log line (from constructing the Gateway to listening).
 */
import fs from 'node:fs';
import path from 'node:path';
import { GatewayProcess } from '../test/helpers/gateway-process.js';
import { median } from './lib/stats.js';
import type { Benchmark } from './lib/types.js';

/** Starts per round (each: fresh folder, then a restart on it). */
export const STARTS = { quick: 1, full: 3 };

/** The `ms` of the last `gateway ready` line in the gateway's combined.log. */
function loggedReadyMs(logDir: string): number {
  try {
    const lines = fs.readFileSync(path.join(logDir, 'combined.log'), 'utf8').trim().split('\n').reverse();
    for (const l of lines) {
      const entry = JSON.parse(l) as { msg?: string; ms?: number };
      if (entry.msg === 'gateway ready' && typeof entry.ms === 'number') return entry.ms;
    }
  } catch {
    // no log
  }
  return Number.NaN;
}

async function timedStart(dir?: string): Promise<{ wallMs: number; ownMs: number; g: GatewayProcess }> {
  const t0 = performance.now();
  const g = await GatewayProcess.start({ env: { WORKER_COUNT: '2' }, ...(dir ? { dir } : {}) });
  const wallMs = performance.now() - t0;
  return { wallMs, ownMs: loggedReadyMs(g.env.LOG_DIR as string), g };
}

export const startup: Benchmark = {
  name: 'startup',
  id: '8',
  title: 'Gateway start to ready',
  rounds: { quick: 1, full: 3 },
  async run(ctx) {
    const fresh: number[] = [];
    const freshOwn: number[] = [];
    const restart: number[] = [];
    const restartOwn: number[] = [];
    for (let i = 0; i < (ctx.quick ? STARTS.quick : STARTS.full); i++) {
      const first = await timedStart();
      fresh.push(first.wallMs);
      freshOwn.push(first.ownMs);
      await first.g.stop();
      const again = await timedStart(first.g.dir);
      restart.push(again.wallMs);
      restartOwn.push(again.ownMs);
      await again.g.stop();
      again.g.cleanup();
    }
    return [
      {
        metric: 'fork → ready, fresh DB (from sources via tsx)',
        unit: 'ms',
        value: median(fresh),
        target: { kind: 'atMost', value: 1500 },
      },
      {
        metric: 'fork → ready, restart on the same DB',
        unit: 'ms',
        value: median(restart),
        target: { kind: 'atMost', value: 1500 },
      },
      { metric: 'in-process: Gateway() → listening, fresh DB', unit: 'ms', value: median(freshOwn) },
      { metric: 'in-process: Gateway() → listening, restart', unit: 'ms', value: median(restartOwn) },
    ];
  },
};
