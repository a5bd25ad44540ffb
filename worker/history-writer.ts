/**
 * The worker-side face of the history writer: collects rendered lines from every session and
 * hands them to the writer thread in small batches (one postMessage per batch, not per line).
 */
import type { Worker } from 'node:worker_threads';
import type { LineRow } from '../common/db/repositories/lines.js';
import { siblingModule } from '../common/paths.js';
import { startThread } from '../common/threads.js';
import type { HistoryThreadIn, HistoryThreadOut } from './history-messages.js';

/** Lines wait at most this long in the worker before going to the writer thread. */
export const HANDOFF_INTERVAL_MS = 20;
/** ...or go at once when this many are waiting. */
export const HANDOFF_MAX_ROWS = 500;
/** A flush that the writer cannot complete (e.g. disk full) gives up after this long. */
export const FLUSH_TIMEOUT_MS = 5000;

/**
 * Lines of one session handed to the writer but not yet committed. Past the high mark that
 * session's PTY is paused until the writer is back under the low mark: its output is slowed to
 * what SQLite can keep, never dropped, and the queue cannot grow without bound (`yes` makes
 * ~2.7M lines/s). Per session, so a firehose never pauses the session someone is typing in.
 */
export const HISTORY_PRESSURE_HIGH_ROWS = 20_000;
export const HISTORY_PRESSURE_LOW_ROWS = 5_000;

export type HistoryStatus = Extract<HistoryThreadOut, { type: 'status' }>;

export class HistoryWriter {
  private readonly thread: Worker;
  private pending: LineRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private nextFlushId = 1;
  private readonly flushes = new Map<number, () => void>();
  private closed: Promise<void> | undefined;
  private readonly uncommitted = new Map<string, number>();
  private readonly pressured = new Set<string>();
  private failing = false;

  constructor(
    dbPath: string,
    maxSizeBytes: number,
    onStatus: (status: HistoryStatus) => void,
    private readonly onPressure: (sessionId: string, pressure: boolean) => void = () => undefined,
  ) {
    this.thread = startThread(siblingModule(import.meta.url, 'history-thread'), {
      workerData: { dbPath, maxSizeBytes },
    });
    this.thread.on('message', (msg: HistoryThreadOut) => {
      if (msg.type === 'status') {
        if (msg.ok) {
          this.failing = false;
          for (const [sessionId, rows] of msg.bySession ?? []) this.committed(sessionId, rows);
        } else {
          // Disk full or DB trouble: sessions keep running (their lines wait in the writer's
          // bounded queue) rather than freezing until an operator frees space.
          this.failing = true;
          for (const sessionId of [...this.pressured]) this.release(sessionId);
        }
        onStatus(msg);
      } else if (msg.type === 'flushed') {
        this.flushes.get(msg.id)?.();
        this.flushes.delete(msg.id);
      }
    });
  }

  private send(msg: HistoryThreadIn): void {
    this.thread.postMessage(msg);
  }

  private release(sessionId: string): void {
    this.pressured.delete(sessionId);
    this.onPressure(sessionId, false);
  }

  private committed(sessionId: string, rows: number): void {
    const left = (this.uncommitted.get(sessionId) ?? 0) - rows;
    if (left > 0) this.uncommitted.set(sessionId, left);
    else this.uncommitted.delete(sessionId);
    if (this.pressured.has(sessionId) && left < HISTORY_PRESSURE_LOW_ROWS) this.release(sessionId);
  }

  append(rows: LineRow[]): void {
    for (const r of rows) {
      this.pending.push(r);
      this.uncommitted.set(r.session_id, (this.uncommitted.get(r.session_id) ?? 0) + 1);
    }
    if (!this.failing) {
      for (const [sessionId, n] of this.uncommitted) {
        if (n > HISTORY_PRESSURE_HIGH_ROWS && !this.pressured.has(sessionId)) {
          this.pressured.add(sessionId);
          this.onPressure(sessionId, true);
        }
      }
    }
    if (this.pending.length >= HANDOFF_MAX_ROWS) this.handOff();
    else this.timer ??= setTimeout(() => this.handOff(), HANDOFF_INTERVAL_MS);
  }

  private handOff(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    this.send({ type: 'rows', rows: this.pending });
    this.pending = [];
  }

  /** Resolves once every line appended so far is committed (or after FLUSH_TIMEOUT_MS). */
  flush(): Promise<void> {
    // After close() everything was committed (or dropped) and nobody would answer.
    if (this.closed) return this.closed;
    this.handOff();
    const id = this.nextFlushId++;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.flushes.delete(id);
        resolve();
      }, FLUSH_TIMEOUT_MS);
      this.flushes.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
      this.send({ type: 'flush', id });
    });
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.handOff();
      const done = () => resolve();
      this.thread.once('exit', done);
      this.thread.on('message', (msg: HistoryThreadOut) => {
        if (msg.type === 'closed') void this.thread.terminate();
      });
      this.send({ type: 'close' });
      setTimeout(() => void this.thread.terminate(), FLUSH_TIMEOUT_MS).unref();
    });
    return this.closed;
  }
}
