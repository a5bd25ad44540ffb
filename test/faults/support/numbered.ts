/**
 * Numbered-line streams: a fixture prints `<prefix><n>` lines; these helpers read them back from
 * what a client received or what history stored and count what is missing or doubled.
 */
import path from 'node:path';
import { ROOT } from '../../helpers/gateway-process.js';

export const STREAM_LINES = path.join(ROOT, 'test/fixtures/stream-lines');

/** Shell input that turns a session into a numbered-line streamer (no echo, so only lines). */
export function streamCommand(prefix: string, count: number, intervalMs: number, extra = ''): string {
  return `stty -echo; ${extra}exec ${STREAM_LINES} ${prefix} ${count} ${intervalMs}\r`;
}

/** Numbers of complete `<prefix><n>` lines in raw terminal output (a line ends with \r\n). */
export function numbersInOutput(output: string, prefix: string): number[] {
  const re = new RegExp(`^${prefix}(\\d+)\\r$`, 'gm');
  return [...output.matchAll(re)].map((m) => Number(m[1]));
}

/** Numbers of `<prefix><n>` lines in stored history texts. */
export function numbersInTexts(texts: readonly string[], prefix: string): number[] {
  const re = new RegExp(`^${prefix}(\\d+)$`);
  const out: number[] = [];
  for (const t of texts) {
    const m = re.exec(t);
    if (m) out.push(Number(m[1]));
  }
  return out;
}

export interface Continuity {
  count: number;
  max: number;
  /** Numbers missing between 1 and max. */
  lost: number;
  /** Numbers seen more than once, or out of order. */
  duplicated: number;
}

/** How far `nums` is from exactly 1, 2, …, max. */
export function continuity(nums: readonly number[]): Continuity {
  let expected = 1;
  let lost = 0;
  let duplicated = 0;
  for (const n of nums) {
    if (n === expected) expected++;
    else if (n > expected) {
      lost += n - expected;
      expected = n + 1;
    } else duplicated++;
  }
  return { count: nums.length, max: expected - 1, lost, duplicated };
}
