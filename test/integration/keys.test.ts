/**
 * API keys end to end: the canary value goes in through REST and is then found nowhere in
 * plaintext (DB file, WAL, logs, REST and socket replies, other processes' environments) except
 * as ANTHROPIC_API_KEY in the environment of the one session created with it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { type ApiResponse, api as rawApi, registerUser } from '../helpers/api.js';
import { descendants, GatewayProcess } from '../helpers/gateway-process.js';
import { TestClient } from '../helpers/ws-client.js';

const CANARY = `sk-ant-canary-${crypto.randomBytes(12).toString('hex')}`;
/** Stored in plaintext on purpose: the control that proves the byte scans see what is stored. */
const CANARY_NAME = `canary-${crypto.randomBytes(6).toString('hex')}`;

function environOf(pid: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** Every file below `dir`, recursively. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

describe('API keys (real gateway, encrypted storage, session environment)', function () {
  this.timeout(60_000);
  let g: GatewayProcess;
  let admin: { token: string; user: { id: string } };
  let other: { token: string; user: { id: string } };
  const replies: string[] = [];
  const clients: TestClient[] = [];
  /** Every REST reply is kept, to prove that none ever carried the canary. */
  const api = async (method: string, p: string, opts: Parameters<typeof rawApi>[3] = {}): Promise<ApiResponse> => {
    const res = await rawApi(g.url, method, p, opts);
    replies.push(res.text);
    return res;
  };
  const connect = async (token: string) => {
    const c = await TestClient.authed(g.wsUrl, token);
    clients.push(c);
    return c;
  };

  before(async () => {
    g = await GatewayProcess.start();
    admin = await registerUser(g.url);
    other = await registerUser(g.url);
  });
  after(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await g.stop();
    g.cleanup();
  });

  it('creates a key: the reply has the ApiKey shape, a 4-character hint and never the value', async () => {
    const res = await api('POST', '/api/keys', { token: admin.token, body: { name: CANARY_NAME, value: CANARY } });
    expect(res.status).to.equal(201);
    const key = res.body.key;
    expect(Object.keys(key).sort()).to.deep.equal([
      'createdAt',
      'hasValue',
      'hint',
      'id',
      'lastUsedAt',
      'name',
      'provider',
      'updatedAt',
    ]);
    expect(key).to.include({
      name: CANARY_NAME,
      provider: 'anthropic',
      hint: CANARY.slice(-4),
      hasValue: true,
      lastUsedAt: null,
    });
    const list = await api('GET', '/api/keys', { token: admin.token });
    expect(list.status).to.equal(200);
    expect(list.body.keys.map((k: { id: string }) => k.id)).to.deep.equal([key.id]);
  });

  it('validates name, value and provider', async () => {
    const bad = [
      {},
      { name: '' },
      { name: '   ' },
      { name: 'x'.repeat(101) },
      { name: 'bell\u0007' },
      { name: 'ok', value: '' },
      { name: 'ok', value: 'line\nbreak-in-a-key' },
      { name: 'ok', value: 'x'.repeat(4097) },
      { name: 'ok', value: 42 },
      { name: 'ok', provider: 'openai' },
      { name: 'ok', extra: true },
    ];
    for (const body of bad) {
      const res = await api('POST', '/api/keys', { token: admin.token, body });
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
    }
    const none = await api('GET', '/api/keys', { token: undefined });
    expect(none.status).to.equal(401);
  });

  it("hides one user's keys from another (404 API_KEY_NOT_FOUND, as for an unknown id)", async () => {
    const mine = (await api('GET', '/api/keys', { token: admin.token })).body.keys[0];
    expect((await api('GET', '/api/keys', { token: other.token })).body.keys).to.deep.equal([]);
    for (const [method, body] of [
      ['PUT', { name: 'stolen' }],
      ['DELETE', undefined],
    ] as const) {
      for (const id of [mine.id, crypto.randomUUID()]) {
        const res = await api(method, `/api/keys/${id}`, { token: other.token, body });
        expect(res.status, `${method} ${id}`).to.equal(404);
        expect(res.body.error.code).to.equal('API_KEY_NOT_FOUND');
      }
    }
    const c = await connect(other.token);
    const reply = await c.request({ type: 'create_session', profile: 'shell', apiKeyId: mine.id });
    expect(reply).to.include({ type: 'session_error', code: 'API_KEY_NOT_FOUND' });
  });

  it('a key without a value: API_KEY_HAS_NO_VALUE, then the value is set with PUT', async () => {
    const created = await api('POST', '/api/keys', { token: admin.token, body: { name: 'later' } });
    expect(created.status).to.equal(201);
    expect(created.body.key).to.include({ hasValue: false, hint: null, provider: 'anthropic' });
    const c = await connect(admin.token);
    const reply = await c.request({ type: 'create_session', profile: 'shell', apiKeyId: created.body.key.id });
    expect(reply).to.include({ type: 'session_error', code: 'API_KEY_HAS_NO_VALUE' });

    const value = `sk-ant-later-${crypto.randomBytes(8).toString('hex')}`;
    const put = await api('PUT', `/api/keys/${created.body.key.id}`, {
      token: admin.token,
      body: { value: `  ${value}  `, name: 'set later' },
    });
    expect(put.status).to.equal(200);
    expect(put.body.key).to.include({ hasValue: true, hint: value.slice(-4), name: 'set later' });
    expect(put.text).not.to.include(value);
    const cleared = await api('PUT', `/api/keys/${created.body.key.id}`, { token: admin.token, body: { value: null } });
    expect(cleared.body.key).to.include({ hasValue: false, hint: null });
    const empty = await api('PUT', `/api/keys/${created.body.key.id}`, { token: admin.token, body: {} });
    expect(empty.status).to.equal(400);
    const del = await api('DELETE', `/api/keys/${created.body.key.id}`, { token: admin.token });
    expect(del.status).to.equal(204);
    const gone = await c.request({ type: 'create_session', profile: 'shell', apiKeyId: created.body.key.id });
    expect(gone).to.include({ type: 'session_error', code: 'API_KEY_NOT_FOUND' });
  });

  it('hands the key to exactly the session created with it, as ANTHROPIC_API_KEY', async () => {
    const key = (await api('GET', '/api/keys', { token: admin.token })).body.keys.find(
      (k: { name: string }) => k.name === CANARY_NAME,
    );
    const c = await connect(admin.token);
    const withKey = await c.createSession({ profile: 'shell', apiKeyId: key.id });
    const withoutKey = await c.createSession({ profile: 'shell' });
    const o = await connect(other.token);
    const othersSession = await o.createSession({ profile: 'shell' });

    expect(environOf(withKey.pid).ANTHROPIC_API_KEY).to.equal(CANARY);
    expect(environOf(withoutKey.pid)).not.to.have.property('ANTHROPIC_API_KEY');
    expect(environOf(othersSession.pid)).not.to.have.property('ANTHROPIC_API_KEY');
    // No other process the gateway runs (itself, workers, other PTYs) carries the value.
    for (const pid of [g.pid, ...descendants(g.pid)]) {
      if (pid === withKey.pid) continue;
      let raw: string;
      try {
        raw = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      // A child of the keyed shell inherits its environment legitimately.
      if (!descendants(withKey.pid).includes(pid)) expect(raw, `pid ${pid}`).not.to.include(CANARY);
    }

    const after = (await api('GET', '/api/keys', { token: admin.token })).body.keys.find(
      (k: { id: string }) => k.id === key.id,
    );
    expect(after.lastUsedAt).to.be.a('string');
    expect(Date.parse(after.lastUsedAt)).to.be.at.least(Date.parse(key.createdAt));

    for (const s of [withKey, withoutKey])
      await c.request({ type: 'close_session', sessionId: s.id }, 'session_closed');
    await o.request({ type: 'close_session', sessionId: othersSession.id }, 'session_closed');
  });

  it('tampered ciphertext (or one copied from another row) fails with a clear error, not garbage', async () => {
    const a = (
      await api('POST', '/api/keys', {
        token: admin.token,
        body: { name: 'tamper-a', value: 'sk-ant-tamper-target-aaaa' },
      })
    ).body.key;
    const b = (
      await api('POST', '/api/keys', {
        token: admin.token,
        body: { name: 'tamper-b', value: 'sk-ant-tamper-source-bbbb' },
      })
    ).body.key;
    const db = new Database(g.env.DB_PATH as string);
    try {
      db.pragma('busy_timeout = 5000');
      const row = db.prepare('SELECT ciphertext, iv, auth_tag, key_version FROM api_keys WHERE id = ?').get(a.id) as {
        ciphertext: Buffer;
        iv: Buffer;
        auth_tag: Buffer;
        key_version: number;
      };
      expect(row.key_version).to.equal(1);
      // b gets a's intact sealed value (bound to a's row: its AAD no longer matches)...
      db.prepare('UPDATE api_keys SET ciphertext = ?, iv = ?, auth_tag = ? WHERE id = ?').run(
        row.ciphertext,
        row.iv,
        row.auth_tag,
        b.id,
      );
      // ...and a gets one bit of its ciphertext flipped.
      const flipped = Buffer.from(row.ciphertext);
      flipped[0] = (flipped[0] as number) ^ 0x20;
      db.prepare('UPDATE api_keys SET ciphertext = ? WHERE id = ?').run(flipped, a.id);
    } finally {
      db.close();
    }
    const c = await connect(admin.token);
    for (const id of [a.id, b.id]) {
      const reply = await c.request({ type: 'create_session', profile: 'shell', apiKeyId: id });
      expect(reply).to.include({ type: 'session_error', code: 'API_KEY_DECRYPT_FAILED' });
      expect(reply.message).to.match(/integrity check/);
    }
    expect(g.logs()).to.match(/stored api key failed its integrity check/);
  });

  it('leaves the canary nowhere: DB file, WAL, logs, REST and socket replies', async () => {
    const needle = Buffer.from(CANARY);
    const scan = () => {
      let controlSeen = false;
      for (const file of filesUnder(g.dir)) {
        const bytes = fs.readFileSync(file);
        expect(bytes.includes(needle), file).to.equal(false);
        if (bytes.includes(Buffer.from(CANARY_NAME))) controlSeen = true;
      }
      expect(controlSeen, 'the key name (plaintext) is found by the same scan').to.equal(true);
    };
    // While running: the WAL still holds the recent writes.
    const wal = `${g.env.DB_PATH}-wal`;
    expect(fs.existsSync(wal)).to.equal(true);
    scan();
    for (const text of replies) expect(text).not.to.include(CANARY);
    for (const c of clients) for (const m of c.messages) expect(JSON.stringify(m)).not.to.include(CANARY);
    expect(g.stdout + g.stderr).not.to.include(CANARY);
    // After an orderly stop the WAL is checkpointed into the file: scan again.
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await g.stop();
    scan();
  });
});
