/**
 * Thread priority for background work. On Linux the nice value belongs to a thread, not to the
 * process, and nice(2) changes the calling thread's only (the same call piscina makes for the
 * hash threads, through the same @napi-rs/nice binding). A thread can lower its own priority,
 * never raise it back (that needs CAP_SYS_NICE), and so leaves the event loops that echo
 * keystrokes first in line for the CPU.
 */
import { nice } from '@napi-rs/nice';

/** Nice value added to threads that parse terminal output or write history. */
export const BACKGROUND_THREAD_NICE = 10;

/** Adds `increment` to the calling thread's nice value. Best effort: false where refused. */
export function lowerThreadPriority(increment: number = BACKGROUND_THREAD_NICE): boolean {
  try {
    nice(increment);
    return true;
  } catch {
    return false;
  }
}
