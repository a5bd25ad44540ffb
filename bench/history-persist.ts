/**
 * Benchmark 5: history lines committed per second while benchmark 1 streams (the same runs when
 * both are selected), with the count checked (every printed line stored once, numbered 1..n),
 * beside better-sqlite3 inserting the same rows in 1 000-row transactions alone, through the
 * product's LinesRepository (rows + their FTS index entries, as the writer thread does).
 */
import { type LineRow, LinesRepository } from '../common/db/repositories/lines.js';
import { genLines } from './lib/gen-lines.js';
import { tempDb } from './lib/temp-db.js';
import type { BenchContext, Benchmark } from './lib/types.js';
import { streamThroughGateway, THROUGHPUT_MB } from './throughput.js';

/** Rows per transaction, as the writer thread (worker/history-thread.ts) commits them. */
export const ROWS_PER_TRANSACTION = 1000;
/** The baseline inserts at most this many rows (enough for a steady rate, bounded in time). */
export const BASELINE_MAX_ROWS = 500_000;

function insertRate(texts: readonly string[], withIndex: boolean): number {
  const t = tempDb('NORMAL');
  try {
    const session = t.addSession(t.addUser('bench'), 'bench');
    const repo = new LinesRepository(t.db);
    const plain = t.db.prepare(
      'INSERT INTO terminal_lines (session_id, line_number, text, timestamp) VALUES (?, ?, ?, ?)',
    );
    const plainBatch = t.db.transaction((rows: LineRow[]) => {
      for (const r of rows) plain.run(r.session_id, r.line_number, r.text, r.timestamp);
    });
    const rows: LineRow[] = texts.map((text, i) => ({
      session_id: session,
      line_number: i + 1,
      text,
      timestamp: Date.now(),
    }));
    const t0 = performance.now();
    for (let i = 0; i < rows.length; i += ROWS_PER_TRANSACTION) {
      const batch = rows.slice(i, i + ROWS_PER_TRANSACTION);
      if (withIndex) repo.insertBatch(batch);
      else plainBatch(batch);
    }
    return rows.length / ((performance.now() - t0) / 1000);
  } finally {
    t.dispose();
  }
}

function baselineTexts(ctx: BenchContext, count: number): string[] {
  const key = `gen-lines:${count}`;
  let texts = ctx.cache.get(key) as string[] | undefined;
  if (!texts) {
    texts = genLines(count);
    ctx.cache.set(key, texts);
  }
  return texts;
}

export const historyPersist: Benchmark = {
  name: 'history-persist',
  id: '5',
  title: 'History lines committed per second during benchmark 1',
  rounds: { quick: 1, full: 3 },
  async run(ctx) {
    const mb = ctx.quick ? THROUGHPUT_MB.quick : THROUGHPUT_MB.full;
    const e2e = await streamThroughGateway(ctx, mb);
    const texts = baselineTexts(ctx, Math.min(e2e.stream.lines, BASELINE_MAX_ROWS));
    ctx.log(`baseline: inserting ${texts.length} rows alone`);
    const indexed = insertRate(texts, true);
    const plain = insertRate(texts, false);
    if (ctx.round === ctx.rounds - 1) ctx.cache.delete(`gen-lines:${texts.length}`);
    return [
      {
        metric: 'lines committed/s while streaming',
        unit: 'lines/s',
        value: e2e.history.perS,
        baseline: { label: 'LinesRepository.insertBatch alone (rows + FTS)', value: indexed },
        target: { kind: 'ratioAtLeast', value: 0.5 },
        note: `${e2e.history.lines} lines in ${e2e.history.seconds.toFixed(1)} s`,
      },
      {
        metric: 'lines committed/s vs plain inserts',
        unit: 'lines/s',
        value: e2e.history.perS,
        baseline: { label: 'plain INSERTs alone (no FTS)', value: plain },
      },
      {
        metric: 'lines lost',
        unit: 'lines',
        value: e2e.stream.lines - e2e.history.genLinesStored,
        target: { kind: 'atMost', value: 0 },
        note: `${e2e.stream.lines} printed, numbered 1..${e2e.history.maxLine} without gaps`,
      },
    ];
  },
};
