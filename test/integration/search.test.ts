import { expect } from 'chai';
import { api, registerUser } from '../helpers/api.js';
import { GatewayProcess } from '../helpers/gateway-process.js';
import { TestClient } from '../helpers/ws-client.js';

const SESSIONS_PER_USER = 10;
const LINES_PER_SESSION = 2500; // 20 sessions × 2500 = 50 000 lines
const NEEDLE_EVERY = 500;

describe('history search (FTS5) over 50 000 lines of two users', function () {
  this.timeout(180_000);
  let g: GatewayProcess;
  const users: { token: string; name: string; sessions: string[] }[] = [];

  before(async () => {
    g = await GatewayProcess.start({ env: { MAX_SESSIONS_PER_USER: '20' } });
    for (const name of ['alice', 'bob']) {
      const u = await registerUser(g.url);
      const c = await TestClient.authed(g.wsUrl, u.token);
      const sessions: string[] = [];
      for (let s = 0; s < SESSIONS_PER_USER; s++) {
        const session = await c.createSession({ profile: 'shell', cols: 120, rows: 30 });
        sessions.push(session.id);
        // Every NEEDLE_EVERY-th line carries the owner's needle; the rest are filler. The words
        // are split in the command so the echoed command line itself does not match.
        const script = `for i in $(seq 1 ${LINES_PER_SESSION}); do if [ $((i % ${NEEDLE_EVERY})) -eq 0 ]; then echo "nee""dle ${name} s${s} n$i"; else echo "fil""ler ${name} s${s} n$i"; fi; done; exit`;
        c.send({ type: 'terminal_input', sessionId: session.id, data: `${script}\r` });
      }
      for (const id of sessions) await c.next((m) => m.type === 'session_closed' && m.sessionId === id, 120_000);
      await c.close();
      users.push({ token: u.token, name, sessions });
    }
  });
  after(async () => {
    await g.stop();
    g.cleanup();
  });

  it("finds exactly the caller's matching lines, newest first, with highlighted snippets", async () => {
    for (const u of users) {
      const res = await api(g.url, 'GET', '/api/sessions/search?q=needle&limit=500', { token: u.token });
      expect(res.status).to.equal(200);
      const results = res.body.results as {
        sessionId: string;
        lineNumber: number;
        timestamp: string;
        snippet: string;
      }[];
      expect(results).to.have.length(SESSIONS_PER_USER * (LINES_PER_SESSION / NEEDLE_EVERY));
      for (const r of results) {
        expect(u.sessions).to.include(r.sessionId);
        expect(r.snippet).to.include('[[needle]]');
        expect(r.snippet).to.include(` ${u.name} `);
      }
      const times = results.map((r) => Date.parse(r.timestamp));
      expect(times).to.deep.equal([...times].sort((a, b) => b - a));
    }
  });

  it("supports FTS5 syntax (phrase, AND/NOT, prefix) and only the caller's rows", async () => {
    const [alice, bob] = users as [(typeof users)[0], (typeof users)[0]];
    const phrase = await api(g.url, 'GET', `/api/sessions/search?q=${encodeURIComponent('"needle alice s3"')}`, {
      token: alice.token,
    });
    expect(phrase.body.results).to.have.length(LINES_PER_SESSION / NEEDLE_EVERY);
    const cross = await api(g.url, 'GET', `/api/sessions/search?q=${encodeURIComponent('needle AND bob')}`, {
      token: alice.token,
    });
    expect(cross.body.results).to.have.length(0);
    const prefix = await api(g.url, 'GET', `/api/sessions/search?q=${encodeURIComponent('needl*')}&limit=5`, {
      token: bob.token,
    });
    expect(prefix.body.results).to.have.length(5);
    const not = await api(g.url, 'GET', `/api/sessions/search?q=${encodeURIComponent('n1000 NOT filler')}`, {
      token: bob.token,
    });
    expect(not.body.results).to.have.length(SESSIONS_PER_USER);
  });

  it("searches within one session through /history?q= and hides other users' sessions", async () => {
    const [alice, bob] = users as [(typeof users)[0], (typeof users)[0]];
    const id = alice.sessions[0] as string;
    const own = await api(g.url, 'GET', `/api/sessions/${id}/history?q=needle`, { token: alice.token });
    expect(own.status).to.equal(200);
    expect(own.body.results).to.have.length(LINES_PER_SESSION / NEEDLE_EVERY);
    expect(own.body.results.every((r: { sessionId: string }) => r.sessionId === id)).to.equal(true);
    const foreign = await api(g.url, 'GET', `/api/sessions/${id}/history?q=needle`, { token: bob.token });
    expect(foreign.status).to.equal(404);
    expect(foreign.body.error.code).to.equal('SESSION_NOT_FOUND');
  });

  it('answers bad query syntax with 400 INVALID_SEARCH_QUERY, never 500', async () => {
    for (const q of ['"unterminated', 'AND', 'needle NEAR(', '*', ')(', 'col:x']) {
      const res = await api(g.url, 'GET', `/api/sessions/search?q=${encodeURIComponent(q)}`, {
        token: users[0]?.token,
      });
      expect(res.status, q).to.be.oneOf([200, 400]);
      if (res.status === 400) expect(res.body.error.code).to.be.oneOf(['INVALID_SEARCH_QUERY', 'VALIDATION_FAILED']);
    }
    const res = await api(g.url, 'GET', `/api/sessions/search?q=${encodeURIComponent('"unterminated')}`, {
      token: users[0]?.token,
    });
    expect(res.status).to.equal(400);
    expect(res.body.error.code).to.equal('INVALID_SEARCH_QUERY');
    const empty = await api(g.url, 'GET', '/api/sessions/search', { token: users[0]?.token });
    expect(empty.status).to.equal(400);
  });
});
