/**
 * Profiles the gateway and its workers (main threads; through cpu-prof-preload.mjs in
 * NODE_OPTIONS, which the workers inherit; PTY programs get an allowlisted environment and are
 * not profiled) while a scenario
 * runs, then prints each process's summary. Scenarios:
 *
 *   stream <mb>          one session streaming gen-output (benchmark 1)
 *   echo-load <keys> <n> [gen args]   keystroke echo beside n streaming sessions (benchmark 3)
 *   many <n> <seconds>   n sessions (own sockets, 20 per user) printing a line every 100 ms
 *
 *   node --import tsx bench/tools/profile-stream.ts stream 100
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { registerUser, uniqueName } from '../../test/helpers/api.js';
import { BenchClient } from '../lib/bench-client.js';
import { measureEcho, SessionEcho } from '../lib/echo.js';
import { endLagWindow, startLagWindow } from '../lib/event-loop-lag.js';
import { startGateway } from '../lib/gateway.js';
import { startLoad } from '../lib/load.js';
import { LINE_INTERVAL_MS, manySessionsCommand } from '../lib/many-sessions-line.js';
import { workerPids } from '../lib/proc.js';
import { percentile } from '../lib/stats.js';
import { streamGenerator, waitForPrompt } from '../lib/stream.js';
import { summarise } from './cpu-profile-summary.js';

/** Profiles must be on disk this soon after SIGUSR2. */
const PROFILE_WRITE_TIMEOUT_MS = 20_000;

const [scenario = 'stream', a = '100', b = '8', ...genArgs] = process.argv.slice(2);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccm-prof-'));
const preload = new URL('./cpu-prof-preload.mjs', import.meta.url).pathname;
const gw = await startGateway({
  NODE_OPTIONS: `--import ${preload}`,
  CCM_CPU_PROF_DIR: dir,
  MAX_SESSIONS_PER_USER: '20',
});
const gatewayPid = gw.process.pid;
const workers = workerPids(gatewayPid);
try {
  if (scenario === 'stream') {
    const c = await gw.client();
    const s = await c.createShell(120, 30);
    await waitForPrompt(c, s.id);
    const r = await streamGenerator(c, s.id, `--mb ${a}`).done;
    console.log(`stream: ${r.mbPerS.toFixed(1)} MB/s`);
    await c.closeSession(s.id);
  } else if (scenario === 'many') {
    const n = Number(a);
    const tokens: string[] = [];
    for (let i = 0; i < Math.ceil(n / 20); i++) tokens.push((await registerUser(gw.url, uniqueName('prof'))).token);
    const sockets: BenchClient[] = [];
    for (let i = 0; i < n; i++) {
      const c = await BenchClient.authed(gw.wsUrl, tokens[Math.floor(i / 20)] as string);
      sockets.push(c);
      const s = await c.createShell(120, 24);
      c.type(s.id, manySessionsCommand(Math.ceil((Number(b) * 1000) / LINE_INTERVAL_MS)));
    }
    await startLagWindow(gw.url);
    await new Promise((r) => setTimeout(r, Number(b) * 1000));
    const lag = await endLagWindow(gw.url);
    console.log(`many ${n}: ${JSON.stringify(lag)}`);
    await Promise.all(sockets.map((c) => c.close()));
  } else if (scenario === 'echo-load') {
    const echo = await SessionEcho.start(await gw.client());
    const load = await startLoad(gw, Number(b), 120, 30, genArgs.join(' '));
    // Experiment: CCM_RENICE_THREADS=10 lowers every worker thread but the main one (the
    // emulator and history writer threads) to that niceness, as a thread could do to itself.
    const nice = Number(process.env.CCM_RENICE_THREADS ?? 0);
    if (nice > 0) {
      for (const w of workers) {
        for (const tid of fs.readdirSync(`/proc/${w}/task`).map(Number)) if (tid !== w) os.setPriority(tid, nice);
      }
    }
    const ms = await measureEcho(echo, Number(a));
    await load.stop();
    console.log(
      `echo beside ${b} streams (${load.bytes() / 1e6} MB): p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms`,
    );
  }
  // Stop the profilers (see cpu-prof-preload.mjs) and wait until each process has written.
  const pids = [gatewayPid, ...workers];
  for (const pid of pids) process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + PROFILE_WRITE_TIMEOUT_MS;
  while (!pids.every((pid) => fs.existsSync(path.join(dir, `CPU.${pid}.done`))) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
} catch (err) {
  // What the gateway and workers logged as errors (the data folder goes with stop()).
  const errors = gw.process
    .logs()
    .split('\n')
    .filter((l) => /"level":(50|60)/.test(l));
  console.log(`failed: ${err instanceof Error ? err.message : String(err)}\n${errors.slice(-8).join('\n')}`);
  process.exitCode = 1;
} finally {
  await gw.stop();
}
for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
  const [, pidText, thread] = /^CPU\.(\d+)\.(\d+)\./.exec(f) ?? [];
  const pid = Number(pidText);
  const role = `${pid === gatewayPid ? 'GATEWAY' : workers.includes(pid) ? 'WORKER' : 'other'}${thread === '0' ? ' main thread' : ` thread ${thread}`}`;
  const s = summarise(path.join(dir, f), 18);
  const pct = (ms: number) => `${((100 * ms) / s.totalMs).toFixed(1)}%`;
  console.log(`\n== ${role} pid ${pid} (${f}): ${s.totalMs.toFixed(0)} ms sampled, idle ${pct(s.idleMs)}`);
  for (const x of s.files.slice(0, 10)) console.log(`${pct(x.ms).padStart(6)}  ${x.file}`);
  console.log('  --');
  for (const x of s.functions) console.log(`${pct(x.ms).padStart(6)}  ${x.name}`);
}
console.log(`\nprofiles in ${dir}`);
