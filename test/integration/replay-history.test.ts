import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { api, registerUser } from '../helpers/api.js';
import { GatewayProcess, waitFor } from '../helpers/gateway-process.js';
import { dump, newTerminal, write } from '../helpers/terminal.js';
import { TestClient } from '../helpers/ws-client.js';

const COLS = 120;
const ROWS = 30;
const SCROLLBACK = 1000; // MAX_BUFFER_SIZE default

describe('replay on reattach and history (real gateway)', function () {
  this.timeout(120_000);
  let g: GatewayProcess;
  let user: { token: string };

  before(async () => {
    g = await GatewayProcess.start();
    user = await registerUser(g.url);
    fs.writeFileSync(
      path.join(g.dir, 'gen.sh'),
      [
        'for i in $(seq 1 3000); do printf "\\033[3%dmline %d\\033[0m\\n" $((i % 8)) $i; done',
        'for p in 0 25 50 75 100; do printf "\\rprogress %d%%" $p; sleep 0.01; done; printf "\\n"',
        'echo GEN-DONE',
      ].join('\n'),
    );
  });
  after(async () => {
    await g.stop();
    g.cleanup();
  });

  it('rebuilds exactly the screen a continuous viewer has, continues at the next seq, and history is what a viewer saw', async () => {
    const watcher = await TestClient.authed(g.wsUrl, user.token);
    const session = await watcher.createSession({ profile: 'shell', cols: COLS, rows: ROWS });
    const id = session.id as string;
    watcher.send({ type: 'terminal_input', sessionId: id, data: 'PS1="$ "\r' });
    await watcher.waitForOutput(id, '$ ');

    // A second viewer attaches, then drops while the session prints.
    const leaver = await TestClient.authed(g.wsUrl, user.token);
    await leaver.request({ type: 'attach_session', sessionId: id }, 'session_buffer');
    await leaver.close();
    watcher.send({ type: 'terminal_input', sessionId: id, data: 'sh gen.sh\r' });
    await watcher.waitForOutput(id, /GEN-DONE\r\n[\s\S]*\$ $/, 30_000);
    await new Promise((r) => setTimeout(r, 200));

    const back = await TestClient.authed(g.wsUrl, user.token);
    const buffer = await back.request({ type: 'attach_session', sessionId: id }, 'session_buffer');
    expect(buffer.mode).to.equal('snapshot');
    expect(buffer.seq).to.equal(watcher.output.get(id)?.seq);

    const continuous = newTerminal(COLS, ROWS, SCROLLBACK);
    await write(continuous, watcher.outputOf(id));
    const rebuilt = newTerminal(buffer.cols, buffer.rows, SCROLLBACK);
    await write(rebuilt, buffer.data);
    const a = dump(continuous);
    const b = dump(rebuilt);
    expect(b.rows.length).to.be.greaterThan(ROWS);
    expect(b.rows).to.deep.equal(a.rows);
    expect(b.cursor).to.deep.equal(a.cursor);

    // Live output continues at exactly the snapshot's seq.
    const from = back.messages.length;
    back.send({ type: 'terminal_input', sessionId: id, data: 'echo AFTER\r' });
    const first = await back.next((m) => m.type === 'terminal_output' && m.sessionId === id, 5000, from);
    expect(first.seq - first.data.length).to.equal(buffer.seq);

    // Resume by seq from the watcher's position: only the missing part comes back.
    await back.waitForOutput(id, /AFTER\r\n/);
    const resumer = await TestClient.authed(g.wsUrl, user.token);
    const delta = await resumer.request({ type: 'attach_session', sessionId: id, since: buffer.seq }, 'session_buffer');
    expect(delta.mode).to.equal('delta');
    expect(delta.since).to.equal(buffer.seq);
    expect(delta.data).to.equal(back.outputOf(id));

    const closed = await watcher.request({ type: 'close_session', sessionId: id }, 'session_closed');
    expect(closed.reason).to.equal('closed');
    await Promise.all([watcher.close(), back.close(), resumer.close()]);

    // History: every line once, numbered 1..n, the progress bar once in its final state.
    const lines: { lineNumber: number; text: string }[] = [];
    let after = 0;
    for (;;) {
      const page = await api(g.url, 'GET', `/api/sessions/${id}/history?after=${after}&limit=5000`, {
        token: user.token,
      });
      expect(page.status).to.equal(200);
      lines.push(...page.body.lines);
      if (page.body.nextAfter === null) break;
      after = page.body.nextAfter;
    }
    expect(lines.map((l) => l.lineNumber)).to.deep.equal(lines.map((_, i) => i + 1));
    const texts = lines.map((l) => l.text);
    const firstLine = texts.indexOf('line 1');
    expect(firstLine).to.be.greaterThan(-1);
    for (let i = 1; i <= 3000; i++) expect(texts[firstLine + i - 1]).to.equal(`line ${i}`);
    expect(texts.filter((t) => t.includes('progress'))).to.deep.equal(['progress 100%']);
    expect(texts).to.include('GEN-DONE');
    expect(texts).to.include('AFTER');
  });

  it('a quiet session answers re-attaches with the same snapshot; output or a resize makes a new one', async () => {
    const owner = await TestClient.authed(g.wsUrl, user.token);
    const session = await owner.createSession({ profile: 'shell', cols: 80, rows: 24 });
    const id = session.id as string;
    owner.send({ type: 'terminal_input', sessionId: id, data: 'PS1="$ "; seq 1 50\r' });
    await owner.waitForOutput(id, /50\r\n(\x1b\[\?2004h)?\$ $/);
    await new Promise((r) => setTimeout(r, 200));
    const viewer = await TestClient.authed(g.wsUrl, user.token);
    const attach = async () => {
      const b = await viewer.request({ type: 'attach_session', sessionId: id }, 'session_buffer');
      await viewer.request({ type: 'detach_session', sessionId: id }, 'session_detached');
      return b;
    };
    const first = await attach();
    const again = await attach();
    expect(again.seq).to.equal(first.seq);
    expect(again.data).to.equal(first.data);

    owner.send({ type: 'terminal_input', sessionId: id, data: 'echo MARK-1\r' });
    await owner.waitForOutput(id, /MARK-1\r\n(\x1b\[\?2004h)?\$ $/);
    const afterOutput = await attach();
    expect(afterOutput.seq).to.equal(owner.output.get(id)?.seq);
    const rebuilt = newTerminal(afterOutput.cols, afterOutput.rows, SCROLLBACK);
    await write(rebuilt, afterOutput.data);
    expect(dump(rebuilt).rows.join('\n')).to.include('MARK-1');

    // A resize with no output (the shell redraws nothing at a bare prompt) still changes the screen.
    owner.send({ type: 'resize_terminal', sessionId: id, cols: 100, rows: 30 });
    await waitFor('resized snapshot', async () => (await attach()).cols === 100, 5000);
    const resized = await attach();
    expect([resized.cols, resized.rows]).to.deep.equal([100, 30]);
    await owner.request({ type: 'close_session', sessionId: id }, 'session_closed');
    await Promise.all([owner.close(), viewer.close()]);
  });

  it('/recent returns the last lines including the live screen', async () => {
    const c = await TestClient.authed(g.wsUrl, user.token);
    const s = await c.createSession({ profile: 'shell', cols: 80, rows: 24 });
    c.send({ type: 'terminal_input', sessionId: s.id, data: 'for i in $(seq 1 50); do echo "r$i"; done\r' });
    await c.waitForOutput(s.id, /r50\r\n/);
    await new Promise((r) => setTimeout(r, 300));
    const recent = await api(g.url, 'GET', `/api/sessions/${s.id}/recent?lines=30`, { token: user.token });
    expect(recent.status).to.equal(200);
    const texts = recent.body.lines.map((l: { text: string }) => l.text);
    expect(texts).to.include('r50');
    expect(texts).to.include('r30');
    const numbers = recent.body.lines.map((l: { lineNumber: number }) => l.lineNumber);
    expect(numbers).to.deep.equal([...numbers].sort((x: number, y: number) => x - y));
    const bad = await api(g.url, 'GET', `/api/sessions/${s.id}/recent?lines=1001`, { token: user.token });
    expect(bad.status).to.equal(400);
    await c.request({ type: 'close_session', sessionId: s.id }, 'session_closed');
    await c.close();
  });

  it('keeps the tail of output printed just before exit (node-pty #72), 20 sessions in a row', async () => {
    const c = await TestClient.authed(g.wsUrl, user.token);
    for (let i = 0; i < 20; i++) {
      const s = await c.createSession({ profile: 'shell', cols: 80, rows: 24 });
      c.send({ type: 'terminal_input', sessionId: s.id, data: 'seq 1 200000; exit\r' });
      const closed = await c.next((m) => m.type === 'session_closed' && m.sessionId === s.id, 60_000);
      expect(closed.reason).to.equal('exited');
      expect(c.outputOf(s.id), `session ${i} screen`).to.match(/\b200000\r\n/);
      const recent = await api(g.url, 'GET', `/api/sessions/${s.id}/recent?lines=5`, { token: user.token });
      const texts = recent.body.lines.map((l: { text: string }) => l.text);
      expect(texts, `session ${i} history`).to.include('200000');
    }
    await c.close();
  });

  it('lists active sessions and hides ended ones from /active', async () => {
    const c = await TestClient.authed(g.wsUrl, user.token);
    const s = await c.createSession({ profile: 'shell' });
    const active = await api(g.url, 'GET', '/api/sessions/active', { token: user.token });
    expect(active.body.sessions.map((x: { id: string }) => x.id)).to.include(s.id);
    await c.request({ type: 'close_session', sessionId: s.id }, 'session_closed');
    await waitFor('session gone from /active', async () => {
      const r = await api(g.url, 'GET', '/api/sessions/active', { token: user.token });
      return !r.body.sessions.some((x: { id: string }) => x.id === s.id);
    });
    await c.close();
  });
});
