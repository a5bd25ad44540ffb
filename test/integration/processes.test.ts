import fs from 'node:fs';
import { expect } from 'chai';
import { registerUser } from '../helpers/api.js';
import {
  descendants,
  GatewayProcess,
  isAlive,
  sessionMembers,
  waitFor,
  workerPids,
} from '../helpers/gateway-process.js';
import { TestClient } from '../helpers/ws-client.js';

/** Nice value of one thread (field 19 of /proc/<pid>/task/<tid>/stat). */
function niceOf(pid: number, tid: number = pid): number {
  const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

function rssKb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

describe('process lifecycle (real gateway, workers, PTYs)', function () {
  this.timeout(120_000);

  it('close_session kills nohup, HUP-trapping and background children', async () => {
    const g = await GatewayProcess.start();
    try {
      const u = await registerUser(g.url);
      const c = await TestClient.authed(g.wsUrl, u.token);
      const s = await c.createSession({ profile: 'shell' });
      c.send({
        type: 'terminal_input',
        sessionId: s.id,
        data: 'nohup sleep 1000 >/dev/null 2>&1 &\rbash -c "trap \'\' HUP TERM; sleep 1000" &\r(sleep 1000 &) ; sleep 1000 &\recho STARTED\r',
      });
      await c.waitForOutput(s.id, /STARTED\r\n/);
      await waitFor('children running', () => sessionMembers(s.pid).length >= 5);
      const before = sessionMembers(s.pid);
      await c.request({ type: 'close_session', sessionId: s.id }, 'session_closed', 15_000);
      await waitFor('0 survivors', () => before.every((p) => !isAlive(p)), 5000);
      await c.close();
    } finally {
      await g.stop();
      g.cleanup();
    }
  });

  it('kill -9 of one worker: the other worker streams on, owners get crashed, a new worker serves', async () => {
    const g = await GatewayProcess.start({ env: { WORKER_COUNT: '2' } });
    try {
      const u = await registerUser(g.url);
      const c = await TestClient.authed(g.wsUrl, u.token);
      const a = await c.createSession({ profile: 'shell' });
      const b = await c.createSession({ profile: 'shell' });
      const workers = workerPids(g.pid);
      expect(workers).to.have.length(2);
      const workerOf = (pid: number) => workers.find((w) => descendants(w).includes(pid));
      const wa = workerOf(a.pid);
      const wb = workerOf(b.pid);
      expect(wa).to.not.equal(wb); // least-loaded placement spreads them
      c.send({
        type: 'terminal_input',
        sessionId: b.id,
        data: 'for i in $(seq 1 400); do echo "n$i"; sleep 0.005; done; echo B-$((1+1))DONE\r',
      });
      await c.waitForOutput(b.id, /n20\r\n/);
      process.kill(wa as number, 'SIGKILL');
      const crashed = await c.next((m) => m.type === 'session_closed' && m.sessionId === a.id, 5000);
      expect(crashed.reason).to.equal('crashed');
      const out = await c.waitForOutput(b.id, /B-2DONE\r\n/, 20_000);
      const numbers = [...out.matchAll(/^n(\d+)\r$/gm)].map((m) => Number(m[1]));
      expect(numbers).to.deep.equal(Array.from({ length: 400 }, (_, i) => i + 1));
      await waitFor(
        'replacement worker',
        async () => {
          const h = await fetch(`${g.url}/health`).then((r) => r.json());
          return h.workers.ready === 2;
        },
        5000,
      );
      await waitFor('killed worker PTY gone', () => !isAlive(a.pid), 3000);
      const fresh = await c.createSession({ profile: 'shell' });
      c.send({ type: 'terminal_input', sessionId: fresh.id, data: 'echo FRESH\r' });
      await c.waitForOutput(fresh.id, /FRESH\r\n/);
      await c.close();
    } finally {
      await g.stop();
      g.cleanup();
    }
  });

  it('kill -9 of the gateway: within 2 s no worker and no PTY child (nohup sleep included) is left', async () => {
    const g = await GatewayProcess.start();
    try {
      const u = await registerUser(g.url);
      const c = await TestClient.authed(g.wsUrl, u.token);
      const s = await c.createSession({ profile: 'shell' });
      c.send({ type: 'terminal_input', sessionId: s.id, data: 'nohup sleep 1000 >/dev/null 2>&1 &\recho BG\r' });
      await c.waitForOutput(s.id, /BG\r\n/);
      await waitFor('nohup child', () => sessionMembers(s.pid).length >= 2);
      const tree = [...g.snapshotPids(), ...sessionMembers(s.pid)];
      await g.kill9();
      await waitFor('all gone', () => tree.every((p) => !isAlive(p)), 2000);
      // On restart the stale session is terminated.
      const g2 = await GatewayProcess.start({ dir: g.dir });
      try {
        const list = await TestClient.authed(g2.wsUrl, u.token);
        const reply = await list.request({ type: 'get_session_info', sessionId: s.id }, 'session_info');
        expect(reply.session.status).to.equal('terminated');
        await list.close();
      } finally {
        await g2.stop();
      }
    } finally {
      g.cleanup();
    }
  });

  it('a client that never reads while `yes` runs: memory stays bounded and another session still echoes', async () => {
    const g = await GatewayProcess.start({ env: { WORKER_COUNT: '1' } });
    try {
      const u = await registerUser(g.url);
      const stuck = await TestClient.authed(g.wsUrl, u.token);
      const s = await stuck.createSession({ profile: 'shell' });
      stuck.send({ type: 'terminal_input', sessionId: s.id, data: 'yes\r' });
      await new Promise((r) => setTimeout(r, 300));
      // Stop reading: the kernel buffers fill, then the gateway must stop granting credit.
      (stuck.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const worker = workerPids(g.pid)[0] as number;
      const samples: number[] = [];
      const other = await TestClient.authed(g.wsUrl, u.token);
      const s2 = await other.createSession({ profile: 'shell' });
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 500));
        samples.push(rssKb(g.pid) + rssKb(worker));
        other.send({ type: 'terminal_input', sessionId: s2.id, data: `echo PING${i}\r` });
        await other.waitForOutput(s2.id, new RegExp(`PING${i}\\r\\n`), 5000);
      }
      // Flow control engaged: the PTY of `yes` was paused rather than its output buffered.
      const metrics = await fetch(`${g.url}/metrics`).then((r) => r.text());
      expect(Number(/^ccm_pty_flow_pauses_total (\d+)/m.exec(metrics)?.[1])).to.be.greaterThan(0);
      // Memory plateaus once the credit window and socket buffers are full (GC noise aside)...
      const late = samples.slice(5);
      const spread = Math.max(...late) - Math.min(...late);
      expect(spread, `RSS samples (KB): ${samples.join(', ')}`).to.be.lessThan(64 * 1024);
      // ...far below what `yes` would have written in 5 s without it (~40 MB/s here).
      const growth = Math.max(...samples) - (samples[0] as number);
      expect(growth, `RSS samples (KB): ${samples.join(', ')}`).to.be.lessThan(192 * 1024);
      await other.request({ type: 'close_session', sessionId: s2.id }, 'session_closed');
      await other.request({ type: 'close_session', sessionId: s.id }, 'session_closed', 20_000);
      await other.close();
      stuck.ws.terminate();
    } finally {
      await g.stop();
      g.cleanup();
    }
  });

  it("emulator and history threads run below the worker's event loop; PTY programs at normal priority", async () => {
    const g = await GatewayProcess.start({ env: { WORKER_COUNT: '1' } });
    try {
      const u = await registerUser(g.url);
      const c = await TestClient.authed(g.wsUrl, u.token);
      const s = await c.createSession({ profile: 'shell' });
      const [worker] = workerPids(g.pid);
      if (worker === undefined) throw new Error('no worker');
      const lowered = () =>
        fs
          .readdirSync(`/proc/${worker}/task`)
          .map(Number)
          .filter((tid) => niceOf(worker, tid) === 10);
      // The emulator and history writer threads, once loaded (V8's helper threads stay at 0).
      await waitFor('both threads lowered', () => lowered().length >= 2, 5000);
      expect(lowered().length).to.equal(2);
      expect(niceOf(worker)).to.equal(0);
      expect(niceOf(g.pid)).to.equal(0);
      expect(niceOf(s.pid)).to.equal(0);
      await c.close();
    } finally {
      await g.stop();
    }
  });
});
