/**
 * `node --cpu-prof` is refused in NODE_OPTIONS on Node 20, so profiling the gateway and the
 * workers it forks goes through this preload instead (NODE_OPTIONS="--import <this file>", which
 * the workers inherit). It starts the V8 sampling profiler in the main thread and, through the
 * inspector's NodeWorker domain, in every worker thread (emulator, history writer, hash pool).
 * On SIGUSR2 it stops them all and writes CPU.<pid>.<thread>.cpuprofile files into
 * CCM_CPU_PROF_DIR (thread 0 = main), then `CPU.<pid>.done`.
 */
import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';
import { isMainThread } from 'node:worker_threads';

/** Sampling period in µs (V8's default is 1000). */
const SAMPLING_INTERVAL_US = 500;

const dir = process.env.CCM_CPU_PROF_DIR;
if (dir && isMainThread) {
  const session = new inspector.Session();
  session.connect();
  const post = (method, params = {}) =>
    new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  /** Worker-thread inspector sessions: sessionId → { name, nextId, pending }. */
  const threads = new Map();
  const toThread = (sessionId, method, params = {}) =>
    new Promise((resolve, reject) => {
      const t = threads.get(sessionId);
      const id = t.nextId++;
      t.pending.set(id, { resolve, reject });
      session.post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method, params }) });
    });
  session.on('NodeWorker.receivedMessageFromWorker', ({ params }) => {
    const msg = JSON.parse(params.message);
    const p = threads.get(params.sessionId)?.pending.get(msg.id);
    if (!p) return;
    threads.get(params.sessionId).pending.delete(msg.id);
    if (msg.error) p.reject(new Error(msg.error.message));
    else p.resolve(msg.result);
  });
  session.on('NodeWorker.attachedToWorker', ({ params }) => {
    threads.set(params.sessionId, { name: params.workerInfo.workerId, nextId: 1, pending: new Map() });
    void (async () => {
      await toThread(params.sessionId, 'Profiler.enable');
      await toThread(params.sessionId, 'Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
      await toThread(params.sessionId, 'Profiler.start');
    })().catch(() => undefined);
  });
  session.on('NodeWorker.detachedFromWorker', ({ params }) => threads.delete(params.sessionId));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
  await post('Profiler.start');
  await post('NodeWorker.enable', { waitForDebuggerOnStart: false });
  process.on('SIGUSR2', () => {
    void (async () => {
      const main = await post('Profiler.stop');
      fs.writeFileSync(path.join(dir, `CPU.${process.pid}.0.cpuprofile`), JSON.stringify(main.profile));
      for (const [sessionId, t] of threads) {
        try {
          const r = await toThread(sessionId, 'Profiler.stop');
          fs.writeFileSync(path.join(dir, `CPU.${process.pid}.${t.name}.cpuprofile`), JSON.stringify(r.profile));
        } catch {
          // the thread ended meanwhile
        }
      }
      fs.writeFileSync(path.join(dir, `CPU.${process.pid}.done`), '');
    })();
  });
}
