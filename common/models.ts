/** Public shapes of the contract (API.md), shared by REST, WebSocket and IPC. */
export type Role = 'admin' | 'user';
export type Profile = 'claude' | 'shell';
export type SessionStatus = 'running' | 'exited' | 'closed' | 'crashed' | 'terminated';
export type SessionState = 'starting' | 'busy' | 'waiting_input' | 'idle' | 'exited';
export type CloseReason = 'exited' | 'closed' | 'crashed' | 'shutdown' | 'timeout';

export const SESSION_STATES: readonly SessionState[] = ['starting', 'busy', 'waiting_input', 'idle', 'exited'];
export const CLOSE_REASONS: readonly CloseReason[] = ['exited', 'closed', 'crashed', 'shutdown', 'timeout'];

export interface PublicUser {
  id: string;
  username: string;
  role: Role;
  createdAt: string;
}

export interface SessionInfo {
  id: string;
  name: string;
  profile: Profile;
  command: string;
  cwd: string;
  status: SessionStatus;
  state: SessionState;
  cols: number;
  rows: number;
  pid: number | null;
  createdAt: string;
  lastActivityAt: string;
  closedAt: string | null;
  exitCode: number | null;
  attachedClients: number;
}

export interface Line {
  lineNumber: number;
  text: string;
  timestamp: string;
}

export interface ApiKeyInfo {
  id: string;
  name: string;
  provider: string;
  hint: string | null;
  hasValue: boolean;
  createdAt: string;
  updatedAt: string;
  lastUsedAt: string | null;
}

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
