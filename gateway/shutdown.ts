/**
 * Signals (API.md): SIGTERM/SIGINT start the orderly shutdown; the same signal again within a
 * second is the same request (npm and Ctrl-C deliver it twice); any later signal forces it.
 * The orderly shutdown itself is bounded: past the bound the rest is forced.
 */
import type { Logger } from '../common/log.js';
import type { Gateway } from './gateway.js';

/** A repeat of the same signal inside this window is a duplicate delivery, not a second request. */
export const DUPLICATE_SIGNAL_WINDOW_MS = 1000;

export function installSignalHandlers(gateway: Gateway, log: Logger, timeoutMs: number): void {
  let first: { signal: NodeJS.Signals; at: number } | undefined;

  const force = (why: string) => {
    log.error({ why }, 'forcing shutdown');
    for (const w of gateway.supervisor.workers()) w.kill('SIGKILL');
    process.exit(1);
  };

  const onSignal = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (first) {
      if (signal === first.signal && now - first.at < DUPLICATE_SIGNAL_WINDOW_MS) return;
      force(`second signal ${signal}`);
      return;
    }
    first = { signal, at: now };
    log.info({ signal }, 'signal received: shutting down');
    const timer = setTimeout(() => force(`shutdown took longer than ${timeoutMs} ms`), timeoutMs);
    timer.unref();
    gateway.shutdown().then(
      () => {
        clearTimeout(timer);
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
