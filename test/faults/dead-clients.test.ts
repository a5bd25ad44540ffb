/**
 * Fault 7 (issue 7): dead and half-open clients attached to a streaming session. Figures: each
 * is terminated by the heartbeat within HEARTBEAT_BOUND_MS (two intervals: the ping that goes
 * unanswered, and the tick that finds it so); the session keeps running for the others; the
 * gateway's memory stays flat over ROUNDS rounds of all four kinds:
 *  - a viewer process stopped with SIGSTOP (its kernel still acknowledges TCP),
 *  - a half-open connection (a proxy stops forwarding and closes nothing),
 *  - a client that keeps reading but never answers a ping,
 *  - a client whose TCP socket is destroyed without a close frame (seen at once, no heartbeat).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { registerUser } from '../helpers/api.js';
import { GatewayProcess, ROOT, waitFor } from '../helpers/gateway-process.js';
import { TestClient } from '../helpers/ws-client.js';
import { FreezableProxy } from './support/freezable-proxy.js';
import { numbersInOutput, streamCommand } from './support/numbered.js';
import { rssKb } from './support/processes.js';
import { RawWs } from './support/raw-ws.js';

const HEARTBEAT_INTERVAL_MS = 300;
/** Margin for the test's own polling and a busy 2-core machine. */
const SLACK_MS = 400;
const HEARTBEAT_BOUND_MS = 2 * HEARTBEAT_INTERVAL_MS + SLACK_MS;
const ROUNDS = 4;
/**
 * Gateway RSS may not grow more than this from the end of round 1 (warm-up) to the end: dead
 * sockets must not pile up. RSS moves by ~10 MB with GC timing alone here, hence the margin;
 * the exact proof is the gateway's own socket gauge returning to 1 after every reap.
 */
const RSS_GROWTH_BOUND_KB = 32 * 1024;
const POLL_MS = 20;
const VIEWER = path.join(ROOT, 'test/fixtures/ws-viewer.mjs');

describe('fault: dead and half-open clients (heartbeat)', function () {
  this.timeout(90_000);
  let g: GatewayProcess;
  let token = '';
  let observer: TestClient;
  let sessionId = '';
  const figures = new Map<string, number[]>();
  const rss: number[] = [];
  const children: ChildProcess[] = [];

  const attached = async (): Promise<number> =>
    (await observer.request({ type: 'get_session_info', sessionId }, 'session_info')).session.attachedClients;
  /** Open sockets the gateway counts (its own gauge), to see the dead socket really closed. */
  const wsConnections = async (): Promise<number> =>
    Number(/^ccm_ws_connections (\d+)/m.exec(await (await fetch(`${g.url}/metrics`)).text())?.[1] ?? -1);
  const lines = () => numbersInOutput(observer.outputOf(sessionId), 'H').length;

  /** Waits until `n` viewers are attached; then `kill()` makes one dead; returns ms until reaped. */
  async function reap(kind: string, kill: () => void): Promise<void> {
    await waitFor(`${kind}: attached`, async () => (await attached()) === 2, 10_000, POLL_MS);
    const t0 = Date.now();
    kill();
    await waitFor(`${kind}: terminated by the server`, async () => (await attached()) === 1, 10_000, POLL_MS);
    const ms = Date.now() - t0;
    figures.set(kind, [...(figures.get(kind) ?? []), ms]);
    await waitFor(`${kind}: socket closed`, async () => (await wsConnections()) === 1, 5000, POLL_MS);
    // The session keeps streaming to the live viewer.
    const before = lines();
    await waitFor(`${kind}: session keeps running`, () => lines() > before + 10, 5000, POLL_MS);
  }

  before(async () => {
    g = await GatewayProcess.start({
      env: { WORKER_COUNT: '1', WS_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_INTERVAL_MS) },
    });
    token = (await registerUser(g.url)).token;
    observer = await TestClient.authed(g.wsUrl, token);
    const s = await observer.createSession({ profile: 'shell' });
    sessionId = s.id;
    observer.send({ type: 'terminal_input', sessionId, data: streamCommand('H', 1_000_000, 1) });
    await observer.waitForOutput(sessionId, /^H10\r$/m);
  });

  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    console.log(
      `      reaped after (ms): ${[...figures].map(([k, v]) => `${k} ${v.join('/')}`).join('; ')}; gateway RSS KB ${rss.join(' → ')}`,
    );
    await observer.request({ type: 'close_session', sessionId }, 'session_closed', 20_000).catch(() => undefined);
    await observer.close();
    await g.stop();
    g.cleanup();
  });

  for (let round = 1; round <= ROUNDS; round++) {
    describe(`round ${round}`, () => {
      it(`a SIGSTOP'd viewer process is terminated within ${HEARTBEAT_BOUND_MS} ms`, async () => {
        const child = spawn(process.execPath, [VIEWER, g.wsUrl, token, sessionId], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        children.push(child);
        let out = '';
        child.stdout?.on('data', (d) => (out += String(d)));
        await waitFor('viewer attached', () => out.includes('ATTACHED session_buffer'), 10_000);
        await reap('sigstop', () => child.kill('SIGSTOP'));
        child.kill('SIGKILL');
        expect(Math.max(...(figures.get('sigstop') ?? []))).to.be.at.most(HEARTBEAT_BOUND_MS);
      });

      it(`a half-open connection (nothing forwarded, nothing closed) is terminated within ${HEARTBEAT_BOUND_MS} ms`, async () => {
        const proxy = await FreezableProxy.start(g.port);
        try {
          const c = await TestClient.authed(`ws://127.0.0.1:${proxy.port}/ws`, token);
          await c.request({ type: 'attach_session', sessionId }, 'session_buffer');
          await reap('half-open', () => proxy.freeze());
          expect(Math.max(...(figures.get('half-open') ?? []))).to.be.at.most(HEARTBEAT_BOUND_MS);
        } finally {
          await proxy.close();
        }
      });

      it(`a client that reads but never answers pings is terminated within ${HEARTBEAT_BOUND_MS} ms`, async () => {
        const raw = await RawWs.open(g.port);
        raw.send({ type: 'authenticate', token, requestId: 'a' });
        await raw.next((m) => m.requestId === 'a');
        raw.send({ type: 'attach_session', sessionId, requestId: 'b' });
        await raw.next((m) => m.requestId === 'b');
        await reap('no-pong', () => (raw.answerPings = false));
        expect(await raw.closedWith(2000)).to.equal(1006); // terminated: no close frame
        expect(raw.pingsReceived).to.be.greaterThan(0);
        expect(Math.max(...(figures.get('no-pong') ?? []))).to.be.at.most(HEARTBEAT_BOUND_MS);
      });

      it('a client destroyed without a close frame is detached at once', async () => {
        const raw = await RawWs.open(g.port);
        raw.send({ type: 'authenticate', token, requestId: 'a' });
        await raw.next((m) => m.requestId === 'a');
        raw.send({ type: 'attach_session', sessionId, requestId: 'b' });
        await raw.next((m) => m.requestId === 'b');
        await reap('destroyed', () => raw.destroy());
        expect(Math.max(...(figures.get('destroyed') ?? []))).to.be.at.most(HEARTBEAT_BOUND_MS);
        rss.push(rssKb(g.pid));
      });
    });
  }

  describe('after all rounds', () => {
    it(`the session is still running and gateway RSS grew less than ${RSS_GROWTH_BOUND_KB / 1024} MB`, async () => {
      const info = await observer.request({ type: 'get_session_info', sessionId }, 'session_info');
      expect(info.session.status).to.equal('running');
      expect(info.session.attachedClients).to.equal(1);
      expect(
        (rss.at(-1) as number) - (rss[0] as number),
        `RSS KB at the end of each round ${rss.join(', ')}`,
      ).to.be.lessThan(RSS_GROWTH_BOUND_KB);
    });
  });
});
