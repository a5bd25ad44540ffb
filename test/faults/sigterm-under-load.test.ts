/**
 * Fault 4 (issue 7): SIGTERM while SESSIONS sessions stream numbered lines to their clients.
 * Figures: every line a client received before the signal is in terminal_lines (read from the
 * SQLite file after the gateway exited); the gateway exits 0 within SHUTDOWN_TIMEOUT_MS; every
 * socket (authenticated or not) is closed with 1001; no process is left behind.
 */
import { expect } from 'chai';
import { CLOSE_GOING_AWAY } from '../../common/protocol.js';
import { registerUser } from '../helpers/api.js';
import { GatewayProcess } from '../helpers/gateway-process.js';
import { TestClient } from '../helpers/ws-client.js';
import { integrityCheck, openDb, storedLines } from './support/db.js';
import { numbersInOutput, numbersInTexts, streamCommand } from './support/numbered.js';

const SESSIONS = 20;
const CLIENTS = 4;
const SHUTDOWN_TIMEOUT_MS = 10_000;
const STREAM_INTERVAL_MS = 1;
const STREAM_MAX_LINES = 100_000;
/** Lines every session must have delivered before the signal (so the load is real). */
const LINES_BEFORE_SIGNAL = 300;

describe('fault: SIGTERM under load (20 streaming sessions)', function () {
  this.timeout(120_000);
  let g: GatewayProcess;
  const clients: TestClient[] = [];
  const owner = new Map<string, TestClient>();
  const receivedBeforeSignal = new Map<string, number[]>();
  let elapsedMs = 0;
  let idle: TestClient;
  let unauthenticated: TestClient;
  const missing: string[] = [];
  let receivedTotal = 0;
  let afterSignalTotal = 0;
  let statuses: string[] = [];
  let integrity = '';

  before(async () => {
    g = await GatewayProcess.start({
      env: { WORKER_COUNT: '2', SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS), WS_AUTH_TIMEOUT_MS: '60000' },
    });
    const u = await registerUser(g.url);
    for (let c = 0; c < CLIENTS; c++) clients.push(await TestClient.authed(g.wsUrl, u.token));
    idle = await TestClient.authed(g.wsUrl, u.token);
    unauthenticated = await TestClient.connect(g.wsUrl);
    for (let i = 0; i < SESSIONS; i++) {
      const c = clients[i % CLIENTS] as TestClient;
      const s = await c.createSession({ profile: 'shell' });
      owner.set(s.id, c);
      c.send({
        type: 'terminal_input',
        sessionId: s.id,
        data: streamCommand('L', STREAM_MAX_LINES, STREAM_INTERVAL_MS),
      });
    }
    for (const [id, c] of owner) await c.waitForOutput(id, new RegExp(`^L${LINES_BEFORE_SIGNAL}\\r$`, 'm'), 20_000);

    for (const [id, c] of owner) receivedBeforeSignal.set(id, numbersInOutput(c.outputOf(id), 'L'));
    g.snapshotPids();
    const t0 = Date.now();
    g.child.kill('SIGTERM');
    await g.exited;
    elapsedMs = Date.now() - t0;
    await Promise.all([...clients, idle, unauthenticated].map((c) => c.closed));

    const db = openDb(g.env.DB_PATH as string);
    try {
      for (const [id, before] of receivedBeforeSignal) {
        const stored = new Set(
          numbersInTexts(
            storedLines(db, id).map((r) => r.text),
            'L',
          ),
        );
        const lost = before.filter((n) => !stored.has(n));
        if (lost.length > 0) missing.push(`${id}: ${lost.length} of ${before.length} lines missing (first ${lost[0]})`);
        receivedTotal += before.length;
        afterSignalTotal += numbersInOutput((owner.get(id) as TestClient).outputOf(id), 'L').length - before.length;
      }
      statuses = (
        db.prepare('SELECT status, close_reason FROM sessions').all() as { status: string; close_reason: string }[]
      ).map((r) => `${r.status}/${r.close_reason}`);
    } finally {
      db.close();
    }
    integrity = integrityCheck(g.env.DB_PATH as string);
  });

  after(() => {
    console.log(
      `      exit ${g?.exitCode} after ${elapsedMs} ms; lines received before the signal ${receivedTotal}, after ${afterSignalTotal}; ` +
        `missing ${missing.length}`,
    );
    g?.cleanup();
  });

  it('every line a client received before the signal is in terminal_lines', () => {
    expect(receivedTotal).to.be.greaterThan(SESSIONS * LINES_BEFORE_SIGNAL - 1);
    expect(missing).to.deep.equal([]);
    expect(integrity).to.equal('ok');
  });

  it(`exits 0 within SHUTDOWN_TIMEOUT_MS (${SHUTDOWN_TIMEOUT_MS} ms)`, () => {
    expect(g.exitCode).to.equal(0);
    expect(elapsedMs).to.be.lessThan(SHUTDOWN_TIMEOUT_MS);
  });

  it('closes every socket, authenticated or not, with 1001', () => {
    expect([...clients, idle, unauthenticated].map((c) => c.closeCode)).to.deep.equal(
      Array.from({ length: CLIENTS + 2 }, () => CLOSE_GOING_AWAY),
    );
  });

  it('records every session as closed by the shutdown and leaves no process behind', async () => {
    expect(statuses).to.deep.equal(Array.from({ length: SESSIONS }, () => 'closed/shutdown'));
    await g.assertNoSurvivors();
  });
});
