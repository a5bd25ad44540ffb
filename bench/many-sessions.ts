/**
 * Benchmark 4 (and issue 3's "100 sessions"): many live sessions at 120 columns, each printing a
 * coloured line every 100 ms with its own attached socket, until every scrollback is full.
 * Reports gateway and worker event-loop lag while all of them print, resident memory per
 * session (gateway + workers; PTY children excluded) beside a bare @xterm/headless terminal
 * holding the same lines, and session creation latency (sessions are created one after another
 * while the earlier ones already print).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { registerUser, uniqueName } from '../test/helpers/api.js';
import { BenchClient } from './lib/bench-client.js';
import { endLagWindow, type LagWindow, startLagWindow } from './lib/event-loop-lag.js';
import { BENCH_DIR } from './lib/gateway.js';
import { LINE_INTERVAL_MS, LOOP_DONE, manySessionsCommand } from './lib/many-sessions-line.js';
import { serverRss } from './lib/proc.js';
import { MiB, percentile, sleep } from './lib/stats.js';
import type { BenchContext, Benchmark, Measurement } from './lib/types.js';

/**
 * Session counts measured (issue 3's 100, issue 6's 500), spread over users of
 * SESSIONS_PER_USER each (the default per-user limit).
 */
export const SESSIONS = { quick: [20], full: [100, 500] };
export const SESSIONS_PER_USER = 20;
export const COLS = 120;
export const ROWS = 24;
/** The product default MAX_BUFFER_SIZE; the loop prints enough lines to fill it. */
export const SCROLLBACK = 1000;
/** Lines past a full scrollback, so every session is surely full (quick mode: a few seconds). */
const EXTRA_LINES = 50;
const QUICK_LINES = 30;
/** Bare terminals measured for the baseline (their mean is the figure). */
const BARE_TERMINALS = { quick: 5, full: 20 };
/** Sessions closed at once at the end. */
const CLOSE_CONCURRENCY = 25;
/** Waiting for the last loop to finish is bounded by its expected time plus this. */
const FINISH_GRACE_MS = 120_000;

function bareTerminalBytes(count: number, lines: number): number {
  const out = execFileSync(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      path.join(BENCH_DIR, 'fixtures/bare-terminal-rss.ts'),
      String(count),
      String(COLS),
      String(ROWS),
      String(SCROLLBACK),
      String(lines),
    ],
    { encoding: 'utf8', cwd: path.resolve(BENCH_DIR, '..') },
  );
  return (JSON.parse(out.trim().split('\n').pop() as string) as { perTerminalBytes: number }).perTerminalBytes;
}

async function closeAll(sessions: { client: BenchClient; id: string }[]): Promise<void> {
  for (let i = 0; i < sessions.length; i += CLOSE_CONCURRENCY) {
    await Promise.all(
      sessions.slice(i, i + CLOSE_CONCURRENCY).map(({ client, id }) => client.closeSession(id).catch(() => undefined)),
    );
  }
}

export const manySessions: Benchmark = {
  name: 'many-sessions',
  id: '4',
  title: 'Many sessions printing a line every 100 ms, all attached',
  rounds: { quick: 1, full: 1 },
  async run(ctx) {
    const out: Measurement[] = [];
    for (const n of ctx.quick ? SESSIONS.quick : SESSIONS.full) out.push(...(await runWith(ctx, n)));
    return out;
  },
};

async function runWith(ctx: BenchContext, n: number): Promise<Measurement[]> {
  const lines = ctx.quick ? QUICK_LINES : SCROLLBACK + ROWS + EXTRA_LINES;
  const { gw, release } = await ctx.gateway({
    MAX_SESSIONS_PER_USER: String(SESSIONS_PER_USER),
    MAX_BUFFER_SIZE: String(SCROLLBACK),
  });
  const sockets: BenchClient[] = [];
  const sessions: { client: BenchClient; id: string }[] = [];
  try {
    // Quick mode runs on the shared gateway: the admin alone (its limit is high there).
    const tokens = ctx.quick
      ? [gw.token]
      : await Promise.all(
          Array.from(
            { length: Math.ceil(n / SESSIONS_PER_USER) },
            async () => (await registerUser(gw.url, uniqueName('many'))).token,
          ),
        );
    await sleep(500);
    const rss0 = serverRss(gw.process.pid);
    const created: number[] = [];
    const done = new Set<string>();
    let firstDoneAt = Number.POSITIVE_INFINITY;
    ctx.log(`creating ${n} sessions (${tokens.length} users), each printing ${lines} lines`);
    for (let i = 0; i < n; i++) {
      const client = await BenchClient.authed(
        gw.wsUrl,
        tokens[Math.floor(i / SESSIONS_PER_USER) % tokens.length] as string,
      );
      sockets.push(client);
      const t0 = performance.now();
      const s = await client.createShell(COLS, ROWS);
      created.push(performance.now() - t0);
      sessions.push({ client, id: s.id });
      let tail = '';
      client.onOutput(s.id, (data) => {
        const seen = tail + data;
        tail = data.slice(-LOOP_DONE.length);
        if (!seen.includes(LOOP_DONE)) return;
        if (done.size === 0) firstDoneAt = performance.now();
        done.add(s.id);
        client.onOutput(s.id, undefined);
      });
      client.type(s.id, manySessionsCommand(lines));
    }
    const allCreatedAt = performance.now();
    await startLagWindow(gw.url);
    const printing = n - done.size;
    ctx.log(`all created; ${printing} printing; waiting for the loops to finish`);
    let lag: LagWindow | undefined;
    const deadline = performance.now() + lines * LINE_INTERVAL_MS + FINISH_GRACE_MS;
    while (done.size < n && performance.now() < deadline) {
      if (!lag && done.size > 0) lag = await endLagWindow(gw.url);
      await sleep(200);
    }
    lag ??= await endLagWindow(gw.url);
    if (done.size < n) throw new Error(`only ${done.size} of ${n} sessions finished their loop`);
    const missedFirst = sessions.filter(({ client, id }) => {
      const f = client.firstFrame.get(id);
      return !f || f.seq !== f.chars;
    }).length;
    const windowS = (Math.min(firstDoneAt, performance.now()) - allCreatedAt) / 1000;
    await sleep(500);
    const rss1 = serverRss(gw.process.pid);
    const perSession = (rss1.total - rss0.total) / n;
    ctx.log('bare-terminal baseline');
    const bare = bareTerminalBytes(ctx.quick ? BARE_TERMINALS.quick : BARE_TERMINALS.full, lines);
    ctx.log(`closing ${n} sessions`);
    await closeAll(sessions);
    const note = `${printing} printing during a ${windowS.toFixed(1)} s window${ctx.quick ? '; quick: scrollback not filled' : ''}`;
    const rows: Measurement[] = [
      {
        metric: 'gateway event-loop lag p99',
        unit: 'ms',
        value: lag.gatewayP99Ms,
        target: { kind: 'atMost', value: 10 },
        note,
      },
      { metric: 'gateway event-loop lag max', unit: 'ms', value: lag.gatewayMaxMs },
      {
        metric: 'worker event-loop lag p99 (mean of workers)',
        unit: 'ms',
        value: lag.workerP99Ms,
        target: { kind: 'atMost', value: 20 },
      },
      { metric: 'worker event-loop lag max', unit: 'ms', value: lag.workerMaxMs },
      {
        metric: 'RSS per session (gateway + workers)',
        unit: 'MiB',
        value: perSession / MiB,
        baseline: { label: 'bare headless terminal, same lines', value: bare / MiB },
        target: { kind: 'ratioAtMost', value: 1.5 },
      },
      { metric: 'RSS gateway / session', unit: 'MiB', value: (rss1.gateway - rss0.gateway) / n / MiB },
      { metric: 'RSS workers / session', unit: 'MiB', value: (rss1.workers - rss0.workers) / n / MiB },
      { metric: 'creation latency p50', unit: 'ms', value: percentile(created, 50) },
      {
        metric: 'creation latency p99',
        unit: 'ms',
        value: percentile(created, 99),
        target: { kind: 'atMost', value: 100 },
      },
      {
        metric: 'sessions whose creating socket missed their first output',
        unit: 'sessions',
        value: missedFirst,
        target: { kind: 'atMost', value: 0 },
        note: 'output sent before the viewer was registered (gateway race)',
      },
    ];
    return rows.map((r) => ({ ...r, metric: `${n} sessions: ${r.metric}` }));
  } finally {
    await Promise.all(sockets.map((c) => c.close()));
    await release();
  }
}
