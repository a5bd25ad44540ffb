/**
 * Kills everything a session started. A node-pty child is a session leader (setsid), so what it
 * starts shares its session id even after the leader dies; a descendant that called setsid itself
 * is still found through its parent chain while that chain is intact, and once seen it is tracked
 * by (pid, start time) so a later re-parenting to init does not hide it. Escalates HUP → TERM →
 * KILL, re-scanning /proc on every poll so children forked in the meantime are signalled too.
 *
 * Pids are reused fast (pid_max is 32768 here), so nothing is signalled on a bare number: see
 * SessionTree. Linux only (reads /proc). Limitation: a daemon that double-forks AND calls setsid between two
 * scans, before it was ever seen, escapes — only a cgroup could catch that.
 */
import fs from 'node:fs';

/** Time for a polite SIGHUP (what a closing terminal sends) to end the tree: lets a shell forward
 *  it to its jobs and lets an interactive program save its state. */
export const HUP_WAIT_MS = 500;
/** Time for SIGTERM to end what ignored or survived HUP (nohup'd jobs, servers). */
export const TERM_WAIT_MS = 1500;
/** Time for SIGKILL to take effect on the rest (re-sent every poll to catch late forks). Together
 *  the three waits bound a kill at ~4 s (required: at most 5 s). */
export const KILL_WAIT_MS = 2000;
/** How often /proc is re-scanned during a wait. A scan costs ~15 µs a process (5 ms with 375
 *  processes here) on the worker's event loop, which serves other PTYs: this keeps a kill to a
 *  tenth of the loop while still catching new forks within a few of their own lifetimes. */
export const SCAN_INTERVAL_MS = 50;

export interface ProcStat {
  pid: number;
  /** Single-letter state: R, S, D, Z (zombie), T (stopped), X (dead), … */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** Clock ticks since boot at which the process started; with the pid it names one process. */
  startTime: number;
}

/**
 * Parses /proc/<pid>/stat. Field 2 (comm) is in parentheses and may itself contain spaces and
 * parentheses, so the remaining fields are split after the LAST ')'.
 */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  // After ") ": state(3) ppid(4) pgrp(5) session(6) tty_nr(7) … starttime(22).
  const rest = text.slice(close + 2).split(' ');
  const state = rest[0];
  const ppid = Number(rest[1]);
  const pgrp = Number(rest[2]);
  const session = Number(rest[3]);
  const startTime = Number(rest[19]);
  if (!Number.isInteger(pid) || state === undefined || state.length !== 1) return null;
  if (![ppid, pgrp, session, startTime].every(Number.isInteger)) return null;
  return { pid, state, ppid, pgrp, session, startTime };
}

/** A zombie or dead entry holds no resources and cannot be signalled any further. */
function isGone(stat: ProcStat): boolean {
  return stat.state === 'Z' || stat.state === 'X';
}

/** Every live process, read from /proc; processes that vanish mid-scan are skipped. */
function readProcessTable(): Map<number, ProcStat> {
  const table = new Map<number, ProcStat>();
  for (const name of fs.readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue; // not a pid directory
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited between readdir and read
    }
    const stat = parseProcStat(text);
    if (stat && !isGone(stat)) table.set(stat.pid, stat);
  }
  return table;
}

/** Pids that must never be signalled whatever /proc says: init, this worker, its gateway. */
function isProtected(pid: number): boolean {
  return pid <= 1 || pid === process.pid || pid === process.ppid;
}

/**
 * A live process numbered `rootPid` is the session's leader only if it is a session leader forked
 * by this process (node-pty forks the PTY child directly from the worker and it calls setsid).
 * Anything else holding that number is a stranger that got the pid after the session ended —
 * pid_max is 32768 here, so numbers come round again within seconds on a busy machine.
 */
function isOwnSessionLeader(stat: ProcStat): boolean {
  return stat.ppid === process.pid && stat.session === stat.pid;
}

/**
 * The processes of one session across successive scans, each remembered by (pid, start time).
 * Guards against pid reuse: a member whose pid now names another process is forgotten, and a
 * session id whose number a stranger now holds as its pid is no longer matched (the kernel keeps
 * a session id allocated while any member lives, so a stranger with that pid means the session
 * is empty).
 */
class SessionTree {
  /** pid → start time of every member seen and still alive. */
  private readonly members = new Map<number, number>();
  /** session id → start time of its leader, or null when the leader was already gone. Kept after
   *  the leader dies: a child forked just before its parent was killed is found by session. */
  private readonly sessions = new Map<number, number | null>();
  private firstScan = true;

  constructor(private readonly rootPid: number) {}

  /** Re-reads /proc and returns the live members (newly forked ones included). */
  scan(): number[] {
    const table = readProcessTable();
    if (this.firstScan) {
      this.firstScan = false;
      const root = table.get(this.rootPid);
      if (!root)
        this.sessions.set(this.rootPid, null); // leader gone; orphans keep its session id
      else if (isOwnSessionLeader(root)) this.adopt(root, table);
      // else: a stranger holds the number, so nothing of the session is left.
    }
    for (const [pid, startTime] of this.members) {
      if (table.get(pid)?.startTime !== startTime) this.members.delete(pid);
    }
    for (const [sid, leaderStart] of this.sessions) {
      const holder = table.get(sid);
      if (holder && holder.startTime !== leaderStart) this.sessions.delete(sid);
    }
    for (const stat of this.newMembers(table)) this.adopt(stat, table);
    return [...this.members.keys()];
  }

  private adopt(stat: ProcStat, table: Map<number, ProcStat>): void {
    this.members.set(stat.pid, stat.startTime);
    if (!this.sessions.has(stat.session)) {
      // This member pins the session id, so whoever holds that pid now is its real leader.
      this.sessions.set(stat.session, table.get(stat.session)?.startTime ?? null);
    }
  }

  /** Processes not yet known that are in a known session or descend from a member. */
  private newMembers(table: Map<number, ProcStat>): ProcStat[] {
    const verdict = new Map<number, boolean>();
    const belongs = (pid: number): boolean => {
      const chain: number[] = [];
      let result = false;
      let cursor: number | undefined = pid;
      // Walk up until a member, a known verdict, or the top (bounded: /proc has no cycles, but
      // the table is a snapshot taken over time).
      while (cursor !== undefined && chain.length <= table.size) {
        const cached = verdict.get(cursor);
        if (cached !== undefined) {
          result = cached;
          break;
        }
        const stat = table.get(cursor);
        if (!stat) break;
        if (this.members.get(stat.pid) === stat.startTime || this.sessions.has(stat.session)) {
          result = true;
          break;
        }
        chain.push(cursor);
        cursor = stat.ppid > 1 ? stat.ppid : undefined;
      }
      for (const p of chain) verdict.set(p, result);
      return result;
    };
    const found: ProcStat[] = [];
    for (const stat of table.values()) {
      if (!this.members.has(stat.pid) && !isProtected(stat.pid) && belongs(stat.pid)) found.push(stat);
    }
    return found;
  }
}

function assertKillableRoot(rootPid: number): void {
  if (!Number.isInteger(rootPid) || isProtected(rootPid)) {
    throw new RangeError(`refusing to treat pid ${rootPid} as a session root`);
  }
}

/**
 * Live processes of the session whose PTY leader (a child of this process) is `rootPid`; the
 * leader is included while it is alive. Empty once the session is gone, even if the pid has been
 * reused since.
 */
export function listSessionProcesses(rootPid: number): number[] {
  assertKillableRoot(rootPid);
  return new SessionTree(rootPid).scan();
}

export interface KillTreeOptions {
  hupWaitMs?: number;
  termWaitMs?: number;
  killWaitMs?: number;
}

/**
 * Ends the whole process tree of a session (`rootPid` as for listSessionProcesses): SIGHUP, then
 * SIGTERM, then SIGKILL, each stage ending early once nothing is left. Resolves with the pids
 * still alive at the end (normally none; a process stuck in uninterruptible sleep can outlive
 * SIGKILL for a while). Safe to call after the leader exited: it then ends the orphans.
 */
export async function killProcessTree(rootPid: number, opts: KillTreeOptions = {}): Promise<{ survivors: number[] }> {
  assertKillableRoot(rootPid);
  const tree = new SessionTree(rootPid);

  const stages: Array<{ signal: NodeJS.Signals; waitMs: number }> = [
    { signal: 'SIGHUP', waitMs: opts.hupWaitMs ?? HUP_WAIT_MS },
    { signal: 'SIGTERM', waitMs: opts.termWaitMs ?? TERM_WAIT_MS },
    { signal: 'SIGKILL', waitMs: opts.killWaitMs ?? KILL_WAIT_MS },
  ];
  for (const { signal, waitMs } of stages) {
    const signalled = new Set<number>();
    const deadline = Date.now() + waitMs;
    for (;;) {
      const live = tree.scan();
      if (live.length === 0) return { survivors: [] };
      for (const pid of live) {
        // SIGKILL is repeated every poll; the polite signals go once to each process.
        if (signal !== 'SIGKILL' && signalled.has(pid)) continue;
        signalled.add(pid);
        sendSignal(pid, signal);
        // A stopped job (^Z) would leave HUP/TERM pending until continued.
        if (signal !== 'SIGKILL') sendSignal(pid, 'SIGCONT');
      }
      if (Date.now() >= deadline) break;
      await sleep(SCAN_INTERVAL_MS);
    }
  }
  return { survivors: tree.scan() };
}

function sendSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: already gone. EPERM: not ours (a setuid program); nothing more we can do.
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Clock ticks per second of /proc start times (USER_HZ, 100 on Linux). */
const CLOCK_TICKS_PER_SECOND = 100;
/** Grace for SIGTERM when reaping a crashed worker's sessions, before SIGKILL. */
export const ORPHAN_TERM_WAIT_MS = 300;
/** How long SIGKILL is repeated on what is left of an orphaned session. */
export const ORPHAN_KILL_WAIT_MS = 1000;

function bootTimeMs(): number {
  const line = fs
    .readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('btime '));
  return Number(line?.split(' ')[1] ?? 0) * 1000;
}

/**
 * Kills what is left of a session whose worker died (so its PTY leader is no longer our child):
 * every process in session `sessionId`. Safe against pid reuse: the kernel does not hand out a
 * number still in use as a session id, so members of the old session are its own; and a leader
 * holding that pid but started after the session was created is a stranger, left alone.
 */
export async function killOrphanedSession(sessionId: number, createdAtMs: number): Promise<number[]> {
  if (isProtected(sessionId)) return [];
  const leader = readProcessTable().get(sessionId);
  if (leader && bootTimeMs() + (leader.startTime / CLOCK_TICKS_PER_SECOND) * 1000 > createdAtMs + 1000) return [];
  const members = () =>
    [...readProcessTable().values()].filter((s) => s.session === sessionId && !isProtected(s.pid)).map((s) => s.pid);
  for (const [signal, waitMs] of [
    ['SIGTERM', ORPHAN_TERM_WAIT_MS],
    ['SIGKILL', ORPHAN_KILL_WAIT_MS],
  ] as const) {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const live = members();
      if (live.length === 0) return [];
      for (const pid of live) sendSignal(pid, signal);
      if (Date.now() >= deadline) break;
      await sleep(SCAN_INTERVAL_MS);
    }
  }
  return members();
}
