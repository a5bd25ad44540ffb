import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { registerUser } from '../helpers/api.js';
import { GatewayProcess } from '../helpers/gateway-process.js';
import { TestClient } from '../helpers/ws-client.js';

const SESSIONS = 5;
const SHUTDOWN_TIMEOUT_MS = 10_000;

describe('graceful shutdown on SIGTERM (real gateway)', function () {
  this.timeout(90_000);

  it('keeps every line a client received, closes sockets with 1001, leaves no PTY, exits 0 in time', async () => {
    const g = await GatewayProcess.start({ env: { SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) } });
    try {
      const u = await registerUser(g.url);
      const c = await TestClient.authed(g.wsUrl, u.token);
      const ids: string[] = [];
      for (let i = 0; i < SESSIONS; i++) {
        const s = await c.createSession({ profile: 'shell', cols: 80, rows: 24 });
        ids.push(s.id);
        c.send({
          type: 'terminal_input',
          sessionId: s.id,
          data: `i=0; while true; do i=$((i+1)); echo "S${i}L$i"; sleep 0.002; done\r`,
        });
      }
      for (let i = 0; i < SESSIONS; i++) await c.waitForOutput(ids[i] as string, new RegExp(`S${i}L200\\r\\n`), 20_000);
      g.snapshotPids();
      const signalledAt = Date.now();
      g.child.kill('SIGTERM');
      const code = await c.closed;
      // Output that arrived before the close frame is what the client "received before the signal".
      expect(code).to.equal(1001);
      await g.exited;
      const took = Date.now() - signalledAt;
      expect(g.exitCode).to.equal(0);
      expect(took).to.be.lessThan(SHUTDOWN_TIMEOUT_MS);
      await g.assertNoSurvivors();

      const db = new Database(path.join(g.dir, 'ccmanager.db'), { readonly: true });
      try {
        for (let i = 0; i < SESSIONS; i++) {
          const id = ids[i] as string;
          const received = [...c.outputOf(id).matchAll(new RegExp(`^S${i}L(\\d+)\\r$`, 'gm'))].map((m) => Number(m[1]));
          expect(received.length).to.be.greaterThan(100);
          const stored = new Set(
            (db.prepare('SELECT text FROM terminal_lines WHERE session_id = ?').all(id) as { text: string }[]).map(
              (r) => r.text,
            ),
          );
          const missing = received.filter((n) => !stored.has(`S${i}L${n}`));
          expect(missing, `session ${i}: lines received but not stored`).to.deep.equal([]);
          const row = db.prepare('SELECT status, close_reason FROM sessions WHERE id = ?').get(id) as {
            status: string;
            close_reason: string;
          };
          expect(row).to.deep.equal({ status: 'closed', close_reason: 'shutdown' });
        }
        expect(db.pragma('integrity_check', { simple: true })).to.equal('ok');
      } finally {
        db.close();
      }
    } finally {
      if (g.exitCode === null) await g.kill9();
      g.cleanup();
    }
  });

  it('treats a repeated signal within a second as the same request', async () => {
    const g = await GatewayProcess.start();
    try {
      const u = await registerUser(g.url);
      const c = await TestClient.authed(g.wsUrl, u.token);
      await c.createSession({ profile: 'shell' });
      g.snapshotPids();
      g.child.kill('SIGINT');
      g.child.kill('SIGINT');
      await g.exited;
      expect(g.exitCode).to.equal(0);
      await g.assertNoSurvivors();
    } finally {
      g.cleanup();
    }
  });
});
