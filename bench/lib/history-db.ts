/**
 * Watches a session's history in the gateway's SQLite file from outside (a read-only
 * connection; WAL lets it read while the worker writes): how fast lines are committed, and
 * whether every line gen-output printed is there exactly once, numbered without gaps.
 */
import Database from 'better-sqlite3';

/** Poll period: cheap (an indexed MAX), fine enough for a rate over seconds. */
export const HISTORY_POLL_MS = 100;
/** After the stream ended, history counts as settled once it has not grown for this long. */
export const HISTORY_SETTLE_MS = 1500;
/** ...but waiting for that is bounded. */
export const HISTORY_SETTLE_TIMEOUT_MS = 120_000;

/** gen-output's lines start with an 8-digit number and a space. */
const GEN_LINE_GLOB = '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9] *';

export class HistoryWatch {
  private readonly db: Database.Database;
  private readonly maxStmt;
  private timer: NodeJS.Timeout | undefined;
  /** (time, highest committed line number) samples. */
  readonly samples: { t: number; n: number }[] = [];

  constructor(
    dbPath: string,
    private readonly sessionId: string,
  ) {
    this.db = new Database(dbPath, { readonly: true, fileMustExist: true });
    this.db.pragma('busy_timeout = 5000');
    this.maxStmt = this.db.prepare<[string], { n: number | null }>(
      'SELECT MAX(line_number) AS n FROM terminal_lines WHERE session_id = ?',
    );
  }

  committed(): number {
    return this.maxStmt.get(this.sessionId)?.n ?? 0;
  }

  start(): void {
    const tick = () => {
      this.samples.push({ t: performance.now(), n: this.committed() });
      this.timer = setTimeout(tick, HISTORY_POLL_MS);
    };
    tick();
  }

  /** Resolves once the committed count has not grown for HISTORY_SETTLE_MS. */
  async settled(): Promise<void> {
    const deadline = performance.now() + HISTORY_SETTLE_TIMEOUT_MS;
    for (;;) {
      const last = this.samples[this.samples.length - 1];
      const firstOfLast = this.samples.find((s) => s.n === last?.n);
      if (last && firstOfLast && performance.now() - firstOfLast.t >= HISTORY_SETTLE_MS) return;
      if (performance.now() > deadline) return;
      await new Promise((r) => setTimeout(r, HISTORY_POLL_MS));
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Lines committed per second from `from` (performance.now()) until the first sample that
   * showed the final committed count.
   */
  rate(from: number): { lines: number; seconds: number; perS: number } {
    const atStart = [...this.samples].reverse().find((s) => s.t <= from) ?? this.samples[0];
    const final = this.samples[this.samples.length - 1];
    const reached = this.samples.find((s) => s.n === final?.n);
    if (!atStart || !final || !reached) return { lines: 0, seconds: 0, perS: Number.NaN };
    const lines = final.n - atStart.n;
    const seconds = (reached.t - from) / 1000;
    return { lines, seconds, perS: lines / seconds };
  }

  /** After the session ended: gen-output lines stored, all rows, and the highest line number. */
  verify(): { genLines: number; rows: number; maxLine: number } {
    const genLines =
      this.db
        .prepare<[string, string], { n: number }>(
          'SELECT COUNT(*) AS n FROM terminal_lines WHERE session_id = ? AND text GLOB ?',
        )
        .get(this.sessionId, GEN_LINE_GLOB)?.n ?? 0;
    const rows =
      this.db
        .prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM terminal_lines WHERE session_id = ?')
        .get(this.sessionId)?.n ?? 0;
    return { genLines, rows, maxLine: this.committed() };
  }

  close(): void {
    this.stop();
    this.db.close();
  }
}
