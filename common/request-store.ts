import { AppError, type ErrorCode } from './errors.js';

/** A pending request that is never answered must not hang its caller forever. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  type: string;
}

/**
 * Correlates requests with responses by id; each request times out, and `rejectAll` fails every
 * pending one at once (used when the other process exits).
 */
export class RequestStore {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS) {}

  create<T>(type: string, timeoutMs = this.timeoutMs): { id: number; promise: Promise<T> } {
    const id = this.nextId++;
    const promise = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new AppError('REQUEST_TIMEOUT', `The worker did not answer ${type} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, type });
    });
    return { id, promise };
  }

  resolve(id: number, value: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(value);
  }

  reject(id: number, code: ErrorCode, message: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.reject(new AppError(code, message));
  }

  rejectAll(code: ErrorCode, message: string): void {
    for (const id of [...this.pending.keys()]) this.reject(id, code, message);
  }

  get size(): number {
    return this.pending.size;
  }
}
