/**
 * Benchmark 4's session program: a bash loop printing one coloured line every 100 ms using only
 * builtins (printf, and `read -t` as the sleep), so 500 of them fork nothing while they run.
 * `manySessionsLine` is the same output as the terminal receives it, for the bare baseline.
 */

/** Visible filler after the number: 6 + 1 + 100 = 107 columns, under 120 (no wrap). */
export const FILLER = 'x'.repeat(100);
/** One line every this many ms (the 100 ms). */
export const LINE_INTERVAL_MS = 100;

/** The line discipline turns printf's \n into \r\n (onlcr). */
export function manySessionsLine(i: number): string {
  return `\x1b[3${i % 8}m${String(i).padStart(6, '0')}\x1b[0m ${FILLER}\r\n`;
}

/** Typed into a fresh shell: `lines` lines, then LOOP_DONE (not in the typed text itself). */
export function manySessionsCommand(lines: number): string {
  const wait = (LINE_INTERVAL_MS / 1000).toFixed(1);
  return `for ((i=1;i<=${lines};i++)); do printf '\\e[3%dm%06d\\e[0m %s\\n' $((i%8)) $i ${FILLER}; read -t ${wait}; done; printf 'LOOP_%s\\n' DONE\r`;
}

export const LOOP_DONE = 'LOOP_DONE';
