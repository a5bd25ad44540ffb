/**
 * Benchmark 3: keystroke echo round trip (one char to `cat`, wait for it) through gateway +
 * worker, idle and while 8 other sessions stream at full speed (writing history), beside the
 * same echo through node-pty in this process.
 */
import { measureEcho, SessionEcho } from './lib/echo.js';
import { startLoad } from './lib/load.js';
import { PtyEcho } from './lib/pty-direct.js';
import { MB, percentile } from './lib/stats.js';
import type { Benchmark } from './lib/types.js';

/** Keystrokes per measurement (the 2 000). */
export const KEYSTROKES = { quick: 200, full: 2000 };
/** Sessions streaming beside the echo in the loaded measurement (2 in quick mode). */
export const LOAD_SESSIONS = { quick: 2, full: 8 };

export const echoLatency: Benchmark = {
  name: 'echo-latency',
  id: '3',
  title: 'Keystroke echo round trip, idle and beside 8 streaming sessions',
  rounds: { quick: 1, full: 3 },
  async run(ctx) {
    const n = ctx.quick ? KEYSTROKES.quick : KEYSTROKES.full;
    const loaders = ctx.quick ? LOAD_SESSIONS.quick : LOAD_SESSIONS.full;
    const pty = new PtyEcho();
    let base: number[];
    try {
      await new Promise((r) => setTimeout(r, 200));
      base = await measureEcho(pty, n);
    } finally {
      await pty.close();
    }
    const { gw, release } = await ctx.gateway();
    try {
      const client = await gw.client();
      const echo = await SessionEcho.start(client);
      ctx.log(`idle: ${n} keystrokes`);
      const idle = await measureEcho(echo, n);
      ctx.log(`loaded: ${loaders} sessions streaming`);
      const load = await startLoad(gw, loaders);
      let loaded: number[];
      let loadMbPerS: number;
      try {
        const b0 = load.bytes();
        const t0 = performance.now();
        loaded = await measureEcho(echo, n);
        loadMbPerS = (load.bytes() - b0) / MB / ((performance.now() - t0) / 1000);
      } finally {
        await load.stop();
      }
      const baseP50 = percentile(base, 50);
      const baseP99 = percentile(base, 99);
      return [
        {
          metric: 'echo p50 idle',
          unit: 'ms',
          value: percentile(idle, 50),
          baseline: { label: 'node-pty in-process', value: baseP50 },
        },
        {
          metric: 'echo p99 idle',
          unit: 'ms',
          value: percentile(idle, 99),
          baseline: { label: 'node-pty in-process', value: baseP99 },
          target: { kind: 'addedAtMost', value: 1 },
        },
        {
          metric: `echo p50, ${loaders} sessions streaming`,
          unit: 'ms',
          value: percentile(loaded, 50),
          baseline: { label: 'node-pty in-process, idle', value: baseP50 },
        },
        {
          metric: `echo p99, ${loaders} sessions streaming`,
          unit: 'ms',
          value: percentile(loaded, 99),
          baseline: { label: 'node-pty in-process, idle', value: baseP99 },
          target: { kind: 'atMost', value: 15 },
        },
        { metric: `output of the ${loaders} streams meanwhile`, unit: 'MB/s', value: loadMbPerS },
      ];
    } finally {
      await release();
    }
  },
};
