/**
 * A lean WebSocket client for benchmarks. Unlike the test client it keeps no message history
 * (200 MB of output would stay in memory) and does not parse `terminal_output` frames of
 * sessions in raw mode: it hands the frame bytes and the frame's `seq` to a callback, so the
 * client's own CPU cost stays small beside the server's on this 2-core machine.
 */
import WebSocket from 'ws';

export type Msg = Record<string, any> & { type: string };

/** Every terminal_output frame starts like this (the worker builds it with JSON.stringify). */
const OUTPUT_PREFIX = '{"type":"terminal_output","sessionId":"';
const OUTPUT_PREFIX_BYTES = Buffer.from(OUTPUT_PREFIX);
const SEQ_KEY = Buffer.from('"seq":');
/** Requests that get no answer in this time fail the benchmark instead of hanging it. */
export const REQUEST_TIMEOUT_MS = 30_000;

export type RawOutputHandler = (frame: Buffer, seq: number) => void;
export type ParsedOutputHandler = (data: string, seq: number) => void;

export class BenchClient {
  private readonly waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  private readonly raw = new Map<string, RawOutputHandler>();
  private readonly parsed = new Map<string, ParsedOutputHandler>();
  private nextId = 1;
  /** performance.now() of each session's latest output frame (also before anyone listened). */
  readonly lastOutputAt = new Map<string, number>();
  /** Sessions whose first output never reached this (creating) socket (see waitForPrompt). */
  lostFirstOutput = 0;
  /** Each session's first frame: with seq == chars nothing was missed before it. */
  readonly firstFrame = new Map<string, { seq: number; chars: number }>();
  readonly closed: Promise<void>;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('message', (data: Buffer) => this.onMessage(data));
    ws.on('error', () => undefined); // close follows
  }

  static connect(url: string): Promise<BenchClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      const c = new BenchClient(ws);
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
    });
  }

  static async authed(url: string, token: string): Promise<BenchClient> {
    const c = await BenchClient.connect(url);
    await c.request({ type: 'authenticate', token }, 'authenticated');
    return c;
  }

  private onMessage(buf: Buffer): void {
    if (
      buf.length > OUTPUT_PREFIX_BYTES.length &&
      buf.compare(OUTPUT_PREFIX_BYTES, 0, OUTPUT_PREFIX_BYTES.length, 0, OUTPUT_PREFIX_BYTES.length) === 0
    ) {
      const idStart = OUTPUT_PREFIX_BYTES.length;
      const idEnd = buf.indexOf(0x22, idStart);
      const sessionId = buf.toString('latin1', idStart, idEnd);
      this.lastOutputAt.set(sessionId, performance.now());
      if (!this.firstFrame.has(sessionId)) {
        const m = JSON.parse(buf.toString('utf8')) as { data: string; seq: number };
        this.firstFrame.set(sessionId, { seq: m.seq, chars: m.data.length });
      }
      const rawHandler = this.raw.get(sessionId);
      if (rawHandler) {
        const at = buf.lastIndexOf(SEQ_KEY);
        rawHandler(buf, Number.parseInt(buf.toString('latin1', at + SEQ_KEY.length, buf.length - 1), 10));
        return;
      }
      const handler = this.parsed.get(sessionId);
      if (handler) {
        const m = JSON.parse(buf.toString('utf8')) as { data: string; seq: number };
        handler(m.data, m.seq);
      }
      return;
    }
    const m = JSON.parse(buf.toString('utf8')) as Msg;
    for (const w of [...this.waiters]) {
      if (w.pred(m)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  }

  /** Output of a session as frame bytes + seq, unparsed (or stop with `undefined`). */
  onRawOutput(sessionId: string, handler: RawOutputHandler | undefined): void {
    if (handler) this.raw.set(sessionId, handler);
    else this.raw.delete(sessionId);
  }

  /** Output of a session parsed (for small volumes: echo, markers in text). */
  onOutput(sessionId: string, handler: ParsedOutputHandler | undefined): void {
    if (handler) this.parsed.set(sessionId, handler);
    else this.parsed.delete(sessionId);
  }

  send(msg: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(msg));
  }

  next(pred: (m: Msg) => boolean, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (m: Msg) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error('benchmark client: timed out waiting for a message'));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  async request(msg: Record<string, unknown>, expectType?: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Msg> {
    const requestId = `b${this.nextId++}`;
    const reply = this.next((m) => m.requestId === requestId, timeoutMs);
    this.send({ ...msg, requestId });
    const m = await reply;
    if (expectType && m.type !== expectType)
      throw new Error(`expected ${expectType}, got ${JSON.stringify(m).slice(0, 300)}`);
    return m;
  }

  async createShell(cols: number, rows: number): Promise<{ id: string; pid: number }> {
    const r = await this.request({ type: 'create_session', profile: 'shell', cols, rows }, 'session_created');
    return r.session as { id: string; pid: number };
  }

  type(sessionId: string, data: string): void {
    this.send({ type: 'terminal_input', sessionId, data });
  }

  async closeSession(sessionId: string): Promise<void> {
    await this.request({ type: 'close_session', sessionId }, 'session_closed');
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    return this.closed;
  }
}
