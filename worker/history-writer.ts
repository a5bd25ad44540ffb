/**
 * The worker-side face of the history writer: collects rendered lines from every session and
 * hands them to the writer thread in small batches (one postMessage per batch, not per line).
 */
import type { Worker } from 'node:worker_threads';
import { siblingModule } from '../common/paths.js';
import { startThread } from '../common/threads.js';
import type { LineRow } from '../common/db/repositories/lines.js';
import type { HistoryThreadIn, HistoryThreadOut } from './history-messages.js';

/** Lines wait at most this long in the worker before going to the writer thread. */
export const HANDOFF_INTERVAL_MS = 20;
/** ...or go at once when this many are waiting. */
export const HANDOFF_MAX_ROWS = 500;
/** A flush that the writer cannot complete (e.g. disk full) gives up after this long. */
export const FLUSH_TIMEOUT_MS = 5000;

export type HistoryStatus = Extract<HistoryThreadOut, { type: 'status' }>;

export class HistoryWriter {
  private readonly thread: Worker;
  private pending: LineRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private nextFlushId = 1;
  private readonly flushes = new Map<number, () => void>();
  private closed: Promise<void> | undefined;

  constructor(dbPath: string, onStatus: (status: HistoryStatus) => void) {
    this.thread = startThread(siblingModule(import.meta.url, 'history-thread'), { workerData: { dbPath } });
    this.thread.on('message', (msg: HistoryThreadOut) => {
      if (msg.type === 'status') onStatus(msg);
      else if (msg.type === 'flushed') {
        this.flushes.get(msg.id)?.();
        this.flushes.delete(msg.id);
      }
    });
  }

  private send(msg: HistoryThreadIn): void {
    this.thread.postMessage(msg);
  }

  append(rows: LineRow[]): void {
    for (const r of rows) this.pending.push(r);
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
