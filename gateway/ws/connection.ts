/**
 * One WebSocket client: authenticate first (within the timeout), then typed, schema-validated
 * messages dispatched to the session service. Every reply echoes the requestId it answers.
 */
import crypto from 'node:crypto';
import type { WebSocket } from 'ws';
import { storageError } from '../../common/db/open.js';
import { AppError, type ErrorCode, isAppError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import {
  CLOSE_AUTH_FAILED,
  type ClientMessage,
  clientMessageSchema,
  type RequestId,
  type ServerMessage,
} from '../../common/protocol.js';
import type { AuthService, Principal } from '../auth/auth-service.js';
import type { SessionService } from '../sessions/session-service.js';
import type { ClientRegistry, RegisteredClient } from './client-registry.js';
import { MessageLimiter } from './message-limiter.js';

/** Session-scoped messages: their failures are answered with `session_error`. */
const SESSION_SCOPED = new Set<ClientMessage['type']>([
  'attach_session',
  'detach_session',
  'terminal_input',
  'resize_terminal',
  'close_session',
  'get_session_info',
  'get_session_buffer',
  'rename_session',
  'ack',
  'create_session',
]);

export interface ConnectionDeps {
  auth: AuthService;
  sessions: SessionService;
  registry: ClientRegistry;
  log: Logger;
  authTimeoutMs: number;
  version: string;
  onMessage?: (type: string) => void;
}

export class ClientConnection implements RegisteredClient {
  readonly connectionId = crypto.randomUUID();
  private principal: Principal | undefined;
  private readonly authTimer: NodeJS.Timeout;
  private readonly limiter = new MessageLimiter();
  private closing = false;
  alive = true;

  constructor(
    private readonly ws: WebSocket,
    private readonly deps: ConnectionDeps,
  ) {
    this.authTimer = setTimeout(() => {
      this.send({ type: 'error', code: 'AUTH_TIMEOUT', message: 'Authenticate first, within the time allowed' });
      this.close(CLOSE_AUTH_FAILED, 'authentication timeout');
    }, deps.authTimeoutMs);
    ws.on('message', (data, isBinary) => void this.onMessage(data, isBinary));
    ws.on('pong', () => (this.alive = true));
    ws.on('close', () => this.onClose());
    ws.on('error', () => undefined); // close follows
    this.send({ type: 'connection_status', status: 'connected', authRequired: true, version: deps.version });
  }

  get userId(): string {
    return this.principal?.user.id ?? '';
  }

  get role() {
    return this.principal?.user.role ?? 'user';
  }

  get jti(): string {
    return this.principal?.claims.jti ?? '';
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  sendText(text: string | Buffer, onWritten?: (err?: Error) => void): void {
    if (this.ws.readyState !== this.ws.OPEN) {
      onWritten?.(new Error('socket closed'));
      return;
    }
    // A Buffer is sent as a text frame as is: encoded once for every viewer, not once each.
    this.ws.send(text, { binary: false }, onWritten);
  }

  send(msg: ServerMessage): void {
    this.sendText(JSON.stringify(msg));
  }

  notifyDetached(sessionId: string, code: ErrorCode, message: string): void {
    this.send({ type: 'session_error', sessionId, code, message });
  }

  close(code: number, reason: string): void {
    this.closing = true;
    this.ws.close(code, reason);
    // A peer that never answers the close handshake is cut off.
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  onClosed(cb: () => void): void {
    if (this.ws.readyState === this.ws.CLOSED) cb();
    else this.ws.once('close', cb);
  }

  terminate(): void {
    this.ws.terminate();
  }

  ping(): void {
    this.alive = false;
    this.ws.ping();
  }

  private onClose(): void {
    clearTimeout(this.authTimer);
    if (this.principal) {
      this.deps.registry.remove(this);
      this.deps.sessions.detachEverywhere(this);
    }
  }

  private async onMessage(raw: unknown, isBinary: boolean): Promise<void> {
    // A socket being closed (failed auth, revoked token) is not served any more, even for
    // frames that arrived in the same TCP segment as the one that failed.
    if (this.closing) return;
    if (!this.limiter.take()) {
      if (this.limiter.shouldNotify()) {
        this.send({ type: 'error', code: 'RATE_LIMITED', message: 'Too many messages; some were dropped' });
      }
      return;
    }
    let requestId: RequestId;
    if (isBinary) {
      this.send({ type: 'error', code: 'VALIDATION_FAILED', message: 'Binary frames are not part of the protocol' });
      if (!this.principal) this.failAuth();
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(String(raw));
    } catch {
      this.send({ type: 'error', code: 'INVALID_JSON', message: 'Each frame must be one JSON object' });
      if (!this.principal) this.failAuth();
      return;
    }
    if (parsed && typeof parsed === 'object' && 'requestId' in parsed) {
      const r = (parsed as { requestId: unknown }).requestId;
      if (typeof r === 'string' || typeof r === 'number') requestId = r;
    }
    const result = clientMessageSchema.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue?.path.join('.') || 'message';
      this.send({
        type: 'error',
        requestId,
        code: 'VALIDATION_FAILED',
        message: `${where}: ${issue?.message ?? 'invalid'}`,
      });
      if (!this.principal) this.failAuth();
      return;
    }
    const msg = result.data;
    this.deps.onMessage?.(msg.type);
    if (!this.principal) {
      if (msg.type !== 'authenticate') {
        this.send({ type: 'error', requestId, code: 'UNAUTHENTICATED', message: 'Send authenticate first' });
        this.failAuth();
        return;
      }
      this.authenticate(msg.token, requestId);
      return;
    }
    try {
      await this.dispatch(this.principal, msg);
    } catch (err) {
      const e = isAppError(err) ? err : (storageError(err) ?? new AppError('INTERNAL_ERROR'));
      if (e.code === 'INTERNAL_ERROR') this.deps.log.error({ err, type: msg.type }, 'ws handler failed');
      if (SESSION_SCOPED.has(msg.type)) {
        const sessionId = 'sessionId' in msg ? msg.sessionId : undefined;
        this.send({
          type: 'session_error',
          requestId: msg.requestId,
          ...(sessionId ? { sessionId } : {}),
          code: e.code,
          message: e.message,
        });
      } else {
        this.send({ type: 'error', requestId: msg.requestId, code: e.code, message: e.message });
      }
    }
  }

  private failAuth(): void {
    this.close(CLOSE_AUTH_FAILED, 'authentication failed');
  }

  private authenticate(token: string, requestId: RequestId): void {
    if (this.principal) return;
    try {
      this.principal = this.deps.auth.authenticate(token);
    } catch (err) {
      const e = isAppError(err) ? err : new AppError('INVALID_TOKEN');
      this.send({ type: 'error', requestId, code: e.code, message: e.message });
      this.failAuth();
      return;
    }
    clearTimeout(this.authTimer);
    this.deps.registry.add(this);
    this.send({ type: 'authenticated', requestId, user: this.principal.user });
  }

  /** The owner's other devices learn of new and renamed sessions without polling. */
  private tellOwnerElsewhere(sessionId: string, msg: ServerMessage): void {
    const owner = this.deps.sessions.repo.get(sessionId)?.user_id;
    if (!owner) return;
    const text = JSON.stringify(msg);
    for (const c of this.deps.registry.socketsOf(owner)) if (c !== this) c.sendText(text);
  }

  private async dispatch(p: Principal, msg: ClientMessage): Promise<void> {
    const s = this.deps.sessions;
    const requestId = msg.requestId;
    switch (msg.type) {
      case 'authenticate':
        this.send({ type: 'authenticated', requestId, user: p.user });
        return;
      case 'create_session': {
        const session = await s.create(p, msg, this);
        this.send({ type: 'session_created', requestId, session });
        s.startStreaming(session.id, this);
        this.tellOwnerElsewhere(session.id, { type: 'session_info', session });
        return;
      }
      case 'attach_session':
        await s.attach(p, msg.sessionId, this, msg.since, requestId);
        return;
      case 'detach_session':
        s.detach(p, msg.sessionId, this);
        this.send({ type: 'session_detached', requestId, sessionId: msg.sessionId });
        return;
      case 'terminal_input':
        s.input(p, msg.sessionId, msg.data);
        return;
      case 'resize_terminal':
        s.resize(p, msg.sessionId, msg.cols, msg.rows);
        return;
      case 'close_session': {
        const closed = await s.close(p, msg.sessionId, 'closed', this);
        this.send({ ...closed, requestId });
        return;
      }
      case 'list_sessions':
        this.send({ type: 'sessions_list', requestId, sessions: s.listAll(p) });
        return;
      case 'get_session_info':
        this.send({ type: 'session_info', requestId, session: s.info(s.owned(p, msg.sessionId)) });
        return;
      case 'get_session_buffer':
        this.send(await s.buffer(p, msg.sessionId, requestId));
        return;
      case 'rename_session': {
        const session = s.rename(p, msg.sessionId, msg.name);
        this.send({ type: 'session_renamed', requestId, sessionId: session.id, name: session.name });
        this.tellOwnerElsewhere(session.id, { type: 'session_renamed', sessionId: session.id, name: session.name });
        return;
      }
      case 'ack':
        s.ack(p, msg.sessionId, this, msg.bytes);
        return;
    }
  }
}
