/**
 * One session shown in an xterm.js terminal: attaches with replay, keeps the output `seq` it has
 * written so that after a reconnect it resumes with `since` (a server delta, or a fresh snapshot
 * when the server no longer has that point) with no duplicated and no missing output, fits the
 * terminal to its box and tells the server the size, and acknowledges what it has parsed.
 */
import { h } from './dom.js';

/** Lines the browser keeps above the screen (the server replays up to MAX_BUFFER_SIZE). */
const SCROLLBACK_LINES = 5000;
/** Parsed output is acknowledged (`ack`, flow control) once this many chars are pending... */
const ACK_BATCH_CHARS = 16 * 1024;
/** ...or this long after the first unacknowledged chunk, whichever comes first. */
const ACK_FLUSH_MS = 40;
/** Window resizes are coalesced for this long before the terminal is refitted. */
const RESIZE_DEBOUNCE_MS = 80;
/** The protocol's largest terminal_input (MAX_INPUT_CHARS); bigger pastes go in pieces. */
const MAX_INPUT_CHARS = 64 * 1024;
/** Terminal size bounds of the protocol. */
const MAX_COLS = 1000;
const MAX_ROWS = 500;
/** Narrow screens (phones) get a smaller font so a useful number of columns fits. */
const NARROW_QUERY = '(max-width: 700px)';

const THEME = {
  background: '#0f1115',
  foreground: '#d8dee9',
  cursor: '#e5c07b',
  selectionBackground: '#3b4252',
};

/** Bytes that a key sends, in normal and in application cursor mode (DECCKM). */
const KEYS = {
  esc: () => '\x1b',
  tab: () => '\t',
  'ctrl-c': () => '\x03',
  'ctrl-d': () => '\x04',
  up: (app) => (app ? '\x1bOA' : '\x1b[A'),
  down: (app) => (app ? '\x1bOB' : '\x1b[B'),
  right: (app) => (app ? '\x1bOC' : '\x1b[C'),
  left: (app) => (app ? '\x1bOD' : '\x1b[D'),
};

export class TerminalTab {
  /**
   * @param {object} opts
   * @param {object} opts.session SessionInfo
   * @param {import('./socket.js').TerminalSocket} opts.socket
   * @param {HTMLElement} opts.host where the terminal's pane goes
   * @param {(tab: TerminalTab) => void} opts.onChange title, status or attention changed
   */
  constructor({ session, socket, host, onChange }) {
    this.sessionId = session.id;
    this.socket = socket;
    this.onChange = onChange;
    this.title = '';
    /** 'attaching' | 'live' | 'ended' | 'error' */
    this.status = 'attaching';
    this.message = '';
    /** Output seq written into this terminal; null until the first replay. */
    this.lastSeq = null;
    /** While an attach is in flight, live output is ignored (the reply covers it). */
    this.awaitingBuffer = false;
    this.attachGeneration = 0;
    /** How the last attach resumed: 'snapshot' | 'delta' | 'created' (for people and tests). */
    this.resumeMode = '';
    this.sentSize = { cols: session.cols, rows: session.rows };
    this.pendingAck = 0;
    this.ackTimer = null;
    this.resizeTimer = null;

    this.el = h('div', { class: 'term-pane', hidden: true, dataset: { sessionId: session.id } });
    host.appendChild(this.el);
    const narrow = window.matchMedia(NARROW_QUERY).matches;
    this.term = new window.Terminal({
      cursorBlink: true,
      scrollback: SCROLLBACK_LINES,
      fontSize: narrow ? 12 : 14,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
      theme: THEME,
      cols: session.cols,
      rows: session.rows,
    });
    this.fitAddon = new window.FitAddon.FitAddon();
    this.term.loadAddon(this.fitAddon);
    this.term.open(this.el);
    this.term.onData((data) => this.input(data));
    this.term.onBinary((data) => this.input(data));
    // The title comes from the program (OSC 0/2): shown as text only, like all terminal output.
    this.term.onTitleChange((title) => {
      this.title = title;
      this.onChange(this);
    });
    this.el.dataset.resume = '';
  }

  get visible() {
    return !this.el.hidden && this.el.clientWidth > 0;
  }

  setStatus(status, message = '') {
    this.status = status;
    this.message = message;
    this.el.dataset.status = status;
    this.onChange(this);
  }

  /** A session this socket just created: it is attached already, output starts at seq 0. */
  startCreated() {
    this.lastSeq = 0;
    this.awaitingBuffer = false;
    this.resumeMode = 'created';
    this.el.dataset.resume = 'created';
    this.setStatus('live');
  }

  /** Attaches (first time: full replay; after a drop: resume from lastSeq). */
  async attach() {
    if (this.status === 'ended') return;
    const generation = ++this.attachGeneration;
    this.awaitingBuffer = true;
    this.flushAck(true);
    if (this.status !== 'live') this.setStatus('attaching');
    const since = this.lastSeq;
    let reply;
    try {
      reply = await this.socket.request({
        type: 'attach_session',
        sessionId: this.sessionId,
        ...(since !== null ? { since } : {}),
      });
    } catch (err) {
      if (generation !== this.attachGeneration) return;
      if (err.code === 'DISCONNECTED' || err.code === 'REQUEST_TIMEOUT') {
        // The socket's 'ready' will attach again.
        this.setStatus('attaching', 'waiting for the connection');
        return;
      }
      if (err.code === 'SESSION_NOT_RUNNING') return this.markEnded('the session is not running');
      if (err.code === 'SESSION_NOT_FOUND') return this.markEnded('no such session');
      this.setStatus('error', err.message);
      return;
    }
    if (generation !== this.attachGeneration) return;
    this.applyBuffer(reply, since);
  }

  applyBuffer(buf, since) {
    const resume = buf.mode === 'delta' && since !== null && buf.since === since;
    if (resume) {
      this.write(buf.data, false);
    } else {
      this.term.reset();
      if (this.term.cols !== buf.cols || this.term.rows !== buf.rows) this.term.resize(buf.cols, buf.rows);
      this.write(buf.data, false);
    }
    this.resumeMode = resume ? 'delta' : 'snapshot';
    this.el.dataset.resume = this.resumeMode;
    this.lastSeq = buf.seq;
    this.awaitingBuffer = false;
    // The server's idea of the size is the buffer's; fit sends ours if it differs.
    this.sentSize = { cols: buf.cols, rows: buf.rows };
    this.term.write('', () => this.fitNow());
    this.setStatus('live');
  }

  /** A live `terminal_output`: `seq` is the session's output count after this chunk. */
  onOutput(msg) {
    if (this.awaitingBuffer || this.lastSeq === null || this.status === 'ended') return;
    if (msg.seq <= this.lastSeq) return; // already written (a replay covered it)
    const start = msg.seq - msg.data.length;
    if (start > this.lastSeq) {
      // A gap: something was not delivered to us. Resume from what we have.
      void this.attach();
      return;
    }
    this.write(start < this.lastSeq ? msg.data.slice(this.lastSeq - start) : msg.data, true, msg.data.length);
    this.lastSeq = msg.seq;
  }

  write(data, acknowledge, chars = data.length) {
    const generation = this.attachGeneration;
    this.term.write(data, acknowledge ? () => this.ackLater(chars, generation) : undefined);
  }

  ackLater(chars, generation) {
    // Acks belong to one attachment; a new one starts its own count on the server.
    if (generation !== this.attachGeneration) return;
    this.pendingAck += chars;
    if (this.pendingAck >= ACK_BATCH_CHARS) this.flushAck();
    else this.ackTimer ??= setTimeout(() => this.flushAck(), ACK_FLUSH_MS);
  }

  flushAck(discard = false) {
    clearTimeout(this.ackTimer);
    this.ackTimer = null;
    const bytes = this.pendingAck;
    this.pendingAck = 0;
    if (discard || bytes === 0 || this.status === 'ended') return;
    this.socket.send({ type: 'ack', sessionId: this.sessionId, bytes });
  }

  /** Typed or pasted text (or an extra key) to the session, in protocol-sized pieces. */
  input(data) {
    if (this.status === 'ended' || !data) return;
    for (let i = 0; i < data.length; ) {
      let end = Math.min(data.length, i + MAX_INPUT_CHARS);
      // Do not split a surrogate pair between two messages.
      if (end < data.length && /[\uD800-\uDBFF]/.test(data[end - 1] ?? '')) end--;
      this.socket.send({ type: 'terminal_input', sessionId: this.sessionId, data: data.slice(i, end) });
      i = end;
    }
  }

  /** An extra key (Esc, Tab, Ctrl-C, arrows) with the bytes the terminal's mode expects. */
  sendKey(name) {
    const key = KEYS[name];
    if (!key) return;
    this.input(key(this.term.modes.applicationCursorKeysMode));
    this.term.focus();
  }

  /** Fits the terminal to its pane and tells the server about a new size. */
  fitNow() {
    if (!this.visible) return;
    const dims = this.fitAddon.proposeDimensions();
    if (!dims || !Number.isFinite(dims.cols) || !Number.isFinite(dims.rows)) return;
    const cols = Math.max(2, Math.min(MAX_COLS, dims.cols));
    const rows = Math.max(1, Math.min(MAX_ROWS, dims.rows));
    if (cols !== this.term.cols || rows !== this.term.rows) this.term.resize(cols, rows);
    if (this.status === 'ended' || this.awaitingBuffer) return;
    if (cols === this.sentSize.cols && rows === this.sentSize.rows) return;
    if (this.socket.send({ type: 'resize_terminal', sessionId: this.sessionId, cols, rows })) {
      this.sentSize = { cols, rows };
    }
  }

  fitSoon() {
    clearTimeout(this.resizeTimer);
    this.resizeTimer = setTimeout(() => this.fitNow(), RESIZE_DEBOUNCE_MS);
  }

  show() {
    this.el.hidden = false;
    requestAnimationFrame(() => {
      this.fitNow();
      this.term.focus();
    });
  }

  hide() {
    this.el.hidden = true;
  }

  markEnded(reason) {
    if (this.status === 'ended') return;
    this.attachGeneration++;
    this.awaitingBuffer = false;
    this.flushAck(true);
    this.term.write(`\r\n\x1b[2m[${reason}]\x1b[0m\r\n`);
    this.setStatus('ended', reason);
  }

  dispose() {
    clearTimeout(this.ackTimer);
    clearTimeout(this.resizeTimer);
    this.attachGeneration++;
    this.term.dispose();
    this.el.remove();
  }
}
