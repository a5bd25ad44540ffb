/**
 * Keystroke echo round trips: one character to `cat` in a PTY (in canonical mode the line
 * discipline echoes it at once), timed until the echo is back. The next key goes only after the
 * previous echo arrived, so each sample is one full round trip.
 */
import type { BenchClient } from './bench-client.js';
import { waitForPrompt } from './stream.js';

/** The line discipline holds at most 4095 characters of one line: end the line before that. */
const KEYS_PER_LINE = 500;
/** After ending a line, cat prints it back; wait for that before timing the next key. */
const LINE_SETTLE_MS = 30;
/** Characters typed, cycling (letters are echoed as themselves). */
const KEYS = 'abcdefghijklmnopqrstuvwxyz';
/**
 * Keys go at most this often (250/s): far faster than anyone types (~30/s), and under the
 * gateway's per-socket message rate limit (gateway/ws/message-limiter.ts, 500/s sustained),
 * which drops what exceeds it. The round trip of each key is timed from its own send.
 */
export const KEY_MIN_INTERVAL_MS = 4;
/** An echo that has not come back by then is lost: the benchmark fails instead of hanging. */
export const KEY_TIMEOUT_MS = 15_000;

/** Resolves with the round trip once `arrived` is called, rejects after KEY_TIMEOUT_MS. */
export function keyRoundTrip(send: () => void, what: string): { promise: Promise<number>; arrived: () => void } {
  const t0 = performance.now();
  let arrived!: () => void;
  const promise = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no echo within ${KEY_TIMEOUT_MS} ms`)), KEY_TIMEOUT_MS);
    arrived = () => {
      clearTimeout(timer);
      resolve(performance.now() - t0);
    };
  });
  send();
  return { promise, arrived };
}

export interface EchoTarget {
  key(ch: string): Promise<number>;
  endLine(): Promise<void>;
}

/** Times `count` keystrokes; stops early (returning what it has) once `stop()` says so. */
export async function measureEcho(
  target: EchoTarget,
  count: number,
  stop: () => boolean = () => false,
): Promise<number[]> {
  const samples: number[] = [];
  let lastSent = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < count && !stop(); i++) {
    if (i > 0 && i % KEYS_PER_LINE === 0) await target.endLine();
    const wait = lastSent + KEY_MIN_INTERVAL_MS - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    lastSent = performance.now();
    samples.push(await target.key(KEYS[i % KEYS.length] as string));
  }
  await target.endLine();
  return samples;
}

/** The same echo through the gateway: a shell session running `cat`. */
export class SessionEcho implements EchoTarget {
  private waiting: { ch: string; arrived: () => void } | undefined;

  private constructor(
    private readonly client: BenchClient,
    readonly sessionId: string,
    /** The session's PTY process (its parent is the worker that runs it). */
    readonly pid: number,
  ) {}

  static async start(client: BenchClient, cols = 120, rows = 30): Promise<SessionEcho> {
    const s = await client.createShell(cols, rows);
    await waitForPrompt(client, s.id);
    client.type(s.id, 'exec cat\r');
    await waitForPrompt(client, s.id);
    const echo = new SessionEcho(client, s.id, s.pid);
    client.onOutput(s.id, (data) => {
      const w = echo.waiting;
      if (w && data.includes(w.ch)) {
        echo.waiting = undefined;
        w.arrived();
      }
    });
    return echo;
  }

  key(ch: string): Promise<number> {
    const rt = keyRoundTrip(() => this.client.type(this.sessionId, ch), `session ${this.sessionId}`);
    this.waiting = { ch, arrived: rt.arrived };
    return rt.promise;
  }

  async endLine(): Promise<void> {
    this.waiting = undefined;
    this.client.type(this.sessionId, '\r');
    await new Promise((r) => setTimeout(r, LINE_SETTLE_MS));
  }
}
