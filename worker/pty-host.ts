/**
 * The worker's session service (VS Code PtyService): owns every live session of this worker and
 * answers the gateway's typed requests. It never touches a socket or a user table.
 */
import { AppError } from '../common/errors.js';
import type { GatewayToWorker, WorkerConfig, WorkerEvent, WorkerRequest, WorkerResults } from '../common/ipc.js';
import type { Logger } from '../common/log.js';
import type { CloseReason } from '../common/models.js';
import { Emulator } from './emulator.js';
import { buildSessionEnv, resolveExecutable } from './environment.js';
import { type HistoryStatus, HistoryWriter } from './history-writer.js';
import { dbWriteSeconds, historyLines, inputBytes, outputBytes, registry } from './metrics.js';
import { Session, STATE_POLL_INTERVAL_MS } from './session.js';

export class PtyHost {
  private readonly sessions = new Map<string, Session>();
  private readonly closeReasons = new Map<string, CloseReason>();
  private readonly history: HistoryWriter;
  private readonly emulator: Emulator;
  private stopping: Promise<number> | undefined;
  /** One timer for every session's state check, not one per session (500 sessions = 500 timers). */
  private readonly statePoll: NodeJS.Timeout;

  constructor(
    private readonly config: WorkerConfig,
    private readonly emit: (event: WorkerEvent) => void,
    private readonly log: Logger,
    private readonly lagMs: () => number,
  ) {
    this.history = new HistoryWriter(
      config.dbPath,
      config.dbMaxSizeBytes,
      (status) => {
        if (status.ok) {
          historyLines.inc(status.linesWritten);
          dbWriteSeconds.observe(status.writeMs / 1000);
        } else {
          this.log.error({ code: status.errorCode }, 'history write failed; lines stay queued');
        }
        this.emitHistory(status);
      },
      (sessionId, pressure) => this.sessions.get(sessionId)?.setHistoryBehind(pressure),
    );
    this.statePoll = setInterval(() => {
      for (const s of this.sessions.values()) s.checkState();
    }, STATE_POLL_INTERVAL_MS);
    this.emulator = new Emulator({
      lines: (rows) => this.history.append(rows),
      failed: (err) => this.onEmulatorFailed(err),
    });
  }

  private emitHistory(status: HistoryStatus): void {
    this.emit({
      type: 'history',
      ok: status.ok,
      linesWritten: status.linesWritten,
      writeMs: status.writeMs,
      ...(status.errorCode ? { errorCode: status.errorCode } : {}),
    });
  }

  private onEmulatorFailed(err: Error): void {
    // Without its emulator the worker cannot replay or record its sessions: crash, so the
    // supervisor reports them and starts a fresh worker.
    this.log.fatal({ err }, 'emulator thread failed');
    process.exit(1);
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  handleCommand(msg: Exclude<GatewayToWorker, WorkerRequest>): void {
    switch (msg.type) {
      case 'input': {
        const s = this.sessions.get(msg.sessionId);
        if (s) {
          inputBytes.inc(msg.data.length);
          s.write(msg.data);
        }
        break;
      }
      case 'resize':
        this.sessions.get(msg.sessionId)?.resize(msg.cols, msg.rows);
        break;
      case 'credit':
        this.sessions.get(msg.sessionId)?.credit(msg.chars);
        break;
      case 'init':
        break;
    }
  }

  async handleRequest(msg: WorkerRequest): Promise<WorkerResults[WorkerRequest['type']]> {
    switch (msg.type) {
      case 'create_session':
        return this.create(msg.spec);
      case 'close_session':
        return { closed: await this.close(msg.sessionId, msg.reason) };
      case 'snapshot':
        return this.session(msg.sessionId).snapshot(msg.since);
      case 'recent': {
        const s = this.session(msg.sessionId);
        const recent = await s.recent();
        // Lines emitted before the answer must be committed before the caller reads the database.
        await this.history.flush();
        return recent;
      }
      case 'metrics':
        return { metrics: await registry.getMetricsAsJSON() };
      case 'shutdown':
        return { sessions: await this.shutdown() };
      case 'ping':
        return { at: Date.now(), rssBytes: process.memoryUsage.rss(), eventLoopLagMs: this.lagMs() };
    }
  }

  private session(id: string): Session {
    const s = this.sessions.get(id);
    if (!s) throw new AppError('SESSION_NOT_FOUND');
    return s;
  }

  private create(spec: WorkerRequest & { type: 'create_session' } extends { spec: infer S } ? S : never): {
    pid: number;
  } {
    if (this.sessions.has(spec.sessionId)) throw new AppError('VALIDATION_FAILED', 'Session id already in use');
    const env = buildSessionEnv(process.env, spec.extraEnv);
    const file = resolveExecutable(spec.file, env.PATH ?? '');
    if (!file) {
      throw new AppError('COMMAND_NOT_FOUND', `Command '${spec.file}' was not found on the server's PATH`);
    }
    const session = new Session({ ...spec, file }, env, this.config.maxBufferSize, this.emulator, {
      output: (sessionId, seq, chars, frame) => {
        outputBytes.inc(chars);
        this.emit({ type: 'output', sessionId, seq, chars, frame });
      },
      state: (sessionId, state, previousState) => this.emit({ type: 'state', sessionId, state, previousState }),
      exit: (sessionId, exit) => void this.onExit(sessionId, exit.exitCode, exit.signal),
    });
    this.sessions.set(spec.sessionId, session);
    this.log.info({ sessionId: spec.sessionId, profile: spec.profile, pid: session.pid }, 'session started');
    return { pid: session.pid };
  }

  private async onExit(sessionId: string, exitCode: number, signal: number): Promise<void> {
    this.sessions.delete(sessionId);
    const reason = this.closeReasons.get(sessionId) ?? 'exited';
    this.closeReasons.delete(sessionId);
    // The final screen is in history before anyone is told the session ended.
    await this.history.flush();
    this.log.info({ sessionId, exitCode, signal, reason }, 'session ended');
    this.emit({ type: 'session_exit', sessionId, exitCode, signal: signal || null, reason });
  }

  private async close(sessionId: string, reason: CloseReason, fast = false): Promise<boolean> {
    const s = this.sessions.get(sessionId);
    if (!s) return false;
    this.closeReasons.set(sessionId, reason);
    await s.close(fast);
    // The exit path may still be flushing history: wait for it.
    await this.history.flush();
    return true;
  }

  /** SIGKILLs every session's process tree at once (the gateway is gone, or the worker crashes). */
  killAllNow(): void {
    for (const s of this.sessions.values()) s.killTreeNow();
  }

  /**
   * Closes every session (final screens to history), then the writer. `fast` (the gateway is
   * gone) shortens the HUP/TERM grace so nothing outlives the worker's exit deadline.
   */
  shutdown(opts: { fast?: boolean } = {}): Promise<number> {
    // A vanished gateway during (or after) an orderly shutdown still kills at once, but the
    // shutdown itself runs once: a second run would wait on a writer that is already closed.
    if (opts.fast) this.killAllNow();
    this.stopping ??= this.runShutdown(opts.fast ?? false);
    return this.stopping;
  }

  private async runShutdown(fast: boolean): Promise<number> {
    const ids = [...this.sessions.keys()];
    await Promise.all(ids.map((id) => this.close(id, 'shutdown', fast)));
    await this.history.flush();
    await this.history.close();
    clearInterval(this.statePoll);
    await this.emulator.terminate();
    return ids.length;
  }
}
