import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { AppError } from '../../common/errors.js';
import { killProcessTree } from '../../common/process-tree.js';
import type { PtyExit, PtyProcessOptions } from '../../worker/pty-process.js';
import { PtyProcess } from '../../worker/pty-process.js';

/** Upper bound for a condition the tests wait on (generous: shared CI machines are slow). */
const WAIT_TIMEOUT_MS = 15_000;
/** How often the tests poll for a condition. */
const POLL_MS = 10;
/** Longer than node-pty's 200 ms post-exit socket timer, so that path is the one exercised. */
const PAST_NODE_PTY_EXIT_TIMER_MS = 400;
/** How long a paused PTY is watched to see that nothing is read and the writer stays blocked. */
const PAUSED_OBSERVATION_MS = 300;

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'xterm-256color', LANG: 'C.UTF-8' };

function options(file: string, args: string[]): PtyProcessOptions {
  return { file, args, cwd: os.tmpdir(), env: ENV, cols: 80, rows: 24 };
}

interface Run {
  proc: PtyProcess;
  output: () => string;
  /** Resolves with the exit and the output collected up to that moment. */
  exit: Promise<{ exit: PtyExit; output: string }>;
  dataAfterExit: () => boolean;
}

const spawned: PtyProcess[] = [];

function run(file: string, args: string[]): Run {
  const proc = PtyProcess.spawn(options(file, args));
  spawned.push(proc);
  const parts: string[] = [];
  let exited = false;
  let late = false;
  proc.onData((d) => {
    parts.push(d);
    if (exited) late = true;
  });
  const exit = new Promise<{ exit: PtyExit; output: string }>((resolve) =>
    proc.onExit((e) => {
      exited = true;
      resolve({ exit: e, output: parts.join('') });
    }),
  );
  return { proc, output: () => parts.join(''), exit, dataAfterExit: () => late };
}

function bash(script: string): Run {
  return run('/bin/bash', ['-c', script]);
}

async function waitFor(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_TIMEOUT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(POLL_MS);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True while the pid exists and is not a zombie. */
function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function openFdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** The exact text `seq 1 n` shows through a PTY (ONLCR turns \n into \r\n). */
function seqOutput(n: number): string {
  let out = '';
  for (let i = 1; i <= n; i++) out += `${i}\r\n`;
  return out;
}

describe('PtyProcess', function () {
  this.timeout(120_000);

  afterEach(async () => {
    for (const proc of spawned.splice(0)) {
      await killProcessTree(proc.pid, { hupWaitMs: 0, termWaitMs: 0 });
      proc.dispose();
    }
  });

  it('delivers the whole output of `seq 1 200000; exit` in 20 fresh sessions, before onExit', async () => {
    const expected = seqOutput(200_000);
    for (let i = 0; i < 20; i++) {
      const r = bash('seq 1 200000; exit');
      const { exit, output } = await r.exit;
      expect(exit).to.deep.equal({ exitCode: 0, signal: 0 });
      expect(output.endsWith('200000\r\n'), `run ${i}: ends with ${JSON.stringify(output.slice(-20))}`).to.equal(true);
      expect(output === expected, `run ${i}: output differs (${output.length} vs ${expected.length} chars)`).to.equal(
        true,
      );
      await delay(0);
      expect(r.dataAfterExit()).to.equal(false);
      r.proc.dispose();
    }
  });

  it('delivers the whole output when an interactive shell receives the line', async () => {
    for (let i = 0; i < 5; i++) {
      const r = run('/bin/bash', ['--norc', '--noprofile']);
      r.proc.write('seq 1 200000; exit\r');
      const { output } = await r.exit;
      // An interactive bash echoes `exit` as it leaves.
      expect(
        /\n200000\r\n(exit\r\n)?$/.test(output),
        `run ${i}: ends with ${JSON.stringify(output.slice(-20))}`,
      ).to.equal(true);
      r.proc.dispose();
    }
  });

  it('decodes multi-byte UTF-8 exactly, including characters split across reads', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pty-utf8-'));
    try {
      const line = 'é€😀─❯● naïve 日本語\n';
      const file = path.join(dir, 'text');
      fs.writeFileSync(file, line.repeat(8000));
      const expected = line.replaceAll('\n', '\r\n').repeat(8000);
      for (let i = 0; i < 5; i++) {
        const { output } = await bash(`cat '${file}'; exit`).exit;
        expect(output === expected, `run ${i}: ${output.length} vs ${expected.length} chars`).to.equal(true);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports exit codes and signals', async () => {
    expect((await bash('exit 3').exit).exit).to.deep.equal({ exitCode: 3, signal: 0 });
    expect((await bash('kill -TERM $$').exit).exit).to.deep.equal({ exitCode: 0, signal: 15 });
    const r = bash('sleep 1000');
    r.proc.kill('SIGKILL');
    expect((await r.exit).exit.signal).to.equal(9);
  });

  it('throws on spawn failure', () => {
    const missing = (): PtyProcess => PtyProcess.spawn(options('definitely-not-a-command-xyz', []));
    expect(missing).to.throw(AppError).with.property('code', 'COMMAND_NOT_FOUND');
    const badCwd = (): PtyProcess => PtyProcess.spawn({ ...options('/bin/sh', []), cwd: '/nonexistent/dir' });
    expect(badCwd).to.throw(AppError).with.property('code', 'INVALID_CWD');
  });

  it('writes input and resizes the terminal', async () => {
    const r = run('/bin/bash', ['--norc', '--noprofile']);
    r.proc.resize(100, 40);
    r.proc.write('stty size; exit\r');
    const { output } = await r.exit;
    expect(output).to.include('40 100');
  });

  it('pause() stops reading: nothing is delivered and the writer stays blocked until resume()', async () => {
    const total = 3_000_000;
    const r = bash(`head -c ${total} /dev/zero | tr '\\0' x; echo; echo END`);
    r.proc.pause();
    await delay(PAUSED_OBSERVATION_MS);
    // 3 MB cannot fit in the kernel's and Node's buffers: if reading had gone on, it would be done.
    expect(r.output()).to.equal('');
    expect(isRunning(r.proc.pid)).to.equal(true);
    r.proc.resume();
    const { output } = await r.exit;
    expect(output).to.equal(`${'x'.repeat(total)}\r\nEND\r\n`);
  });

  it('holds output and the exit while paused across the exit, then delivers both in order', async () => {
    const r = bash('seq 1 2000; exit 7');
    r.proc.pause();
    let exitSeen = false;
    void r.exit.then(() => {
      exitSeen = true;
    });
    // The child's ~11 KB fit in what the PTY buffers (~16 KiB here), so it exits unread.
    await waitFor('the child to exit', () => !isRunning(r.proc.pid));
    await delay(PAST_NODE_PTY_EXIT_TIMER_MS);
    expect(r.output()).to.equal('');
    expect(exitSeen).to.equal(false);
    r.proc.resume();
    const { exit, output } = await r.exit;
    expect(exit.exitCode).to.equal(7);
    expect(output).to.equal(seqOutput(2000));
  });

  it('reports the exit while paused once nothing is left to deliver', async () => {
    const r = bash('exit 4');
    r.proc.pause();
    expect((await r.exit).exit.exitCode).to.equal(4);
  });

  it('keeps delivering when a listener pauses in the middle of the output', async () => {
    const r = bash('seq 1 100000; exit');
    let resumes = 0;
    r.proc.onData(() => {
      r.proc.pause();
      resumes++;
      setTimeout(() => r.proc.resume(), 1);
    });
    const { output } = await r.exit;
    expect(resumes).to.be.greaterThan(1);
    expect(output).to.equal(seqOutput(100_000));
  });

  it('delivers the tail when a background job still holds the terminal after the leader exits', async () => {
    const r = bash('sleep 1000 & seq 1 50000; exit');
    const { output } = await r.exit;
    expect(output).to.equal(seqOutput(50_000));
  });

  it('does not leak file descriptors', async () => {
    const before = openFdCount();
    for (let i = 0; i < 20; i++) {
      const r = bash('seq 1 2000; exit');
      await r.exit;
      r.proc.dispose();
    }
    // A disposed PTY that was still running closes its master too.
    const running = bash('sleep 1000');
    await waitFor('output or a moment of life', () => isRunning(running.proc.pid));
    running.proc.dispose();
    await killProcessTree(running.proc.pid, { hupWaitMs: 0, termWaitMs: 0 });
    await delay(PAST_NODE_PTY_EXIT_TIMER_MS);
    expect(openFdCount()).to.equal(before);
  });

  it('is inert after exit and dispose: write, resize, kill, pause and dispose do not throw', async () => {
    const r = bash('exit 0');
    await r.exit;
    r.proc.write('ignored');
    r.proc.resize(90, 30);
    r.proc.kill();
    r.proc.pause();
    r.proc.resume();
    r.proc.dispose();
    r.proc.dispose();
    r.proc.write('ignored');
    r.proc.resize(90, 30);
  });

  it('fires no callback after dispose', async () => {
    const r = bash('sleep 0.2; seq 1 1000; exit');
    let calls = 0;
    r.proc.onData(() => calls++);
    r.proc.onExit(() => calls++);
    r.proc.dispose();
    await killProcessTree(r.proc.pid, { hupWaitMs: 0, termWaitMs: 0 });
    await delay(PAST_NODE_PTY_EXIT_TIMER_MS);
    expect(calls).to.equal(0);
  });
});
