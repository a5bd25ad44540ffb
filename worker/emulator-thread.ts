/**
 * The emulator thread: one @xterm/headless terminal per session of this worker, with its line
 * tracker (history), mode tracker and serializer (replay) and the Claude screen classifier.
 * Every request is answered only after all output written before it has been parsed, so a
 * snapshot or a final flush is exact at the seq the main thread recorded when it asked.
 */
import { parentPort } from 'node:worker_threads';
import serializePkg from '@xterm/addon-serialize';
import xtermHeadless from '@xterm/headless';
import type { LineRow } from '../common/db/repositories/lines.js';
import { lowerThreadPriority } from '../common/thread-priority.js';
import type { EmulatorIn, EmulatorOut, EmulatorRequestType, EmulatorResults } from './emulator-messages.js';
import { LineTracker } from './line-tracker.js';
import { ModeTracker } from './mode-tracker.js';
import { classifyClaudeScreen } from './state-detector.js';

const { Terminal } = xtermHeadless;
const { SerializeAddon } = serializePkg;

/** Lines are handed to the main thread at most this often (one message per batch, not per line). */
const LINES_FLUSH_MS = 10;

const port = parentPort;
if (!port) throw new Error('emulator-thread must run as a worker thread');
// Parsing a firehose must not delay the main thread's PTY reads and keystroke echoes.
lowerThreadPriority();

function post(msg: EmulatorOut): void {
  port?.postMessage(msg);
}

let pendingLines: LineRow[] = [];
let linesTimer: NodeJS.Timeout | undefined;
function flushLines(): void {
  if (linesTimer) clearTimeout(linesTimer);
  linesTimer = undefined;
  if (pendingLines.length === 0) return;
  post({ type: 'lines', rows: pendingLines });
  pendingLines = [];
}

/** Parsed chars per session, reported once per event-loop turn rather than once per chunk. */
const parsedPending = new Map<string, number>();
let parsedFlushQueued = false;
function flushParsed(): void {
  parsedFlushQueued = false;
  if (parsedPending.size === 0) return;
  post({ type: 'parsed', parsed: [...parsedPending] });
  parsedPending.clear();
}
function reportParsed(id: string, chars: number): void {
  parsedPending.set(id, (parsedPending.get(id) ?? 0) + chars);
  if (!parsedFlushQueued) {
    parsedFlushQueued = true;
    setImmediate(flushParsed);
  }
}

class EmulatedSession {
  readonly term: InstanceType<typeof Terminal>;
  private readonly serializer = new SerializeAddon();
  private readonly modes: ModeTracker;
  private readonly tracker: LineTracker;
  emitted = 0;
  /** Writes handed to xterm whose parse callback has not run yet. */
  private unparsedWrites = 0;

  constructor(
    readonly id: string,
    cols: number,
    rows: number,
    private readonly scrollback: number,
  ) {
    this.term = new Terminal({ cols, rows, scrollback, allowProposedApi: true, scrollOnEraseInDisplay: true });
    this.term.loadAddon(this.serializer);
    this.modes = new ModeTracker(this.term);
    this.tracker = new LineTracker(this.term, (lines) => {
      this.emitted += lines.length;
      for (const l of lines)
        pendingLines.push({ session_id: id, line_number: l.lineNumber, text: l.text, timestamp: l.timestamp });
      linesTimer ??= setTimeout(flushLines, LINES_FLUSH_MS);
    });
  }

  write(data: string): void {
    this.unparsedWrites++;
    this.term.write(data, () => {
      this.unparsedWrites--;
      this.tracker.poll();
      reportParsed(this.id, data.length);
    });
  }

  resize(cols: number, rows: number): void {
    this.term.resize(cols, rows);
    this.tracker.poll();
  }

  /** Runs `fn` once everything written so far has been parsed. */
  afterParse<T>(fn: () => T): Promise<T> {
    // Nothing queued: answer now rather than after xterm's next write slice (a timer away).
    if (this.unparsedWrites === 0) return new Promise((resolve) => resolve(fn()));
    return new Promise((resolve) => this.term.write('', () => resolve(fn())));
  }

  answer(request: EmulatorRequestType): Promise<EmulatorResults[EmulatorRequestType]> {
    switch (request) {
      case 'snapshot':
        return this.afterParse(() => ({
          data: this.serializer.serialize({ scrollback: this.scrollback }) + this.modes.restoreSequence(),
          cols: this.term.cols,
          rows: this.term.rows,
        }));
      case 'recent':
        return this.afterParse(() => {
          this.tracker.poll();
          flushLines();
          return { lines: this.tracker.pendingScreenLines(), firstLineNumber: this.tracker.nextLineNumber };
        });
      case 'classify':
        return this.afterParse(() => ({ observed: classifyClaudeScreen(this.screenRows()) }));
      case 'finish':
        return this.afterParse(() => {
          this.tracker.poll();
          this.tracker.flushScreen();
          flushLines();
          return { lines: this.emitted };
        });
    }
  }

  private screenRows(): string[] {
    const buffer = this.term.buffer.active;
    const rows: string[] = [];
    for (let y = 0; y < this.term.rows; y++) rows.push(buffer.getLine(buffer.baseY + y)?.translateToString(true) ?? '');
    return rows;
  }

  dispose(): void {
    this.tracker.dispose();
    this.modes.dispose();
    this.term.dispose();
  }
}

const sessions = new Map<string, EmulatedSession>();

port.on('message', (msg: EmulatorIn) => {
  switch (msg.type) {
    case 'open':
      sessions.set(msg.id, new EmulatedSession(msg.id, msg.cols, msg.rows, msg.scrollback));
      break;
    case 'write':
      for (const [id, data] of msg.writes) sessions.get(id)?.write(data);
      break;
    case 'resize':
      sessions.get(msg.id)?.resize(msg.cols, msg.rows);
      break;
    case 'close':
      sessions.get(msg.id)?.dispose();
      sessions.delete(msg.id);
      break;
    case 'request': {
      const s = sessions.get(msg.id);
      if (!s) {
        post({ type: 'reply', requestId: msg.requestId, ok: false, message: 'no such session in the emulator' });
        break;
      }
      s.answer(msg.request).then(
        (result) => post({ type: 'reply', requestId: msg.requestId, ok: true, result }),
        (err: unknown) => post({ type: 'reply', requestId: msg.requestId, ok: false, message: String(err) }),
      );
      break;
    }
  }
});
