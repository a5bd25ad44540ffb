/**
 * Starts the real gateway as a child process on port 0 with a temp data folder, real workers
 * and real PTYs, and stops it again checking that nothing it started is left behind.
 */
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FAKE_CLAUDE = path.join(ROOT, 'test/fixtures/fake-claude');

export interface GatewayOptions {
  env?: Record<string, string>;
  /** Reuse a data folder (to test restarts). */
  dir?: string;
}

/** Every descendant pid of `pid` (from /proc), to check that a stop leaves nothing behind. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** Every live process whose session id is `sid`: a PTY's whole tree, even reparented to init. */
export function sessionMembers(sid: number): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[3]) === sid && fields[0] !== 'Z') out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

/** The gateway's worker processes: its direct children running worker/main. */
export function workerPids(gatewayPid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== gatewayPid) continue;
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('worker/main')) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export class GatewayProcess {
  child!: ChildProcess;
  port = 0;
  stdout = '';
  stderr = '';
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  readonly exited: Promise<void>;
  private resolveExit!: () => void;
  private seenPids = new Set<number>();

  constructor(
    readonly dir: string,
    readonly env: Record<string, string>,
  ) {
    this.exited = new Promise((r) => (this.resolveExit = r));
  }

  static async start(opts: GatewayOptions = {}): Promise<GatewayProcess> {
    const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ccm-test-'));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      // A home of its own: the machine's ~/.bashrc (pyenv rehash and friends) must not slow or
      // lock the test shells, and nothing a session writes lands in the real home.
      HOME: dir,
      LANG: 'C.UTF-8',
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      DB_PATH: path.join(dir, 'ccmanager.db'),
      LOG_DIR: path.join(dir, 'logs'),
      LOG_LEVEL: 'info',
      BCRYPT_ROUNDS: '4',
      WORKER_COUNT: '2',
      SESSION_ROOT: dir,
      CLAUDE_COMMAND: FAKE_CLAUDE,
      ALLOW_SHELL_SESSIONS: 'true',
      ...opts.env,
    };
    const g = new GatewayProcess(dir, env);
    await g.launch();
    return g;
  }

  private launch(): Promise<void> {
    this.child = fork(path.join(ROOT, 'gateway/main.ts'), [], {
      cwd: ROOT,
      env: this.env,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child.stdout?.on('data', (d) => (this.stdout += String(d)));
    this.child.stderr?.on('data', (d) => (this.stderr += String(d)));
    this.child.on('exit', (code, signal) => {
      this.exitCode = code;
      this.exitSignal = signal;
      this.resolveExit();
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`gateway did not start:\n${this.stderr}\n${this.stdout.slice(-2000)}`)),
        20_000,
      );
      this.child.on('message', (m: unknown) => {
        if (m && typeof m === 'object' && (m as { type?: string }).type === 'gateway_ready') {
          clearTimeout(timer);
          this.port = (m as { port: number }).port;
          resolve();
        }
      });
      this.child.on('exit', () => {
        clearTimeout(timer);
        reject(
          new Error(
            `gateway exited during start (code ${this.child.exitCode}):\n${this.stderr}\n${this.stdout.slice(-2000)}`,
          ),
        );
      });
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  /** Remembers every process the gateway has started so far (workers, PTYs, their children). */
  snapshotPids(): number[] {
    for (const p of descendants(this.pid)) this.seenPids.add(p);
    return [...this.seenPids];
  }

  /** Orderly stop (SIGTERM); then asserts no process it ever started survives. */
  async stop(timeoutMs = 15_000): Promise<void> {
    this.snapshotPids();
    if (this.exitCode === null && this.exitSignal === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      await this.exited;
      clearTimeout(timer);
    }
    await this.assertNoSurvivors();
  }

  async kill9(): Promise<void> {
    this.snapshotPids();
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async assertNoSurvivors(timeoutMs = 3000): Promise<void> {
    const pids = [...this.seenPids];
    await waitFor('no surviving processes', () => pids.every((p) => !isAlive(p)), timeoutMs).catch(() => {
      const alive = pids.filter(isAlive);
      for (const p of alive) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone
        }
      }
      throw new Error(`processes left behind: ${alive.join(', ')}`);
    });
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  logs(): string {
    const dir = this.env.LOG_DIR as string;
    try {
      return fs.readFileSync(path.join(dir, 'combined.log'), 'utf8');
    } catch {
      return '';
    }
  }
}
