/**
 * Finds gen-output's markers in raw `terminal_output` frames without parsing them: the marker
 * text has no character JSON escapes, so it appears verbatim in the frame's `data` string. A
 * marker split across two frames is found by also searching the end of the previous frame's
 * data joined with the start of this one's.
 */

const DATA_KEY = Buffer.from('","data":"');
const SEQ_KEY = Buffer.from('","seq":');
/** Longer than any marker (prefix + nonce + line count). */
const TAIL_BYTES = 96;

export class MarkerScanner {
  private tail = Buffer.alloc(0);

  constructor(private readonly marker: Buffer) {}

  /**
   * True when the marker ends in this frame. `after` receives the bytes that follow it in this
   * frame's data (e.g. the line count after GEN_DONE:<nonce>:).
   */
  scan(frame: Buffer, after?: (rest: string) => void): boolean {
    const start = frame.indexOf(DATA_KEY);
    const end = frame.lastIndexOf(SEQ_KEY);
    if (start < 0 || end < 0) return false;
    const data = frame.subarray(start + DATA_KEY.length, end);
    let found = -1;
    let source = data;
    const at = data.indexOf(this.marker);
    if (at >= 0) found = at;
    else if (this.tail.length > 0) {
      const joined = Buffer.concat([this.tail, data.subarray(0, TAIL_BYTES)]);
      const j = joined.indexOf(this.marker);
      if (j >= 0) {
        found = j;
        source = joined;
      }
    }
    this.tail = Buffer.from(data.subarray(Math.max(0, data.length - TAIL_BYTES)));
    if (found < 0) return false;
    after?.(
      source.toString('latin1', found + this.marker.length, Math.min(source.length, found + this.marker.length + 32)),
    );
    return true;
  }
}
