/**
 * Benchmark 1: output throughput of one session (mixed text + SGR colours) through worker +
 * gateway to a WebSocket client, beside (a) node-pty read in this process with nothing else and
 * (b) @xterm/headless parsing + line-tracking the same bytes (as node-pty chunked them) alone.
 * The end-to-end run also records how fast its history was committed (benchmark 5 reuses it).
 */
import { parseAndTrack } from './lib/headless-baseline.js';
import { HistoryWatch } from './lib/history-db.js';
import { readGeneratorFromPty } from './lib/pty-direct.js';
import { type StreamResult, streamGenerator, waitForPrompt } from './lib/stream.js';
import type { BenchContext, Benchmark } from './lib/types.js';

/** Megabytes of output: the 200 MB, or a few in quick mode. */
export const THROUGHPUT_MB = { quick: 4, full: 200 };
/** Terminal size of the session and of the baselines. */
export const COLS = 120;
export const ROWS = 30;
/** The product default MAX_BUFFER_SIZE (scrollback lines). */
export const SCROLLBACK = 1000;

export interface EndToEndStream {
  stream: StreamResult;
  history: { perS: number; lines: number; seconds: number; genLinesStored: number; rows: number; maxLine: number };
}

/** One session streaming gen-output through a fresh gateway; cached per round for benchmark 5. */
export async function streamThroughGateway(ctx: BenchContext, mb: number): Promise<EndToEndStream> {
  const key = `e2e-stream:${mb}:${ctx.round}`;
  const cached = ctx.cache.get(key) as EndToEndStream | undefined;
  if (cached) return cached;
  const { gw, release } = await ctx.gateway();
  try {
    const client = await gw.client();
    const s = await client.createShell(COLS, ROWS);
    await waitForPrompt(client, s.id);
    const watch = new HistoryWatch(gw.process.env.DB_PATH as string, s.id);
    try {
      watch.start();
      const run = streamGenerator(client, s.id, `--mb ${mb}`);
      const startedAt = await run.started;
      const stream = await run.done;
      await watch.settled();
      const rate = watch.rate(startedAt);
      watch.stop();
      await client.closeSession(s.id);
      const v = watch.verify();
      if (v.genLines !== stream.lines) {
        throw new Error(`history lost lines: ${stream.lines} printed, ${v.genLines} stored`);
      }
      if (v.maxLine !== v.rows) throw new Error(`history numbering has gaps: ${v.rows} rows up to line ${v.maxLine}`);
      const result: EndToEndStream = {
        stream,
        history: { ...rate, genLinesStored: v.genLines, rows: v.rows, maxLine: v.maxLine },
      };
      ctx.cache.set(key, result);
      return result;
    } finally {
      watch.close();
    }
  } finally {
    await release();
  }
}

/** The bytes node-pty delivers for this size, chunked as it delivers them (captured once). */
export async function capturedChunks(ctx: BenchContext, mb: number): Promise<string[]> {
  const key = `pty-chunks:${mb}`;
  let chunks = ctx.cache.get(key) as string[] | undefined;
  if (!chunks) {
    chunks = (await readGeneratorFromPty(['--mb', String(mb)], COLS, ROWS, true)).chunks ?? [];
    ctx.cache.set(key, chunks);
  }
  return chunks;
}

export const throughput: Benchmark = {
  name: 'throughput',
  id: '1',
  title: 'Output throughput of one session through worker + gateway',
  rounds: { quick: 1, full: 3 },
  async run(ctx) {
    const mb = ctx.quick ? THROUGHPUT_MB.quick : THROUGHPUT_MB.full;
    const chunks = await capturedChunks(ctx, mb);
    const meanChunk = chunks.reduce((s, c) => s + c.length, 0) / chunks.length;
    ctx.log(`(a) node-pty read alone, ${mb} MB`);
    const direct = await readGeneratorFromPty(['--mb', String(mb)], COLS, ROWS);
    ctx.log('(b) @xterm/headless parse + line tracking alone');
    const headless = await parseAndTrack(chunks, COLS, ROWS, SCROLLBACK);
    ctx.log('end to end through the gateway');
    const e2e = await streamThroughGateway(ctx, mb);
    if (ctx.round === ctx.rounds - 1) ctx.cache.delete(`pty-chunks:${mb}`);
    return [
      {
        metric: 'MB/s vs headless parse+track',
        unit: 'MB/s',
        value: e2e.stream.mbPerS,
        baseline: { label: '(b) headless+tracker alone', value: headless.mbPerS },
        target: { kind: 'ratioAtLeast', value: 0.8 },
        note: `${mb} MB, node-pty chunks avg ${Math.round(meanChunk)} B`,
      },
      {
        metric: 'MB/s vs node-pty read',
        unit: 'MB/s',
        value: e2e.stream.mbPerS,
        baseline: { label: '(a) node-pty alone', value: direct.mbPerS },
      },
    ];
  },
};
