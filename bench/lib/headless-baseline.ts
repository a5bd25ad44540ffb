/**
 * In-process baselines on `@xterm/headless`: parsing + line tracking of given output alone
 * (one thread, nothing else), the same way a worker session feeds its terminal, and the
 * terminal/serialiser setup a worker session uses.
 */
import serializePkg from '@xterm/addon-serialize';
import xtermHeadless from '@xterm/headless';
import { LineTracker } from '../../worker/line-tracker.js';
import { MB } from './stats.js';

const { Terminal } = xtermHeadless;
const { SerializeAddon } = serializePkg;
export type HeadlessTerminal = InstanceType<typeof Terminal>;

/** Unparsed input kept in flight, as the worker's flow control does (≈1 MB pause, 256 KB resume). */
const PARSE_HIGH_CHARS = 1_000_000;
const PARSE_LOW_CHARS = 256 * 1024;

export function newTerminal(cols: number, rows: number, scrollback: number): HeadlessTerminal {
  return new Terminal({ cols, rows, scrollback, allowProposedApi: true, scrollOnEraseInDisplay: true });
}

/** Writes and resolves once parsed. */
export function writeAsync(term: HeadlessTerminal, data: string): Promise<void> {
  return new Promise((resolve) => term.write(data, resolve));
}

/**
 * Feeds `chunks` into a fresh terminal with a LineTracker polled after every write callback
 * (worker/session.ts does exactly this), keeping at most ~1 MB unparsed.
 */
export async function parseAndTrack(
  chunks: readonly string[],
  cols: number,
  rows: number,
  scrollback: number,
): Promise<{ seconds: number; mbPerS: number; lines: number; bytes: number }> {
  const term = newTerminal(cols, rows, scrollback);
  let lines = 0;
  const tracker = new LineTracker(term, (ls) => (lines += ls.length));
  let pending = 0;
  let bytes = 0;
  let wake: (() => void) | undefined;
  const t0 = performance.now();
  for (const chunk of chunks) {
    bytes += chunk.length;
    pending += chunk.length;
    term.write(chunk, () => {
      pending -= chunk.length;
      tracker.poll();
      if (wake && pending < PARSE_LOW_CHARS) {
        const w = wake;
        wake = undefined;
        w();
      }
    });
    if (pending > PARSE_HIGH_CHARS) await new Promise<void>((r) => (wake = r));
  }
  await writeAsync(term, '');
  tracker.poll();
  const seconds = (performance.now() - t0) / 1000;
  tracker.dispose();
  term.dispose();
  return { seconds, mbPerS: bytes / MB / seconds, lines, bytes };
}

/** A terminal with the serializer a worker session loads. */
export function serializableTerminal(
  cols: number,
  rows: number,
  scrollback: number,
): { term: HeadlessTerminal; serialize: () => string } {
  const term = newTerminal(cols, rows, scrollback);
  const addon = new SerializeAddon();
  term.loadAddon(addon);
  return { term, serialize: () => addon.serialize({ scrollback }) };
}
