import type { LineRow } from '../common/db/repositories/lines.js';
import type { ErrorCode } from '../common/errors.js';

export type HistoryThreadIn = { type: 'rows'; rows: LineRow[] } | { type: 'flush'; id: number } | { type: 'close' };

export type HistoryThreadOut =
  | {
      type: 'status';
      ok: boolean;
      linesWritten: number;
      writeMs: number;
      errorCode?: ErrorCode;
      /** Rows of each session this batch finished with (committed, or dropped as invalid). */
      bySession?: [sessionId: string, rows: number][];
    }
  | { type: 'flushed'; id: number; dropped: number }
  | { type: 'closed'; dropped: number };
