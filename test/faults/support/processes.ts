/**
 * Process-table helpers for fault tests: who is a worker, who belongs to a PTY session (even after
 * re-parenting to init), and a last-resort kill so a failing test still leaves nothing behind.
 */
import fs from 'node:fs';
import { descendants, type GatewayProcess, isAlive } from '../../helpers/gateway-process.js';

export interface Stat {
  pid: number;
  state: string;
  ppid: number;
  sid: number;
}

/** /proc/<pid>/stat, split after the last ')' because comm may contain spaces and parentheses. */
export function statOf(pid: number): Stat | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, state: f[0] ?? '?', ppid: Number(f[1]), sid: Number(f[3]) };
  } catch {
    return undefined;
  }
}

export function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/** Every live (non-zombie) pid on the machine. */
function allPids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number);
}

/** Every live process whose session id is `sid`: a PTY's whole tree, even when re-parented. */
export function sessionMembers(sid: number): number[] {
  const out: number[] = [];
  for (const pid of allPids()) {
    const s = statOf(pid);
    if (s && s.sid === sid && s.state !== 'Z') out.push(pid);
  }
  return out;
}

/** The gateway's worker processes (direct children running worker/main). */
export function workerPids(g: GatewayProcess): number[] {
  return descendants(g.pid).filter((p) => statOf(p)?.ppid === g.pid && cmdline(p).includes('worker/main'));
}

/** The worker a PTY leader runs under (node-pty forks the PTY child straight from the worker). */
export function workerOf(ptyPid: number): number | undefined {
  return statOf(ptyPid)?.ppid;
}

/** Processes below the workers (PTYs and their children); 0 means no session process exists. */
export function ptyProcessCount(g: GatewayProcess): number {
  return workerPids(g).reduce((n, w) => n + descendants(w).length, 0);
}

export function rssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

export function environOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return '';
  }
}

/** Test cleanup only: SIGKILLs whatever of `pids` is still alive and returns those pids. */
export function killSurvivors(pids: Iterable<number>): number[] {
  const alive = [...new Set(pids)].filter((p) => p > 1 && p !== process.pid && isAlive(p));
  for (const p of alive) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  return alive;
}

export function aliveOf(pids: Iterable<number>): number[] {
  return [...new Set(pids)].filter(isAlive);
}
