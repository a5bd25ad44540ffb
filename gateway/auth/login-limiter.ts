/**
 * Counts failed logins in a sliding window per key (an account name or a client address). Once a
 * key reaches its limit, further attempts are refused before bcrypt runs, so a flood of guesses
 * costs the server nothing. Memory is bounded: expired entries are swept and the map is capped.
 */
export const MAX_TRACKED_KEYS = 100_000;

export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private recent(key: string): number[] {
    const cutoff = this.now() - this.windowMs;
    const times = (this.failures.get(key) ?? []).filter((t) => t > cutoff);
    if (times.length === 0) this.failures.delete(key);
    else this.failures.set(key, times);
    return times;
  }

  isLimited(key: string): boolean {
    return this.recent(key).length >= this.limit;
  }

  /** Seconds until the oldest failure in the window expires (for Retry-After). */
  retryAfterSeconds(key: string): number {
    const times = this.recent(key);
    if (times.length === 0) return 0;
    return Math.max(1, Math.ceil(((times[0] as number) + this.windowMs - this.now()) / 1000));
  }

  recordFailure(key: string): void {
    if (this.failures.size >= MAX_TRACKED_KEYS) this.sweep();
    const times = this.recent(key);
    times.push(this.now());
    this.failures.set(key, times);
  }

  /** Takes back the most recent failure of `key` (an attempt counted up front that succeeded). */
  forgiveOne(key: string): void {
    const times = this.failures.get(key);
    if (!times) return;
    times.pop();
    if (times.length === 0) this.failures.delete(key);
  }

  reset(key: string): void {
    this.failures.delete(key);
  }

  sweep(): void {
    for (const key of [...this.failures.keys()]) this.recent(key);
    // Still full of live keys: drop the oldest entries rather than grow without bound.
    while (this.failures.size >= MAX_TRACKED_KEYS) {
      const oldest = this.failures.keys().next().value;
      if (oldest === undefined) break;
      this.failures.delete(oldest);
    }
  }
}
