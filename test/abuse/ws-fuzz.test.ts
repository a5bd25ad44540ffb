/**
 * Abuse 11 (issue 7): WebSocket message fuzzing. TOTAL generated messages (seeded, replay with
 * FAULT_SEED) go over one authenticated raw socket: random JSON, wrong types, huge numbers,
 * unicode, deep nesting, prototype keys, odd request ids, binary frames, pings, 1-byte fragments
 * and 1-byte TCP writes. Then the frame-level violations, each on a fresh socket, and fuzz before
 * authentication. Figures: 0 crashes (/health serves, same gateway pid), 0 uncaught exceptions or
 * handler failures logged, each message answered per the contract (exactly one reply echoing its
 * requestId, or one `error`, or — input/resize/ack on one's own session — none), close codes per
 * RFC 6455 for the violations, gateway RSS flat.
 */

import fs from 'node:fs';
import { expect } from 'chai';
import { ERROR_CODES } from '../../common/errors.js';
import { CLOSE_AUTH_FAILED, WS_MAX_PAYLOAD_BYTES } from '../../common/protocol.js';
import { WS_MESSAGE_BURST, WS_MESSAGES_PER_SECOND } from '../../gateway/ws/message-limiter.js';
import { Prng, seedFromEnv } from '../faults/support/prng.js';
import { ptyProcessCount, rssKb } from '../faults/support/processes.js';
import { encodeFrame, OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_TEXT, RawWs } from '../faults/support/raw-ws.js';
import { registerUser } from '../helpers/api.js';
import { GatewayProcess, waitFor } from '../helpers/gateway-process.js';
import { TestClient } from '../helpers/ws-client.js';
import { FUZZ_MARKER, type FuzzCase, generateCase } from './support/ws-fuzz-corpus.js';

const TOTAL = 10_000;
/** Sockets fuzzed at once: the per-socket rate limit (WS_MESSAGES_PER_SECOND) is not what is
 *  under test here, so the load is spread and paced below it. */
const FUZZ_SOCKETS = 4;
/** Messages per socket in the warm-up round (RSS is measured after it and at the end). */
const WARM_UP_PER_SOCKET = 500;
/** Pacing stays this far below the limiter's bucket (burst and rate). */
const PACE_FRACTION = 0.8;
/** Messages sent before waiting for their answers (bounds what is in flight). */
const CHUNK = 250;
/** Extra frames mixed into the stream: binary frames (answered `error`) and pings (answered pong). */
const BINARY_EVERY = 250;
const PING_EVERY = 333;
/** Fresh sockets fuzzed before authenticating: each must get an error, then close 4001. */
const PRE_AUTH_CASES = 100;
/** RSS may grow this much from the first CHUNK×8 messages (warm-up) to the end. */
const RSS_GROWTH_BOUND_KB = 32 * 1024;
const ANSWER_TIMEOUT_MS = 20_000;
/** No new message for this long while answers are missing: the rest are recorded as unanswered. */
const QUIET_MS = 500;
const AUTH_TIMEOUT_MS = 60_000;
/** A pre-auth socket must be closed this soon after its bad first message. */
const PRE_AUTH_CLOSE_MS = 1000;

type Bucket = { expected: string[]; got: string[] };

/** A token bucket mirroring the gateway's limiter, a little smaller, so the fuzz is never dropped. */
class Pacer {
  private tokens = WS_MESSAGE_BURST * PACE_FRACTION;
  private last = Date.now();

  async take(): Promise<void> {
    const rate = WS_MESSAGES_PER_SECOND * PACE_FRACTION;
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(WS_MESSAGE_BURST * PACE_FRACTION, this.tokens + ((now - this.last) / 1000) * rate);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.ceil(((1 - this.tokens) / rate) * 1000)));
    }
  }
}

describe('abuse: WebSocket message fuzzing (10 000 messages)', function () {
  this.timeout(180_000);
  const seed = seedFromEnv();
  /** For the cases outside the fuzz rounds (each round socket has its own stream). */
  const rng = new Prng(seed);
  let g: GatewayProcess;
  let token = '';
  let ownSession = '';
  let owner: TestClient;
  const rss: number[] = [];
  const unknownCodes = new Set<string>();
  let internalErrors = 0;
  let sent = 0;
  const mismatches: string[] = [];
  const unansweredTexts: string[] = [];
  const counts = { frames: 0, fragments: 0, dribbles: 0, binary: 0, pings: 0, deep: 0 };

  before(async () => {
    fs.rmSync(FUZZ_MARKER, { force: true });
    // A long auth timeout: a pre-auth socket must be closed because of its bad first message,
    // not because it went quiet.
    g = await GatewayProcess.start({ env: { WORKER_COUNT: '1', WS_AUTH_TIMEOUT_MS: String(AUTH_TIMEOUT_MS) } });
    token = (await registerUser(g.url)).token;
    owner = await TestClient.authed(g.wsUrl, token);
    const s = await owner.createSession({ profile: 'shell', name: 'fuzz target' });
    ownSession = s.id;
    // Raw mode, no echo, output discarded: random input is just bytes (no signals, no commands).
    owner.send({ type: 'terminal_input', sessionId: ownSession, data: 'stty raw -echo; exec cat >/dev/null\r' });
    await waitFor('cat running', async () => {
      return fs.readFileSync(`/proc/${s.pid}/cmdline`, 'utf8').startsWith('cat');
    });
  });
  after(async () => {
    console.log(
      `      [seed ${seed}] sent ${sent} (${JSON.stringify(counts)}); gateway RSS KB ${rss.join(' → ')}; ` +
        `mismatches ${mismatches.length}; INTERNAL_ERROR ${internalErrors}`,
    );
    await owner.request({ type: 'close_session', sessionId: ownSession }, 'session_closed').catch(() => undefined);
    await owner.close();
    await g.stop();
    g.cleanup();
  });

  async function deliver(raw: RawWs, c: FuzzCase): Promise<void> {
    if (c.delivery === 'fragments') {
      counts.fragments++;
      raw.sendFragmented(c.text, 1);
    } else if (c.delivery === 'dribble') {
      counts.dribbles++;
      await raw.writeSlowly(encodeFrame(OP_TEXT, Buffer.from(c.text)), 1);
    } else {
      counts.frames++;
      raw.send(c.text);
    }
  }

  /** Fuzzes one socket with `count` messages numbered from `first`; returns what did not match. */
  async function fuzzSocket(raw: RawWs, rng: Prng, first: number, count: number): Promise<string[]> {
    const pacer = new Pacer();
    const buckets = new Map<string, Bucket>();
    const noIdExpected = new Map<string, number>();
    const noIdGot = new Map<string, number>();
    const key = (rid: unknown) => `${typeof rid}:${String(rid)}`;
    /** The text sent under each requestId, for failure messages. */
    const texts = new Map<string, string>();
    let seen = 0;
    const absorb = () => {
      for (; seen < raw.messages.length; seen++) {
        const m = raw.messages[seen] as Record<string, any>;
        if (m.type === 'error' || m.type === 'session_error') {
          if (!ERROR_CODES.includes(m.code)) unknownCodes.add(String(m.code));
          if (m.code === 'INTERNAL_ERROR') internalErrors++;
        }
        const label = m.code ? `${m.type}:${m.code}` : m.type;
        if (m.requestId !== undefined) {
          const b = buckets.get(key(m.requestId)) ?? { expected: [], got: [] };
          b.got.push(label);
          buckets.set(key(m.requestId), b);
        } else if (m.type === 'error') noIdGot.set(m.code, (noIdGot.get(m.code) ?? 0) + 1);
      }
    };

    for (let n = first; n < first + count; ) {
      const waitingFor: string[] = [];
      for (let i = 0; i < CHUNK && n < first + count; i++, n++) {
        await pacer.take();
        sent++;
        if (n > 0 && n % BINARY_EVERY === 0) {
          counts.binary++;
          raw.sendFrame(OP_BINARY, Buffer.from([0, 1, 2, 255, rng.int(0, 255)]));
          noIdExpected.set('VALIDATION_FAILED', (noIdExpected.get('VALIDATION_FAILED') ?? 0) + 1);
          continue;
        }
        if (n > 0 && n % PING_EVERY === 0) {
          counts.pings++;
          raw.sendFrame(OP_PING, Buffer.from(`ping ${n}`));
          continue;
        }
        const c = generateCase(rng, n, ownSession);
        if (c.expect.kind !== 'error-no-id') texts.set(key(c.expect.requestId), c.text);
        if (c.text.includes('[[[[[[[[')) counts.deep++;
        await deliver(raw, c);
        const e = c.expect;
        if (e.kind === 'error-no-id') noIdExpected.set(e.code, (noIdExpected.get(e.code) ?? 0) + 1);
        else {
          const b = buckets.get(key(e.requestId)) ?? { expected: [], got: [] };
          if (e.kind === 'reply') {
            b.expected.push(e.code ? `${e.types[0]}:${e.code}` : (e.types[0] as string));
            waitingFor.push(key(e.requestId));
          }
          buckets.set(key(e.requestId), b);
        }
      }
      // Wait until every reply of the chunk is in, or nothing new came for QUIET_MS: a missing
      // answer is a mismatch (counted at the end), not a reason to stop the run.
      const unanswered = () =>
        waitingFor.filter((k) => {
          const b = buckets.get(k) as Bucket;
          return b.got.length < b.expected.length;
        });
      let lastCount = -1;
      let lastProgress = Date.now();
      for (;;) {
        absorb();
        if (unanswered().length === 0) break;
        if (raw.messages.length !== lastCount) {
          lastCount = raw.messages.length;
          lastProgress = Date.now();
        } else if (Date.now() - lastProgress > QUIET_MS) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      for (const k of unanswered()) unansweredTexts.push(`${k}: ${texts.get(k)?.slice(0, 160)}`);
      if (!raw.open) return [`socket closed by the server after message ${n} (close ${raw.closeCode})`];
    }
    // A final round trip: every answer to what came before has been sent by now.
    await pacer.take();
    raw.send({ type: 'list_sessions', requestId: 'final' });
    await raw.next((m) => m.requestId === 'final', ANSWER_TIMEOUT_MS);
    await new Promise((r) => setTimeout(r, 200));
    absorb();

    const mismatches: string[] = [];
    for (const [k, b] of buckets) {
      if (k === 'string:final') continue;
      const want = [...b.expected].sort().join(',');
      const got = [...b.got].sort().join(',');
      if (want !== got) mismatches.push(`${k.slice(0, 60)}: expected [${want}] got [${got}]`);
    }
    for (const code of new Set([...noIdExpected.keys(), ...noIdGot.keys()])) {
      if ((noIdExpected.get(code) ?? 0) !== (noIdGot.get(code) ?? 0)) {
        mismatches.push(
          `no requestId: ${code}: expected ${noIdExpected.get(code) ?? 0}, got ${noIdGot.get(code) ?? 0}`,
        );
      }
    }
    return mismatches;
  }

  /** Runs one round: FUZZ_SOCKETS authenticated sockets at once, `perSocket` messages each. */
  async function fuzzRound(round: number, perSocket: number): Promise<void> {
    const sockets = await Promise.all(
      Array.from({ length: FUZZ_SOCKETS }, async () => {
        const raw = await RawWs.open(g.port);
        raw.send({ type: 'authenticate', token, requestId: 'auth' });
        await raw.next((m) => m.requestId === 'auth');
        raw.messages.splice(0);
        return raw;
      }),
    );
    const results = await Promise.all(
      sockets.map((raw, i) => {
        const index = round * FUZZ_SOCKETS + i;
        return fuzzSocket(raw, new Prng(seed + index), index * perSocket * 10, perSocket);
      }),
    );
    for (const raw of sockets) raw.destroy();
    mismatches.push(...results.flat());
  }

  it(`answers every one of ${TOTAL} fuzzed messages per the contract and keeps the sockets`, async () => {
    await fuzzRound(0, WARM_UP_PER_SOCKET);
    rss.push(rssKb(g.pid));
    await fuzzRound(1, TOTAL / FUZZ_SOCKETS - WARM_UP_PER_SOCKET);
    rss.push(rssKb(g.pid));
    if (unansweredTexts.length > 0)
      console.log(`      unanswered (first 5): ${unansweredTexts.slice(0, 5).join('\n        ')}`);
    // Grouped by kind (ids stripped), so one bug shows as one line with a count.
    const kinds = new Map<string, number>();
    for (const m of mismatches) {
      const kind = m.replace(/^[^:]+:[^:]+: /, '');
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    expect(
      [...kinds].map(([k, n]) => `${n}× ${k}`),
      `${mismatches.length} mismatches, e.g. ${mismatches.slice(0, 3).join('; ')}`,
    ).to.deep.equal([]);
    expect([...unknownCodes], 'codes outside the catalogue').to.deep.equal([]);
    expect(internalErrors, 'INTERNAL_ERROR answers').to.equal(0);
  });

  it(`a flood over the per-socket rate: dropped with at most one RATE_LIMITED a second, the socket kept, served again after`, async () => {
    const raw = await RawWs.open(g.port);
    raw.send({ type: 'authenticate', token, requestId: 'auth' });
    await raw.next((m) => m.requestId === 'auth');
    const flood = WS_MESSAGE_BURST + 1000;
    const frames: Buffer[] = [];
    for (let i = 0; i < flood; i++)
      frames.push(encodeFrame(OP_TEXT, Buffer.from(JSON.stringify({ type: 'list_sessions', requestId: `x${i}` }))));
    const t0 = Date.now();
    raw.write(Buffer.concat(frames));
    await waitFor(
      'flood answered',
      () => raw.messages.filter((m) => m.type === 'sessions_list').length >= WS_MESSAGE_BURST,
      20_000,
    );
    await new Promise((r) => setTimeout(r, 300));
    const elapsedS = (Date.now() - t0) / 1000;
    const served = raw.messages.filter((m) => m.type === 'sessions_list').length;
    const notices = raw.messages.filter((m) => m.type === 'error' && m.code === 'RATE_LIMITED');
    expect(served, 'served of the flood').to.be.at.least(WS_MESSAGE_BURST);
    expect(served).to.be.at.most(WS_MESSAGE_BURST + Math.ceil(elapsedS * WS_MESSAGES_PER_SECOND) + 1);
    expect(notices.length, 'RATE_LIMITED notices').to.be.within(1, Math.ceil(elapsedS) + 1);
    expect(raw.open, 'socket kept').to.equal(true);
    await new Promise((r) => setTimeout(r, 1000));
    raw.send({ type: 'list_sessions', requestId: 'after' });
    expect((await raw.next((m) => m.requestId === 'after')).type).to.equal('sessions_list');
    raw.destroy();
  });

  it('an attach_session followed at once by detach or another attach is still answered', async () => {
    const raw = await RawWs.open(g.port);
    raw.send({ type: 'authenticate', token, requestId: 'a' });
    await raw.next((m) => m.requestId === 'a');
    const pairs: [string, Record<string, unknown>][] = [
      ['attach then detach', { type: 'detach_session', sessionId: ownSession }],
      ['attach then attach', { type: 'attach_session', sessionId: ownSession }],
    ];
    const unanswered: string[] = [];
    for (const [name, second] of pairs) {
      raw.write(
        Buffer.concat([
          encodeFrame(
            OP_TEXT,
            Buffer.from(JSON.stringify({ type: 'attach_session', sessionId: ownSession, requestId: `${name}-1` })),
          ),
          encodeFrame(OP_TEXT, Buffer.from(JSON.stringify({ ...second, requestId: `${name}-2` }))),
        ]),
      );
      for (const rid of [`${name}-1`, `${name}-2`]) {
        const m = await raw.next((x) => x.requestId === rid, 3000).catch(() => undefined);
        if (!m) unanswered.push(rid);
      }
    }
    raw.destroy();
    expect(unanswered, 'requests that never got an answer').to.deep.equal([]);
  });

  it('frame-level violations get their RFC 6455 close codes, each on a fresh socket', async () => {
    const big = Buffer.alloc(WS_MAX_PAYLOAD_BYTES + 1, 0x61);
    const cases: [string, (raw: RawWs) => void, number][] = [
      ['a text frame one byte over the limit', (r) => r.sendFrame(OP_TEXT, big), 1009],
      [
        'fragments summing over the limit',
        (r) => {
          for (let i = 0; i < 5; i++)
            r.sendFrame(i === 0 ? OP_TEXT : OP_CONT, Buffer.alloc(64 * 1024, 0x61), { fin: false });
        },
        1009,
      ],
      [
        'a declared length of 2^63-1',
        (r) => r.write(encodeFrame(OP_TEXT, Buffer.alloc(0), { declaredLength: 2n ** 63n - 1n })),
        1009,
      ],
      ['invalid UTF-8 in a text frame', (r) => r.sendFrame(OP_TEXT, Buffer.from([0x7b, 0xc3, 0x28, 0x7d])), 1007],
      [
        'an unmasked client frame',
        (r) => r.sendFrame(OP_TEXT, Buffer.from('{"type":"list_sessions"}'), { mask: false }),
        1002,
      ],
      ['RSV1 set without an extension', (r) => r.sendFrame(OP_TEXT, Buffer.from('{}'), { rsv: 4 }), 1002],
      ['an unknown opcode (0x3)', (r) => r.sendFrame(0x3, Buffer.from('x')), 1002],
      ['a control frame over 125 bytes', (r) => r.sendFrame(OP_PING, Buffer.alloc(126, 0x61)), 1002],
      ['a fragmented ping', (r) => r.sendFrame(OP_PING, Buffer.from('x'), { fin: false }), 1002],
      ['a continuation frame first', (r) => r.sendFrame(OP_CONT, Buffer.from('x')), 1002],
      ['a close frame with code 999', (r) => r.sendFrame(OP_CLOSE, Buffer.from([0x03, 0xe7])), 1002],
    ];
    const wrong: string[] = [];
    for (const [name, act, code] of cases) {
      const raw = await RawWs.open(g.port);
      raw.send({ type: 'authenticate', token, requestId: 'a' });
      await raw.next((m) => m.requestId === 'a');
      act(raw);
      const got = await raw.closedWith(5000).catch((err: Error) => err.message);
      raw.destroy();
      if (got !== code) wrong.push(`${name}: ${got} (expected ${code})`);
    }
    expect(wrong).to.deep.equal([]);
    expect((await fetch(`${g.url}/health`)).status).to.equal(200);
  });

  it(`fuzz before authenticate (${PRE_AUTH_CASES} sockets): an error, then close 4001, never served`, async () => {
    const wrong: string[] = [];
    const binaryFirst = await RawWs.open(g.port);
    binaryFirst.sendFrame(OP_BINARY, Buffer.from('{"type":"authenticate"}'));
    const binaryClose = await binaryFirst.closedWith(PRE_AUTH_CLOSE_MS).catch((err: Error) => err.message);
    if (binaryClose !== CLOSE_AUTH_FAILED) wrong.push(`a binary frame first: close ${binaryClose}`);
    binaryFirst.destroy();
    for (let i = 0; i < PRE_AUTH_CASES; i++) {
      const c = generateCase(rng, TOTAL + i, ownSession);
      const raw = await RawWs.open(g.port);
      await deliver(raw, c);
      const close = await raw.closedWith(PRE_AUTH_CLOSE_MS).catch((err: Error) => err.message);
      const types = raw.messages.map((m) => m.type).filter((t) => t !== 'connection_status');
      if (close !== CLOSE_AUTH_FAILED || types[0] !== 'error' || types.includes('authenticated')) {
        wrong.push(`${c.text.slice(0, 80)}: close ${close}, ${types.join(',')}`);
      }
      raw.destroy();
    }
    expect(wrong).to.deep.equal([]);
  });

  it('0 crashes: same gateway process, /health 200, no uncaught exception or handler failure logged, RSS flat, no PTY spawned', async () => {
    expect(g.exitCode).to.equal(null);
    const health = await fetch(`${g.url}/health`);
    expect(health.status).to.equal(200);
    const log = g.logs();
    for (const bad of [
      'uncaught exception',
      'unhandled rejection',
      'ws handler failed',
      'unhandled error in request',
    ]) {
      expect(log.includes(bad), `log contains "${bad}"`).to.equal(false);
    }
    expect(rss).to.have.length(2);
    expect((rss[1] as number) - (rss[0] as number), `RSS KB ${rss.join(' → ')}`).to.be.lessThan(RSS_GROWTH_BOUND_KB);
    // Only the fuzz target's shell (now `cat`) exists; the fuzz created nothing else.
    const list = await owner.request({ type: 'list_sessions' }, 'sessions_list');
    expect(list.sessions.map((s: { id: string }) => s.id)).to.deep.equal([ownSession]);
    expect(ptyProcessCount(g)).to.equal(1);
    expect(fs.existsSync(FUZZ_MARKER), 'a fuzzed `touch` was executed').to.equal(false);
  });
});
