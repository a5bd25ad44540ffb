/**
 * Retention end to end: rows are planted in the gateway's SQLite file while it is stopped, then
 * the gateway starts (cleanup runs at start) and must delete exactly what is past retention, and
 * give the freed space back to the file system.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import type { CleanupReport } from '../../gateway/cleanup.js';
import { api, registerUser } from '../helpers/api.js';
import { GatewayProcess, waitFor } from '../helpers/gateway-process.js';
import { TestClient } from '../helpers/ws-client.js';

const DAY_MS = 24 * 60 * 60_000;
/** Enough history that deleting it visibly shrinks the file (~10 MB of text plus its FTS index). */
const OLD_LINES = 50_000;
const RECENT_LINES = 100;
const OLD_WORD = `oldword${crypto.randomBytes(4).toString('hex')}`;
const RECENT_WORD = `recentword${crypto.randomBytes(4).toString('hex')}`;

type Report = Omit<CleanupReport, 'ms'>;

function plantSession(
  db: Database.Database,
  userId: string,
  closedAt: number,
  status: string,
  lines: number,
  word: string,
): string {
  const id = crypto.randomUUID();
  db.prepare(
    `INSERT INTO sessions (id, user_id, name, profile, command, cwd, status, state, cols, rows, created_at, last_activity_at, closed_at, close_reason)
     VALUES (?, ?, ?, 'shell', '/bin/sh', '/tmp', ?, 'exited', 80, 24, ?, ?, ?, 'exited')`,
  ).run(id, userId, `planted ${word}`, status, closedAt - 1000, closedAt, closedAt);
  db.prepare("INSERT INTO session_metadata (session_id, key, value) VALUES (?, 'note', 'planted')").run(id);
  const insert = db.prepare(
    'INSERT INTO terminal_lines (session_id, line_number, text, timestamp) VALUES (?, ?, ?, ?)',
  );
  const filler = 'x'.repeat(150);
  for (let n = 1; n <= lines; n++)
    insert.run(id, n, `${word} line ${n} ${filler} ${crypto.randomBytes(8).toString('hex')}`, closedAt - 1000 + n);
  // Indexed the way the history writer does it (the FTS index is external content).
  db.prepare(
    'INSERT INTO terminal_lines_fts (rowid, text) SELECT id, text FROM terminal_lines WHERE session_id = ?',
  ).run(id);
  return id;
}

describe('cleanup (real gateway, retention at start, incremental vacuum)', function () {
  this.timeout(120_000);
  let g: GatewayProcess;
  let user: { token: string; user: { id: string } };
  let liveId: string;
  const planted: Record<string, string> = {};
  let fileBefore = 0;

  before(async () => {
    g = await GatewayProcess.start();
    user = await registerUser(g.url);
    // One real session, ended just now, with real history: it must survive.
    const c = await TestClient.authed(g.wsUrl, user.token);
    const s = await c.createSession({ profile: 'shell' });
    liveId = s.id;
    c.send({ type: 'terminal_input', sessionId: s.id, data: 'echo real-history-line\r' });
    await c.waitForOutput(s.id, /real-history-line\r\n/);
    await c.request({ type: 'close_session', sessionId: s.id }, 'session_closed');
    await c.close();
    await g.stop();

    const db = new Database(g.env.DB_PATH as string);
    const now = Date.now();
    db.transaction(() => {
      planted.oldClosed = plantSession(db, user.user.id, now - 30 * DAY_MS, 'closed', OLD_LINES, OLD_WORD);
      planted.oldTerminated = plantSession(db, user.user.id, now - 8 * DAY_MS, 'terminated', 10, OLD_WORD);
      planted.recent = plantSession(db, user.user.id, now - 6 * DAY_MS, 'exited', RECENT_LINES, RECENT_WORD);
      const revoke = db.prepare('INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES (?, ?, ?)');
      revoke.run('expired-jti', user.user.id, now - DAY_MS);
      revoke.run('live-jti', user.user.id, now + DAY_MS);
      const sample = db.prepare('INSERT INTO metrics_samples (timestamp, data) VALUES (?, ?)');
      sample.run(now - 30 * DAY_MS, '{"planted":"old"}');
      sample.run(now - DAY_MS, '{"planted":"recent"}');
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    fileBefore = fs.statSync(g.env.DB_PATH as string).size;

    g = await GatewayProcess.start({ dir: g.dir });
  });
  after(async () => {
    await g.stop();
    g.cleanup();
  });

  it('runs at start and reports what it removed, and that the file shrank', async () => {
    const line = await waitFor(
      'the cleanup report',
      () =>
        g
          .logs()
          .split('\n')
          .find((l) => l.includes('"cleanup finished"')),
      60_000,
    ).catch((err: unknown) => {
      throw new Error(
        `${String(err)}; cleanup log lines: ${g
          .logs()
          .split('\n')
          .filter((l) => /cleanup/.test(l))
          .join('\n')}`,
      );
    });
    const report = JSON.parse(line) as Report;
    expect(report.sessionsDeleted).to.equal(2);
    expect(report.linesDeleted).to.equal(OLD_LINES + 10);
    expect(report.tokensPruned).to.equal(1);
    expect(report.samplesDeleted).to.equal(1);
    expect(report.pagesFreed).to.be.greaterThan(0);
    expect(report.fileBytesAfter).to.be.lessThan(report.fileBytesBefore);
  });

  it('old sessions are gone (404), newer ones keep every line', async () => {
    for (const id of [planted.oldClosed, planted.oldTerminated]) {
      const res = await api(g.url, 'GET', `/api/sessions/${id}/history`, { token: user.token });
      expect(res.status).to.equal(404);
      expect(res.body.error.code).to.equal('SESSION_NOT_FOUND');
    }
    const recent = await api(g.url, 'GET', `/api/sessions/${planted.recent}/history?limit=5000`, { token: user.token });
    expect(recent.status).to.equal(200);
    expect(recent.body.lines.map((l: { lineNumber: number }) => l.lineNumber)).to.deep.equal(
      Array.from({ length: RECENT_LINES }, (_, i) => i + 1),
    );
    const live = await api(g.url, 'GET', `/api/sessions/${liveId}/history`, { token: user.token });
    expect(live.status).to.equal(200);
    expect(live.body.lines.map((l: { text: string }) => l.text).join('\n')).to.include('real-history-line');
    const found = await api(g.url, 'GET', `/api/sessions/search?q=${RECENT_WORD}`, { token: user.token });
    expect(found.body.results.length).to.be.greaterThan(0);
    const none = await api(g.url, 'GET', `/api/sessions/search?q=${OLD_WORD}`, { token: user.token });
    expect(none.body.results).to.deep.equal([]);
  });

  it('after a stop: no row of the old sessions anywhere (lines, metadata, FTS), the rest intact, the file smaller', async () => {
    await g.stop();
    const db = new Database(g.env.DB_PATH as string, { readonly: true });
    try {
      const count = (sql: string, ...args: unknown[]) => (db.prepare(sql).get(...args) as { n: number }).n;
      for (const id of [planted.oldClosed, planted.oldTerminated]) {
        expect(count('SELECT COUNT(*) AS n FROM sessions WHERE id = ?', id)).to.equal(0);
        expect(count('SELECT COUNT(*) AS n FROM terminal_lines WHERE session_id = ?', id)).to.equal(0);
        expect(count('SELECT COUNT(*) AS n FROM session_metadata WHERE session_id = ?', id)).to.equal(0);
      }
      expect(count('SELECT COUNT(*) AS n FROM terminal_lines_fts WHERE terminal_lines_fts MATCH ?', OLD_WORD)).to.equal(
        0,
      );
      expect(
        count('SELECT COUNT(*) AS n FROM terminal_lines_fts WHERE terminal_lines_fts MATCH ?', RECENT_WORD),
      ).to.equal(RECENT_LINES);
      expect(count('SELECT COUNT(*) AS n FROM terminal_lines WHERE session_id = ?', planted.recent)).to.equal(
        RECENT_LINES,
      );
      expect(count('SELECT COUNT(*) AS n FROM session_metadata WHERE session_id = ?', planted.recent)).to.equal(1);
      expect(count("SELECT COUNT(*) AS n FROM revoked_tokens WHERE jti = 'expired-jti'")).to.equal(0);
      expect(count("SELECT COUNT(*) AS n FROM revoked_tokens WHERE jti = 'live-jti'")).to.equal(1);
      expect(count("SELECT COUNT(*) AS n FROM metrics_samples WHERE data LIKE '%planted%'")).to.equal(1);
      expect(count('SELECT freelist_count AS n FROM pragma_freelist_count')).to.be.lessThan(100);
    } finally {
      db.close();
    }
    const fileAfter = fs.statSync(g.env.DB_PATH as string).size;
    // Measured: the planted history is ~10 MB of the file; most of it must be given back.
    expect(fileAfter).to.be.lessThan(fileBefore / 2);
    g = await GatewayProcess.start({ dir: g.dir });
  });
});
