/** A real WebSocket client for tests, with helpers to wait for messages and collect output. */
import WebSocket from 'ws';

export type Msg = Record<string, any> & { type: string };

export class TestClient {
  readonly messages: Msg[] = [];
  private waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  /** Output per session in arrival order, with seq checks. */
  readonly output = new Map<string, { data: string; seq: number }>();
  closeCode: number | undefined;
  readonly closed: Promise<number>;
  private nextRequestId = 1;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.closeCode = code;
        resolve(code);
      }),
    );
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as Msg;
      this.messages.push(m);
      if (m.type === 'terminal_output') {
        const o = this.output.get(m.sessionId) ?? { data: '', seq: -1 };
        o.data += m.data;
        o.seq = m.seq;
        this.output.set(m.sessionId, o);
      }
      for (const w of [...this.waiters]) {
        if (w.pred(m)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
  }

  static connect(url: string, opts: { origin?: string } = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, opts.origin ? { origin: opts.origin } : {});
      const client = new TestClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  }

  static async authed(url: string, token: string): Promise<TestClient> {
    const c = await TestClient.connect(url);
    await c.request({ type: 'authenticate', token }, 'authenticated');
    return c;
  }

  send(msg: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(msg));
  }

  /** Waits for a message matching `pred` (also one that already arrived after `fromIndex`). */
  next(pred: (m: Msg) => boolean, timeoutMs = 10_000, fromIndex = 0): Promise<Msg> {
    const already = this.messages.slice(fromIndex).find(pred);
    if (already) return Promise.resolve(already);
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
        reject(
          new Error(`timed out waiting for a message; last: ${JSON.stringify(this.messages.slice(-3)).slice(0, 500)}`),
        );
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Sends with a fresh requestId and waits for the reply that echoes it. */
  async request(msg: Record<string, unknown>, expectType?: string, timeoutMs = 10_000): Promise<Msg> {
    const requestId = `r${this.nextRequestId++}`;
    const from = this.messages.length;
    this.send({ ...msg, requestId });
    const reply = await this.next((m) => m.requestId === requestId, timeoutMs, from);
    if (expectType && reply.type !== expectType)
      throw new Error(`expected ${expectType}, got ${JSON.stringify(reply)}`);
    return reply;
  }

  async createSession(opts: Record<string, unknown> = {}): Promise<Msg> {
    const r = await this.request({ type: 'create_session', ...opts }, 'session_created');
    return r.session;
  }

  outputOf(sessionId: string): string {
    return this.output.get(sessionId)?.data ?? '';
  }

  waitForOutput(sessionId: string, pattern: RegExp | string, timeoutMs = 10_000): Promise<string> {
    const test = () => {
      const out = this.outputOf(sessionId);
      return typeof pattern === 'string' ? out.includes(pattern) : pattern.test(out);
    };
    if (test()) return Promise.resolve(this.outputOf(sessionId));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        clearInterval(iv);
        reject(
          new Error(
            `timed out waiting for ${pattern} in output; tail: ${JSON.stringify(this.outputOf(sessionId).slice(-300))}`,
          ),
        );
      }, timeoutMs);
      const iv = setInterval(() => {
        if (test()) {
          clearTimeout(timer);
          clearInterval(iv);
          resolve(this.outputOf(sessionId));
        }
      }, 10);
    });
  }

  close(): Promise<number> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    return this.closed;
  }
}
