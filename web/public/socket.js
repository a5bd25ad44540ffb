/**
 * The page's one WebSocket: authenticates first, matches replies to requests by requestId, and
 * after a drop reconnects by itself with exponential backoff and jitter. Listeners of 'ready'
 * run after every successful (re)authentication — that is where terminals re-attach with `since`.
 */

/** First reconnect delay; doubled per failed attempt up to RECONNECT_MAX_MS. */
const RECONNECT_BASE_MS = 500;
/** Longest wait between reconnect attempts (a server restart takes a few seconds). */
const RECONNECT_MAX_MS = 15_000;
/** Each delay is randomised by ±this fraction so many tabs do not reconnect in lockstep. */
const RECONNECT_JITTER = 0.3;
/** A request with no reply within this long is rejected (the socket may be half-dead). */
const REQUEST_TIMEOUT_MS = 20_000;
/** Close codes after which reconnecting with the same token is pointless. */
const CLOSE_AUTH_FAILED = 4001;
const CLOSE_TOKEN_REVOKED = 4002;
const TOKEN_ERRORS = new Set(['INVALID_TOKEN', 'TOKEN_EXPIRED', 'TOKEN_REVOKED', 'UNAUTHENTICATED']);

export class SocketError extends Error {
  constructor(code, message, sessionId) {
    super(message);
    this.code = code;
    this.sessionId = sessionId;
  }
}

export class TerminalSocket {
  /** @param {() => string | null} getToken */
  constructor(getToken) {
    this.getToken = getToken;
    this.ws = null;
    /** 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'stopped' */
    this.status = 'idle';
    this.user = null;
    this.attempt = 0;
    this.timer = null;
    this.nextRequestId = 1;
    this.pending = new Map();
    this.listeners = new Map();
    this.lastAuthError = null;
    this.onOnline = () => this.reconnectNow();
    window.addEventListener('online', this.onOnline);
  }

  /** on('terminal_output', fn), on('ready', fn), on('status', fn), on('unauthorized', fn) ... */
  on(type, fn) {
    const list = this.listeners.get(type) ?? [];
    list.push(fn);
    this.listeners.set(type, list);
    return () => list.splice(list.indexOf(fn), 1);
  }

  emit(type, payload) {
    for (const fn of [...(this.listeners.get(type) ?? [])]) {
      try {
        fn(payload);
      } catch (err) {
        console.error(`listener of ${type} failed`, err);
      }
    }
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.emit('status', status);
  }

  get isReady() {
    return this.status === 'ready' && this.ws?.readyState === WebSocket.OPEN;
  }

  start() {
    if (this.ws || this.status === 'stopped') return;
    this.connect();
  }

  stop() {
    window.removeEventListener('online', this.onOnline);
    this.setStatus('stopped');
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000, 'logout');
    this.failPending(new SocketError('DISCONNECTED', 'Logged out'));
  }

  /** The browser says the network is back: skip the rest of the backoff. */
  reconnectNow() {
    if (this.status !== 'reconnecting') return;
    clearTimeout(this.timer);
    this.connect();
  }

  connect() {
    const token = this.getToken();
    if (!token) return;
    this.setStatus(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}/ws`);
    this.ws = ws;
    this.lastAuthError = null;
    ws.onopen = () => {
      // The token goes in the first frame, never in the URL (URLs end up in logs).
      ws.send(JSON.stringify({ type: 'authenticate', token, requestId: 'auth' }));
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      this.onMessage(msg);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.onClosed(ev.code);
    };
  }

  onMessage(msg) {
    if (msg.type === 'authenticated') {
      this.user = msg.user;
      this.attempt = 0;
      this.setStatus('ready');
      this.emit('ready', msg.user);
      return;
    }
    if (msg.type === 'error' && this.status !== 'ready') {
      this.lastAuthError = msg.code;
      return;
    }
    if (msg.requestId !== undefined && this.pending.has(msg.requestId)) {
      const p = this.pending.get(msg.requestId);
      this.pending.delete(msg.requestId);
      clearTimeout(p.timer);
      if (msg.type === 'error' || msg.type === 'session_error')
        p.reject(new SocketError(msg.code, msg.message, msg.sessionId));
      else p.resolve(msg);
      // Replies are also events (a session_buffer is handled by its terminal).
    }
    this.emit(msg.type, msg);
  }

  onClosed(code) {
    this.failPending(new SocketError('DISCONNECTED', 'The connection was lost'));
    if (this.status === 'stopped') return;
    if (code === CLOSE_TOKEN_REVOKED || (code === CLOSE_AUTH_FAILED && TOKEN_ERRORS.has(this.lastAuthError))) {
      this.setStatus('stopped');
      this.emit('unauthorized', this.lastAuthError ?? 'TOKEN_REVOKED');
      return;
    }
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    this.setStatus('reconnecting');
    const base = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** this.attempt);
    const delay = base * (1 - RECONNECT_JITTER + Math.random() * 2 * RECONNECT_JITTER);
    this.attempt++;
    this.emit('retry', { attempt: this.attempt, delayMs: Math.round(delay) });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  failPending(err) {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  /** Fire and forget; false when the socket is not ready (the message is dropped). */
  send(msg) {
    if (!this.isReady) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** Sends with a fresh requestId and resolves with the reply (rejects on error replies). */
  request(msg) {
    if (!this.isReady) return Promise.reject(new SocketError('DISCONNECTED', 'Not connected'));
    const requestId = `r${this.nextRequestId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new SocketError('REQUEST_TIMEOUT', `No reply to ${msg.type}`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(requestId, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ ...msg, requestId }));
    });
  }
}
