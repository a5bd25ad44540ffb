/** The main thread's handle on the emulator thread (see emulator-messages.ts for why it exists). */
import type { Worker } from 'node:worker_threads';
import type { LineRow } from '../common/db/repositories/lines.js';
import { siblingModule } from '../common/paths.js';
import { startThread } from '../common/threads.js';
import type { EmulatorIn, EmulatorOut, EmulatorRequestType, EmulatorResults } from './emulator-messages.js';

/**
 * Consecutive output of one session is joined into one write up to this size: xterm yields to
 * other work (requests, other sessions) only between writes, so a write stays a few ms of parsing.
 */
export const MAX_COALESCED_CHARS = 64 * 1024;

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export interface EmulatorEvents {
  parsed(id: string, chars: number): void;
  lines(rows: LineRow[]): void;
  /** The thread died: the worker cannot serve its sessions any more. */
  failed(err: Error): void;
}

export class Emulator {
  private readonly thread: Worker;
  private nextRequestId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly parsedListeners = new Map<string, (chars: number) => void>();
  /** PTY output waiting for the end of this event-loop turn: one postMessage for all of it. */
  private writes: [id: string, data: string][] = [];
  private writesQueued = false;

  constructor(private readonly events: Omit<EmulatorEvents, 'parsed'>) {
    this.thread = startThread(siblingModule(import.meta.url, 'emulator-thread'));
    this.thread.on('message', (msg: EmulatorOut) => {
      switch (msg.type) {
        case 'parsed':
          for (const [id, chars] of msg.parsed) this.parsedListeners.get(id)?.(chars);
          break;
        case 'lines':
          this.events.lines(msg.rows);
          break;
        case 'reply': {
          const p = this.pending.get(msg.requestId);
          this.pending.delete(msg.requestId);
          if (msg.ok) p?.resolve(msg.result);
          else p?.reject(new Error(msg.message));
          break;
        }
      }
    });
    this.thread.on('error', (err) => this.events.failed(err));
    this.thread.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`emulator thread exited (${code})`));
      this.pending.clear();
    });
  }

  private send(msg: EmulatorIn): void {
    // Output read before this message must reach the thread first (requests are exact at a seq).
    this.flushWrites();
    this.thread.postMessage(msg);
  }

  private flushWrites(): void {
    this.writesQueued = false;
    if (this.writes.length === 0) return;
    const writes = this.writes;
    this.writes = [];
    this.thread.postMessage({ type: 'write', writes } satisfies EmulatorIn);
  }

  open(id: string, cols: number, rows: number, scrollback: number, onParsed: (chars: number) => void): void {
    this.parsedListeners.set(id, onParsed);
    this.send({ type: 'open', id, cols, rows, scrollback });
  }

  write(id: string, data: string): void {
    const last = this.writes[this.writes.length - 1];
    if (last && last[0] === id && last[1].length + data.length <= MAX_COALESCED_CHARS) last[1] += data;
    else this.writes.push([id, data]);
    if (!this.writesQueued) {
      this.writesQueued = true;
      setImmediate(() => this.flushWrites());
    }
  }

  resize(id: string, cols: number, rows: number): void {
    this.send({ type: 'resize', id, cols, rows });
  }

  request<T extends EmulatorRequestType>(id: string, request: T): Promise<EmulatorResults[T]> {
    const requestId = this.nextRequestId++;
    return new Promise<EmulatorResults[T]>((resolve, reject) => {
      this.pending.set(requestId, { resolve: resolve as (v: unknown) => void, reject });
      this.send({ type: 'request', id, requestId, request });
    });
  }

  close(id: string): void {
    this.parsedListeners.delete(id);
    this.send({ type: 'close', id });
  }

  terminate(): Promise<number> {
    return this.thread.terminate();
  }
}
