/**
 * The gateway's proxy for one worker process (VS Code PtyHostService side): forks it, sends
 * typed commands, correlates typed requests with responses, and rejects every pending request
 * the moment the process exits.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { AppError } from '../../common/errors.js';
import type {
  WorkerCommand,
  WorkerConfig,
  WorkerEvent,
  WorkerRequest,
  WorkerRequestType,
  WorkerResults,
  WorkerToGateway,
} from '../../common/ipc.js';
import { CHILD_EXEC_ARGV } from '../../common/paths.js';
import { RequestStore } from '../../common/request-store.js';

const WORKER_ENTRY = new URL(`../../worker/main${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/** A worker that has not said `ready` by then is killed and counted as a failed start. */
export const WORKER_READY_TIMEOUT_MS = 10_000;

type RequestOf<T extends WorkerRequestType> = Omit<Extract<WorkerRequest, { type: T }>, 'requestId'>;

interface WorkerHandleEvents {
  event: [WorkerEvent];
  exit: [code: number | null, signal: NodeJS.Signals | null];
}

export class WorkerHandle extends EventEmitter<WorkerHandleEvents> {
  readonly child: ChildProcess;
  readonly sessions = new Set<string>();
  private readonly requests = new RequestStore();
  ready = false;
  exited = false;
  readonly readyPromise: Promise<void>;

  constructor(readonly config: WorkerConfig) {
    super();
    this.child = fork(WORKER_ENTRY, [], {
      serialization: 'advanced',
      execArgv: CHILD_EXEC_ARGV,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.readyPromise = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new AppError('WORKER_UNAVAILABLE', `worker ${config.workerId} did not start in time`));
        this.child.kill('SIGKILL');
      }, WORKER_READY_TIMEOUT_MS);
      this.child.once('exit', () => {
        clearTimeout(timer);
        reject(new AppError('WORKER_UNAVAILABLE', `worker ${config.workerId} exited during start`));
      });
      this.once('event', function onReady(this: WorkerHandle, e: WorkerEvent) {
        // `once` sees the first event only; the first event a worker sends is always `ready`.
        if (e.type === 'ready') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    this.readyPromise.then(
      () => (this.ready = true),
      () => undefined,
    );
    this.child.on('message', (msg: WorkerToGateway) => {
      if (msg.type === 'response') {
        if (msg.ok) this.requests.resolve(msg.requestId, msg.result);
        else this.requests.reject(msg.requestId, msg.error.code, msg.error.message);
      } else {
        this.emit('event', msg);
      }
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      this.ready = false;
      this.requests.rejectAll('WORKER_UNAVAILABLE', `worker ${config.workerId} exited`);
      this.emit('exit', code, signal);
    });
    this.child.on('error', () => undefined); // exit follows; a send to a dead child lands here
    this.command({ type: 'init', config });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  command(msg: WorkerCommand): void {
    if (!this.exited && this.child.connected) this.child.send(msg);
  }

  request<T extends WorkerRequestType>(msg: RequestOf<T>, timeoutMs?: number): Promise<WorkerResults[T]> {
    if (this.exited || !this.child.connected) {
      return Promise.reject(new AppError('WORKER_UNAVAILABLE', `worker ${this.config.workerId} is not running`));
    }
    const { id, promise } = this.requests.create<WorkerResults[T]>(msg.type, timeoutMs);
    this.child.send({ ...msg, requestId: id } as WorkerRequest);
    return promise;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exited) this.child.kill(signal);
  }
}
