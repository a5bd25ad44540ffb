/** Worker process entry: wiring only. The gateway forks this with an IPC channel. */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { isAppError } from '../common/errors.js';
import type { GatewayToWorker, WorkerToGateway } from '../common/ipc.js';
import { createLogger } from '../common/log.js';
import { PtyHost } from './pty-host.js';

/** If the gateway dies without a word, sessions must not outlive it: exit within this bound. */
const EXIT_AFTER_DISCONNECT_MS = 1500;

let gatewayGone = false;

/**
 * A gateway killed with -9 closes the channel before 'disconnect' is processed: a send then
 * fails with EPIPE (thrown, or reported to the callback). Either way it means the same as
 * 'disconnect', and must never crash the worker with its sessions still running.
 */
function send(msg: WorkerToGateway): void {
  if (gatewayGone || !process.connected) return;
  try {
    process.send?.(msg, undefined, {}, (err) => {
      if (err) onGatewayGone();
    });
  } catch {
    onGatewayGone();
  }
}

// The terminal's Ctrl-C / SIGTERM reach the whole process group: leave the orderly shutdown to
// the gateway (API.md "Signals") instead of dying with sessions half-written.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
process.on('SIGHUP', () => undefined);

let host: PtyHost | undefined;
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();

process.on('message', (msg: GatewayToWorker) => {
  if (msg.type === 'init') {
    const log = createLogger({
      level: msg.config.logLevel,
      dir: msg.config.logDir,
      name: `worker-${msg.config.workerId}`,
      pretty: false,
    });
    process.on('uncaughtException', (err) => {
      log.fatal({ err }, 'worker crashed');
      // Whatever broke, the sessions' processes must not outlive this worker.
      host?.killAllNow();
      process.exit(1);
    });
    host = new PtyHost(msg.config, send, log, () => {
      const v = lag.percentile(99) / 1e6;
      lag.reset();
      return v;
    });
    send({ type: 'ready', workerId: msg.config.workerId, pid: process.pid });
    return;
  }
  if (!host) return;
  if ('requestId' in msg) {
    const requestId = msg.requestId;
    host.handleRequest(msg).then(
      (result) => send({ type: 'response', requestId, ok: true, result }),
      (err: unknown) =>
        send({
          type: 'response',
          requestId,
          ok: false,
          error: isAppError(err)
            ? { code: err.code, message: err.message }
            : { code: 'INTERNAL_ERROR', message: 'The worker failed to handle the request' },
        }),
    );
  } else {
    host.handleCommand(msg);
  }
});

/** The gateway is gone (even kill -9): kill every session's process tree, flush, exit. */
function onGatewayGone(): void {
  if (gatewayGone) return;
  gatewayGone = true;
  const deadline = setTimeout(() => process.exit(0), EXIT_AFTER_DISCONNECT_MS);
  deadline.unref();
  void (host?.shutdown({ fast: true }) ?? Promise.resolve()).finally(() => process.exit(0));
}

process.on('disconnect', onGatewayGone);
