/**
 * Thread priority for background work. On Linux the nice value belongs to a thread, not to the
 * process, so a worker thread can lower its own priority (never raise it: that needs
 * CAP_SYS_NICE) and leave the event loops that echo keystrokes first in line for the CPU.
 */
import fs from 'node:fs';
import os from 'node:os';

/** Nice value added to threads that parse terminal output or write history. */
export const BACKGROUND_THREAD_NICE = 10;

/** The calling thread's kernel thread id (Linux), or undefined where /proc does not tell. */
function currentThreadId(): number | undefined {
  try {
    // "/proc/thread-self" links to "<pid>/task/<tid>" for whichever thread reads it.
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Adds `increment` to the calling thread's nice value. Best effort: returns false (and changes
 * nothing) where per-thread priorities are not available.
 */
export function lowerThreadPriority(increment: number = BACKGROUND_THREAD_NICE): boolean {
  const tid = currentThreadId();
  if (tid === undefined) return false;
  try {
    os.setPriority(tid, Math.min(19, os.getPriority(tid) + increment));
    return true;
  } catch {
    return false;
  }
}
