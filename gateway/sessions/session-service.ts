/**
 * Every session operation of the gateway: ownership checks, placement on a worker, session rows,
 * attach with exact replay, output fan-out with flow control, and the end of sessions (exit,
 * close, crash, idle timeout). The ws layer calls it; it calls workers through the supervisor.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../common/config.js';
import type { Db } from '../../common/db/open.js';
import { type SessionRow, SessionsRepository, toSessionInfo } from '../../common/db/repositories/sessions.js';
import { AppError } from '../../common/errors.js';
import type { SnapshotResult, SpawnSpec, WorkerEvent } from '../../common/ipc.js';
import type { Logger } from '../../common/log.js';
import type { CloseReason, Profile, SessionInfo, SessionStatus } from '../../common/models.js';
import { killOrphanedSession } from '../../common/process-tree.js';
import { DEFAULT_COLS, DEFAULT_ROWS, type RequestId, type ServerMessage } from '../../common/protocol.js';
import type { Principal } from '../auth/auth-service.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import type { WorkerHandle } from '../supervisor/worker-handle.js';
import {
  ATTACH_QUEUE_MAX_CHARS,
  LiveSession,
  VIEWER_MAX_BUFFERED_BYTES,
  VIEWER_STALL_TIMEOUT_MS,
  ViewerState,
} from './live-session.js';
import type { Viewer, ViewerDirectory } from './viewer.js';

/** How often stalled viewers, idle sessions and activity times are looked at. */
export const SWEEP_INTERVAL_MS = 1000;
/** last_activity_at is written at most this often per session (it changes on every output). */
export const ACTIVITY_WRITE_INTERVAL_MS = 10_000;
/** Creating a session waits this long for the worker to spawn the PTY. */
export const CREATE_TIMEOUT_MS = 10_000;
/** Closing waits this long for the process tree to die and the final screen to be written. */
export const CLOSE_TIMEOUT_MS = 15_000;

export interface CreateParams {
  cols?: number | undefined;
  rows?: number | undefined;
  cwd?: string | undefined;
  profile?: Profile | undefined;
  apiKeyId?: string | undefined;
  name?: string | undefined;
}

/** Looks up and decrypts an API key of the caller for one session (the keys module implements it). */
export interface ApiKeyResolver {
  valueForSession(userId: string, keyId: string): string;
}

export interface SessionEvents {
  created(profile: Profile): void;
  closed(reason: CloseReason): void;
  stateChanged(state: string): void;
}

const STATUS_FOR_REASON: Record<CloseReason, Exclude<SessionStatus, 'running'>> = {
  exited: 'exited',
  closed: 'closed',
  timeout: 'closed',
  shutdown: 'closed',
  crashed: 'crashed',
};

function bufferMessage(sessionId: string, snap: SnapshotResult, requestId: RequestId): ServerMessage {
  const { data, seq, cols, rows, mode, since } = snap;
  return { type: 'session_buffer', requestId, sessionId, data, seq, cols, rows, mode, since };
}

export class SessionService {
  readonly repo: SessionsRepository;
  private readonly live = new Map<string, LiveSession>();
  private readonly sweepTimer: NodeJS.Timeout;
  private acceptingNew = true;
  private lastActivityWrite = 0;

  constructor(
    db: Db,
    private readonly config: Config,
    private readonly supervisor: Supervisor,
    private readonly directory: ViewerDirectory,
    private readonly apiKeys: ApiKeyResolver | null,
    private readonly log: Logger,
    private readonly events: SessionEvents,
  ) {
    this.repo = new SessionsRepository(db);
    supervisor.on('event', (worker, event) => this.guarded('worker event', () => this.onWorkerEvent(worker, event)));
    supervisor.on('crashed', (_workerId, ids) => this.guarded('worker crash', () => this.onWorkerCrashed(ids)));
    this.sweepTimer = setInterval(() => this.guarded('sweep', () => this.sweep()), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  /**
   * Event handlers write session rows; a full disk or a locked database must not take the
   * gateway down with them (the row catches up at the next write).
   */
  private guarded(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err, what }, 'session bookkeeping failed');
    }
  }

  get liveCount(): number {
    return this.live.size;
  }

  attachedCount(): number {
    let n = 0;
    for (const l of this.live.values()) n += l.viewers.size;
    return n;
  }

  /** A session of another user is answered exactly like an unknown one (admins excepted). */
  owned(principal: Principal, sessionId: string): SessionRow {
    const row = this.repo.get(sessionId);
    if (!row || (row.user_id !== principal.user.id && principal.user.role !== 'admin')) {
      throw new AppError('SESSION_NOT_FOUND');
    }
    return row;
  }

  info(row: SessionRow): SessionInfo {
    return toSessionInfo(row, this.live.get(row.id)?.viewers.size ?? 0);
  }

  listActive(principal: Principal, all: boolean): SessionInfo[] {
    const rows =
      all && principal.user.role === 'admin'
        ? this.repo.listByStatus('running')
        : this.repo.listByUser(principal.user.id, 'running');
    return rows.map((r) => this.info(r));
  }

  listAll(principal: Principal): SessionInfo[] {
    return this.repo.listByUser(principal.user.id).map((r) => this.info(r));
  }

  private resolveCwd(requested: string | undefined): string {
    const root = this.config.sessionRoot;
    const target = requested === undefined ? root : path.resolve(root, requested);
    let real: string;
    try {
      real = fs.realpathSync(target);
    } catch {
      throw new AppError('INVALID_CWD', 'The working directory does not exist');
    }
    if (real !== root && !real.startsWith(root.endsWith(path.sep) ? root : root + path.sep)) {
      throw new AppError('INVALID_CWD', 'The working directory must be inside SESSION_ROOT');
    }
    if (!fs.statSync(real).isDirectory()) throw new AppError('INVALID_CWD', 'The working directory is not a directory');
    return real;
  }

  private command(profile: Profile): { file: string; args: string[] } {
    if (profile === 'claude') return { file: this.config.claudeCommand, args: [...this.config.claudeArgs] };
    return { file: os.userInfo().shell || '/bin/sh', args: ['-l'] };
  }

  async create(principal: Principal, params: CreateParams, viewer: Viewer | null): Promise<SessionInfo> {
    if (!this.acceptingNew) throw new AppError('SHUTTING_DOWN');
    const user = principal.user;
    const profile = params.profile ?? 'claude';
    if (profile === 'shell' && user.role !== 'admin' && !this.config.allowShellSessions) {
      throw new AppError(
        'PROFILE_NOT_ALLOWED',
        'Shell sessions are for admins (set ALLOW_SHELL_SESSIONS=true to allow everyone)',
      );
    }
    if (this.repo.countRunningByUser(user.id) >= this.config.maxSessionsPerUser) {
      throw new AppError(
        'SESSION_LIMIT_REACHED',
        `At most ${this.config.maxSessionsPerUser} running sessions per user`,
      );
    }
    const cwd = this.resolveCwd(params.cwd);
    const extraEnv: Record<string, string> = {};
    if (params.apiKeyId !== undefined) {
      if (!this.apiKeys) throw new AppError('API_KEY_NOT_FOUND');
      extraEnv.ANTHROPIC_API_KEY = this.apiKeys.valueForSession(user.id, params.apiKeyId);
    }
    const worker = this.supervisor.pick();
    const { file, args } = this.command(profile);
    const id = crypto.randomUUID();
    const cols = params.cols ?? DEFAULT_COLS;
    const rows = params.rows ?? DEFAULT_ROWS;
    const name = params.name ?? `${profile} ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`;
    this.repo.insert({ id, user_id: user.id, name, profile, command: [file, ...args].join(' '), cwd, cols, rows });
    const live = new LiveSession(id, user.id, worker);
    // Registered before the spawn so that not one byte of early output is missed.
    this.live.set(id, live);
    worker.sessions.add(id);
    if (viewer) {
      // The creator's output queues until it has been told the session exists (startStreaming).
      const state = new ViewerState();
      state.startAt(0);
      live.viewers.set(viewer, state);
    } else {
      live.unattachedSince = Date.now();
    }
    const spec: SpawnSpec = { sessionId: id, profile, file, args, cwd, cols, rows, extraEnv };
    try {
      const { pid } = await worker.request<'create_session'>({ type: 'create_session', spec }, CREATE_TIMEOUT_MS);
      this.repo.setPid(id, pid);
    } catch (err) {
      this.live.delete(id);
      worker.sessions.delete(id);
      this.repo.markEnded(id, 'exited', 'exited', null, null);
      throw err;
    }
    this.events.created(profile);
    this.log.info({ sessionId: id, userId: user.id, profile, workerId: worker.config.workerId }, 'session created');
    return this.info(this.repo.get(id) as SessionRow);
  }

  /** After `session_created` reached the creator: its queued first output, then live output. */
  startStreaming(sessionId: string, viewer: Viewer): void {
    const live = this.live.get(sessionId);
    const state = live?.viewers.get(viewer);
    if (!live || !state || !state.attaching) return;
    this.goLive(live, viewer, state, 0);
  }

  /** Delivers what queued for a viewer after `fromSeq`, then lets it receive live output. */
  private goLive(live: LiveSession, viewer: Viewer, state: ViewerState, fromSeq: number): void {
    state.startAt(fromSeq);
    state.attaching = false;
    for (const q of state.queue) if (q.seq > fromSeq) this.deliver(live, viewer, state, q.seq, q.frame);
    state.queue = [];
    state.queuedChars = 0;
    live.grantCredit();
  }

  private liveOwned(principal: Principal, sessionId: string): LiveSession {
    this.owned(principal, sessionId);
    const live = this.live.get(sessionId);
    if (!live || live.closing) throw new AppError('SESSION_NOT_RUNNING');
    return live;
  }

  /** Replies `session_buffer` (replay) then streams live output from exactly its seq. */
  async attach(
    principal: Principal,
    sessionId: string,
    viewer: Viewer,
    since: number | undefined,
    requestId: RequestId,
  ): Promise<void> {
    const live = this.liveOwned(principal, sessionId);
    if (live.userId !== principal.user.id) {
      this.log.info(
        { sessionId, adminId: principal.user.id, ownerId: live.userId },
        "admin attached to another user's session",
      );
    }
    live.viewers.delete(viewer);
    const state = new ViewerState();
    live.viewers.set(viewer, state);
    live.unattachedSince = null;
    let snap: SnapshotResult;
    try {
      snap = await live.worker.request<'snapshot'>({ type: 'snapshot', sessionId, since: since ?? null });
    } catch (err) {
      if (live.viewers.get(viewer) === state) live.viewers.delete(viewer);
      throw err;
    }
    // Every request is answered, even one overtaken by a detach or a newer attach.
    viewer.sendText(JSON.stringify(bufferMessage(sessionId, snap, requestId)));
    if (live.viewers.get(viewer) !== state) return;
    this.goLive(live, viewer, state, snap.seq);
  }

  async buffer(principal: Principal, sessionId: string, requestId: RequestId): Promise<ServerMessage> {
    const live = this.liveOwned(principal, sessionId);
    const snap = await live.worker.request<'snapshot'>({ type: 'snapshot', sessionId, since: null });
    return bufferMessage(sessionId, snap, requestId);
  }

  detach(principal: Principal, sessionId: string, viewer: Viewer): void {
    this.owned(principal, sessionId);
    const live = this.live.get(sessionId);
    if (live) this.removeViewer(live, viewer);
  }

  /** A socket closed: it leaves every session it viewed; the sessions keep running. */
  detachEverywhere(viewer: Viewer): void {
    for (const live of this.live.values()) if (live.viewers.has(viewer)) this.removeViewer(live, viewer);
  }

  private removeViewer(live: LiveSession, viewer: Viewer): void {
    if (!live.viewers.delete(viewer)) return;
    if (live.viewers.size === 0) live.unattachedSince = Date.now();
    live.grantCredit();
  }

  input(principal: Principal, sessionId: string, data: string): void {
    const live = this.liveOwned(principal, sessionId);
    live.worker.command({ type: 'input', sessionId, data });
    live.lastActivityAt = Date.now();
    live.activityDirty = true;
  }

  resize(principal: Principal, sessionId: string, cols: number, rows: number): void {
    const live = this.liveOwned(principal, sessionId);
    live.worker.command({ type: 'resize', sessionId, cols, rows });
    this.repo.setSize(sessionId, cols, rows);
  }

  rename(principal: Principal, sessionId: string, name: string): SessionInfo {
    const row = this.owned(principal, sessionId);
    this.repo.rename(row.id, name);
    return this.info(this.repo.get(row.id) as SessionRow);
  }

  ack(principal: Principal, sessionId: string, viewer: Viewer, chars: number): void {
    const live = this.liveOwned(principal, sessionId);
    const state = live.viewers.get(viewer);
    if (!state || state.attaching) return;
    state.ackMode = true;
    state.ackedSeq = Math.min(state.sentSeq, state.ackedSeq + chars);
    state.lastProgressAt = Date.now();
    live.grantCredit();
  }

  /** Closes a session (process tree killed, final screen in history) and resolves when done. */
  async close(
    principal: Principal | null,
    sessionId: string,
    reason: CloseReason,
    requester?: Viewer,
  ): Promise<ServerMessage & { type: 'session_closed' }> {
    if (principal) this.owned(principal, sessionId);
    const live = this.live.get(sessionId);
    if (!live) throw new AppError('SESSION_NOT_RUNNING');
    live.closing = true;
    live.closeRequester = requester;
    await live.worker
      .request<'close_session'>({ type: 'close_session', sessionId, reason }, CLOSE_TIMEOUT_MS)
      .catch((err: unknown) => {
        this.log.error({ sessionId, err }, 'close_session failed');
      });
    await Promise.race([live.ended, new Promise((r) => setTimeout(r, CLOSE_TIMEOUT_MS).unref())]);
    if (this.live.get(sessionId) === live) this.endSession(live, reason, null, null);
    const row = this.repo.get(sessionId) as SessionRow;
    return {
      type: 'session_closed',
      sessionId,
      exitCode: row.exit_code,
      signal: row.signal,
      reason: (row.close_reason ?? reason) as CloseReason,
    };
  }

  private onWorkerEvent(worker: WorkerHandle, event: WorkerEvent): void {
    switch (event.type) {
      case 'output': {
        const live = this.live.get(event.sessionId);
        if (!live) return;
        this.fanOut(live, event.seq, event.chars, event.frame);
        break;
      }
      case 'session_exit': {
        const live = this.live.get(event.sessionId);
        if (live) this.endSession(live, event.reason, event.exitCode, event.signal);
        worker.sessions.delete(event.sessionId);
        break;
      }
      case 'state': {
        const live = this.live.get(event.sessionId);
        this.repo.setState(event.sessionId, event.state);
        this.events.stateChanged(event.state);
        const owner = live?.userId ?? this.repo.get(event.sessionId)?.user_id;
        if (!owner) return;
        const text = JSON.stringify({
          type: 'session_state_changed',
          sessionId: event.sessionId,
          state: event.state,
          previousState: event.previousState,
        } satisfies ServerMessage);
        for (const v of this.directory.socketsOf(owner)) v.sendText(text);
        break;
      }
      default:
        break;
    }
  }

  private fanOut(live: LiveSession, seq: number, chars: number, text: string): void {
    live.lastSeq = seq;
    live.lastActivityAt = Date.now();
    live.activityDirty = true;
    if (live.viewers.size === 0) {
      live.grantCredit();
      return;
    }
    // UTF-8 encoded once here; every viewer's socket sends the same bytes.
    const frame = Buffer.from(text);
    for (const [viewer, state] of live.viewers) {
      if (state.attaching) {
        state.queue.push({ seq, chars, frame });
        state.queuedChars += chars;
        if (state.queuedChars > ATTACH_QUEUE_MAX_CHARS) this.dropViewer(live, viewer, 'attach queue overflow');
        continue;
      }
      this.deliver(live, viewer, state, seq, frame);
    }
    live.grantCredit();
  }

  private deliver(live: LiveSession, viewer: Viewer, state: ViewerState, seq: number, frame: Buffer): void {
    if (!state.behind) state.lastProgressAt = Date.now();
    state.sentSeq = seq;
    viewer.sendText(frame, (err) => {
      if (err) return;
      if (seq > state.writtenSeq) state.writtenSeq = seq;
      state.lastProgressAt = Date.now();
      live.grantCredit();
    });
    if (viewer.bufferedAmount > VIEWER_MAX_BUFFERED_BYTES)
      this.dropViewer(live, viewer, 'socket buffer over the bound');
  }

  private dropViewer(live: LiveSession, viewer: Viewer, why: string): void {
    this.log.warn({ sessionId: live.id, connectionId: viewer.connectionId, why }, 'slow viewer detached');
    this.removeViewer(live, viewer);
    viewer.notifyDetached(live.id, 'SLOW_CONSUMER', `Detached from the session: ${why}. Attach again to resume.`);
  }

  private endSession(live: LiveSession, reason: CloseReason, exitCode: number | null, signal: number | null): void {
    if (this.live.get(live.id) !== live) return;
    this.live.delete(live.id);
    live.worker.sessions.delete(live.id);
    // Clients are told even if the row cannot be written now (full disk): a row left `running`
    // becomes `terminated` at the next start.
    this.guarded('end session', () => {
      this.repo.markEnded(live.id, STATUS_FOR_REASON[reason], reason, exitCode, signal);
      this.repo.touch(live.id, live.lastActivityAt);
    });
    this.events.closed(reason);
    const text = JSON.stringify({
      type: 'session_closed',
      sessionId: live.id,
      exitCode,
      signal,
      reason,
    } satisfies ServerMessage);
    const told = new Set<Viewer>();
    const tell = (v: Viewer) => {
      if (told.has(v) || v === live.closeRequester) return;
      told.add(v);
      v.sendText(text);
    };
    for (const v of live.viewers.keys()) tell(v);
    for (const v of this.directory.socketsOf(live.userId)) tell(v);
    live.viewers.clear();
    live.markEnded();
  }

  private onWorkerCrashed(sessionIds: string[]): void {
    for (const id of sessionIds) {
      const live = this.live.get(id);
      if (live) this.endSession(live, 'crashed', null, null);
      // The worker cannot close its sessions any more: reap what they left (nohup'd jobs...).
      const row = this.repo.get(id);
      if (row?.pid) {
        void killOrphanedSession(row.pid, row.created_at).then(
          (left) =>
            left.length > 0 && this.log.error({ sessionId: id, left }, 'processes of a crashed session survived'),
          (err: unknown) => this.log.error({ err, sessionId: id }, 'reaping a crashed session failed'),
        );
      }
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const live of this.live.values()) {
      for (const [viewer, state] of live.viewers) {
        if (!state.attaching && state.behind && now - state.lastProgressAt > VIEWER_STALL_TIMEOUT_MS) {
          this.dropViewer(live, viewer, `no progress for ${VIEWER_STALL_TIMEOUT_MS} ms`);
        }
      }
      const idle = this.config.sessionIdleTimeoutMs;
      if (idle > 0 && !live.closing && live.unattachedSince !== null && now - live.unattachedSince > idle) {
        this.log.info({ sessionId: live.id }, 'closing session: nobody attached within SESSION_IDLE_TIMEOUT');
        void this.close(null, live.id, 'timeout').catch(() => undefined);
      }
    }
    if (now - this.lastActivityWrite >= ACTIVITY_WRITE_INTERVAL_MS) {
      this.lastActivityWrite = now;
      const touched: [string, number][] = [];
      for (const live of this.live.values()) {
        if (live.activityDirty) {
          live.activityDirty = false;
          touched.push([live.id, live.lastActivityAt]);
        }
      }
      this.repo.touchMany(touched);
    }
  }

  /** Recent lines of a live session that history does not hold yet (screen included). */
  async recentScreen(sessionId: string): Promise<{ lines: string[]; firstLineNumber: number } | null> {
    const live = this.live.get(sessionId);
    if (!live) return null;
    return live.worker.request<'recent'>({ type: 'recent', sessionId });
  }

  /** Shutdown: refuse new sessions; the supervisor then closes them in the workers. */
  stopAccepting(): void {
    this.acceptingNew = false;
  }

  /** After the workers closed everything: record each session's end. */
  finishShutdown(): void {
    clearInterval(this.sweepTimer);
    for (const live of [...this.live.values()]) this.endSession(live, 'shutdown', null, null);
  }
}
