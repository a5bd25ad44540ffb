import { Worker, type WorkerOptions } from 'node:worker_threads';
import { RUNNING_FROM_SOURCE } from './paths.js';

/**
 * Starts a worker thread from a module URL, both from dist/ (plain .js) and from sources: there
 * a thread does not get tsx's ESM hooks (`--import tsx` is not applied to threads on Node 20),
 * so a one-line bootstrap registers them in the thread and then imports the module.
 */
export function startThread(entry: URL, options: WorkerOptions = {}): Worker {
  if (!RUNNING_FROM_SOURCE) return new Worker(entry, options);
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}
