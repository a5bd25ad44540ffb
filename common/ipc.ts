/**
 * The whole gateway↔worker protocol: tagged unions used by both sides over Node IPC
 * (`serialization: 'advanced'`). Requests carry a requestId and are answered by exactly one
 * `response`; commands and events are one-way. Nothing here assumes both ends share a process
 * tree, so the transport can change without changing the messages.
 */
import type { ErrorCode } from './errors.js';
import type { CloseReason, Profile, SessionState } from './models.js';

/** What a worker needs to know; no secret is ever part of it. */
export interface WorkerConfig {
  workerId: number;
  dbPath: string;
  /** DB_MAX_SIZE_MB in bytes (0 = unlimited), applied to the worker's own connection. */
  dbMaxSizeBytes: number;
  maxBufferSize: number;
  logLevel: string;
  logDir: string;
}

export interface SpawnSpec {
  sessionId: string;
  profile: Profile;
  file: string;
  args: string[];
  cwd: string;
  cols: number;
  rows: number;
  /** Extra variables for this session only (the API key as ANTHROPIC_API_KEY). */
  extraEnv: Record<string, string>;
}

export interface SnapshotResult {
  /** 'snapshot': serialized screen + scrollback for a fresh terminal; 'delta': raw output after `since`. */
  mode: 'snapshot' | 'delta';
  data: string;
  seq: number;
  since: number | null;
  cols: number;
  rows: number;
}

export interface RecentResult {
  /** Lines on screen that history does not hold yet, oldest first, numbered from `firstLineNumber`. */
  lines: string[];
  firstLineNumber: number;
}

/** Results by request type, so `request()` is typed end to end. */
export interface WorkerResults {
  create_session: { pid: number };
  close_session: { closed: boolean };
  snapshot: SnapshotResult;
  recent: RecentResult;
  metrics: { metrics: unknown[] };
  shutdown: { sessions: number };
  ping: { at: number; rssBytes: number; eventLoopLagMs: number };
}

export type WorkerRequest =
  | { type: 'create_session'; requestId: number; spec: SpawnSpec }
  | { type: 'close_session'; requestId: number; sessionId: string; reason: CloseReason }
  | { type: 'snapshot'; requestId: number; sessionId: string; since: number | null }
  | { type: 'recent'; requestId: number; sessionId: string }
  | { type: 'metrics'; requestId: number }
  | { type: 'shutdown'; requestId: number }
  | { type: 'ping'; requestId: number };

export type WorkerRequestType = WorkerRequest['type'];

export type WorkerCommand =
  | { type: 'init'; config: WorkerConfig }
  | { type: 'input'; sessionId: string; data: string }
  | { type: 'resize'; sessionId: string; cols: number; rows: number }
  /** Flow-control credit: the gateway has delivered this many more output chars of the session. */
  | { type: 'credit'; sessionId: string; chars: number };

export type GatewayToWorker = WorkerRequest | WorkerCommand;

export type WorkerResponse =
  | { type: 'response'; requestId: number; ok: true; result: WorkerResults[WorkerRequestType] }
  | { type: 'response'; requestId: number; ok: false; error: { code: ErrorCode; message: string } };

export type WorkerEvent =
  | { type: 'ready'; workerId: number; pid: number }
  /**
   * One batch of output. `frame` is the finished `terminal_output` JSON text, built once in the
   * worker so the gateway forwards it to every viewer without re-serialising; `seq` is the
   * session's output counter after this batch and `chars` the batch length (UTF-16 units).
   */
  | { type: 'output'; sessionId: string; seq: number; chars: number; frame: string }
  | { type: 'session_exit'; sessionId: string; exitCode: number | null; signal: number | null; reason: CloseReason }
  | { type: 'state'; sessionId: string; state: SessionState; previousState: SessionState }
  | { type: 'history'; linesWritten: number; writeMs: number; ok: boolean; errorCode?: ErrorCode };

export type WorkerToGateway = WorkerResponse | WorkerEvent;

/** Builds the client-facing `terminal_output` frame (API.md) once, where the output is born. */
export function terminalOutputFrame(sessionId: string, data: string, seq: number): string {
  return JSON.stringify({ type: 'terminal_output', sessionId, data, seq });
}
