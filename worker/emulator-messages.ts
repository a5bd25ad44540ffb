/**
 * Messages between a worker's main thread and its emulator thread. The thread owns every
 * session's headless terminal (parsing ~20–40 ms of CPU per MB), so the main thread, which
 * reads PTYs and talks to the gateway, never blocks on it: a keystroke echo is not queued
 * behind another session's firehose.
 */
import type { LineRow } from '../common/db/repositories/lines.js';
import type { RecentResult } from '../common/ipc.js';
import type { ObservedState } from './state-detector.js';

export interface EmulatorResults {
  /** Serialized screen + scrollback + the modes the serializer does not restore. */
  snapshot: { data: string; cols: number; rows: number };
  recent: RecentResult;
  classify: { observed: ObservedState };
  /** The session ended: every remaining line has been emitted (in a `lines` message before this). */
  finish: { lines: number };
}

export type EmulatorRequestType = keyof EmulatorResults;

export type EmulatorIn =
  | { type: 'open'; id: string; cols: number; rows: number; scrollback: number }
  /** Output of one or more sessions, in the order it was read (one message per tick, not per chunk). */
  | { type: 'write'; writes: [id: string, data: string][] }
  | { type: 'resize'; id: string; cols: number; rows: number }
  | { type: 'close'; id: string }
  | { type: 'request'; id: string; requestId: number; request: EmulatorRequestType };

export type EmulatorOut =
  /** Output parsed since the last such message, per session (flow control's parse debt). */
  | { type: 'parsed'; parsed: [id: string, chars: number][] }
  | { type: 'lines'; rows: LineRow[] }
  | { type: 'reply'; requestId: number; ok: true; result: EmulatorResults[EmulatorRequestType] }
  | { type: 'reply'; requestId: number; ok: false; message: string };
