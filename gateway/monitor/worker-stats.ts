/** Resident memory of the worker processes, asked of each worker (falls back to its last heartbeat). */
import type { Supervisor } from '../supervisor/supervisor.js';

/** A worker that does not answer the probe within this is counted at its last heartbeat's RSS. */
export const WORKER_PROBE_TIMEOUT_MS = 1000;

export async function workersRssBytes(supervisor: Supervisor): Promise<number> {
  const live = supervisor.workers().filter((w) => w.ready && !w.exited);
  const rss = await Promise.all(
    live.map((w) =>
      w.request<'ping'>({ type: 'ping' }, WORKER_PROBE_TIMEOUT_MS).then(
        (r) => r.rssBytes,
        () => supervisor.lastPing.get(w.config.workerId)?.rssBytes ?? 0,
      ),
    ),
  );
  return rss.reduce((s, v) => s + v, 0);
}
