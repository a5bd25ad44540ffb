/**
 * Forks WORKER_COUNT workers, places sessions on the least-loaded ready one, watches them with
 * heartbeats, and replaces a dead one with backoff and a cap on restarts per minute.
 */
import { EventEmitter } from 'node:events';
import { AppError } from '../../common/errors.js';
import type { WorkerConfig, WorkerEvent } from '../../common/ipc.js';
import type { Logger } from '../../common/log.js';
import { WorkerHandle } from './worker-handle.js';

/** How often each worker is pinged; a worker silent for HEARTBEAT_MISSES pings is killed. */
export const WORKER_HEARTBEAT_INTERVAL_MS = 5000;
export const WORKER_HEARTBEAT_MISSES = 3;
/** First restart delay after a crash; doubles per consecutive crash up to the max. */
export const RESTART_BACKOFF_MIN_MS = 50;
export const RESTART_BACKOFF_MAX_MS = 5000;
/** More restarts than this within a minute: stop restarting that slot (a crash loop). */
export const MAX_RESTARTS_PER_MINUTE = 30;
/** How long an orderly shutdown waits for a worker to close its sessions and flush. */
export const WORKER_SHUTDOWN_TIMEOUT_MS = 8000;

interface SupervisorEvents {
  /** A worker died: these sessions died with it. */
  crashed: [workerId: number, sessionIds: string[]];
  event: [worker: WorkerHandle, event: WorkerEvent];
  restarted: [workerId: number];
  /** A heartbeat's round trip, in seconds. */
  rtt: [seconds: number];
}

export class Supervisor extends EventEmitter<SupervisorEvents> {
  private readonly slots = new Map<number, WorkerHandle>();
  private readonly restartTimes = new Map<number, number[]>();
  private readonly backoff = new Map<number, number>();
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly missed = new Map<WorkerHandle, number>();
  private stopping = false;
  restarts = 0;

  constructor(
    private readonly count: number,
    private readonly baseConfig: Omit<WorkerConfig, 'workerId'>,
    private readonly log: Logger,
  ) {
    super();
  }

  async start(): Promise<void> {
    const starts: Promise<void>[] = [];
    for (let id = 1; id <= this.count; id++) starts.push(this.spawn(id).readyPromise);
    await Promise.all(starts);
    this.heartbeat = setInterval(() => this.beat(), WORKER_HEARTBEAT_INTERVAL_MS);
    this.heartbeat.unref();
  }

  private spawn(workerId: number): WorkerHandle {
    const handle = new WorkerHandle({ ...this.baseConfig, workerId });
    this.slots.set(workerId, handle);
    handle.on('event', (e) => this.emit('event', handle, e));
    handle.on('exit', (code, signal) => this.onExit(handle, code, signal));
    handle.readyPromise.then(
      () => {
        this.backoff.delete(workerId);
        this.log.info({ workerId, pid: handle.pid }, 'worker ready');
      },
      (err: unknown) => this.log.error({ workerId, err }, 'worker failed to start'),
    );
    return handle;
  }

  private onExit(handle: WorkerHandle, code: number | null, signal: NodeJS.Signals | null): void {
    const workerId = handle.config.workerId;
    this.missed.delete(handle);
    const sessions = [...handle.sessions];
    handle.sessions.clear();
    if (this.stopping) return;
    this.log.error({ workerId, code, signal, sessions: sessions.length }, 'worker exited unexpectedly');
    this.emit('crashed', workerId, sessions);
    const now = Date.now();
    const recent = (this.restartTimes.get(workerId) ?? []).filter((t) => t > now - 60_000);
    if (recent.length >= MAX_RESTARTS_PER_MINUTE) {
      this.log.fatal({ workerId }, 'worker crash loop: not restarting this slot');
      this.slots.delete(workerId);
      return;
    }
    recent.push(now);
    this.restartTimes.set(workerId, recent);
    const delay = this.backoff.get(workerId) ?? RESTART_BACKOFF_MIN_MS;
    this.backoff.set(workerId, Math.min(delay * 2, RESTART_BACKOFF_MAX_MS));
    setTimeout(() => {
      if (this.stopping) return;
      this.restarts++;
      const next = this.spawn(workerId);
      next.readyPromise.then(
        () => this.emit('restarted', workerId),
        () => undefined,
      );
    }, delay).unref();
  }

  private beat(): void {
    for (const handle of this.slots.values()) {
      if (!handle.ready) continue;
      const sent = performance.now();
      handle.request<'ping'>({ type: 'ping' }, WORKER_HEARTBEAT_INTERVAL_MS).then(
        (r) => {
          this.emit('rtt', (performance.now() - sent) / 1000);
          this.missed.set(handle, 0);
          this.lastPing.set(handle.config.workerId, r);
        },
        () => {
          const misses = (this.missed.get(handle) ?? 0) + 1;
          this.missed.set(handle, misses);
          if (misses >= WORKER_HEARTBEAT_MISSES && !handle.exited) {
            this.log.error({ workerId: handle.config.workerId }, 'worker unresponsive: killing it');
            handle.kill('SIGKILL');
          }
        },
      );
    }
  }

  /** Latest heartbeat answer per worker (RSS and event-loop lag for the monitor). */
  readonly lastPing = new Map<number, { at: number; rssBytes: number; eventLoopLagMs: number }>();

  /** The least-loaded ready worker. */
  pick(): WorkerHandle {
    let best: WorkerHandle | undefined;
    for (const h of this.slots.values()) {
      if (!h.ready || h.exited) continue;
      if (!best || h.sessions.size < best.sessions.size) best = h;
    }
    if (!best) throw new AppError('WORKER_UNAVAILABLE');
    return best;
  }

  workers(): WorkerHandle[] {
    return [...this.slots.values()];
  }

  stats(): { ready: number; total: number } {
    let ready = 0;
    for (const h of this.slots.values()) if (h.ready && !h.exited) ready++;
    return { ready, total: this.count };
  }

  /** Orderly: each worker closes its sessions and flushes history, then is disconnected. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    await Promise.all(
      this.workers().map(async (h) => {
        if (h.exited) return;
        const exited = new Promise<void>((resolve) => h.once('exit', () => resolve()));
        try {
          await h.request<'shutdown'>({ type: 'shutdown' }, WORKER_SHUTDOWN_TIMEOUT_MS);
        } catch (err) {
          this.log.error({ workerId: h.config.workerId, err }, 'worker shutdown failed');
        }
        if (h.child.connected) h.child.disconnect();
        const timer = setTimeout(() => h.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
