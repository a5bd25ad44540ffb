import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { api, registerUser, uniqueName } from '../helpers/api.js';
import { GatewayProcess } from '../helpers/gateway-process.js';

const ISS = 'ccmanager-backend';
const AUD = 'ccmanager-api';

describe('auth (real gateway process)', function () {
  this.timeout(60_000);
  let g: GatewayProcess;
  let secret: string;

  before(async () => {
    g = await GatewayProcess.start({
      env: { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_MAX_FAILURES_PER_ADDRESS: '50' },
    });
    secret = fs.readFileSync(path.join(g.dir, 'jwt_secret'), 'utf8').trim();
  });
  after(async () => {
    await g.stop();
    g.cleanup();
  });

  it('serves /health with a real DB check and ready workers', async () => {
    const res = await api(g.url, 'GET', '/health');
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ status: 'ok', db: 'ok' });
    expect(res.body.workers).to.deep.equal({ ready: 2, total: 2 });
  });

  it('registers the first user as admin, later ones as user, and never returns a hash', async () => {
    const first = await registerUser(g.url);
    expect(first.user.role).to.equal('admin');
    const second = await registerUser(g.url);
    expect(second.user.role).to.equal('user');
    expect(JSON.stringify(second)).not.to.match(/\$2[aby]\$/);
  });

  it('register → me → logout → token revoked', async () => {
    const u = await registerUser(g.url);
    const me = await api(g.url, 'GET', '/api/auth/me', { token: u.token });
    expect(me.status).to.equal(200);
    expect(me.body.user.username).to.equal(u.user.username);
    const out = await api(g.url, 'POST', '/api/auth/logout', { token: u.token });
    expect(out.status).to.equal(204);
    const again = await api(g.url, 'GET', '/api/auth/me', { token: u.token });
    expect(again.status).to.equal(401);
    expect(again.body.error.code).to.equal('TOKEN_REVOKED');
  });

  it('password change: needs the current password, revokes every older token, returns a new one', async () => {
    const u = await registerUser(g.url);
    const other = await api(g.url, 'POST', '/api/auth/login', {
      body: { username: u.user.username, password: u.password },
    });
    const wrong = await api(g.url, 'POST', '/api/auth/password', {
      token: u.token,
      body: { currentPassword: 'not it at all', newPassword: 'a brand new password' },
    });
    expect(wrong.status).to.equal(401);
    expect(wrong.body.error.code).to.equal('INVALID_CREDENTIALS');
    const short = await api(g.url, 'POST', '/api/auth/password', {
      token: u.token,
      body: { currentPassword: u.password, newPassword: 'short' },
    });
    expect(short.status).to.equal(400);
    const ok = await api(g.url, 'POST', '/api/auth/password', {
      token: u.token,
      body: { currentPassword: u.password, newPassword: 'a brand new password' },
    });
    expect(ok.status).to.equal(200);
    for (const old of [u.token, other.body.token]) {
      const me = await api(g.url, 'GET', '/api/auth/me', { token: old });
      expect(me.body.error.code).to.equal('TOKEN_REVOKED');
    }
    expect((await api(g.url, 'GET', '/api/auth/me', { token: ok.body.token })).status).to.equal(200);
    const login = await api(g.url, 'POST', '/api/auth/login', {
      body: { username: u.user.username, password: 'a brand new password' },
    });
    expect(login.status).to.equal(200);
  });

  it('login works and a duplicate username is 409', async () => {
    const u = await registerUser(g.url);
    const login = await api(g.url, 'POST', '/api/auth/login', {
      body: { username: u.user.username, password: u.password },
    });
    expect(login.status).to.equal(200);
    expect(login.body.token).to.be.a('string');
    expect(login.body.expiresAt).to.be.a('string');
    const dup = await api(g.url, 'POST', '/api/auth/register', {
      body: { username: u.user.username.toUpperCase(), password: 'another password' },
    });
    expect(dup.status).to.equal(409);
    expect(dup.body.error.code).to.equal('USERNAME_TAKEN');
  });

  it('accepts a 72-byte password and refuses 73 bytes', async () => {
    const p72 = 'é'.repeat(36); // 72 UTF-8 bytes
    const ok = await api(g.url, 'POST', '/api/auth/register', { body: { username: uniqueName(), password: p72 } });
    expect(ok.status).to.equal(201);
    const bad = await api(g.url, 'POST', '/api/auth/register', {
      body: { username: uniqueName(), password: `${p72}a` },
    });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.code).to.equal('VALIDATION_FAILED');
    expect(bad.body.error.message).to.match(/72/);
  });

  it('validates usernames and bodies with clear errors', async () => {
    for (const username of ['ab', 'x'.repeat(33), 'bad name', '-dash', '../etc', 'a;rm -rf']) {
      const r = await api(g.url, 'POST', '/api/auth/register', { body: { username, password: 'long enough pw' } });
      expect(r.status, username).to.equal(400);
      expect(r.body.error.code).to.equal('VALIDATION_FAILED');
    }
    const notJson = await api(g.url, 'POST', '/api/auth/login', {
      raw: 'username=a',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(notJson.status).to.equal(415);
    const badJson = await api(g.url, 'POST', '/api/auth/login', {
      raw: '{"username":',
      headers: { 'content-type': 'application/json' },
    });
    expect(badJson.status).to.equal(400);
    expect(badJson.body.error.code).to.equal('INVALID_JSON');
    expect(badJson.text).not.to.match(/at \w+ \(|node_modules/);
  });

  describe('token matrix', () => {
    let user: { token: string; user: { id: string } };
    before(async () => {
      user = await registerUser(g.url);
    });
    const now = () => Math.floor(Date.now() / 1000);
    /** A token signed like the server's, with the given differences. */
    const forge = (
      payload: Record<string, unknown>,
      o: {
        algorithm?: jwt.Algorithm;
        issuer?: string;
        audience?: string;
        key?: string;
        expiresIn?: number | undefined;
      } = {},
    ) =>
      jwt.sign(payload, o.key ?? secret, {
        algorithm: o.algorithm ?? 'HS256',
        issuer: o.issuer ?? ISS,
        audience: o.audience ?? AUD,
        subject: user.user.id,
        jwtid: crypto.randomUUID(),
        ...('expiresIn' in o ? (o.expiresIn === undefined ? {} : { expiresIn: o.expiresIn }) : { expiresIn: 60 }),
      });
    const cases: [string, () => string, string][] = [
      ['no token', () => '', 'UNAUTHENTICATED'],
      ['garbage', () => 'not.a.token', 'INVALID_TOKEN'],
      ['an 8 KB string', () => 'a'.repeat(8_000), 'INVALID_TOKEN'],
      [
        'alg none',
        () => {
          const h = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
          const p = Buffer.from(
            JSON.stringify({
              sub: user.user.id,
              jti: crypto.randomUUID(),
              ver: 0,
              iss: ISS,
              aud: AUD,
              iat: now(),
              exp: now() + 60,
            }),
          ).toString('base64url');
          return `${h}.${p}.`;
        },
        'INVALID_TOKEN',
      ],
      ['HS384', () => forge({ ver: 0 }, { algorithm: 'HS384' }), 'INVALID_TOKEN'],
      ['another secret', () => forge({ ver: 0 }, { key: 'x'.repeat(48) }), 'INVALID_TOKEN'],
      [
        'expired',
        () => forge({ ver: 0, exp: now() - 10, iat: now() - 100 }, { expiresIn: undefined }),
        'TOKEN_EXPIRED',
      ],
      ['not yet valid', () => forge({ ver: 0, nbf: now() + 3600 }, { expiresIn: 7200 }), 'INVALID_TOKEN'],
      ['wrong aud', () => forge({ ver: 0 }, { audience: 'other' }), 'INVALID_TOKEN'],
      ['wrong iss', () => forge({ ver: 0 }, { issuer: 'other' }), 'INVALID_TOKEN'],
      [
        'tampered payload',
        () => {
          const t = forge({ ver: 0 });
          const [h, p, s] = t.split('.');
          const claims = JSON.parse(Buffer.from(p as string, 'base64url').toString());
          claims.sub = crypto.randomUUID();
          return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
        },
        'INVALID_TOKEN',
      ],
    ];
    for (const [name, make, code] of cases) {
      it(`rejects ${name} with ${code}`, async () => {
        const token = make();
        const res = await api(
          g.url,
          'GET',
          '/api/auth/me',
          token ? { headers: { authorization: `Bearer ${token}` } } : {},
        );
        expect(res.status).to.equal(401);
        expect(res.body.error.code).to.equal(code);
      });
    }
    it('refuses a 100 KB bearer header at the HTTP layer (431, before any parsing)', async () => {
      const res = await api(g.url, 'GET', '/api/auth/me', {
        headers: { authorization: `Bearer ${'a'.repeat(100_000)}` },
      });
      expect(res.status).to.equal(431);
    });
    it('accepts a correctly signed token of the server (control)', async () => {
      const token = forge({ ver: 0 });
      const res = await api(g.url, 'GET', '/api/auth/me', { token });
      expect(res.status).to.equal(200);
    });
  });

  it('limits failures per account on the N+1th attempt while another account still logs in', async () => {
    const victim = await registerUser(g.url);
    const other = await registerUser(g.url);
    for (let i = 0; i < 3; i++) {
      const r = await api(g.url, 'POST', '/api/auth/login', {
        body: { username: victim.user.username, password: 'wrong password' },
      });
      expect(r.status).to.equal(401);
      expect(r.body.error.code).to.equal('INVALID_CREDENTIALS');
    }
    const limited = await api(g.url, 'POST', '/api/auth/login', {
      body: { username: victim.user.username, password: victim.password },
    });
    expect(limited.status).to.equal(429);
    expect(limited.body.error.code).to.equal('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).to.be.greaterThan(0);
    const ok = await api(g.url, 'POST', '/api/auth/login', {
      body: { username: other.user.username, password: other.password },
    });
    expect(ok.status).to.equal(200);
  });

  it('answers an unknown user exactly like a wrong password', async () => {
    const u = await registerUser(g.url);
    const wrong = await api(g.url, 'POST', '/api/auth/login', {
      body: { username: u.user.username, password: 'wrong password' },
    });
    const unknown = await api(g.url, 'POST', '/api/auth/login', {
      body: { username: uniqueName('ghost'), password: 'wrong password' },
    });
    expect(unknown.status).to.equal(wrong.status);
    expect(unknown.body).to.deep.equal(wrong.body);
  });

  it('writes request lines to the log files and no password or token', async () => {
    const password = `canary-pw-${crypto.randomUUID()}`;
    const u = await registerUser(g.url, uniqueName(), password);
    await api(g.url, 'GET', '/api/auth/me', { token: u.token });
    await api(g.url, 'POST', '/api/auth/login', { body: { username: u.user.username, password: 'wrong-canary-pw' } });
    const combined = fs.readFileSync(path.join(g.dir, 'logs/combined.log'), 'utf8');
    expect(combined).to.match(/"msg":"request"/);
    expect(combined).to.include('/api/auth/me');
    expect(fs.existsSync(path.join(g.dir, 'logs/error.log'))).to.equal(true);
    for (const secretText of [password, 'wrong-canary-pw', u.token, secret]) {
      expect(combined.includes(secretText), 'secret in combined.log').to.equal(false);
      expect(g.stdout.includes(secretText), 'secret on stdout').to.equal(false);
    }
  });

  it('keeps tokens valid across a restart in development (secret generated once)', async () => {
    const u = await registerUser(g.url);
    await g.stop();
    const mode = fs.statSync(path.join(g.dir, 'jwt_secret')).mode & 0o777;
    expect(mode).to.equal(0o600);
    g = await GatewayProcess.start({ dir: g.dir, env: { NODE_ENV: 'development' } });
    const me = await api(g.url, 'GET', '/api/auth/me', { token: u.token });
    expect(me.status).to.equal(200);
  });
});

describe('configuration checks at start', function () {
  this.timeout(30_000);
  it('refuses to start in production without secrets, with one clear line', async () => {
    let error: Error | undefined;
    try {
      const g = await GatewayProcess.start({ env: { NODE_ENV: 'production' } });
      await g.stop();
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.match(/JWT_SECRET is required when NODE_ENV=production/);
  });
  it('names the variable when a value is invalid', async () => {
    let error: Error | undefined;
    try {
      const g = await GatewayProcess.start({ env: { PORT: 'abc' } });
      await g.stop();
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.match(/PORT: must be a number/);
  });
});
