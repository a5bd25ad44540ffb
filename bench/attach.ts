/**
 * Benchmark 6: attach to a session whose scrollback is full (MAX_BUFFER_SIZE 1000, 120 columns,
 * coloured full-width lines): time from `attach_session` to `session_buffer` and its size, idle
 * and while 8 other sessions stream, beside serialising the same headless terminal in-process.
 * Each is measured twice: with the screen unchanged since the previous attach (the worker
 * answers with the snapshot it kept) and with new output before every attach (serialised anew).
 * Meanwhile another session on the same worker answers keystrokes: its worst echo while attaches
 * run, against its worst echo without them, shows how long serialising blocks other sessions.
 */
import type { BenchClient } from './lib/bench-client.js';
import { type EchoTarget, measureEcho, SessionEcho } from './lib/echo.js';
import { serializableTerminal, writeAsync } from './lib/headless-baseline.js';
import { startLoad } from './lib/load.js';
import { workerOfSession } from './lib/proc.js';
import { readGeneratorFromPty } from './lib/pty-direct.js';
import { max, percentile, sleep } from './lib/stats.js';
import { streamGenerator, waitForPrompt } from './lib/stream.js';
import type { BenchContext, Benchmark, Measurement } from './lib/types.js';

export const COLS = 120;
export const ROWS = 30;
export const SCROLLBACK = 1000;
/** Lines printed into the session: more than scrollback + screen, so the scrollback is full. */
export const FILL_LINES = SCROLLBACK + ROWS + 70;
/** Attaches per measurement. */
export const ATTACHES = { quick: 5, full: 50 };
/** Pause between two attaches (a user does not re-attach in a tight loop). */
const ATTACH_GAP_MS = 50;
/** The targets for attach p99: idle, and while other sessions stream. */
export const ATTACH_P99_IDLE_MS = 50;
export const ATTACH_P99_LOADED_MS = 100;
const KEPT_NOTE = 'screen unchanged since the last attach: the kept snapshot';
const FRESH_NOTE = 'serialised for this attach';
/** A character typed at the target's prompt is echoed within this time. */
const ECHO_TIMEOUT_MS = 10_000;
/** Sessions streaming beside the loaded measurement. */
export const LOAD_SESSIONS = { quick: 2, full: 8 };
/** Keystrokes the probe may send while attaches run (bounds the probe loop). */
const PROBE_MAX_KEYS = 100_000;
/** Sessions tried to land a probe on the target's worker (placement alternates between two). */
const PROBE_PLACEMENT_TRIES = 4;
const FILL_ARGS = ['--lines', String(FILL_LINES), '--width', String(COLS), '--full-width'];

/**
 * Makes the target's screen change before an attach: the owner types one character at the
 * prompt and waits for its echo, so the worker cannot answer with the snapshot it kept.
 */
export type ScreenChange = () => Promise<void>;

function typeAtPrompt(owner: BenchClient, sessionId: string): ScreenChange {
  return () =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the typed character was not echoed')), ECHO_TIMEOUT_MS);
      owner.onOutput(sessionId, (data) => {
        if (!data.includes('x')) return;
        clearTimeout(timer);
        owner.onOutput(sessionId, undefined);
        resolve();
      });
      owner.type(sessionId, 'x');
    });
}

async function attachTimes(
  viewer: BenchClient,
  sessionId: string,
  count: number,
  changeScreen?: ScreenChange,
): Promise<{ ms: number[]; bytes: number }> {
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    if (changeScreen) await changeScreen();
    const t0 = performance.now();
    const buf = await viewer.request({ type: 'attach_session', sessionId }, 'session_buffer');
    ms.push(performance.now() - t0);
    bytes = (buf.data as string).length;
    await viewer.request({ type: 'detach_session', sessionId }, 'session_detached');
    await sleep(ATTACH_GAP_MS);
  }
  return { ms, bytes };
}

/** The in-process baseline: the same bytes in a terminal of the same size, serialised. */
async function serializeBaseline(ctx: BenchContext, count: number): Promise<{ ms: number[]; bytes: number }> {
  let chunks = ctx.cache.get('attach-fill') as string[] | undefined;
  if (!chunks) {
    chunks = (await readGeneratorFromPty(FILL_ARGS, COLS, ROWS, true)).chunks ?? [];
    ctx.cache.set('attach-fill', chunks);
  }
  const { term, serialize } = serializableTerminal(COLS, ROWS, SCROLLBACK);
  for (const c of chunks) term.write(c);
  await writeAsync(term, '');
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    bytes = serialize().length;
    ms.push(performance.now() - t0);
    await sleep(ATTACH_GAP_MS);
  }
  term.dispose();
  return { ms, bytes };
}

/** A `cat` session on the same worker as `targetPid`'s session. */
async function probeOnWorkerOf(client: BenchClient, targetPid: number): Promise<EchoTarget> {
  const worker = workerOfSession(targetPid);
  for (let i = 0; i < PROBE_PLACEMENT_TRIES; i++) {
    const echo = await SessionEcho.start(client, 80, 24);
    if (workerOfSession(echo.pid) === worker) return echo;
  }
  throw new Error("could not place a probe session on the target session's worker");
}

export const attach: Benchmark = {
  name: 'attach',
  id: '6',
  title: 'Attach to a session with a full scrollback',
  rounds: { quick: 1, full: 3 },
  async run(ctx) {
    const n = ctx.quick ? ATTACHES.quick : ATTACHES.full;
    const base = await serializeBaseline(ctx, n);
    const { gw, release } = await ctx.gateway({ MAX_BUFFER_SIZE: String(SCROLLBACK) });
    try {
      const owner = await gw.client();
      const target = await owner.createShell(COLS, ROWS);
      await waitForPrompt(owner, target.id);
      await streamGenerator(owner, target.id, FILL_ARGS.join(' ')).done;
      await waitForPrompt(owner, target.id);
      const probe = await probeOnWorkerOf(await gw.client(), target.pid);
      const viewer = await gw.client();

      ctx.log('probe echo without attaches');
      const probeIdle = await measureEcho(probe, n * 20);
      ctx.log(`idle: ${n} attaches, probe typing meanwhile`);
      let attaching = true;
      const probeDuring = measureEcho(probe, PROBE_MAX_KEYS, () => !attaching);
      // Awaited below; until then a lost echo must not count as an unhandled rejection.
      probeDuring.catch(() => undefined);
      const idle = await attachTimes(viewer, target.id, n).finally(() => (attaching = false));
      const during = await probeDuring;
      const change = typeAtPrompt(owner, target.id);
      ctx.log(`idle: ${n} attaches, each after new output`);
      const idleChanged = await attachTimes(viewer, target.id, n, change);

      ctx.log(`loaded: ${n} attaches beside ${ctx.quick ? LOAD_SESSIONS.quick : LOAD_SESSIONS.full} streams`);
      const load = await startLoad(gw, ctx.quick ? LOAD_SESSIONS.quick : LOAD_SESSIONS.full);
      let loaded: { ms: number[]; bytes: number };
      let loadedChanged: { ms: number[]; bytes: number };
      try {
        loaded = await attachTimes(viewer, target.id, n);
        loadedChanged = await attachTimes(viewer, target.id, n, change);
      } finally {
        await load.stop();
      }
      const baseP99 = percentile(base.ms, 99);
      const p99Row = (metric: string, ms: number[], targetMs: number, note: string): Measurement => ({
        metric,
        unit: 'ms',
        value: percentile(ms, 99),
        baseline: { label: 'serialize in-process', value: baseP99 },
        target: { kind: 'atMost', value: targetMs },
        note,
      });
      return [
        {
          metric: 'attach p50 idle',
          unit: 'ms',
          value: percentile(idle.ms, 50),
          baseline: { label: 'serialize in-process', value: percentile(base.ms, 50) },
        },
        p99Row('attach p99 idle', idle.ms, ATTACH_P99_IDLE_MS, KEPT_NOTE),
        {
          metric: 'attach p50 idle, new output since the last attach',
          unit: 'ms',
          value: percentile(idleChanged.ms, 50),
          baseline: { label: 'serialize in-process', value: percentile(base.ms, 50) },
        },
        p99Row('attach p99 idle, new output since the last attach', idleChanged.ms, ATTACH_P99_IDLE_MS, FRESH_NOTE),
        p99Row('attach p99, sessions streaming', loaded.ms, ATTACH_P99_LOADED_MS, KEPT_NOTE),
        p99Row(
          'attach p99, sessions streaming, new output since the last attach',
          loadedChanged.ms,
          ATTACH_P99_LOADED_MS,
          FRESH_NOTE,
        ),
        {
          metric: 'session_buffer size',
          unit: 'KB',
          value: idle.bytes / 1000,
          baseline: { label: 'serialize in-process', value: base.bytes / 1000 },
        },
        {
          metric: 'other session on the worker: worst echo during attaches',
          unit: 'ms',
          value: max(during),
          baseline: { label: 'its worst echo without attaches', value: max(probeIdle) },
          target: { kind: 'addedAtMost', value: 10 },
          note: `${during.length} keys during, ${probeIdle.length} without`,
        },
      ];
    } finally {
      await release();
    }
  },
};
