/**
 * Benchmark 2: aggregate output throughput of 8 sessions streaming at once (each its own socket),
 * beside one session streaming the same amount through the same gateway in the same round.
 */
import type { BenchGateway } from './lib/gateway.js';
import { MB } from './lib/stats.js';
import { streamGenerator, waitForPrompt } from './lib/stream.js';
import type { Benchmark } from './lib/types.js';
import { COLS, ROWS } from './throughput.js';

/** Sessions streaming at once (the 8). */
export const PARALLEL_SESSIONS = 8;
/** Megabytes each session prints: 8 × 25 = the 200 MB of benchmark 1. */
export const MB_PER_SESSION = { quick: 1, full: 25 };

async function streams(
  gw: BenchGateway,
  count: number,
  mb: number,
): Promise<{ mbPerS: number; bytes: number; seconds: number }> {
  const sessions = await Promise.all(
    Array.from({ length: count }, async () => {
      const client = await gw.client();
      const s = await client.createShell(COLS, ROWS);
      await waitForPrompt(client, s.id);
      return { client, id: s.id };
    }),
  );
  const runs = sessions.map(({ client, id }) => streamGenerator(client, id, `--mb ${mb}`));
  const results = await Promise.all(runs.map((r) => r.done));
  await Promise.all(sessions.map(({ client, id }) => client.closeSession(id)));
  const first = Math.min(...results.map((r) => r.startedAt));
  const last = Math.max(...results.map((r) => r.endedAt));
  const bytes = results.reduce((s, r) => s + r.bytes, 0);
  const seconds = (last - first) / 1000;
  return { mbPerS: bytes / MB / seconds, bytes, seconds };
}

export const aggregateThroughput: Benchmark = {
  name: 'aggregate-throughput',
  id: '2',
  title: 'Aggregate throughput of 8 sessions streaming at once',
  rounds: { quick: 1, full: 3 },
  async run(ctx) {
    const mb = ctx.quick ? MB_PER_SESSION.quick : MB_PER_SESSION.full;
    const { gw, release } = await ctx.gateway();
    try {
      ctx.log(`1 session × ${mb} MB`);
      const one = await streams(gw, 1, mb);
      ctx.log(`${PARALLEL_SESSIONS} sessions × ${mb} MB`);
      const many = await streams(gw, PARALLEL_SESSIONS, mb);
      return [
        {
          metric: `aggregate MB/s, ${PARALLEL_SESSIONS} sessions`,
          unit: 'MB/s',
          value: many.mbPerS,
          baseline: { label: '1 session', value: one.mbPerS },
          target: { kind: 'ratioAtLeast', value: 1.6 },
          note: `${mb} MB each`,
        },
      ];
    } finally {
      await release();
    }
  },
};
