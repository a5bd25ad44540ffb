/**
 * The WebSocket endpoint on the HTTP server: Origin allowlist at the upgrade, bounded frames,
 * a ping/pong heartbeat that terminates dead sockets, and closing of revoked tokens' sockets.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from '../../common/log.js';
import { CLOSE_GOING_AWAY, CLOSE_TOKEN_REVOKED, WS_MAX_PAYLOAD_BYTES } from '../../common/protocol.js';
import type { AuthService } from '../auth/auth-service.js';
import type { SessionService } from '../sessions/session-service.js';
import type { ClientRegistry } from './client-registry.js';
import { ClientConnection } from './connection.js';

export const WS_PATH = '/ws';

export interface WsServerOptions {
  allowedOrigins: readonly string[];
  authTimeoutMs: number;
  heartbeatIntervalMs: number;
  version: string;
  onMessage?: (type: string) => void;
}

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export class TerminalSocketServer {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<ClientConnection>();
  private readonly heartbeat: NodeJS.Timeout;
  private accepting = true;

  constructor(
    server: Server,
    readonly registry: ClientRegistry,
    private readonly auth: AuthService,
    private readonly sessions: SessionService,
    private readonly log: Logger,
    private readonly opts: WsServerOptions,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD_BYTES, perMessageDeflate: false });
    server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    this.heartbeat = setInterval(() => {
      for (const c of this.connections) {
        if (!c.alive) c.terminate();
        else c.ping();
      }
    }, opts.heartbeatIntervalMs);
    this.heartbeat.unref();
    auth.on('tokenRevoked', (jti) => {
      for (const c of this.registry.withToken(jti)) c.close(CLOSE_TOKEN_REVOKED, 'token revoked');
    });
    auth.on('userRevoked', (userId) => {
      for (const c of this.registry.socketsOf(userId)) c.close(CLOSE_TOKEN_REVOKED, 'token revoked');
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== WS_PATH) {
      rejectUpgrade(socket, 404, 'Not Found');
      return;
    }
    if (!this.accepting) {
      rejectUpgrade(socket, 503, 'Service Unavailable');
      return;
    }
    const origin = req.headers.origin;
    // No Origin: a non-browser client (allowed by the contract). A browser always sends one.
    if (origin !== undefined && !this.opts.allowedOrigins.includes(origin)) {
      this.log.warn({ origin }, 'websocket upgrade refused: origin not allowed');
      rejectUpgrade(socket, 403, 'Forbidden');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new ClientConnection(ws, {
        auth: this.auth,
        sessions: this.sessions,
        registry: this.registry,
        log: this.log,
        authTimeoutMs: this.opts.authTimeoutMs,
        version: this.opts.version,
        ...(this.opts.onMessage ? { onMessage: this.opts.onMessage } : {}),
      });
      this.connections.add(conn);
      ws.on('close', () => this.connections.delete(conn));
    });
  }

  /** Shutdown: no new upgrades; every socket is told why (1001). */
  closeAll(): Promise<void> {
    this.accepting = false;
    clearInterval(this.heartbeat);
    const closed = [...this.connections].map(
      (c) =>
        new Promise<void>((resolve) => {
          c.onClosed(resolve);
          c.close(CLOSE_GOING_AWAY, 'server shutting down');
        }),
    );
    return Promise.all(closed).then(() => undefined);
  }
}
