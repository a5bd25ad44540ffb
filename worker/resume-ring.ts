/**
 * The last stretch of raw output, indexed by seq, so a client that lost its socket can resume
 * from the exact seq it had (no gap, no duplicate) without a full snapshot. Raw bytes are only
 * replayed to a client whose parser stopped exactly at `since`, so no escape sequence is cut.
 */

/** How much raw output is kept for resuming: a few seconds of a busy session. */
export const RESUME_RING_MAX_CHARS = 1024 * 1024;

export class ResumeRing {
  private chunks: { start: number; data: string }[] = [];
  private size = 0;

  constructor(private readonly maxChars = RESUME_RING_MAX_CHARS) {}

  /** `start` is the seq of the chunk's first char. */
  push(start: number, data: string): void {
    this.chunks.push({ start, data });
    this.size += data.length;
    while (this.size > this.maxChars && this.chunks.length > 1) {
      const dropped = this.chunks.shift() as { data: string };
      this.size -= dropped.data.length;
    }
  }

  /** Output from `since` to `end`, or undefined when that stretch is no longer held. */
  since(since: number, end: number): string | undefined {
    if (since === end) return '';
    if (since > end) return undefined;
    const first = this.chunks[0];
    if (!first || since < first.start) return undefined;
    const parts: string[] = [];
    for (const c of this.chunks) {
      const cEnd = c.start + c.data.length;
      if (cEnd <= since) continue;
      parts.push(c.start >= since ? c.data : c.data.slice(since - c.start));
    }
    return parts.join('');
  }
}
