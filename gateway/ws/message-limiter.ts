/**
 * A token bucket per socket: a client may send bursts (a paste split into many frames, a burst of
 * acks) but not flood the gateway and, through it, a worker. Messages over the rate are dropped
 * and answered with at most one RATE_LIMITED error per interval, so a flood cannot make the
 * server amplify it.
 */

/** Sustained client messages per second per socket (fast typing is ~30/s). */
export const WS_MESSAGES_PER_SECOND = 500;
/** Messages a socket may send at once before the rate applies. */
export const WS_MESSAGE_BURST = 2000;
/** At most one RATE_LIMITED notice per socket in this interval. */
export const RATE_LIMIT_NOTICE_INTERVAL_MS = 1000;

export class MessageLimiter {
  private tokens: number;
  private last: number;
  private lastNotice = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly ratePerSecond = WS_MESSAGES_PER_SECOND,
    private readonly burst = WS_MESSAGE_BURST,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** True when the message may be handled; false when it must be dropped. */
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whether a dropped message should be answered (rate-limits the answers themselves). */
  shouldNotify(): boolean {
    const t = this.now();
    if (t - this.lastNotice < RATE_LIMIT_NOTICE_INTERVAL_MS) return false;
    this.lastNotice = t;
    return true;
  }
}
