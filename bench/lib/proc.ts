/** Resident memory of the gateway and its worker processes, read from /proc (Linux). */
import fs from 'node:fs';
import { descendants } from '../../test/helpers/gateway-process.js';

/** VmRSS of one process in bytes (0 once it has exited). */
export function rssBytes(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** A process's command line with spaces for NULs ('' once it has exited). */
export function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function parentOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

/** The gateway's worker processes: its children whose command line runs worker/main. */
export function workerPids(gatewayPid: number): number[] {
  return descendants(gatewayPid).filter((p) => parentOf(p) === gatewayPid && /worker\/main/.test(cmdline(p)));
}

/** Which worker runs a session: the parent of its PTY child. */
export function workerOfSession(ptyPid: number): number {
  return parentOf(ptyPid);
}

/** Gateway + workers (PTY children and their programs excluded). */
export function serverRss(gatewayPid: number): { gateway: number; workers: number; total: number } {
  const gateway = rssBytes(gatewayPid);
  const workers = workerPids(gatewayPid).reduce((s, p) => s + rssBytes(p), 0);
  return { gateway, workers, total: gateway + workers };
}
