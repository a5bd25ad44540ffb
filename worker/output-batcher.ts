/**
 * Collects PTY output for a short window and hands it on as one string, so a firehose of tiny
 * chunks becomes a few IPC messages instead of thousands (VS Code terminalDataBuffering).
 */

/** How long output may wait to be joined with more: short enough that echo feels instant. */
export const OUTPUT_BATCH_WINDOW_MS = 5;
/** A batch is sent at once when it reaches this size, bounding message size and latency. */
export const OUTPUT_BATCH_MAX_CHARS = 256 * 1024;

export class OutputBatcher {
  private chunks: string[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly flushTo: (data: string) => void) {}

  push(data: string): void {
    this.chunks.push(data);
    this.size += data.length;
    if (this.size >= OUTPUT_BATCH_MAX_CHARS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), OUTPUT_BATCH_WINDOW_MS);
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.size === 0) return;
    const data = this.chunks.length === 1 ? (this.chunks[0] as string) : this.chunks.join('');
    this.chunks = [];
    this.size = 0;
    this.flushTo(data);
  }

  dispose(): void {
    this.flush();
  }
}
