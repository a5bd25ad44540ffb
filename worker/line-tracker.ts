import type { IBuffer, IBufferNamespace, IDisposable, IMarker, Terminal } from '@xterm/headless';

/** One line of history: a logical line (wrapped rows joined) as plain text, trailing blanks trimmed. */
export interface TrackedLine {
  lineNumber: number;
  text: string;
  /** Epoch ms at which the line was emitted. */
  timestamp: number;
}

export interface LineTrackerOptions {
  /** Number given to the first emitted line (to continue numbering stored history). Default 1. */
  firstLineNumber?: number;
  /** Clock for timestamps (epoch ms). Default Date.now. */
  now?: () => number;
}

/**
 * One scroll of a full buffer trims exactly one row from the top, so an anchor at least this many
 * rows below the top survives the next trim; the scroll guard moves it down before it gets closer.
 */
const TRIM_GUARD_ROWS = 1;

/** The guard must be able to put the anchor above the viewport yet out of the next trim's reach. */
const MIN_SCROLLBACK = TRIM_GUARD_ROWS + 1;

/** ED (CSI Ps J) parameter that erases the scrollback. */
const ED_ERASE_SCROLLBACK = 3;

/**
 * How many of the last emitted lines must match, in order, to find our place again by text when
 * xterm misplaced the marker: enough that ordinary output does not repeat within the window.
 */
const RESYNC_WINDOW_LINES = 8;

/**
 * Where the first not-yet-consumed row of the normal buffer is. The marker lives on a row already
 * consumed (emitted or stashed), so it sits in scrollback, which output never edits; a marker on a
 * screen row would be shifted or disposed by insert/delete-line and erase sequences.
 * - `top`: row 0 (initially, and after the scrollback was erased or the terminal reset).
 * - `line`: the marker is on the first row of the last emitted logical line; the next unconsumed
 *   row is the first unwrapped row after it. Survives reflow: a logical line keeps its first row.
 * - `row`: the marker is on the last consumed row itself (a logical line consumed only in part, or
 *   one that nearly filled the buffer); the next row is the one after it.
 * - `frozen`: while the alternate screen is shown. No marker can be placed then, and the normal
 *   buffer receives no output, only reflows on resize, which keep its logical lines: so the place
 *   is kept as a count of logical lines back from the end of its content.
 */
type Anchor =
  | { kind: 'top' }
  | { kind: 'line'; marker: IMarker }
  | { kind: 'row'; marker: IMarker }
  | { kind: 'frozen'; place: FrozenPlace };

/** The first unconsumed row of a normal buffer that only reflows, by logical lines from its end. */
interface FrozenPlace {
  /** Logical lines from the one holding the first unconsumed row to the last non-blank row. */
  linesToEnd: number;
  /** Rows into that logical line (a line consumed in part); approximate once reflowed. */
  rowsIntoLine: number;
  /** With no line left: consumed blank rows below the last non-blank one (blank rows never reflow). */
  blankRowsPast: number;
}

/**
 * Turns what scrolls off an `@xterm/headless` screen into numbered history lines: exactly what a
 * viewer saw leave the viewport (a `\r`-redrawn progress bar is one line, in its final state),
 * numbered without gaps, never twice, alternate-screen output excluded.
 *
 * The owner calls `poll()` from every `term.write` callback. Between polls, three hooks act during
 * parsing so that nothing is dropped before it is read: a scroll guard (a chunk longer than the
 * whole scrollback trims rows before its write callback runs), ED3 (`CSI 3 J`, erases scrollback)
 * and RIS (`ESC c`, discards both buffers). `onLines` may therefore be called from inside parsing:
 * it must not write to the terminal.
 *
 * Side effect: sets `scrollOnEraseInDisplay`, so `clear` (ED2) scrolls the screen into scrollback
 * (and so into history) instead of erasing it. Calling `term.reset()` directly is not tracked: the
 * unpolled part of the old buffer is lost (RIS sent as output is handled).
 */
export class LineTracker {
  private readonly now: () => number;
  /** term.buffer, read once: its getter re-checks the proposed-API option, on every scroll. */
  private readonly buffers: IBufferNamespace;
  private nextNumber: number;
  private anchor: Anchor = { kind: 'top' };
  /** Text of the first rows of a logical line whose rows had to be consumed before it ended. */
  private prefix = '';
  /** The last emitted texts, oldest first, at most RESYNC_WINDOW_LINES. */
  private recent: string[] = [];
  private activeType: IBuffer['type'];
  private cols: number;
  private finished = false;
  private disposed = false;
  private readonly subscriptions: IDisposable[] = [];

  constructor(
    private readonly term: Terminal,
    private readonly onLines: (lines: TrackedLine[]) => void,
    options: LineTrackerOptions = {},
  ) {
    if (!term.options.allowProposedApi) {
      throw new Error('LineTracker needs a Terminal created with allowProposedApi: true (registerMarker)');
    }
    if ((term.options.scrollback ?? 0) < MIN_SCROLLBACK) {
      throw new Error(`LineTracker needs a scrollback of at least ${MIN_SCROLLBACK} rows`);
    }
    this.now = options.now ?? Date.now;
    this.nextNumber = options.firstLineNumber ?? 1;
    this.buffers = term.buffer;
    this.activeType = this.buffers.active.type;
    this.cols = term.cols;
    term.options.scrollOnEraseInDisplay = true;
    this.subscriptions.push(
      term.onScroll(() => this.guardAgainstTrim()),
      term.onResize(() => this.afterResize()),
      this.buffers.onBufferChange((buffer) => this.onBufferChange(buffer)),
      // Returning false lets xterm's own handler run after ours.
      term.parser.registerCsiHandler({ final: 'J' }, (params) => this.beforeErase(params)),
      term.parser.registerCsiHandler({ prefix: '?', final: 'J' }, (params) => this.beforeErase(params)),
      term.parser.registerEscHandler({ final: 'c' }, () => this.beforeReset()),
    );
  }

  get nextLineNumber(): number {
    return this.nextNumber;
  }

  /** Call after every term.write callback. Emits the logical lines that have fully left the screen. */
  poll(): void {
    if (this.finished || this.disposed) return;
    const buffer = this.buffers.active;
    // The normal buffer does not change while the alternate screen is shown (and no marker can be
    // placed then): catch up when it returns.
    if (buffer.type !== 'normal') return;
    const lines: string[] = [];
    const markerless = this.anchor.kind === 'frozen' || this.anchorLost();
    const from = this.startRow(buffer, lines);
    const lastStart = this.collect(buffer, from, buffer.baseY, lines);
    if (lastStart !== undefined) this.setAnchor(buffer, 'line', lastStart);
    else if (markerless) this.anchorBefore(buffer, from);
    this.emit(lines);
  }

  /** Lines not yet emitted, down to the last non-blank row (the screen's unfinished part). Does not emit. */
  pendingScreenLines(): string[] {
    if (this.finished || this.disposed) return [];
    const prefix = this.prefix;
    const lines = this.collectRest(this.buffers.normal);
    this.prefix = prefix;
    return lines;
  }

  /** At session end: emit every remaining line of the normal buffer. Later calls (and polls) do nothing. */
  flushScreen(): void {
    if (this.finished || this.disposed) return;
    this.drainNormalBuffer();
    this.finished = true;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const subscription of this.subscriptions) subscription.dispose();
    this.subscriptions.length = 0;
    this.releaseMarker();
  }

  /**
   * Appends the logical lines starting at `from` that end before `boundary`; a line ends where the
   * next row is not a wrapped continuation (or the buffer ends). Returns the first row of the last
   * line appended. The first line continues the stashed prefix, if any.
   */
  private collect(buffer: IBuffer, from: number, boundary: number, out: string[]): number | undefined {
    let start = from;
    let lastStart: number | undefined;
    let startLine = buffer.getLine(from);
    for (let row = from + 1; row <= boundary; row++) {
      const line = buffer.getLine(row);
      if (line?.isWrapped) continue;
      // Most lines are one row: read it from the line object already in hand.
      const text =
        row - 1 === start && startLine ? startLine.translateToString(true) : rowsText(buffer, start, row - 1, false);
      out.push(this.prefix === '' ? text.trimEnd() : (this.takePrefix() + text).trimEnd());
      lastStart = start;
      start = row;
      startLine = line;
    }
    return lastStart;
  }

  /**
   * Every line of the normal buffer not yet emitted, down to the last non-blank row, consuming the
   * prefix. Works on the alternate screen too (no marker is placed).
   */
  private collectRest(buffer: IBuffer): string[] {
    const lines: string[] = [];
    this.collect(buffer, this.startRow(buffer, lines), endOfContent(buffer) + 1, lines);
    // The stashed start of a line whose remaining rows were erased is still a line that was seen.
    if (this.prefix !== '') lines.push(this.takePrefix().trimEnd());
    return lines;
  }

  /**
   * Where collecting resumes. If something disposed the marker (e.g. a screen edit after a resize
   * pulled consumed rows back onto the screen), the stashed prefix becomes a line of its own and
   * the place is found again by text, else taken to be the screen top.
   */
  private startRow(buffer: IBuffer, out: string[]): number {
    if (!this.anchorLost()) return this.nextRow(buffer);
    if (this.prefix !== '') out.push(this.takePrefix().trimEnd());
    const found = this.findRecent(buffer, 0);
    return found === undefined ? buffer.baseY : lineEnd(buffer, found) + 1;
  }

  /** The first row of the normal buffer not yet emitted or stashed (the screen top if the marker is lost). */
  private nextRow(buffer: IBuffer): number {
    const anchor = this.anchor;
    switch (anchor.kind) {
      case 'top':
        return 0;
      case 'frozen':
        return thawPlace(buffer, anchor.place);
      case 'row':
        return anchor.marker.isDisposed ? buffer.baseY : anchor.marker.line + 1;
      case 'line':
        return anchor.marker.isDisposed ? buffer.baseY : lineEnd(buffer, anchor.marker.line) + 1;
    }
  }

  private anchorLost(): boolean {
    return (this.anchor.kind === 'line' || this.anchor.kind === 'row') && this.anchor.marker.isDisposed;
  }

  /** The anchor's row, which the next trims move towards 0 (negative once lost). */
  private anchorLine(): number {
    switch (this.anchor.kind) {
      case 'top':
        return 0;
      case 'frozen':
        return 0; // only consulted on the normal screen, where nothing is frozen
      default:
        return this.anchor.marker.line;
    }
  }

  /** Emits everything left in the normal buffer (scrollback and screen) and re-anchors at row 0. */
  private drainNormalBuffer(): void {
    const lines = this.collectRest(this.buffers.normal);
    this.releaseMarker();
    this.anchor = { kind: 'top' };
    this.emit(lines);
  }

  /**
   * Runs after every scroll. Once the buffer is full each scroll trims its top row; before the
   * anchor would be trimmed, emit what is complete, and if the anchor is still in reach (one logical
   * line filling the scrollback), stash the rows of that unfinished line and anchor below them.
   */
  private guardAgainstTrim(): void {
    // Cheapest test first: this runs on every scroll.
    if (this.anchorLine() >= TRIM_GUARD_ROWS || this.finished || this.disposed) return;
    const buffer = this.buffers.active;
    if (buffer.type !== 'normal') return;
    if (buffer.length < this.term.rows + (this.term.options.scrollback ?? 0)) return;
    this.poll();
    if (this.anchorLine() >= TRIM_GUARD_ROWS) return;
    const next = this.stashUnfinished(buffer);
    this.setAnchor(buffer, 'row', next - 1);
  }

  /** Stashes the scrollback rows of the line that continues onto the screen; returns the next unconsumed row. */
  private stashUnfinished(buffer: IBuffer): number {
    const next = this.nextRow(buffer);
    if (next >= buffer.baseY) return next;
    this.prefix += rowsText(buffer, next, buffer.baseY - 1, true);
    return buffer.baseY;
  }

  /** ED3 is about to drop the scrollback: consume all of it first. */
  private beforeErase(params: (number | number[])[]): boolean {
    if (params[0] !== ED_ERASE_SCROLLBACK || this.finished || this.disposed) return false;
    const buffer = this.buffers.active;
    // ED3 on the alternate screen erases nothing of the normal buffer.
    if (buffer.type !== 'normal') return false;
    this.poll();
    const next = this.stashUnfinished(buffer);
    if (next <= buffer.baseY) {
      // Everything above the screen is consumed; after the erase the screen top is row 0.
      this.releaseMarker();
      this.anchor = { kind: 'top' };
    } else {
      // Consumed rows are on screen (a resize pulled them down): anchor on one, which ED3 keeps.
      this.setAnchor(buffer, 'row', next - 1);
    }
    return false;
  }

  /** RIS is about to discard both buffers: what the normal buffer still holds (screen included) was seen. */
  private beforeReset(): boolean {
    if (!this.finished && !this.disposed) this.drainNormalBuffer();
    return false;
  }

  private onBufferChange(buffer: IBuffer): void {
    const previous = this.activeType;
    this.activeType = buffer.type;
    if (buffer.type !== 'normal') {
      this.freeze();
      return;
    }
    if (previous === 'normal') {
      // Only a reset replaces the normal buffer with a new one; the marker belonged to the old one.
      this.releaseMarker();
      this.anchor = { kind: 'top' };
      this.prefix = '';
    }
    this.poll();
  }

  /**
   * The alternate screen is now shown: emit what the normal buffer completed before it (the same
   * chunk may have scrolled lines there) and keep the place as logical lines from its end, which
   * resizes do not change, whereas xterm can misplace markers when it reflows.
   */
  private freeze(): void {
    if (this.finished || this.disposed) return;
    const buffer = this.buffers.normal;
    const lines: string[] = [];
    const from = this.startRow(buffer, lines);
    const lastStart = this.collect(buffer, from, buffer.baseY, lines);
    const next = lastStart === undefined ? from : lineEnd(buffer, lastStart) + 1;
    this.releaseMarker();
    this.anchor = { kind: 'frozen', place: freezePlace(buffer, next) };
    this.emit(lines);
  }

  /**
   * xterm 6.0's narrowing reflow misplaces markers when the buffer overflows (it trims by every row
   * it added but shifts markers only by the rows it added below the cut), so the marker ends up
   * above our place and lines would be emitted again. Find our place by the last emitted texts,
   * searching down from where the marker landed. Other resizes move markers correctly; a partly
   * consumed line (`row`) has no text to look for and keeps xterm's placement. On the alternate
   * screen the place is frozen (see freeze) and needs nothing.
   */
  private afterResize(): void {
    const narrowed = this.term.cols < this.cols;
    this.cols = this.term.cols;
    if (this.finished || this.disposed || !narrowed || this.anchor.kind !== 'line') return;
    const buffer = this.buffers.active;
    if (buffer.type !== 'normal') return;
    if (buffer.length < this.term.rows + (this.term.options.scrollback ?? 0)) return;
    const marker = this.anchor.marker;
    const found = this.findRecent(buffer, marker.isDisposed ? 0 : lineStart(buffer, marker.line));
    if (found !== undefined) this.setAnchor(buffer, 'line', found);
  }

  /**
   * First row, at or below `from`, of a logical line whose text is the last emitted one and whose
   * preceding lines are the ones emitted before it (as far as the buffer still holds them).
   */
  private findRecent(buffer: IBuffer, from: number): number | undefined {
    const last = this.recent[this.recent.length - 1];
    if (last === undefined) return undefined;
    for (let start = Math.max(0, from); start < buffer.length; ) {
      const end = lineEnd(buffer, start);
      if (rowsText(buffer, start, end, false).trimEnd() === last && this.precededByRecent(buffer, start)) return start;
      start = end + 1;
    }
    return undefined;
  }

  private precededByRecent(buffer: IBuffer, start: number): boolean {
    let row = start;
    for (let i = this.recent.length - 2; i >= 0 && row > 0; i--) {
      const end = row - 1;
      row = lineStart(buffer, end);
      // A line whose first rows were trimmed cannot be compared; what the buffer still holds matched.
      if (row === 0 && buffer.getLine(0)?.isWrapped) return true;
      if (rowsText(buffer, row, end, false).trimEnd() !== this.recent[i]) return false;
    }
    return true;
  }

  /** Anchors so that `next` is the first unconsumed row of the active (normal) buffer. */
  private anchorBefore(buffer: IBuffer, next: number): void {
    if (next > 0 && !buffer.getLine(next)?.isWrapped) this.setAnchor(buffer, 'line', lineStart(buffer, next - 1));
    else this.setAnchor(buffer, 'row', next - 1);
  }

  /** Moves the anchor to `row` of the active (normal) buffer; a negative row means row 0 is next. */
  private setAnchor(buffer: IBuffer, kind: 'line' | 'row', row: number): void {
    this.releaseMarker();
    if (row < 0) {
      this.anchor = { kind: 'top' };
      return;
    }
    const marker = this.term.registerMarker(row - (buffer.baseY + buffer.cursorY));
    // registerMarker only fails on the alternate screen, which callers exclude.
    this.anchor = marker ? { kind, marker } : { kind: 'top' };
  }

  private releaseMarker(): void {
    if (this.anchor.kind === 'line' || this.anchor.kind === 'row') this.anchor.marker.dispose();
  }

  private takePrefix(): string {
    const prefix = this.prefix;
    this.prefix = '';
    return prefix;
  }

  private emit(texts: string[]): void {
    if (texts.length === 0) return;
    this.recent = [...this.recent, ...texts.slice(-RESYNC_WINDOW_LINES)].slice(-RESYNC_WINDOW_LINES);
    const timestamp = this.now();
    const lines = texts.map((text) => ({ lineNumber: this.nextNumber++, text, timestamp }));
    this.onLines(lines);
  }
}

/** First row of the logical line holding `row` (row 0 starts a line even if its head was trimmed). */
function lineStart(buffer: IBuffer, row: number): number {
  let start = row;
  while (start > 0 && buffer.getLine(start)?.isWrapped) start--;
  return start;
}

/** Last row of the logical line holding `row`. */
function lineEnd(buffer: IBuffer, row: number): number {
  let end = row;
  while (buffer.getLine(end + 1)?.isWrapped) end++;
  return end;
}

/** Records `next` as a FrozenPlace of a buffer that will only reflow. */
function freezePlace(buffer: IBuffer, next: number): FrozenPlace {
  const end = endOfContent(buffer);
  if (next > end) return { linesToEnd: 0, rowsIntoLine: 0, blankRowsPast: next - end - 1 };
  const start = lineStart(buffer, next);
  let linesToEnd = 0;
  for (let row = start; row <= end; row = lineEnd(buffer, row) + 1) linesToEnd++;
  return { linesToEnd, rowsIntoLine: next - start, blankRowsPast: 0 };
}

/** The row a FrozenPlace stands for now (0 if a reflow trimmed the lines it counted from). */
function thawPlace(buffer: IBuffer, place: FrozenPlace): number {
  const end = endOfContent(buffer);
  if (place.linesToEnd === 0) return Math.min(buffer.length, end + 1 + place.blankRowsPast);
  let start = end + 1;
  for (let i = 0; i < place.linesToEnd; i++) {
    if (start <= 0) return 0;
    start = lineStart(buffer, start - 1);
  }
  return Math.min(start + place.rowsIntoLine, lineEnd(buffer, start));
}

/** Last row worth keeping: the last non-blank screen row (with its wrapped rows), at least the last scrollback row. */
function endOfContent(buffer: IBuffer): number {
  let last = buffer.baseY - 1;
  for (let row = buffer.length - 1; row >= buffer.baseY; row--) {
    if (buffer.getLine(row)?.translateToString(true) !== '') {
      last = row;
      break;
    }
  }
  return lineEnd(buffer, last);
}

/**
 * Text of rows first..last as one string. Every row but the last wraps into the next one, so it
 * keeps its trailing spaces (they are part of the text), minus the empty cell a wide character
 * leaves at the end of a row when it does not fit and moves to the next row. `continues`: the last
 * row wraps on too.
 */
function rowsText(buffer: IBuffer, first: number, last: number, continues: boolean): string {
  let text = '';
  for (let row = first; row <= last; row++) {
    const line = buffer.getLine(row);
    if (!line) break;
    const wrapsOn = row < last || continues;
    let part = line.translateToString(!wrapsOn);
    if (wrapsOn && line.length > 0) {
      const lastCell = line.getCell(line.length - 1);
      const next = buffer.getLine(row + 1);
      if (lastCell && lastCell.getCode() === 0 && lastCell.getWidth() === 1 && next?.getCell(0)?.getWidth() === 2) {
        part = part.slice(0, -1);
      }
    }
    text += part;
  }
  return text;
}
