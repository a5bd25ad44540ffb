/**
 * Collects PTY output for a short window and hands it on as one string, so a firehose of tiny
 * chunks becomes a few IPC messages instead of thousands (VS Code terminalDataBuffering).
 * Interactive output goes out at once: while a window has carried less than
 * INTERACTIVE_WINDOW_CHARS, each chunk is sent immediately, so a keystroke's echo never waits
 * for the window; only once output is heavy is the rest of the window batched.
 */

/** How long output may wait to be joined with more: short enough that a flood feels live. */
export const OUTPUT_BATCH_WINDOW_MS = 5;
/** A batch is sent at once when it reaches this size, bounding message size and latency. */
export const OUTPUT_BATCH_MAX_CHARS = 256 * 1024;
/** Output per window below which chunks are forwarded unbatched (echo, prompts, spinners). */
export const INTERACTIVE_WINDOW_CHARS = 512;

export class OutputBatcher {
  private chunks: string[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Chars sent or buffered in the current window. */
  private windowChars = 0;

  constructor(private readonly flushTo: (data: string) => void) {}

  push(data: string): void {
    this.timer ??= setTimeout(() => this.endWindow(), OUTPUT_BATCH_WINDOW_MS);
    this.windowChars += data.length;
    if (this.size === 0 && this.windowChars <= INTERACTIVE_WINDOW_CHARS) {
      this.flushTo(data);
      return;
    }
    this.chunks.push(data);
    this.size += data.length;
    if (this.size >= OUTPUT_BATCH_MAX_CHARS) this.flush();
  }

  private endWindow(): void {
    this.timer = undefined;
    this.windowChars = this.size;
    if (this.size === 0) return;
    this.emit();
    // Output kept coming: keep batching for another window.
    this.timer = setTimeout(() => this.endWindow(), OUTPUT_BATCH_WINDOW_MS);
  }

  private emit(): void {
    const data = this.chunks.length === 1 ? (this.chunks[0] as string) : this.chunks.join('');
    this.chunks = [];
    this.size = 0;
    this.flushTo(data);
  }

  /** Sends what is buffered now (before a snapshot, at exit); the window keeps running. */
  flush(): void {
    if (this.size > 0) this.emit();
  }

  dispose(): void {
    this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.windowChars = 0;
  }
}
