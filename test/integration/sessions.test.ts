import { expect } from 'chai';
import { api, registerUser } from '../helpers/api.js';
import { GatewayProcess, isAlive, waitFor } from '../helpers/gateway-process.js';
import { TestClient } from '../helpers/ws-client.js';

describe('sessions over WebSocket (real gateway, workers, PTYs)', function () {
  this.timeout(60_000);
  let g: GatewayProcess;
  let admin: { token: string; user: { id: string } };
  const clients: TestClient[] = [];
  const connect = async (token: string) => {
    const c = await TestClient.authed(g.wsUrl, token);
    clients.push(c);
    return c;
  };

  before(async () => {
    g = await GatewayProcess.start({ env: { MAX_SESSIONS_PER_USER: '3', WS_AUTH_TIMEOUT_MS: '500' } });
    admin = await registerUser(g.url);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  after(async () => {
    await g.stop();
    g.cleanup();
  });

  it('create → type echo hello → hello arrives; resize reaches stty size', async () => {
    const c = await connect(admin.token);
    const s = await c.createSession({ profile: 'shell', cols: 100, rows: 30 });
    expect(s).to.include({ profile: 'shell', status: 'running', cols: 100, rows: 30 });
    expect(s.pid).to.be.a('number');
    c.send({ type: 'terminal_input', sessionId: s.id, data: 'echo hel""lo\r' });
    await c.waitForOutput(s.id, /hello/);
    c.send({ type: 'resize_terminal', sessionId: s.id, cols: 91, rows: 27 });
    await new Promise((r) => setTimeout(r, 100));
    c.send({ type: 'terminal_input', sessionId: s.id, data: 'stty size\r' });
    await c.waitForOutput(s.id, /27 91/);
    const closed = await c.request({ type: 'close_session', sessionId: s.id }, 'session_closed');
    expect(closed.reason).to.equal('closed');
    await waitFor('pty gone', () => !isAlive(s.pid));
  });

  it('seq counts output UTF-16 units without gaps', async () => {
    const c = await connect(admin.token);
    const s = await c.createSession({ profile: 'shell' });
    c.send({ type: 'terminal_input', sessionId: s.id, data: 'printf "%s\\n" héllo wörld ✓\r' });
    await c.waitForOutput(s.id, '✓\r\n');
    let total = 0;
    for (const m of c.messages) {
      if (m.type !== 'terminal_output' || m.sessionId !== s.id) continue;
      total += m.data.length;
      expect(m.seq).to.equal(total);
    }
    await c.request({ type: 'close_session', sessionId: s.id }, 'session_closed');
  });

  it('refuses bad input with codes and keeps the socket open', async () => {
    const c = await connect(admin.token);
    const bad = [
      [{ type: 'create_session', cols: 1e9 }, 'VALIDATION_FAILED'],
      [{ type: 'create_session', profile: 'root' }, 'VALIDATION_FAILED'],
      [{ type: 'create_session', cwd: '/etc' }, 'INVALID_CWD'],
      [{ type: 'create_session', cwd: '../../..' }, 'INVALID_CWD'],
      [{ type: 'resize_terminal', sessionId: 'x', cols: 0, rows: 10 }, 'VALIDATION_FAILED'],
      [{ type: 'no_such_type' }, 'VALIDATION_FAILED'],
      [{ type: 'attach_session', sessionId: 'does-not-exist' }, 'SESSION_NOT_FOUND'],
    ] as const;
    for (const [msg, code] of bad) {
      const reply = await c.request(msg as Record<string, unknown>);
      expect(reply.code, JSON.stringify(msg)).to.equal(code);
    }
    c.send({ type: 'list_sessions' });
    c.ws.send('{not json');
    const err = await c.next((m) => m.type === 'error' && m.code === 'INVALID_JSON');
    expect(err.message).to.be.a('string');
    const list = await c.request({ type: 'list_sessions' }, 'sessions_list');
    expect(list.sessions).to.be.an('array');
  });

  it('enforces MAX_SESSIONS_PER_USER', async () => {
    const u = await registerUser(g.url);
    const c = await connect(u.token);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await c.createSession({ profile: 'claude' })).id);
    const refused = await c.request({ type: 'create_session', profile: 'claude' });
    expect(refused.type).to.equal('session_error');
    expect(refused.code).to.equal('SESSION_LIMIT_REACHED');
    for (const id of ids) await c.request({ type: 'close_session', sessionId: id }, 'session_closed');
  });

  it('refuses the shell profile for non-admins when ALLOW_SHELL_SESSIONS is false', async () => {
    const g2 = await GatewayProcess.start({ env: { ALLOW_SHELL_SESSIONS: 'false', WORKER_COUNT: '1' } });
    try {
      await registerUser(g2.url);
      const u = await registerUser(g2.url);
      const c = await TestClient.authed(g2.wsUrl, u.token);
      const r = await c.request({ type: 'create_session', profile: 'shell' });
      expect(r.code).to.equal('PROFILE_NOT_ALLOWED');
      await c.close();
    } finally {
      await g2.stop();
      g2.cleanup();
    }
  });

  it('closes a silent socket after the auth timeout with 4001', async () => {
    const c = await TestClient.connect(g.wsUrl);
    const code = await c.closed;
    expect(code).to.equal(4001);
    expect(c.messages.map((m) => m.type)).to.deep.equal(['connection_status', 'error']);
  });

  it('closes a socket that sends something else first, and a bad token, with 4001', async () => {
    const a = await TestClient.connect(g.wsUrl);
    a.send({ type: 'list_sessions' });
    expect(await a.closed).to.equal(4001);
    const b = await TestClient.connect(g.wsUrl);
    b.send({ type: 'authenticate', token: 'garbage' });
    expect(await b.closed).to.equal(4001);
    expect(b.messages.find((m) => m.type === 'error')?.code).to.equal('INVALID_TOKEN');
  });

  it('closes an oversized frame with 1009', async () => {
    const c = await connect(admin.token);
    c.ws.send('x'.repeat(300 * 1024));
    expect(await c.closed).to.equal(1009);
  });

  it('refuses a foreign Origin at the upgrade (403) and allows no Origin', async () => {
    let err: Error | undefined;
    try {
      await TestClient.connect(g.wsUrl, { origin: 'http://evil.test' });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/403/);
    const ok = await TestClient.connect(g.wsUrl, { origin: `http://127.0.0.1:${g.port}` });
    await ok.close();
  });

  it('logout closes the sockets using that token', async () => {
    const u = await registerUser(g.url);
    const c = await connect(u.token);
    await api(g.url, 'POST', '/api/auth/logout', { token: u.token });
    expect(await c.closed).to.equal(4002);
  });

  it('SESSION_IDLE_TIMEOUT closes a session nobody attached for that long (reason timeout)', async () => {
    const g2 = await GatewayProcess.start({ env: { SESSION_IDLE_TIMEOUT: '1500', WORKER_COUNT: '1' } });
    try {
      const u = await registerUser(g2.url);
      const owner = await TestClient.authed(g2.wsUrl, u.token);
      const viewer = await TestClient.authed(g2.wsUrl, u.token);
      const s = await viewer.createSession({ profile: 'shell' });
      const detachedAt = Date.now();
      await viewer.close();
      const closed = await owner.next((m) => m.type === 'session_closed' && m.sessionId === s.id, 8000);
      expect(closed.reason).to.equal('timeout');
      expect(Date.now() - detachedAt).to.be.greaterThan(1400);
      const info = await owner.request({ type: 'get_session_info', sessionId: s.id }, 'session_info');
      expect(info.session.status).to.equal('closed');
      await waitFor('pty gone', () => !isAlive(s.pid));
      await owner.close();
    } finally {
      await g2.stop();
      g2.cleanup();
    }
  });

  it('a missing claude command answers session_error naming the command', async () => {
    const g2 = await GatewayProcess.start({ env: { CLAUDE_COMMAND: 'no-such-claude-binary', WORKER_COUNT: '1' } });
    try {
      const u = await registerUser(g2.url);
      const c = await TestClient.authed(g2.wsUrl, u.token);
      const r = await c.request({ type: 'create_session', profile: 'claude' });
      expect(r.type).to.equal('session_error');
      expect(r.code).to.equal('COMMAND_NOT_FOUND');
      expect(r.message).to.include('no-such-claude-binary');
      await c.close();
    } finally {
      await g2.stop();
      g2.cleanup();
    }
  });
});
