/**
 * When to stop reading a PTY. Two debts are watched: output sent to the gateway but not yet
 * credited back (a viewer that does not read), and output written into the headless terminal
 * but not yet parsed (xterm's write() throws once 50 MB is pending). The PTY is paused, never
 * its output dropped; the kernel then blocks the writing program, exactly as a slow real
 * terminal would.
 */

/**
 * Unacknowledged output (UTF-16 units) that pauses the PTY (anchors: VS Code 100k/5k, wetty
 * 2 MiB/512 KiB). Everything in flight queues in front of other sessions' keystroke echoes
 * on the same IPC channel, so the window is kept to about what a fast stream moves in a few
 * batch windows (30 MB/s × 5 ms ≈ 150 KB), not more.
 */
export const FLOW_HIGH_WATERMARK_CHARS = 256 * 1024;
/** ...and resumes it once the viewers have caught up to here. */
export const FLOW_LOW_WATERMARK_CHARS = 64 * 1024;
/**
 * Unparsed terminal input that pauses the PTY. DESIGN.md's anchor is ≈1 MB → pause, 256 KB →
 * resume; half of that keeps the emulator thread's queue (shared by the worker's sessions)
 * short, so an attach's snapshot is not queued behind seconds of other sessions' parsing.
 */
export const PARSE_HIGH_WATERMARK_CHARS = 512 * 1024;
export const PARSE_LOW_WATERMARK_CHARS = 128 * 1024;

export class FlowControl {
  sentSeq = 0;
  creditedSeq = 0;
  fedSeq = 0;
  parsedSeq = 0;
  private paused = false;
  private released = false;
  /** The history writer is behind with this session's lines. */
  historyBehind = false;

  constructor(private readonly setPaused: (paused: boolean) => void) {}

  private update(): void {
    if (this.released) return;
    const unacked = this.sentSeq - this.creditedSeq;
    const unparsed = this.fedSeq - this.parsedSeq;
    if (
      !this.paused &&
      (this.historyBehind || unacked > FLOW_HIGH_WATERMARK_CHARS || unparsed > PARSE_HIGH_WATERMARK_CHARS)
    ) {
      this.paused = true;
      this.setPaused(true);
    } else if (
      this.paused &&
      !this.historyBehind &&
      unacked < FLOW_LOW_WATERMARK_CHARS &&
      unparsed < PARSE_LOW_WATERMARK_CHARS
    ) {
      this.paused = false;
      this.setPaused(false);
    }
  }

  fed(chars: number): void {
    this.fedSeq += chars;
    this.update();
  }

  parsed(chars: number): void {
    this.parsedSeq += chars;
    this.update();
  }

  sent(seq: number): void {
    this.sentSeq = seq;
    this.update();
  }

  setHistoryBehind(behind: boolean): void {
    this.historyBehind = behind;
    this.update();
  }

  credit(chars: number): void {
    this.creditedSeq = Math.min(this.sentSeq, this.creditedSeq + chars);
    this.update();
  }

  /**
   * A closing session must drain what its dying processes wrote (so the last screen reaches
   * history) even if a viewer stopped reading: flow control ends here for good.
   */
  release(): void {
    this.released = true;
    if (this.paused) {
      this.paused = false;
      this.setPaused(false);
    }
  }

  get isPaused(): boolean {
    return this.paused;
  }
}
