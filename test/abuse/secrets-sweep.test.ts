/**
 * Abuse 15 (issue 7): secrets sweep. A gateway gets its secrets the production way (JWT_SECRET,
 * ENCRYPTION_KEY, METRICS_TOKEN in its environment), serves a workload that touches every place
 * a secret could leak to — registration and logins with a canary password (right, wrong, inside
 * a refused body), an API key set and replaced with canary values, a session started with that
 * key, sessions without, logout, admin changes, /metrics — and then the DB file, its WAL and
 * SHM (while running and after the stop), every file in LOG_DIR, the gateway's stdout/stderr,
 * /metrics, every REST and socket reply, and /proc/<pid>/environ of every worker, PTY and PTY
 * child are searched for each secret, as text, hex and base64. Figure: 0 hits, except the canary
 * API key as ANTHROPIC_API_KEY in its own session's processes.
 * (The gateway's own /proc environ holds what it was started with; it is not a child's.)
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { environOf, sessionMembers } from '../faults/support/processes.js';
import { api as rawApi, uniqueName } from '../helpers/api.js';
import { descendants, GatewayProcess, waitFor } from '../helpers/gateway-process.js';
import { TestClient } from '../helpers/ws-client.js';

const JWT_SECRET = crypto.randomBytes(48).toString('base64url');
const ENCRYPTION_KEY_BYTES = crypto.randomBytes(32);
const ENCRYPTION_KEY = ENCRYPTION_KEY_BYTES.toString('hex');
const METRICS_TOKEN = `metrics-${crypto.randomBytes(16).toString('hex')}`;
const CANARY_PASSWORD = `canary-pw-${crypto.randomBytes(8).toString('hex')}`;
const CANARY_WRONG_PASSWORD = `canary-wrong-${crypto.randomBytes(8).toString('hex')}`;
const CANARY_KEY_OLD = `sk-ant-canary-old-${crypto.randomBytes(12).toString('hex')}`;
const CANARY_KEY = `sk-ant-canary-${crypto.randomBytes(12).toString('hex')}`;
/** Stored in plaintext on purpose: the control that proves the file scans see what is stored. */
const CONTROL_NAME = `control-${crypto.randomBytes(6).toString('hex')}`;

/** Each secret in the forms a careless encoder would store it in. */
function forms(secret: string | Buffer): Buffer[] {
  const raw = Buffer.isBuffer(secret) ? secret : Buffer.from(secret);
  return [
    raw,
    Buffer.from(raw.toString('hex')),
    Buffer.from(raw.toString('base64')),
    Buffer.from(raw.toString('base64url')),
  ];
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : e.isFile() ? [p] : [];
  });
}

describe('abuse: secrets sweep (DB, WAL, logs, /metrics, replies, process environments)', function () {
  this.timeout(90_000);
  let g: GatewayProcess;
  const replies: string[] = [];
  const hits: string[] = [];
  const keySessionPids = new Set<number>();
  let keyInEnviron = 0;
  let keysRoute = true;
  let swept = 0;
  let controlSeen = false;

  const secrets: [string, string | Buffer][] = [
    ['JWT_SECRET', JWT_SECRET],
    ['ENCRYPTION_KEY (hex)', ENCRYPTION_KEY],
    ['ENCRYPTION_KEY (bytes)', ENCRYPTION_KEY_BYTES],
    ['METRICS_TOKEN', METRICS_TOKEN],
    ['canary password', CANARY_PASSWORD],
    ['canary wrong password', CANARY_WRONG_PASSWORD],
    ['canary API key (replaced)', CANARY_KEY_OLD],
    ['canary API key', CANARY_KEY],
  ];
  const api = async (...args: Parameters<typeof rawApi>) => {
    const r = await rawApi(...args);
    replies.push(r.text);
    return r;
  };
  /** Records every secret found in `bytes`, except those `allowed` for that place. */
  function sweep(place: string, bytes: Buffer, allowed: string[] = []): void {
    swept++;
    for (const [name, secret] of secrets) {
      if (allowed.includes(name)) continue;
      if (forms(secret).some((f) => bytes.includes(f))) hits.push(`${name} in ${place}`);
    }
  }

  before(async () => {
    g = await GatewayProcess.start({
      env: { WORKER_COUNT: '2', JWT_SECRET, ENCRYPTION_KEY, METRICS_TOKEN, LOG_LEVEL: 'debug' },
    });
    const admin = uniqueName('admin');
    const reg = await api(g.url, 'POST', '/api/auth/register', {
      body: { username: admin, password: CANARY_PASSWORD },
    });
    expect(reg.status).to.equal(201);
    const user = uniqueName('user');
    const regUser = await api(g.url, 'POST', '/api/auth/register', {
      body: { username: user, password: CANARY_PASSWORD },
    });
    await api(g.url, 'POST', '/api/auth/login', { body: { username: admin, password: CANARY_WRONG_PASSWORD } });
    await api(g.url, 'POST', '/api/auth/login', {
      body: { username: admin, password: CANARY_PASSWORD, extra: CANARY_WRONG_PASSWORD },
    });
    await api(g.url, 'POST', '/api/auth/register', { body: { username: 'x', password: CANARY_WRONG_PASSWORD } });
    await api(g.url, 'POST', '/api/auth/login', {
      raw: `{"username":"${admin}","password":"${CANARY_WRONG_PASSWORD}"`,
      headers: { 'content-type': 'application/json' },
    });
    const token = (
      await api(g.url, 'POST', '/api/auth/login', { body: { username: admin, password: CANARY_PASSWORD } })
    ).body.token as string;

    let keyId: string | undefined;
    const created = await api(g.url, 'POST', '/api/keys', { token, body: { name: 'canary', value: CANARY_KEY_OLD } });
    if (created.status === 404) keysRoute = false;
    else {
      keyId = created.body.key.id;
      await api(g.url, 'PUT', `/api/keys/${keyId}`, { token, body: { value: CANARY_KEY } });
      await api(g.url, 'POST', '/api/keys', { token, body: { name: 'bad', value: `${CANARY_KEY}\u0000` } });
    }

    const c = await TestClient.authed(g.wsUrl, token);
    c.ws.on('message', (raw) => replies.push(String(raw)));
    const plain = await c.createSession({ profile: 'shell', name: CONTROL_NAME });
    c.send({ type: 'terminal_input', sessionId: plain.id, data: 'sleep 300 &\recho PLAIN-$((1+1))\r' });
    await c.waitForOutput(plain.id, 'PLAIN-2\r\n');
    if (keyId) {
      const withKey = await c.createSession({ profile: 'shell', apiKeyId: keyId });
      // A child too: the key reaches the session's whole tree, and only it.
      c.send({ type: 'terminal_input', sessionId: withKey.id, data: 'sleep 300 &\recho KEYED-$((1+1))\r' });
      await c.waitForOutput(withKey.id, 'KEYED-2\r\n');
      await waitFor('keyed session child', () => sessionMembers(withKey.pid).length >= 2);
      for (const p of [...sessionMembers(withKey.pid), ...descendants(withKey.pid)]) keySessionPids.add(p);
    }
    if (regUser.status === 201) {
      await api(g.url, 'PATCH', `/api/admin/users/${regUser.body.user.id}`, { token, body: { role: 'admin' } });
    }
    await api(g.url, 'GET', '/api/monitoring/metrics', { token });
    const metrics = await fetch(`${g.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(metrics.status).to.equal(200);
    sweep('/metrics', Buffer.from(await metrics.text()));
    expect((await fetch(`${g.url}/metrics`)).status, '/metrics without the token').to.equal(401);

    // Environments of everything the gateway started (workers, PTYs, their children).
    for (const pid of descendants(g.pid)) {
      const env = Buffer.from(environOf(pid));
      const inKeySession = keySessionPids.has(pid);
      if (inKeySession && env.includes(Buffer.from(`ANTHROPIC_API_KEY=${CANARY_KEY}`))) keyInEnviron++;
      sweep(`/proc/${pid}/environ`, env, inKeySession ? ['canary API key'] : []);
    }
    for (const f of filesUnder(path.dirname(g.env.DB_PATH as string))) {
      const bytes = fs.readFileSync(f);
      if (f.startsWith(g.env.DB_PATH as string) && bytes.includes(Buffer.from(CONTROL_NAME))) controlSeen = true;
      sweep(`${path.basename(f)} (running)`, bytes);
    }

    await api(g.url, 'POST', '/api/auth/logout', { token });
    await c.close();
    await g.stop();
    for (const f of filesUnder(path.dirname(g.env.DB_PATH as string)))
      sweep(`${path.basename(f)} (after stop)`, fs.readFileSync(f));
    for (const f of filesUnder(g.env.LOG_DIR as string)) sweep(`logs/${path.basename(f)}`, fs.readFileSync(f));
    sweep('gateway stdout', Buffer.from(g.stdout));
    sweep('gateway stderr', Buffer.from(g.stderr));
    sweep('REST and socket replies', Buffer.from(replies.join('\n')));
  });
  after(() => {
    console.log(
      `      places swept ${swept}; hits ${hits.length}; canary key in its session's environ: ${keyInEnviron} of ${keySessionPids.size} processes`,
    );
    g?.cleanup();
  });

  it('0 hits of any secret outside the one allowed place', () => {
    expect(swept).to.be.greaterThan(10);
    expect(controlSeen, 'control: a plaintext session name is found in the DB/WAL bytes').to.equal(true);
    expect(hits).to.deep.equal([]);
  });

  it('the canary API key is in its own session’s environment (the one allowed place)', function () {
    if (!keysRoute) this.skip(); // /api/keys not there yet
    expect(keySessionPids.size).to.be.greaterThan(1);
    expect(keyInEnviron).to.equal(keySessionPids.size);
  });
});
