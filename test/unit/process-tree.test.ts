import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { IPty } from 'node-pty';
import * as pty from 'node-pty';
import type { ProcStat } from '../../common/process-tree.js';
import { killProcessTree, listSessionProcesses, parseProcStat } from '../../common/process-tree.js';

/** Upper bound for a spawned script to reach its "ready" point (generous: CI machines are slow). */
const READY_TIMEOUT_MS = 10_000;
/** How often the tests poll for a condition. */
const POLL_MS = 20;

async function waitFor(what: string, check: () => boolean, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The identity of a process (pid + start time), so a reused pid is not mistaken for a survivor. */
function identify(pid: number): string | null {
  const stat = readStat(pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return null;
  return `${pid}:${stat.startTime}`;
}

function readStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** Live members of a session, found by scanning all of /proc (independently of the module). */
function processesInSession(sid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readStat(Number(name)))
    .filter((stat): stat is ProcStat => stat !== null && stat.session === sid && stat.state !== 'Z')
    .map((stat) => stat.pid);
}

function stillAlive(identities: string[]): string[] {
  return identities.filter((id) => identify(Number(id.split(':')[0])) === id);
}

interface Session {
  term: IPty;
  output: () => string;
  exited: Promise<void>;
}

function spawnPty(file: string, args: string[]): Session {
  const term = pty.spawn(file, args, {
    cols: 100,
    rows: 30,
    cwd: os.tmpdir(),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'xterm-256color' },
  });
  let out = '';
  term.onData((d) => {
    out += d;
  });
  const exited = new Promise<void>((resolve) => term.onExit(() => resolve()));
  return { term, output: () => out, exited };
}

const live: Session[] = [];

function start(script: string): Session {
  const session = spawnPty('/bin/bash', ['-c', script]);
  live.push(session);
  return session;
}

/** Kills the tree and checks every process seen beforehand is really gone. */
async function killAndVerify(session: Session, expectedAtLeast: number): Promise<void> {
  const pid = session.term.pid;
  let before: string[] = [];
  await waitFor(`${expectedAtLeast} processes`, () => {
    before = listSessionProcesses(pid)
      .map(identify)
      .filter((id): id is string => id !== null);
    return before.length >= expectedAtLeast;
  });
  const { survivors } = await killProcessTree(pid);
  expect(survivors).to.deep.equal([]);
  expect(stillAlive(before)).to.deep.equal([]);
  expect(listSessionProcesses(pid)).to.deep.equal([]);
  await session.exited;
}

describe('process-tree', () => {
  afterEach(async () => {
    // Whatever a failed test left behind is killed here, so no process outlives the suite.
    for (const session of live.splice(0)) {
      await killProcessTree(session.term.pid, { hupWaitMs: 0, termWaitMs: 0 });
      await session.exited;
    }
  });

  describe('parseProcStat', () => {
    it('splits after the last parenthesis when the command name has spaces and parentheses', () => {
      const text = '4242 (a) b (c) S 17 4242 4242 34816 4242 4194560 0 0 0 0 0 0 0 0 20 0 1 0 987654 0 0';
      expect(parseProcStat(text)).to.deep.equal({
        pid: 4242,
        state: 'S',
        ppid: 17,
        pgrp: 4242,
        session: 4242,
        startTime: 987654,
      });
    });

    it('rejects malformed text', () => {
      expect(parseProcStat('garbage')).to.equal(null);
      expect(parseProcStat('12 (x) S')).to.equal(null);
    });

    it('parses every live entry of /proc', () => {
      const self = parseProcStat(fs.readFileSync('/proc/self/stat', 'utf8'));
      expect(self?.pid).to.equal(process.pid);
      expect(self?.ppid).to.equal(process.ppid);
    });
  });

  it('lists the leader and refuses to treat protected pids as roots', () => {
    const session = start('echo ready; sleep 1000');
    expect(listSessionProcesses(session.term.pid)).to.include(session.term.pid);
    expect(() => listSessionProcesses(process.pid)).to.throw(RangeError);
    expect(() => listSessionProcesses(1)).to.throw(RangeError);
  });

  it('kills a nohup job', async () => {
    const session = start('nohup sleep 1000 >/dev/null 2>&1 & echo ready; wait');
    await killAndVerify(session, 2);
  });

  it('kills a job that ignores HUP and TERM', async () => {
    const session = start(`bash -c "trap '' HUP TERM; sleep 1000; :" & trap '' HUP TERM; echo ready; wait`);
    await killAndVerify(session, 3);
  });

  it('kills a background job of an interactive shell', async () => {
    const session = spawnPty('/bin/bash', ['--norc', '--noprofile', '-i']);
    live.push(session);
    session.term.write('sleep 1000 &\r');
    session.term.write('sleep 1001 &\r');
    await killAndVerify(session, 3);
  });

  it('kills a program that forked 200 children', async () => {
    const session = start('for i in $(seq 200); do sleep 1000 & done; echo ready; wait');
    await killAndVerify(session, 201);
  });

  it('kills a loop that keeps forking while it is being killed', async () => {
    const session = start(`trap '' HUP TERM; while :; do bash -c "trap '' HUP TERM; sleep 1000; :" & sleep 0.01; done`);
    await killAndVerify(session, 20);
  });

  it('kills a process that closed stdin, stdout and stderr', async () => {
    const session = start('(exec <&- >&- 2>&-; while :; do sleep 1; done) & echo ready; wait');
    await killAndVerify(session, 2);
  });

  it('kills a child that started its own session and keeps forking after its parent died', async () => {
    // The new session ignores HUP and TERM, so it outlives its parent and is re-parented away
    // from the tree, then keeps forking: only remembering it from an earlier scan finds it and
    // its later children.
    const session = start(
      `setsid bash -c "trap '' HUP TERM; while :; do sleep 1000 & sleep 0.02; done" & echo ready; wait`,
    );
    const pid = session.term.pid;
    const isDetachedLeader = (p: number): boolean => p !== pid && readStat(p)?.session === p;
    await waitFor('the detached session', () => listSessionProcesses(pid).some(isDetachedLeader));
    const detached = listSessionProcesses(pid).find(isDetachedLeader) as number;
    await killAndVerify(session, 3);
    expect(processesInSession(detached)).to.deep.equal([]);
  });

  it('kills what is left of a session whose leader already exited', async () => {
    // The leader waits until the job runs `sleep` (so nohup has set HUP to ignored), then exits.
    const session = start('nohup sleep 1000 >/dev/null 2>&1 & while [ "$(cat /proc/$!/comm)" != sleep ]; do :; done');
    await session.exited;
    const pid = session.term.pid;
    await waitFor('the orphaned job', () => listSessionProcesses(pid).length === 1);
    const before = listSessionProcesses(pid)
      .map(identify)
      .filter((id): id is string => id !== null);
    expect((await killProcessTree(pid)).survivors).to.deep.equal([]);
    expect(stillAlive(before)).to.deep.equal([]);
  });

  it('finds a process whose command name contains spaces and parentheses', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ptree-'));
    const odd = path.join(dir, 'a) b (c');
    fs.copyFileSync('/bin/sleep', odd);
    fs.chmodSync(odd, 0o755);
    try {
      const session = start(`'${odd}' 1000 & echo ready; wait`);
      await killAndVerify(session, 2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves alone a stranger that holds the pid number (a reused pid)', async () => {
    // A session leader that is not our child: what a reused pid of a finished session looks like.
    const stranger = Number(
      execFileSync('/bin/bash', ['-c', 'setsid sleep 1000 >/dev/null 2>&1 </dev/null & echo $!'], {
        encoding: 'utf8',
      }).trim(),
    );
    try {
      await waitFor('the stranger to run', () => readStat(stranger)?.session === stranger);
      expect(listSessionProcesses(stranger)).to.deep.equal([]);
      expect((await killProcessTree(stranger, { hupWaitMs: 0, termWaitMs: 0, killWaitMs: 0 })).survivors).to.deep.equal(
        [],
      );
      expect(identify(stranger)).to.not.equal(null);
    } finally {
      process.kill(stranger, 'SIGKILL');
    }
  });

  it('returns at once with no survivors when the tree is already gone', async () => {
    const session = start('exit 0');
    await session.exited;
    expect((await killProcessTree(session.term.pid)).survivors).to.deep.equal([]);
  });
});
