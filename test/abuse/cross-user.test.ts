/**
 * Abuse 9 (issue 7): user B tries every REST route and every WebSocket message with user A's
 * session ids (running and closed), key id and line numbers. Figures: each answer is identical
 * to the answer for an unknown id (with the id itself masked); 0 bytes of A's output, history or
 * key reach B; nothing B sent reached A's session (no input, resize, rename or close).
 */
import crypto from 'node:crypto';
import { expect } from 'chai';
import { api, registerUser } from '../helpers/api.js';
import { GatewayProcess } from '../helpers/gateway-process.js';
import { type Msg, TestClient } from '../helpers/ws-client.js';

const CANARY = `acanary${crypto.randomBytes(8).toString('hex')}`;
/** Ends in letters that hex ids never contain, so its 4-character hint is findable too. */
const KEY_CANARY = `sk-ant-acanary-${crypto.randomBytes(8).toString('hex')}-zqxw`;
const B_MARKER = `bmarker${crypto.randomBytes(4).toString('hex')}`;

type User = { token: string; user: { id: string } };

/** An answer with the probed id and the request id masked, to compare A's id with an unknown one. */
function masked(value: unknown, id: string): string {
  return JSON.stringify(value, (k, v) => (k === 'requestId' ? undefined : v)).replaceAll(id, '<ID>');
}

describe('abuse: cross-user access with another user’s ids', function () {
  this.timeout(60_000);
  let g: GatewayProcess;
  let a: User;
  let b: User;
  let ca: TestClient;
  let cb: TestClient;
  let running = '';
  let closed = '';
  let keyId = '';
  /** Every byte B received, REST and WebSocket. */
  const seenByB: string[] = [];
  const mismatches: string[] = [];

  const restAsB = async (method: string, path: string, body?: unknown) => {
    const r = await api(g.url, method, path, { token: b.token, body });
    seenByB.push(r.text);
    return { status: r.status, body: r.body };
  };
  const wsAsB = async (msg: Record<string, unknown>): Promise<Msg | 'no reply'> => {
    const r = await cb.request(msg, undefined, 1500).catch(() => 'no reply' as const);
    return r;
  };
  /** Same probe with A's id and with a fresh unknown id: the answers must not differ. */
  async function compare(what: string, probe: (id: string) => Promise<unknown>, id: string): Promise<void> {
    const unknown = crypto.randomUUID();
    const theirs = masked(await probe(id), id);
    const nobody = masked(await probe(unknown), unknown);
    if (theirs !== nobody) mismatches.push(`${what}: A's id → ${theirs} / unknown id → ${nobody}`);
  }

  before(async () => {
    g = await GatewayProcess.start({ env: { WORKER_COUNT: '1' } });
    await registerUser(g.url); // the first user is the admin; A and B are plain users
    a = await registerUser(g.url);
    b = await registerUser(g.url);
    ca = await TestClient.authed(g.wsUrl, a.token);
    cb = await TestClient.authed(g.wsUrl, b.token);
    cb.ws.on('message', (raw) => seenByB.push(String(raw)));
    const key = await api(g.url, 'POST', '/api/keys', { token: a.token, body: { name: 'a-key', value: KEY_CANARY } });
    expect(key.status, key.text).to.equal(201);
    keyId = key.body.key.id;
    const s1 = await ca.createSession({ profile: 'shell', name: 'a-running' });
    running = s1.id;
    // Enough lines to reach history, and a line that keeps coming while B probes.
    ca.send({
      type: 'terminal_input',
      sessionId: running,
      data: `for i in $(seq 1 60); do echo ${CANARY}-$i; done; while :; do echo ${CANARY}-tick; sleep 0.2; done\r`,
    });
    await ca.waitForOutput(running, `${CANARY}-60\r\n`);
    const s2 = await ca.createSession({ profile: 'shell', name: 'a-closed' });
    closed = s2.id;
    ca.send({ type: 'terminal_input', sessionId: closed, data: `for i in $(seq 1 40); do echo ${CANARY}-c$i; done\r` });
    await ca.waitForOutput(closed, `${CANARY}-c40\r\n`);
    await ca.request({ type: 'close_session', sessionId: closed }, 'session_closed');
  });
  after(async () => {
    await cb.close();
    await ca.close();
    await g.stop();
    g.cleanup();
  });

  it('REST: every session route answers A’s ids exactly like unknown ids', async () => {
    for (const id of [running, closed]) {
      for (const path of [
        '/history',
        '/history?after=0&limit=10',
        '/history?after=30',
        '/history?q=acanary',
        '/recent',
        '/recent?lines=5',
      ]) {
        await compare(`GET /api/sessions/:id${path}`, (x) => restAsB('GET', `/api/sessions/${x}${path}`), id);
      }
    }
    expect(mismatches).to.deep.equal([]);
  });

  it('REST: key routes answer A’s key id exactly like an unknown id; listings hold only B’s own', async () => {
    await compare('PUT /api/keys/:id name', (x) => restAsB('PUT', `/api/keys/${x}`, { name: 'stolen' }), keyId);
    await compare(
      'PUT /api/keys/:id value',
      (x) => restAsB('PUT', `/api/keys/${x}`, { value: 'sk-ant-replaced' }),
      keyId,
    );
    await compare('PUT /api/keys/:id clear', (x) => restAsB('PUT', `/api/keys/${x}`, { value: null }), keyId);
    await compare('DELETE /api/keys/:id', (x) => restAsB('DELETE', `/api/keys/${x}`), keyId);
    expect(mismatches).to.deep.equal([]);
    expect((await restAsB('GET', '/api/keys')).body.keys).to.deep.equal([]);
    expect((await restAsB('GET', '/api/sessions')).body.sessions).to.deep.equal([]);
    expect((await restAsB('GET', '/api/sessions/active')).body.sessions).to.deep.equal([]);
    expect((await restAsB('GET', '/api/sessions/active?all=1')).body.sessions).to.deep.equal([]);
    // A prefix query (B's own request must not carry the canary itself, the reply echoes it).
    const search = await restAsB('GET', '/api/sessions/search?q=acanary*');
    expect(search.status).to.equal(200);
    expect(search.body.results).to.deep.equal([]);
  });

  it('WebSocket: every session message answers A’s ids exactly like unknown ids', async () => {
    for (const id of [running, closed]) {
      const probes: Record<string, unknown>[] = [
        { type: 'attach_session', sessionId: id },
        { type: 'attach_session', sessionId: id, since: 0 },
        { type: 'detach_session', sessionId: id },
        { type: 'terminal_input', sessionId: id, data: `echo ${B_MARKER}\r` },
        { type: 'resize_terminal', sessionId: id, cols: 33, rows: 11 },
        { type: 'get_session_info', sessionId: id },
        { type: 'get_session_buffer', sessionId: id },
        { type: 'rename_session', sessionId: id, name: 'stolen' },
        { type: 'ack', sessionId: id, bytes: 1_000_000 },
        { type: 'close_session', sessionId: id },
      ];
      for (const p of probes)
        await compare(`ws ${p.type}${'since' in p ? ' since' : ''}`, (x) => wsAsB({ ...p, sessionId: x }), id);
    }
    await compare(
      'ws create_session with A’s apiKeyId',
      (x) => wsAsB({ type: 'create_session', profile: 'shell', apiKeyId: x }),
      keyId,
    );
    expect(mismatches).to.deep.equal([]);
  });

  it('nothing B sent reached A: A’s session runs unrenamed, unresized, without B’s input; A’s key is intact', async () => {
    ca.send({ type: 'terminal_input', sessionId: running, data: '\x03' }); // stop the tick loop
    ca.send({ type: 'terminal_input', sessionId: running, data: 'stty size; echo A-$((20+22))\r' });
    const out = await ca.waitForOutput(running, /A-42\r\n/);
    expect(out).to.not.include(B_MARKER);
    expect(out).to.not.match(/\b11 33\b/);
    const info = await ca.request({ type: 'get_session_info', sessionId: running }, 'session_info');
    expect(info.session).to.include({ status: 'running', name: 'a-running', cols: 120 });
    const keys = await api(g.url, 'GET', '/api/keys', { token: a.token });
    expect(
      keys.body.keys.map((k: { id: string; name: string; hasValue: boolean }) => [k.id, k.name, k.hasValue]),
    ).to.deep.equal([[keyId, 'a-key', true]]);
    const closedInfo = await ca.request({ type: 'get_session_info', sessionId: closed }, 'session_info');
    expect(closedInfo.session.name).to.equal('a-closed');
  });

  it('0 bytes of A’s data reached B (output, history, names, key)', async () => {
    // Let a few more of A's ticks pass while B's socket is open.
    await new Promise((r) => setTimeout(r, 300));
    const all = seenByB.join('\n');
    for (const secret of [CANARY, KEY_CANARY, KEY_CANARY.slice(-4), 'a-running', 'a-closed', 'a-key']) {
      const where = seenByB.find((t) => t.includes(secret));
      expect(where, `B saw ${secret}`).to.equal(undefined);
    }
    expect(all.length).to.be.greaterThan(0);
    const aboutA = cb.messages.filter((m) => [running, closed].includes(m.sessionId) && m.type !== 'session_error');
    expect(aboutA.map((m) => m.type)).to.deep.equal([]);
  });
});
