/**
 * The client↔gateway WebSocket protocol (API.md). Client messages are validated by these
 * schemas; server messages are typed unions. Every bound is a named constant.
 */
import { z } from 'zod';
import type { ErrorCode } from './errors.js';
import type { CloseReason, PublicUser, SessionInfo, SessionState } from './models.js';

/** Terminal size bounds (API.md: 1–1000 × 1–500). */
export const MIN_COLS = 1;
export const MAX_COLS = 1000;
export const MIN_ROWS = 1;
export const MAX_ROWS = 500;
export const DEFAULT_COLS = 120;
export const DEFAULT_ROWS = 30;
/** Largest WebSocket frame accepted; a bigger one closes the socket with 1009. */
export const WS_MAX_PAYLOAD_BYTES = 256 * 1024;
/** Largest single terminal_input (a big paste); larger pastes must be split by the client. */
export const MAX_INPUT_CHARS = 64 * 1024;
export const MAX_SESSION_NAME = 100;
export const MAX_CWD_LENGTH = 4096;
export const MAX_REQUEST_ID_LENGTH = 128;

const id = z.string().min(1).max(128);
const requestId = z.union([z.string().max(MAX_REQUEST_ID_LENGTH), z.number().finite()]).optional();
const cols = z.number().int().min(MIN_COLS).max(MAX_COLS);
const rows = z.number().int().min(MIN_ROWS).max(MAX_ROWS);
/** Printable names only: control characters in a name would end up in other people's terminals. */
export const sessionNameSchema = z
  .string()
  .min(1)
  .max(MAX_SESSION_NAME)
  .regex(/^[^\p{Cc}]+$/u, { message: 'name must not contain control characters' });

export const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('authenticate'), requestId, token: z.string().min(1).max(8192) }),
  z.object({
    type: z.literal('create_session'),
    requestId,
    cols: cols.optional(),
    rows: rows.optional(),
    cwd: z.string().min(1).max(MAX_CWD_LENGTH).optional(),
    profile: z.enum(['claude', 'shell']).optional(),
    apiKeyId: id.optional(),
    name: sessionNameSchema.optional(),
  }),
  z.object({
    type: z.literal('attach_session'),
    requestId,
    sessionId: id,
    since: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  }),
  z.object({ type: z.literal('detach_session'), requestId, sessionId: id }),
  z.object({ type: z.literal('terminal_input'), requestId, sessionId: id, data: z.string().max(MAX_INPUT_CHARS) }),
  z.object({ type: z.literal('resize_terminal'), requestId, sessionId: id, cols, rows }),
  z.object({ type: z.literal('close_session'), requestId, sessionId: id }),
  z.object({ type: z.literal('list_sessions'), requestId }),
  z.object({ type: z.literal('get_session_info'), requestId, sessionId: id }),
  z.object({ type: z.literal('get_session_buffer'), requestId, sessionId: id }),
  z.object({ type: z.literal('rename_session'), requestId, sessionId: id, name: sessionNameSchema }),
  z.object({
    type: z.literal('ack'),
    requestId,
    sessionId: id,
    bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  }),
]);

export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type ClientMessageType = ClientMessage['type'];
export type RequestId = string | number | undefined;

export type ServerMessage =
  | { type: 'connection_status'; status: 'connected'; authRequired: true; version: string }
  | { type: 'authenticated'; requestId?: RequestId; user: PublicUser }
  | { type: 'session_created'; requestId?: RequestId; session: SessionInfo }
  | { type: 'session_detached'; requestId?: RequestId; sessionId: string }
  | {
      type: 'session_closed';
      requestId?: RequestId;
      sessionId: string;
      exitCode: number | null;
      signal: number | null;
      reason: CloseReason;
    }
  | { type: 'session_error'; requestId?: RequestId; sessionId?: string; code: ErrorCode; message: string }
  | { type: 'sessions_list'; requestId?: RequestId; sessions: SessionInfo[] }
  | { type: 'session_info'; requestId?: RequestId; session: SessionInfo }
  | {
      type: 'session_buffer';
      requestId?: RequestId;
      sessionId: string;
      data: string;
      seq: number;
      cols: number;
      rows: number;
      mode: 'snapshot' | 'delta';
      since: number | null;
    }
  | { type: 'session_state_changed'; sessionId: string; state: SessionState; previousState: SessionState }
  | { type: 'session_renamed'; requestId?: RequestId; sessionId: string; name: string }
  | { type: 'error'; requestId?: RequestId; code: ErrorCode; message: string };

/** WebSocket close codes used by the server. */
export const CLOSE_AUTH_FAILED = 4001;
export const CLOSE_TOKEN_REVOKED = 4002;
export const CLOSE_GOING_AWAY = 1001;
