/**
 * Fault 6 (issue 7): PTY children that resist being closed. Figure: close_session leaves 0
 * processes within CLOSE_BOUND_MS, for a child that ignores HUP and TERM, one that forked 200
 * children (all ignoring HUP and TERM), one that closed its output and keeps running; and,
 * beyond the issue's list, children that left the PTY's session with setsid().
 * (nohup, a HUP trap and background jobs of a shell: test/integration/processes.test.ts.)
 */
import path from 'node:path';
import { expect } from 'chai';
import { registerUser } from '../helpers/api.js';
import { descendants, GatewayProcess, ROOT, waitFor } from '../helpers/gateway-process.js';
import { TestClient } from '../helpers/ws-client.js';
import { aliveOf, cmdline, killSurvivors, sessionMembers } from './support/processes.js';

/** Issue 7: everything of a closed session is gone within this bound. */
const CLOSE_BOUND_MS = 5000;
const FORKED_CHILDREN = 200;
const HOSTILE = path.join(ROOT, 'test/fixtures/hostile');

describe('fault: hostile PTY children vs close_session', function () {
  this.timeout(60_000);
  let g: GatewayProcess;
  let c: TestClient;
  const everything = new Set<number>();
  const timings: string[] = [];
  const replies: string[] = [];

  before(async () => {
    g = await GatewayProcess.start({ env: { WORKER_COUNT: '1' } });
    c = await TestClient.authed(g.wsUrl, (await registerUser(g.url)).token);
  });
  after(async () => {
    console.log(`      close → 0 processes: ${timings.join('; ')}\n      replies: ${replies.join('; ')}`);
    await c.close();
    killSurvivors(everything);
    await g.stop();
    g.cleanup();
  });

  /** Starts `command` as the session's program, waits for READY, closes, and times the end. */
  async function closeAndTime(
    label: string,
    command: string,
    minProcesses: number,
    extra: () => number[] = () => [],
  ): Promise<void> {
    const s = await c.createSession({ profile: 'shell' });
    c.send({ type: 'terminal_input', sessionId: s.id, data: `exec ${command}\r` });
    const out = await c.waitForOutput(s.id, /READY[^\r]*\r\n/, 15_000);
    const members = new Set<number>();
    await waitFor(
      `${label}: ${minProcesses} processes`,
      () => {
        for (const p of [...sessionMembers(s.pid), ...descendants(s.pid), ...extra()]) members.add(p);
        return members.size >= minProcesses;
      },
      10_000,
    );
    const escaped = Number(/READY (\d+)/.exec(out)?.[1] ?? 0);
    if (escaped) members.add(escaped);
    for (const p of members) everything.add(p);
    const t0 = Date.now();
    // A session whose program already ended answers SESSION_NOT_RUNNING; the figure is the same.
    const reply = await c.request({ type: 'close_session', sessionId: s.id }, undefined, 20_000);
    replies.push(`${label}: ${reply.type}${reply.code ? ` ${reply.code}` : ''}`);
    const gone = await waitFor(
      `${label}: all gone`,
      () => aliveOf(members).length === 0,
      CLOSE_BOUND_MS - (Date.now() - t0),
    ).then(
      () => true,
      () => false,
    );
    const ms = Date.now() - t0;
    const left = aliveOf(members).map((p) => `${p} ${cmdline(p).replaceAll('\0', ' ').trim()}`);
    killSurvivors(members);
    timings.push(`${label} ${members.size} processes, ${gone ? `${ms} ms` : `${left.length} left after ${ms} ms`}`);
    expect(left, `${label}: processes alive ${CLOSE_BOUND_MS} ms after close_session`).to.deep.equal([]);
  }

  it('a child that ignores SIGHUP and SIGTERM', async () => {
    await closeAndTime('ignore HUP+TERM', path.join(HOSTILE, 'ignore-hup-term'), 1);
  });

  it(`a child that forked ${FORKED_CHILDREN} children (each ignoring HUP and TERM)`, async () => {
    await closeAndTime('fork 200', `${path.join(HOSTILE, 'fork-children')} ${FORKED_CHILDREN}`, FORKED_CHILDREN + 1);
  });

  it('a child that closed stdin/stdout/stderr and keeps running', async () => {
    await closeAndTime('closed output', path.join(HOSTILE, 'close-output'), 1);
  });

  it('a child that left the session with setsid() (its parent still alive)', async () => {
    await closeAndTime('setsid child', `${path.join(HOSTILE, 'setsid-child')} child`, 2);
  });

  // Known limitation (README "Reliability and security"): a process that leaves the session with
  // setsid() and is re-parented to init before close_session runs is no longer linked to the
  // session by anything /proc shows; only a cgroup per session (or a subreaper) could find it.
  it.skip('a daemon (fork, setsid, fork, middle exits: re-parented to init)', async () => {
    await closeAndTime('daemon', `${path.join(HOSTILE, 'setsid-child')} daemon`, 1);
  });
});
