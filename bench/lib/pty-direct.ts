/**
 * Baselines that use node-pty in this process with nothing else in between: gen-output's
 * throughput as read from the PTY, and a keystroke echo through the PTY.
 */
import * as pty from 'node-pty';
import { type EchoTarget, keyRoundTrip } from './echo.js';
import { GEN_OUTPUT, nonce as newNonce } from './gateway.js';
import { MB } from './stats.js';

/** A baseline run that has not finished in this time fails instead of hanging. */
const PTY_RUN_TIMEOUT_MS = 5 * 60_000;

function spawn(file: string, args: string[], cols: number, rows: number): pty.IPty {
  return pty.spawn(file, args, {
    name: 'xterm-256color',
    cols,
    rows,
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', TERM: 'xterm-256color' },
    encoding: 'utf8',
  });
}

export interface PtyReadResult {
  bytes: number;
  seconds: number;
  mbPerS: number;
  lines: number;
  /** The chunks as node-pty delivered them (only when asked to capture). */
  chunks?: string[];
}

/**
 * Reads `node gen-output.mjs <args>` from a PTY until GEN_DONE. Bytes are counted from the
 * chunk that carried GEN_START (exclusive), like the end-to-end measurement.
 */
export function readGeneratorFromPty(
  args: string[],
  cols: number,
  rows: number,
  capture = false,
): Promise<PtyReadResult> {
  const id = newNonce();
  const startMarker = `GEN_START:${id}`;
  const doneMarker = `GEN_DONE:${id}:`;
  const term = spawn(process.execPath, [GEN_OUTPUT, ...args, '--nonce', id], cols, rows);
  const chunks: string[] = [];
  return new Promise((resolve, reject) => {
    let started = false;
    let t0 = 0;
    let bytes = 0;
    let tail = '';
    const timer = setTimeout(() => {
      term.kill();
      reject(new Error('node-pty baseline did not finish'));
    }, PTY_RUN_TIMEOUT_MS);
    const sub = term.onData((data) => {
      if (capture) chunks.push(data);
      if (!started) {
        if (!(tail + data).includes(startMarker)) {
          tail = data.slice(-64);
          return;
        }
        started = true;
        t0 = performance.now();
        tail = data.slice(-64);
        return;
      }
      bytes += data.length;
      const joined = tail + data;
      const at = joined.indexOf(doneMarker);
      tail = data.slice(-64);
      if (at < 0) return;
      const seconds = (performance.now() - t0) / 1000;
      clearTimeout(timer);
      sub.dispose();
      const lines = Number.parseInt(joined.slice(at + doneMarker.length), 10);
      // Keep reading until it exits (the generator lingers briefly, see EXIT_DELAY_MS there).
      if (capture) {
        const more = term.onData((d) => chunks.push(d));
        term.onExit(() => {
          more.dispose();
          resolve({ bytes, seconds, mbPerS: bytes / MB / seconds, lines, chunks });
        });
      } else {
        term.onExit(() => resolve({ bytes, seconds, mbPerS: bytes / MB / seconds, lines }));
      }
    });
  });
}

/** After ending a line, cat prints it back; wait for that before timing the next key. */
const LINE_SETTLE_MS = 30;

/** An in-process PTY running `cat`, for the echo baseline. */
export class PtyEcho implements EchoTarget {
  private readonly term: pty.IPty;
  private waiting: { ch: string; arrived: () => void } | undefined;

  constructor() {
    this.term = spawn('/bin/cat', [], 80, 24);
    this.term.onData((data) => {
      const w = this.waiting;
      if (w && data.includes(w.ch)) {
        this.waiting = undefined;
        w.arrived();
      }
    });
  }

  /** Sends one character and resolves with the round trip in ms once its echo arrived. */
  key(ch: string): Promise<number> {
    const rt = keyRoundTrip(() => this.term.write(ch), 'in-process pty');
    this.waiting = { ch, arrived: rt.arrived };
    return rt.promise;
  }

  async endLine(): Promise<void> {
    this.waiting = undefined;
    this.term.write('\r');
    await new Promise((r) => setTimeout(r, LINE_SETTLE_MS));
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.term.onExit(() => resolve());
      this.term.kill();
    });
  }
}
