/** The main thread's handle on the emulator thread (see emulator-messages.ts for why it exists). */
import type { Worker } from 'node:worker_threads';
import type { LineRow } from '../common/db/repositories/lines.js';
import { siblingModule } from '../common/paths.js';
import { startThread } from '../common/threads.js';
import type { EmulatorIn, EmulatorOut, EmulatorRequestType, EmulatorResults } from './emulator-messages.js';

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

  constructor(private readonly events: Omit<EmulatorEvents, 'parsed'>) {
    this.thread = startThread(siblingModule(import.meta.url, 'emulator-thread'));
    this.thread.on('message', (msg: EmulatorOut) => {
      switch (msg.type) {
        case 'parsed':
          this.parsedListeners.get(msg.id)?.(msg.chars);
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
    this.thread.postMessage(msg);
  }

  open(id: string, cols: number, rows: number, scrollback: number, onParsed: (chars: number) => void): void {
    this.parsedListeners.set(id, onParsed);
    this.send({ type: 'open', id, cols, rows, scrollback });
  }

  write(id: string, data: string): void {
    this.send({ type: 'write', id, data });
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
