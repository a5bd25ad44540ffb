import type { ErrorCode } from '../../common/errors.js';
import type { Role } from '../../common/models.js';

/** What the session service needs of a client socket (the ws layer implements it). */
export interface Viewer {
  readonly connectionId: string;
  readonly userId: string;
  readonly role: Role;
  /** Sends an already-serialised frame; `onWritten` fires once it has left the process. */
  sendText(text: string | Buffer, onWritten?: (err?: Error) => void): void;
  readonly bufferedAmount: number;
  /** Tells the client why it was detached from a session (the socket stays open). */
  notifyDetached(sessionId: string, code: ErrorCode, message: string): void;
}

/** Finds every open socket of a user (state events go to all of them, attached or not). */
export interface ViewerDirectory {
  socketsOf(userId: string): Iterable<Viewer>;
}
