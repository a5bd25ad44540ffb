/**
 * A WebSocket client written on a bare TCP socket, for tests that must send what a well-behaved
 * library never would: 1-byte fragments, unmasked or reserved-bit frames, lengths over the limit,
 * binary frames, bytes dribbled one at a time, a client that never answers pings. It parses what
 * the server sends (text frames as JSON, close code, pings) and nothing more.
 */
import crypto from 'node:crypto';
import net from 'node:net';

export const OP_CONT = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

export interface FrameOptions {
  fin?: boolean;
  /** Clients must mask (RFC 6455 5.1); false makes a protocol violation. */
  mask?: boolean;
  /** Reserved bits, 0..7 (RSV1..RSV3); non-zero without an extension is a protocol violation. */
  rsv?: number;
  /** Declared payload length, when it should differ from the real one. */
  declaredLength?: number | bigint;
}

/** Encodes one frame. */
export function encodeFrame(opcode: number, payload: Buffer, opts: FrameOptions = {}): Buffer {
  const fin = opts.fin ?? true;
  const mask = opts.mask ?? true;
  const len = opts.declaredLength ?? payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | opcode];
  let ext = Buffer.alloc(0);
  if (typeof len === 'bigint' || len > 0xffff) {
    head.push((mask ? 0x80 : 0) | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(BigInt(len));
  } else if (len > 125) {
    head.push((mask ? 0x80 : 0) | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(len);
  } else head.push((mask ? 0x80 : 0) | len);
  if (!mask) return Buffer.concat([Buffer.from(head), ext, payload]);
  const key = crypto.randomBytes(4);
  const masked = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) masked[i] = (payload[i] as number) ^ (key[i % 4] as number);
  return Buffer.concat([Buffer.from(head), ext, key, masked]);
}

export interface UpgradeOptions {
  origin?: string;
  path?: string;
  /** Extra request header lines, e.g. `X-Forwarded-For: 1.2.3.4`. */
  headers?: string[];
  localAddress?: string;
  /** Bytes sent right behind the request, before any answer (pipelined frames). */
  trailing?: Buffer;
  timeoutMs?: number;
}

export interface UpgradeAnswer {
  status: number;
  head: string;
  socket: net.Socket;
  /** Bytes after the response head (the first frames, when the upgrade succeeded). */
  rest: Buffer;
}

/** Sends an upgrade request and reads the response head. */
export function rawUpgrade(port: number, opts: UpgradeOptions = {}): Promise<UpgradeAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      port,
      host: '127.0.0.1',
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    });
    socket.setNoDelay(true);
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no upgrade answer'));
    }, opts.timeoutMs ?? 5000);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      const head = buf.subarray(0, end).toString('latin1');
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0), head, socket, rest: buf.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (buf.indexOf('\r\n\r\n') < 0) reject(new Error(`closed before an answer (${buf.length} bytes)`));
    });
    socket.on('connect', () => {
      const lines = [
        `GET ${opts.path ?? '/ws'} HTTP/1.1`,
        `Host: 127.0.0.1:${port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}`,
        'Sec-WebSocket-Version: 13',
        ...(opts.origin !== undefined ? [`Origin: ${opts.origin}`] : []),
        ...(opts.headers ?? []),
      ];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (opts.trailing) socket.write(opts.trailing);
    });
  });
}

export type Json = Record<string, any>;

export class RawWs {
  readonly messages: Json[] = [];
  /** Text frames that were not JSON. */
  readonly texts: string[] = [];
  binaryFrames = 0;
  pingsReceived = 0;
  closeCode: number | undefined;
  /** Resolves when the TCP connection is closed (by either side). */
  readonly ended: Promise<void>;
  /** false: a client that never answers pings (half-dead). */
  answerPings = true;
  private buf = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private waiters: { pred: (m: Json) => boolean; resolve: (m: Json) => void }[] = [];

  private constructor(
    readonly socket: net.Socket,
    rest: Buffer,
  ) {
    this.ended = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => this.onData(d));
    if (rest.length > 0) this.onData(rest);
  }

  static async open(port: number, opts: UpgradeOptions = {}): Promise<RawWs> {
    const a = await rawUpgrade(port, opts);
    if (a.status !== 101) {
      a.socket.destroy();
      throw new Error(`upgrade refused: ${a.status}`);
    }
    return new RawWs(a.socket, a.rest);
  }

  get open(): boolean {
    return !this.socket.destroyed && this.closeCode === undefined;
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0] as number;
      const b1 = this.buf[1] as number;
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      if (this.buf.length < off + len) return;
      const payload = this.buf.subarray(off, off + len);
      this.buf = this.buf.subarray(off + len);
      this.onFrame(b0 & 0x0f, (b0 & 0x80) !== 0, Buffer.from(payload));
    }
  }

  private onFrame(opcode: number, fin: boolean, payload: Buffer): void {
    if (opcode === OP_PING) {
      this.pingsReceived++;
      if (this.answerPings && !this.socket.destroyed) this.socket.write(encodeFrame(OP_PONG, payload));
      return;
    }
    if (opcode === OP_PONG) return;
    if (opcode === OP_CLOSE) {
      this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      if (!this.socket.destroyed) this.socket.end(encodeFrame(OP_CLOSE, payload.subarray(0, 2)));
      return;
    }
    this.fragments.push(payload);
    if (!fin) return;
    const whole = Buffer.concat(this.fragments);
    this.fragments = [];
    if (opcode === OP_BINARY) {
      this.binaryFrames++;
      return;
    }
    const text = whole.toString('utf8');
    let m: Json;
    try {
      m = JSON.parse(text) as Json;
    } catch {
      this.texts.push(text);
      return;
    }
    this.messages.push(m);
    for (const w of [...this.waiters]) {
      if (w.pred(m)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  }

  write(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  sendFrame(opcode: number, payload: Buffer, opts?: FrameOptions): void {
    this.write(encodeFrame(opcode, payload, opts));
  }

  send(msg: unknown): void {
    this.sendFrame(OP_TEXT, Buffer.from(typeof msg === 'string' ? msg : JSON.stringify(msg)));
  }

  /** One message as fragments of `size` bytes each (a text frame, then continuation frames). */
  sendFragmented(text: string, size = 1): void {
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += size) {
      const last = i + size >= bytes.length;
      this.sendFrame(i === 0 ? OP_TEXT : OP_CONT, bytes.subarray(i, i + size), { fin: last });
    }
  }

  /** Writes `bytes` to the socket `chunk` bytes at a time, yielding to the event loop between. */
  async writeSlowly(bytes: Buffer, chunk = 1, delayMs = 0): Promise<void> {
    for (let i = 0; i < bytes.length && !this.socket.destroyed; i += chunk) {
      this.socket.write(bytes.subarray(i, i + chunk));
      await new Promise((r) => (delayMs > 0 ? setTimeout(r, delayMs) : setImmediate(r)));
    }
  }

  next(pred: (m: Json) => boolean, timeoutMs = 5000, fromIndex = 0): Promise<Json> {
    const already = this.messages.slice(fromIndex).find(pred);
    if (already) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (m: Json) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`raw ws: timed out; last ${JSON.stringify(this.messages.slice(-2)).slice(0, 300)}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Waits for the connection to end and returns the close code the server sent (1006: none). */
  async closedWith(timeoutMs = 5000): Promise<number> {
    await Promise.race([this.ended, new Promise((r) => setTimeout(r, timeoutMs))]);
    if (!this.socket.destroyed && this.closeCode === undefined) throw new Error('raw ws: still open');
    return this.closeCode ?? 1006;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
