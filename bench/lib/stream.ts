/**
 * Runs gen-output in a live session and measures what reaches the WebSocket client: bytes (by
 * `seq`, which counts output UTF-16 units; gen-output prints ASCII only, so units = bytes) from
 * the frame that carried GEN_START to the one that carried GEN_DONE, over the time between them.
 */
import type { BenchClient } from './bench-client.js';
import { genCommand, nonce as newNonce } from './gateway.js';
import { MarkerScanner } from './markers.js';
import { MB } from './stats.js';

/** A stream that has not finished in this time fails the benchmark instead of hanging it. */
export const STREAM_TIMEOUT_MS = 10 * 60_000;
/** Output must have been quiet this long before the shell counts as ready for a command. */
const PROMPT_QUIET_MS = 300;
/** ...and the shell gets at most this long to print its first prompt. */
const PROMPT_TIMEOUT_MS = 10_000;
/** No output at all by then: look at the session's screen instead (see waitForPrompt). */
const PROMPT_MISSING_MS = 1000;

export interface StreamResult {
  bytes: number;
  seconds: number;
  mbPerS: number;
  /** Lines gen-output printed (from its GEN_DONE marker). */
  lines: number;
  /** performance.now() when GEN_START and GEN_DONE arrived. */
  startedAt: number;
  endedAt: number;
}

/**
 * Resolves once a fresh shell has printed its prompt and gone quiet (or after a bound). The
 * creating socket sometimes never receives a session's first output (a gateway race, see the
 * benchmark report): when nothing arrived for a while, the session's own screen is asked.
 */
export async function waitForPrompt(client: BenchClient, sessionId: string): Promise<void> {
  const t0 = performance.now();
  let asked = false;
  for (;;) {
    const last = client.lastOutputAt.get(sessionId);
    if (last !== undefined && performance.now() - last > PROMPT_QUIET_MS) return;
    if (performance.now() - t0 > PROMPT_TIMEOUT_MS) return;
    if (last === undefined && !asked && performance.now() - t0 > PROMPT_MISSING_MS) {
      const buf = await client.request({ type: 'get_session_buffer', sessionId }, 'session_buffer');
      if ((buf.seq as number) > 0) {
        client.lostFirstOutput++;
        return;
      }
      asked = true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RunningStream {
  /** Resolves when GEN_START arrived. */
  started: Promise<number>;
  done: Promise<StreamResult>;
  /** Stops following the output (the session keeps running until closed); `done` rejects. */
  cancel(): void;
  /** Output bytes received since GEN_START (so far). */
  receivedBytes(): number;
}

/** Types `node gen-output.mjs <args>` into the session and follows its output raw. */
export function streamGenerator(client: BenchClient, sessionId: string, args: string): RunningStream {
  const id = newNonce();
  const startScan = new MarkerScanner(Buffer.from(`GEN_START:${id}`));
  const doneScan = new MarkerScanner(Buffer.from(`GEN_DONE:${id}:`));
  let startSeq = -1;
  let lastSeq = -1;
  let startedAt = 0;
  let resolveStarted!: (t: number) => void;
  const started = new Promise<number>((r) => (resolveStarted = r));
  let cancel: () => void = () => undefined;
  const done = new Promise<StreamResult>((resolve, reject) => {
    cancel = () => {
      clearTimeout(timer);
      client.onRawOutput(sessionId, undefined);
      reject(new Error(`stream ${id} cancelled`));
    };
    const timer = setTimeout(() => {
      client.onRawOutput(sessionId, undefined);
      reject(new Error(`stream ${id} did not finish within ${STREAM_TIMEOUT_MS} ms`));
    }, STREAM_TIMEOUT_MS);
    client.onRawOutput(sessionId, (frame, seq) => {
      lastSeq = seq;
      if (startSeq < 0) {
        if (!startScan.scan(frame)) return;
        startSeq = seq;
        startedAt = performance.now();
        resolveStarted(startedAt);
      }
      let rest = '';
      if (!doneScan.scan(frame, (r) => (rest = r))) return;
      const endedAt = performance.now();
      clearTimeout(timer);
      client.onRawOutput(sessionId, undefined);
      const bytes = seq - startSeq;
      const seconds = (endedAt - startedAt) / 1000;
      resolve({
        bytes,
        seconds,
        mbPerS: bytes / MB / seconds,
        lines: Number.parseInt(rest, 10),
        startedAt,
        endedAt,
      });
    });
  });
  // A cancelled stream's rejection is expected: callers that await `done` still see it.
  done.catch(() => undefined);
  client.type(sessionId, genCommand(`${args} --nonce ${id}`));
  return { started, done, cancel: () => cancel(), receivedBytes: () => (startSeq < 0 ? 0 : lastSeq - startSeq) };
}
