/** Roles end to end: admin-only routes, user management, immediate revocation on role changes. */
import { expect } from 'chai';
import { CLOSE_TOKEN_REVOKED } from '../../common/protocol.js';
import { api, registerUser } from '../helpers/api.js';
import { GatewayProcess } from '../helpers/gateway-process.js';
import { TestClient } from '../helpers/ws-client.js';

type User = { token: string; user: { id: string; username: string; role: string }; password: string };

describe('roles and user management (real gateway)', function () {
  this.timeout(60_000);
  let g: GatewayProcess;
  let admin: User;
  let alice: User;
  const clients: TestClient[] = [];
  const connect = async (token: string) => {
    const c = await TestClient.authed(g.wsUrl, token);
    clients.push(c);
    return c;
  };
  const login = async (u: User): Promise<string> => {
    const res = await api(g.url, 'POST', '/api/auth/login', {
      body: { username: u.user.username, password: u.password },
    });
    expect(res.status, res.text).to.equal(200);
    return res.body.token;
  };
  const patch = (token: string, id: string, body: unknown) =>
    api(g.url, 'PATCH', `/api/admin/users/${id}`, { token, body });

  before(async () => {
    g = await GatewayProcess.start();
    admin = await registerUser(g.url);
    alice = await registerUser(g.url);
    expect(admin.user.role).to.equal('admin');
    expect(alice.user.role).to.equal('user');
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  after(async () => {
    await g.stop();
    g.cleanup();
  });

  it('a user gets 403 FORBIDDEN on every admin and monitoring route; no token is 401', async () => {
    const routes: [string, string, unknown?][] = [
      ['GET', '/api/admin/users'],
      ['PATCH', `/api/admin/users/${alice.user.id}`, { role: 'admin' }],
      ['GET', '/api/monitoring/metrics'],
      ['GET', '/api/monitoring/metrics/history'],
      ['GET', '/api/monitoring/metrics/average?window=15m'],
    ];
    for (const [method, path, body] of routes) {
      const res = await api(g.url, method, path, { token: alice.token, body });
      expect(res.status, `${method} ${path}`).to.equal(403);
      expect(res.body.error.code).to.equal('FORBIDDEN');
      const anon = await api(g.url, method, path, { body });
      expect(anon.status, `${method} ${path} without a token`).to.equal(401);
    }
    const me = await api(g.url, 'GET', '/api/auth/me', { token: alice.token });
    expect(me.body.user.role).to.equal('user');
  });

  it('lists users with their disabled flag and never a hash', async () => {
    const res = await api(g.url, 'GET', '/api/admin/users', { token: admin.token });
    expect(res.status).to.equal(200);
    const byId = new Map(res.body.users.map((u: { id: string }) => [u.id, u]));
    expect(byId.get(alice.user.id)).to.deep.include({ username: alice.user.username, role: 'user', disabled: false });
    expect(Object.keys(byId.get(admin.user.id) as object).sort()).to.deep.equal([
      'createdAt',
      'disabled',
      'id',
      'role',
      'username',
    ]);
    expect(res.text).not.to.match(/\$2[aby]\$/);
  });

  it('validates patches and answers unknown users with 404', async () => {
    for (const body of [{}, { role: 'root' }, { disabled: 'yes' }, { role: 'user', extra: 1 }]) {
      const res = await patch(admin.token, alice.user.id, body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
    }
    const missing = await patch(admin.token, '00000000-0000-0000-0000-000000000000', { role: 'admin' });
    expect(missing.status).to.equal(404);
    expect(missing.body.error.code).to.equal('USER_NOT_FOUND');
  });

  it('refuses to demote or disable the last active admin (LAST_ADMIN)', async () => {
    for (const body of [{ role: 'user' }, { disabled: true }, { role: 'user', disabled: true }]) {
      const res = await patch(admin.token, admin.user.id, body);
      expect(res.status, JSON.stringify(body)).to.equal(409);
      expect(res.body.error.code).to.equal('LAST_ADMIN');
    }
    // A no-op patch changes nothing and revokes nothing.
    const same = await patch(admin.token, admin.user.id, { role: 'admin', disabled: false });
    expect(same.status).to.equal(200);
    expect((await api(g.url, 'GET', '/api/auth/me', { token: admin.token })).status).to.equal(200);
  });

  it('promotion and demotion take effect on the very next request', async () => {
    const aliceSocket = await connect(alice.token);
    const promoted = await patch(admin.token, alice.user.id, { role: 'admin' });
    expect(promoted.status).to.equal(200);
    expect(promoted.body.user).to.include({ id: alice.user.id, role: 'admin', disabled: false });
    // Her old token (issued as a user) stops at once, and so does her socket.
    const stale = await api(g.url, 'GET', '/api/auth/me', { token: alice.token });
    expect(stale.status).to.equal(401);
    expect(stale.body.error.code).to.equal('TOKEN_REVOKED');
    expect(await aliceSocket.closed).to.equal(CLOSE_TOKEN_REVOKED);

    const adminToken = await login(alice);
    expect((await api(g.url, 'GET', '/api/admin/users', { token: adminToken })).status).to.equal(200);
    expect((await api(g.url, 'GET', '/api/monitoring/metrics', { token: adminToken })).status).to.equal(200);

    // Two active admins now: the first may demote the second, effective on her next request.
    const demoted = await patch(admin.token, alice.user.id, { role: 'user' });
    expect(demoted.body.user.role).to.equal('user');
    const next = await api(g.url, 'GET', '/api/admin/users', { token: adminToken });
    expect(next.status).to.equal(401);
    expect(next.body.error.code).to.equal('TOKEN_REVOKED');
    const userToken = await login(alice);
    const forbidden = await api(g.url, 'GET', '/api/admin/users', { token: userToken });
    expect(forbidden.status).to.equal(403);
    alice.token = userToken;
  });

  it('a disabled admin does not count as an active admin', async () => {
    const bob = await registerUser(g.url);
    expect((await patch(admin.token, bob.user.id, { role: 'admin' })).status).to.equal(200);
    expect((await patch(admin.token, bob.user.id, { disabled: true })).body.user).to.include({
      role: 'admin',
      disabled: true,
    });
    const res = await patch(admin.token, admin.user.id, { role: 'user' });
    expect(res.body.error.code).to.equal('LAST_ADMIN');
  });

  it('disabling a user closes their sockets at once and stops their tokens and logins', async () => {
    const a = await connect(alice.token);
    const b = await connect(alice.token);
    const session = await a.createSession({ profile: 'shell' });
    const res = await patch(admin.token, alice.user.id, { disabled: true });
    expect(res.status).to.equal(200);
    expect(res.body.user.disabled).to.equal(true);
    expect(await a.closed).to.equal(CLOSE_TOKEN_REVOKED);
    expect(await b.closed).to.equal(CLOSE_TOKEN_REVOKED);
    const me = await api(g.url, 'GET', '/api/auth/me', { token: alice.token });
    expect(me.status).to.equal(401);
    const refused = await api(g.url, 'POST', '/api/auth/login', {
      body: { username: alice.user.username, password: alice.password },
    });
    expect(refused.status).to.equal(401);
    expect(refused.body.error.code).to.equal('INVALID_CREDENTIALS');
    const fresh = await TestClient.connect(g.wsUrl);
    clients.push(fresh);
    fresh.send({ type: 'authenticate', token: alice.token });
    expect(await fresh.closed).to.be.oneOf([4001, CLOSE_TOKEN_REVOKED]);

    // Enabled again: she can log in; her session (kept running) is still hers.
    expect((await patch(admin.token, alice.user.id, { disabled: false })).body.user.disabled).to.equal(false);
    const token = await login(alice);
    const c = await connect(token);
    const closed = await c.request({ type: 'close_session', sessionId: session.id }, 'session_closed');
    expect(closed.sessionId).to.equal(session.id);
  });
});
