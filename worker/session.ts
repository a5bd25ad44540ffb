/**
 * One live terminal session in a worker: the PTY, the headless terminal that holds the screen
 * truth (for replay, history and state), output batching with seq numbers, flow control, and
 * the state detector.
 */

import serializePkg from '@xterm/addon-serialize';
import xtermHeadless from '@xterm/headless';
import type { LineRow } from '../common/db/repositories/lines.js';
import type { RecentResult, SnapshotResult, SpawnSpec } from '../common/ipc.js';
import { terminalOutputFrame } from '../common/ipc.js';
import type { SessionState } from '../common/models.js';
import { FlowControl } from './flow-control.js';
import { LineTracker, type TrackedLine } from './line-tracker.js';
import { ModeTracker } from './mode-tracker.js';
import { OutputBatcher } from './output-batcher.js';
import { killProcessTree } from './process-tree.js';
import { type PtyExit, PtyProcess } from './pty-process.js';
import { ResumeRing } from './resume-ring.js';
import {
  classifyClaudeScreen,
  classifyShell,
  IDLE_DEBOUNCE_MS,
  readShellProbe,
  StateTracker,
} from './state-detector.js';

const { Terminal } = xtermHeadless;
const { SerializeAddon } = serializePkg;

/** How often the rendered screen is read for state detection while output flows. */
export const STATE_POLL_INTERVAL_MS = 250;
/** A close that the process tree does not honour in this time is reported anyway. */
export const CLOSE_TIMEOUT_MS = 8000;
/** Grace periods when the gateway vanished: everything must be gone within ~1 s. */
const FAST_KILL = { hupWaitMs: 150, termWaitMs: 150, killWaitMs: 500 };

export interface SessionHooks {
  output(sessionId: string, seq: number, chars: number, frame: string): void;
  lines(rows: LineRow[]): void;
  state(sessionId: string, state: SessionState, previous: SessionState): void;
  exit(sessionId: string, exit: PtyExit): void;
}

export class Session {
  readonly id: string;
  private readonly pty: PtyProcess;
  private readonly term: InstanceType<typeof Terminal>;
  private readonly serializer: InstanceType<typeof SerializeAddon>;
  private readonly tracker: LineTracker;
  private readonly modes: ModeTracker;
  private readonly batcher: OutputBatcher;
  private readonly ring = new ResumeRing();
  private readonly flow: FlowControl;
  private readonly stateTracker: StateTracker;
  private readonly statePoll: NodeJS.Timeout;
  private outputSinceStateCheck = true;
  private exited = false;
  private readonly exitWaiters: (() => void)[] = [];

  constructor(
    spec: SpawnSpec,
    env: Record<string, string>,
    private readonly maxBufferSize: number,
    private readonly hooks: SessionHooks,
  ) {
    this.id = spec.sessionId;
    this.term = new Terminal({
      cols: spec.cols,
      rows: spec.rows,
      scrollback: maxBufferSize,
      allowProposedApi: true,
      // `clear` then pushes the screen into scrollback, so history keeps what it erased.
      scrollOnEraseInDisplay: true,
    });
    this.serializer = new SerializeAddon();
    this.term.loadAddon(this.serializer);
    this.modes = new ModeTracker(this.term);
    this.tracker = new LineTracker(this.term, (lines) => this.emitLines(lines));
    this.batcher = new OutputBatcher((data) => this.sendBatch(data));
    this.stateTracker = new StateTracker({
      idleDebounceMs: IDLE_DEBOUNCE_MS,
      onChange: (state, previous) => this.hooks.state(this.id, state, previous),
    });
    const profile = spec.profile;
    this.pty = PtyProcess.spawn({
      file: spec.file,
      args: spec.args,
      cwd: spec.cwd,
      env,
      cols: spec.cols,
      rows: spec.rows,
    });
    this.flow = new FlowControl((paused) => (paused ? this.pty.pause() : this.pty.resume()));
    this.pty.onData((data) => this.onPtyData(data));
    this.pty.onExit((exit) => void this.onPtyExit(exit));
    this.statePoll = setInterval(() => this.checkState(profile), STATE_POLL_INTERVAL_MS);
  }

  get pid(): number {
    return this.pty.pid;
  }

  private onPtyData(data: string): void {
    const start = this.flow.fedSeq;
    this.ring.push(start, data);
    this.flow.fed(data.length);
    this.batcher.push(data);
    this.outputSinceStateCheck = true;
    this.term.write(data, () => {
      this.flow.parsed(data.length);
      this.tracker.poll();
    });
  }

  private sendBatch(data: string): void {
    // The batch ends at the seq of everything fed so far (batching never reorders output).
    const seq = this.flow.fedSeq;
    this.flow.sent(seq);
    this.hooks.output(this.id, seq, data.length, terminalOutputFrame(this.id, data, seq));
  }

  private emitLines(lines: TrackedLine[]): void {
    if (lines.length === 0) return;
    this.hooks.lines(
      lines.map((l) => ({ session_id: this.id, line_number: l.lineNumber, text: l.text, timestamp: l.timestamp })),
    );
  }

  private screenRows(): string[] {
    const buffer = this.term.buffer.active;
    const rows: string[] = [];
    for (let y = 0; y < this.term.rows; y++) {
      rows.push(buffer.getLine(buffer.baseY + y)?.translateToString(true) ?? '');
    }
    return rows;
  }

  private checkState(profile: SpawnSpec['profile']): void {
    if (this.exited) return;
    if (profile === 'shell') {
      this.stateTracker.observe(classifyShell(readShellProbe(this.pty.pid)));
    } else if (this.outputSinceStateCheck) {
      this.outputSinceStateCheck = false;
      this.stateTracker.observe(classifyClaudeScreen(this.screenRows()));
    }
    this.stateTracker.tick();
  }

  write(data: string): void {
    if (!this.exited) this.pty.write(data);
  }

  resize(cols: number, rows: number): void {
    if (this.exited) return;
    this.pty.resize(cols, rows);
    this.term.resize(cols, rows);
    this.tracker.poll();
  }

  credit(chars: number): void {
    this.flow.credit(chars);
  }

  setHistoryBehind(behind: boolean): void {
    this.flow.setHistoryBehind(behind);
  }

  /** The screen at a known seq: everything sent before the reply has seq ≤ the reply's seq. */
  snapshot(since: number | null): Promise<SnapshotResult> {
    this.batcher.flush();
    const seq = this.flow.fedSeq;
    const { cols, rows } = this.term;
    if (since !== null) {
      const delta = this.ring.since(since, seq);
      if (delta !== undefined) return Promise.resolve({ mode: 'delta', data: delta, seq, since, cols, rows });
    }
    return new Promise((resolve) => {
      // Queued behind every write so far: the callback sees the screen exactly at `seq`.
      this.term.write('', () => {
        const data = this.serializer.serialize({ scrollback: this.maxBufferSize }) + this.modes.restoreSequence();
        resolve({ mode: 'snapshot', data, seq, since: null, cols: this.term.cols, rows: this.term.rows });
      });
    });
  }

  recent(): RecentResult {
    return { lines: this.tracker.pendingScreenLines(), firstLineNumber: this.tracker.nextLineNumber };
  }

  private async onPtyExit(exit: PtyExit): Promise<void> {
    if (this.exited) return;
    this.exited = true;
    clearInterval(this.statePoll);
    this.batcher.flush();
    // Let the terminal parse the last output before the screen goes to history.
    await new Promise<void>((resolve) => this.term.write('', resolve));
    this.tracker.poll();
    this.tracker.flushScreen();
    this.stateTracker.exited();
    // Background jobs of an exited shell must not outlive their session.
    await killProcessTree(this.pty.pid).catch(() => undefined);
    this.hooks.exit(this.id, exit);
    this.dispose();
    for (const w of this.exitWaiters.splice(0)) w();
  }

  /** Kills the whole process tree and resolves once the exit (and final screen) was handled. */
  async close(fast = false): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    this.flow.release();
    await killProcessTree(this.pty.pid, fast ? FAST_KILL : undefined).catch(() => undefined);
    await Promise.race([done, new Promise((r) => setTimeout(r, CLOSE_TIMEOUT_MS).unref())]);
  }

  private dispose(): void {
    this.batcher.dispose();
    this.tracker.dispose();
    this.modes.dispose();
    this.pty.dispose();
    this.term.dispose();
  }
}
