/**
 * A thin wrapper around node-pty that delivers EVERY byte a child printed before reporting its
 * exit, and whose pause() really stops reading the PTY (flow control relies on it).
 *
 * Why node-pty alone loses the tail of a process that prints and exits at once (node-pty #72,
 * #85, #726; measured here: `seq 1 200000; exit` lost its tail in 14–40 % of runs): when the last slave
 * fd closes, epoll reports POLLHUP on the master together with POLLIN. libuv then reads once, and
 * if that read is partial — a PTY master read returns at most the 4 KiB the line discipline has
 * ready, while more waits in the flip buffers — it concludes "partial read + HUP = EOF" (libuv
 * #2319, #4992) and ends the stream. node-pty's socket closes the master fd, and the kilobytes
 * still queued in the kernel are gone. The kernel itself keeps them readable until the master is
 * closed (a read returns them, then EIO once empty).
 *
 * The fix: every path that closes the master goes through the socket's destroy() (libuv's early
 * EOF → autoDestroy, a read error, node-pty's 200 ms post-exit timer, node-pty destroy()). We hook
 * that one method and, before the fd is closed, synchronously read the master until the kernel
 * says it is empty (EIO when the slave is closed, EAGAIN when a grandchild still holds it). The
 * drained bytes go through the same decoder and queue as the rest, so order is kept, and node-pty
 * reports the exit only after that socket has closed — hence after the drain.
 *
 * (Keeping our own fd to the slave open would also stop the early EOF, but then node-pty's socket
 * could only close by its 200 ms timer — or we would have to guess when output is "done" — and
 * it would not help the timer path, which discards whatever is unread.)
 */
import fs from 'node:fs';
import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import type { IPty } from 'node-pty';
import * as pty from 'node-pty';
import { AppError } from '../common/errors.js';
import { resolveExecutable } from './environment.js';

/** Upper bound on what the exit drain reads. The exited child's tail is at most what the kernel
 *  buffers (4 KiB line discipline + 64 KiB flip buffers); this also stops a grandchild that keeps
 *  writing from spinning the drain loop (its later output is lost with the session anyway). */
export const EXIT_DRAIN_MAX_BYTES = 1024 * 1024;
/** Buffer for one drain read; the kernel returns at most 4 KiB a read, so this is ample. */
const DRAIN_READ_BYTES = 64 * 1024;
/** glibc execvp's search path when the environment has no PATH. */
const EXECVP_DEFAULT_PATH = '/bin:/usr/bin';

export interface PtyExit {
  exitCode: number;
  signal: number;
}

export interface PtyProcessOptions {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  cols: number;
  rows: number;
}

/** The parts of node-pty's UnixTerminal (1.1.0) this wrapper relies on; checked at spawn. */
interface UnixTerminalInternals {
  _socket: Socket;
  _fd: number;
  /** Public in the JS class (EventEmitter-style), missing from the IPty typings. */
  on(event: 'error', listener: (error: Error) => void): void;
  destroy(): void;
}

function unixInternals(term: IPty): UnixTerminalInternals {
  const internals = term as unknown as Partial<UnixTerminalInternals>;
  const complete =
    typeof internals._socket?.destroy === 'function' &&
    Number.isInteger(internals._fd) &&
    typeof internals.on === 'function' &&
    typeof internals.destroy === 'function';
  if (!complete) {
    // Fail loudly: without the hook the silent tail loss would come back.
    throw new Error('node-pty internals changed (_socket, _fd, on, destroy); worker/pty-process.ts needs updating');
  }
  return internals as UnixTerminalInternals;
}

export class PtyProcess {
  readonly pid: number;
  private readonly decoder = new StringDecoder('utf8');
  private readonly dataListeners: Array<(data: string) => void> = [];
  private readonly exitListeners: Array<(exit: PtyExit) => void> = [];
  /** Decoded output not yet delivered: only while paused (what the exit drain read, or what a
   *  listener's pause() left of a flush). Bounded by what the kernel and Node buffer for a PTY. */
  private queue: string[] = [];
  private paused = false;
  /** The master fd is closed (or closing): writes and resizes must not reach a reused fd number. */
  private masterClosed = false;
  private exit: PtyExit | undefined;
  private exitFired = false;
  private disposed = false;

  private readonly internals: UnixTerminalInternals;

  private constructor(private readonly term: IPty) {
    this.pid = term.pid;
    this.internals = unixInternals(term);
    const { _socket: socket, _fd: fd } = this.internals;
    // Spawned with encoding 'utf8' so node-pty sets IUTF8 on the terminal (erase works on whole
    // characters in cooked mode); the socket then hands out bytes as latin1 strings (a lossless
    // 1:1 mapping) so that ONE decoder sees both the socket's bytes and the drained tail, and a
    // character split across the two is still decoded correctly.
    socket.setEncoding('latin1');
    const realDestroy = socket.destroy.bind(socket);
    socket.destroy = (error?: Error): Socket => {
      if (!this.masterClosed) {
        this.masterClosed = true;
        if (!this.disposed) this.drainBeforeClose(socket, fd);
      }
      return realDestroy(error);
    };
    // node-pty rethrows any socket error other than EIO when nobody else listens, which would
    // take down every session of this worker; a failed read just ends this PTY's output.
    this.internals.on('error', () => undefined);
    term.onData((latin1) => this.receive(Buffer.from(latin1, 'latin1')));
    term.onExit(({ exitCode, signal }) => this.onPtyExit({ exitCode, signal: signal ?? 0 }));
  }

  /** Throws AppError COMMAND_NOT_FOUND / INVALID_CWD when the child could not start. */
  static spawn(opts: PtyProcessOptions): PtyProcess {
    // node-pty forks first and reports a failed chdir/exec only as the child's exit code 1, so
    // check what can be checked up front.
    let cwdIsDirectory = false;
    try {
      cwdIsDirectory = fs.statSync(opts.cwd).isDirectory();
    } catch {
      // missing or unreadable
    }
    if (!cwdIsDirectory) throw new AppError('INVALID_CWD');
    if (!resolveExecutable(opts.file, opts.env.PATH ?? EXECVP_DEFAULT_PATH)) throw new AppError('COMMAND_NOT_FOUND');
    const term = pty.spawn(opts.file, opts.args, {
      cols: opts.cols,
      rows: opts.rows,
      cwd: opts.cwd,
      env: opts.env,
      encoding: 'utf8',
    });
    try {
      return new PtyProcess(term);
    } catch (error) {
      term.kill('SIGKILL'); // never leave a child nobody can reach
      throw error;
    }
  }

  onData(cb: (data: string) => void): void {
    this.dataListeners.push(cb);
  }

  /** Fires once, AFTER every byte of output has been delivered via onData. */
  onExit(cb: (exit: PtyExit) => void): void {
    this.exitListeners.push(cb);
    const exit = this.exit;
    if (this.exitFired && exit) queueMicrotask(() => cb(exit));
  }

  write(data: string): void {
    if (this.masterClosed || this.disposed) return;
    this.term.write(data);
  }

  resize(cols: number, rows: number): void {
    if (this.masterClosed || this.disposed) return;
    this.term.resize(cols, rows);
  }

  /** Stops reading the master: the kernel buffer fills and the child blocks on its next write. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    if (!this.masterClosed) this.term.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.flush();
    if (this.paused) return; // a listener paused again while the queue was flushed
    if (!this.masterClosed) this.term.resume();
  }

  /** Signals the child (default SIGHUP); a no-op once it has exited (its pid may be reused). */
  kill(signal?: string): void {
    if (this.exit || this.disposed) return;
    this.term.kill(signal);
  }

  /** Closes the master fd and drops all listeners; no callback fires afterwards. Idempotent.
   *  It does not wait for the child: kill its tree first (process-tree.ts). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.queue = [];
    this.dataListeners.length = 0;
    this.exitListeners.length = 0;
    // After the exit the socket is already closed; node-pty's destroy() would also SIGHUP a pid
    // that may since have been reused.
    if (!this.exit && !this.masterClosed) this.internals.destroy();
  }

  private receive(bytes: Buffer): void {
    if (this.disposed) return;
    const text = this.decoder.write(bytes);
    if (text) this.deliver(text);
  }

  private deliver(text: string): void {
    if (this.paused || this.queue.length > 0) {
      this.queue.push(text);
      return;
    }
    for (const cb of this.dataListeners) cb(text);
  }

  private flush(): void {
    while (!this.paused && !this.disposed && this.queue.length > 0) {
      const text = this.queue.shift() as string;
      for (const cb of this.dataListeners) cb(text);
    }
    this.maybeFireExit();
  }

  /** Called inside the socket's destroy(), before the master fd is closed. */
  private drainBeforeClose(socket: Socket, fd: number): void {
    // Chunks the paused socket already buffered would be discarded by destroy(); read() hands
    // them to our 'data' listener first (it emits 'data' for what it returns).
    while (socket.read() !== null) {
      // each chunk went through receive()
    }
    const buffer = Buffer.allocUnsafe(DRAIN_READ_BYTES);
    let total = 0;
    while (total < EXIT_DRAIN_MAX_BYTES) {
      let n: number;
      try {
        n = fs.readSync(fd, buffer, 0, buffer.length, null);
      } catch {
        break; // EIO: slave closed and nothing left; EAGAIN: empty, though a grandchild holds it
      }
      if (n <= 0) break;
      total += n;
      this.receive(buffer.subarray(0, n)); // the decoder copies what it keeps
    }
  }

  private onPtyExit(exit: PtyExit): void {
    if (this.disposed || this.exit) return;
    this.masterClosed = true;
    const tail = this.decoder.end();
    if (tail) this.deliver(tail);
    this.exit = exit;
    this.maybeFireExit();
  }

  /** The exit waits only for queued output; once everything was delivered it may fire even while
   *  paused (a consumer that never resumes must still learn of the exit). */
  private maybeFireExit(): void {
    const exit = this.exit;
    if (!exit || this.exitFired || this.queue.length > 0 || this.disposed) return;
    this.exitFired = true;
    for (const cb of this.exitListeners) cb(exit);
  }
}
