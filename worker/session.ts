/**
 * One live terminal session in a worker: the PTY, output batching with seq numbers, the raw
 * output ring for resume, flow control and the state detector. Its headless terminal (screen
 * truth for replay, history and state) lives in the worker's emulator thread.
 */
import { AppError } from '../common/errors.js';
import type { RecentResult, SnapshotResult, SpawnSpec } from '../common/ipc.js';
import { terminalOutputFrame } from '../common/ipc.js';
import type { SessionState } from '../common/models.js';
import { killProcessTree, listSessionProcesses } from '../common/process-tree.js';
import type { Emulator } from './emulator.js';
import { FlowControl } from './flow-control.js';
import { ptyPaused } from './metrics.js';
import { OutputBatcher } from './output-batcher.js';
import { type PtyExit, PtyProcess } from './pty-process.js';
import { ResumeRing } from './resume-ring.js';
import { classifyShell, IDLE_DEBOUNCE_MS, readShellProbe, StateTracker } from './state-detector.js';

/** How often the rendered screen is read for state detection while output flows. */
export const STATE_POLL_INTERVAL_MS = 250;
/** A close that the process tree does not honour in this time is reported anyway. */
export const CLOSE_TIMEOUT_MS = 8000;
/**
 * Grace periods when the gateway vanished: nobody will see the output any more, and everything
 * must be gone well inside the worker's exit deadline, so HUP and TERM get a token wait only.
 */
const FAST_KILL = { hupWaitMs: 50, termWaitMs: 50, killWaitMs: 800 };

export interface SessionHooks {
  output(sessionId: string, seq: number, chars: number, frame: string): void;
  state(sessionId: string, state: SessionState, previous: SessionState): void;
  exit(sessionId: string, exit: PtyExit): void;
}

export class Session {
  readonly id: string;
  private readonly pty: PtyProcess;
  private readonly batcher: OutputBatcher;
  private readonly ring = new ResumeRing();
  private readonly flow: FlowControl;
  private readonly stateTracker: StateTracker;
  private readonly profile: SpawnSpec['profile'];
  private outputSinceStateCheck = true;
  private classifying = false;
  private exited = false;
  private cols: number;
  private rows: number;
  private readonly exitWaiters: (() => void)[] = [];
  /**
   * The last snapshot while the screen has not changed since: re-attaching to a quiet session
   * (a phone reconnecting to Claude waiting for an answer) skips serialising ~200 KB again.
   * Dropped on the first output or resize, so only quiet sessions hold one.
   */
  private snapshotCache: SnapshotResult | undefined;
  /** Resizes so far: a snapshot serialised across one (or several) must not be kept. */
  private resizes = 0;

  constructor(
    spec: SpawnSpec,
    env: Record<string, string>,
    maxBufferSize: number,
    private readonly emulator: Emulator,
    private readonly hooks: SessionHooks,
  ) {
    this.id = spec.sessionId;
    this.cols = spec.cols;
    this.rows = spec.rows;
    this.batcher = new OutputBatcher((data) => this.sendBatch(data));
    this.stateTracker = new StateTracker({
      idleDebounceMs: IDLE_DEBOUNCE_MS,
      onChange: (state, previous) => this.hooks.state(this.id, state, previous),
    });
    this.pty = PtyProcess.spawn({
      file: spec.file,
      args: spec.args,
      cwd: spec.cwd,
      env,
      cols: spec.cols,
      rows: spec.rows,
    });
    this.flow = new FlowControl((paused) => {
      if (paused) {
        ptyPaused.inc();
        this.pty.pause();
      } else {
        this.pty.resume();
      }
    });
    emulator.open(this.id, spec.cols, spec.rows, maxBufferSize, (chars) => this.flow.parsed(chars));
    this.pty.onData((data) => this.onPtyData(data));
    this.pty.onExit((exit) => void this.onPtyExit(exit));
    this.profile = spec.profile;
  }

  get pid(): number {
    return this.pty.pid;
  }

  private onPtyData(data: string): void {
    this.snapshotCache = undefined;
    this.ring.push(this.flow.fedSeq, data);
    this.flow.fed(data.length);
    this.batcher.push(data);
    this.emulator.write(this.id, data);
    this.outputSinceStateCheck = true;
  }

  private sendBatch(data: string): void {
    // The batch ends at the seq of everything fed so far (batching never reorders output).
    const seq = this.flow.fedSeq;
    this.flow.sent(seq);
    this.hooks.output(this.id, seq, data.length, terminalOutputFrame(this.id, data, seq));
  }

  /** Called by the worker's one state timer (every STATE_POLL_INTERVAL_MS) for every session. */
  checkState(): void {
    if (this.exited) return;
    if (this.profile === 'shell') {
      this.stateTracker.observe(classifyShell(readShellProbe(this.pty.pid)));
    } else if (this.outputSinceStateCheck && !this.classifying) {
      this.outputSinceStateCheck = false;
      this.classifying = true;
      this.emulator.request(this.id, 'classify').then(
        ({ observed }) => {
          this.classifying = false;
          if (!this.exited) this.stateTracker.observe(observed);
        },
        () => (this.classifying = false),
      );
    }
    this.stateTracker.tick();
  }

  write(data: string): void {
    if (!this.exited) this.pty.write(data);
  }

  resize(cols: number, rows: number): void {
    if (this.exited) return;
    this.snapshotCache = undefined;
    this.resizes++;
    this.pty.resize(cols, rows);
    this.emulator.resize(this.id, cols, rows);
    this.cols = cols;
    this.rows = rows;
  }

  credit(chars: number): void {
    this.flow.credit(chars);
  }

  setHistoryBehind(behind: boolean): void {
    this.flow.setHistoryBehind(behind);
  }

  /** The screen at a known seq: everything sent before the reply has seq ≤ the reply's seq. */
  async snapshot(since: number | null): Promise<SnapshotResult> {
    if (this.exited) throw new AppError('SESSION_NOT_RUNNING');
    this.batcher.flush();
    const seq = this.flow.fedSeq;
    if (since !== null) {
      const delta = this.ring.since(since, seq);
      if (delta !== undefined) return { mode: 'delta', data: delta, seq, since, cols: this.cols, rows: this.rows };
    }
    if (this.snapshotCache?.seq === seq) return this.snapshotCache;
    const resizesBefore = this.resizes;
    // Queued in the emulator behind every write so far: the answer is the screen exactly at `seq`.
    const snap = await this.emulator.request(this.id, 'snapshot');
    const result: SnapshotResult = {
      mode: 'snapshot',
      data: snap.data,
      seq,
      since: null,
      cols: snap.cols,
      rows: snap.rows,
    };
    // Kept only if nothing (output or a resize, even back to the same size) changed the screen
    // while it was serialised.
    if (this.flow.fedSeq === seq && this.resizes === resizesBefore) this.snapshotCache = result;
    return result;
  }

  recent(): Promise<RecentResult> {
    if (this.exited) return Promise.resolve({ lines: [], firstLineNumber: 0 });
    return this.emulator.request(this.id, 'recent');
  }

  private async onPtyExit(exit: PtyExit): Promise<void> {
    if (this.exited) return;
    this.exited = true;
    this.batcher.flush();
    // The last output is parsed and the screen goes to history before the exit is reported.
    await this.emulator.request(this.id, 'finish').catch(() => undefined);
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

  /**
   * The gateway is gone: SIGKILL the whole tree now, synchronously, before any asynchronous
   * clean-up (a loaded machine may not give the worker the time for HUP/TERM grace periods).
   */
  killTreeNow(): void {
    if (this.exited) return;
    try {
      for (const pid of listSessionProcesses(this.pty.pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    } catch {
      // the leader is not ours any more (exited and its pid reused): nothing to kill here
    }
  }

  private dispose(): void {
    this.batcher.dispose();
    this.emulator.close(this.id);
    this.pty.dispose();
  }
}
