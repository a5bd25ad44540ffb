import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { registerUser } from '../helpers/api.js';
import { isAlive, ROOT, sessionMembers, waitFor } from '../helpers/gateway-process.js';
import { TestClient } from '../helpers/ws-client.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

describe('running under PM2 (ecosystem.config.js as shipped)', function () {
  this.timeout(120_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccm-pm2-'));
  let env: NodeJS.ProcessEnv;
  const pm2 = (...args: string[]) =>
    execFileSync(path.join(ROOT, 'node_modules/.bin/pm2'), args, { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });

  before(async () => {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'ignore' });
    const port = await freePort();
    env = {
      PATH: process.env.PATH,
      HOME: dir,
      PM2_HOME: path.join(dir, 'pm2'),
      PORT: String(port),
      HOST: '127.0.0.1',
      DB_PATH: path.join(dir, 'ccmanager.db'),
      LOG_DIR: path.join(dir, 'logs'),
      JWT_SECRET: 'j'.repeat(48),
      ENCRYPTION_KEY: 'ab'.repeat(32),
      BCRYPT_ROUNDS: '4',
      WORKER_COUNT: '1',
      SESSION_ROOT: dir,
      ALLOW_SHELL_SESSIONS: 'true',
    };
  });
  after(() => {
    try {
      pm2('kill');
    } catch {
      // already gone
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('pm2 start waits for ready; pm2 stop runs the orderly shutdown (history kept, no PTY left)', async () => {
    const out = pm2('start', 'ecosystem.config.js', '--env', 'production');
    expect(out).to.match(/ccmanager/);
    const base = `http://127.0.0.1:${env.PORT}`;
    const health = await fetch(`${base}/health`).then((r) => r.json());
    expect(health.status).to.equal('ok');
    const u = await registerUser(base);
    const c = await TestClient.authed(`ws://127.0.0.1:${env.PORT}/ws`, u.token);
    const s = await c.createSession({ profile: 'shell' });
    c.send({
      type: 'terminal_input',
      sessionId: s.id,
      data: 'i=0; while true; do i=$((i+1)); echo "PM$i"; sleep 0.005; done\r',
    });
    await c.waitForOutput(s.id, /PM100\r\n/);
    const members = sessionMembers(s.pid);
    pm2('stop', 'ccmanager');
    expect(await c.closed).to.equal(1001);
    await waitFor('PTY tree gone', () => members.every((p) => !isAlive(p)), 5000);
    const received = [...c.outputOf(s.id).matchAll(/^PM(\d+)\r$/gm)].map((m) => m[1]);
    const db = new Database(env.DB_PATH as string, { readonly: true });
    try {
      const stored = new Set(
        (db.prepare('SELECT text FROM terminal_lines WHERE session_id = ?').all(s.id) as { text: string }[]).map(
          (r) => r.text,
        ),
      );
      expect(received.filter((n) => !stored.has(`PM${n}`))).to.deep.equal([]);
      const row = db.prepare('SELECT status, close_reason FROM sessions WHERE id = ?').get(s.id);
      expect(row).to.deep.equal({ status: 'closed', close_reason: 'shutdown' });
    } finally {
      db.close();
    }
    const logs = fs.readFileSync(path.join(dir, 'logs/combined.log'), 'utf8');
    expect(logs).to.include('shutdown complete');
  });
});
