/** A headless terminal in the test process, to compare what different viewers would see. */
import xtermHeadless from '@xterm/headless';

const { Terminal } = xtermHeadless;
export type HeadlessTerminal = InstanceType<typeof Terminal>;

export function newTerminal(cols: number, rows: number, scrollback: number): HeadlessTerminal {
  return new Terminal({ cols, rows, scrollback, allowProposedApi: true });
}

export function write(term: HeadlessTerminal, data: string): Promise<void> {
  return new Promise((resolve) => term.write(data, resolve));
}

/** Every row of the normal buffer (scrollback + screen), plain text, plus the cursor. */
export function dump(term: HeadlessTerminal): { rows: string[]; cursor: [number, number] } {
  const b = term.buffer.active;
  const rows: string[] = [];
  for (let i = 0; i < b.length; i++) rows.push(b.getLine(i)?.translateToString(true) ?? '');
  while (rows.length > 0 && rows[rows.length - 1] === '') rows.pop();
  return { rows, cursor: [b.cursorX, b.cursorY] };
}
