/**
 * CPU seconds per thread (gateway, workers, their PTY programs, this client) while one session
 * streams gen-output: shows where the two cores go. Reads utime+stime from /proc (Linux).
 *
 *   node --import tsx bench/tools/thread-cpu.ts 60          one session streaming 60 MB
 *   node --import tsx bench/tools/thread-cpu.ts many 500 30 500 sessions, a line every 100 ms, 30 s
 */
import fs from 'node:fs';
import { registerUser, uniqueName } from '../../test/helpers/api.js';
import { descendants } from '../../test/helpers/gateway-process.js';
import { BenchClient } from '../lib/bench-client.js';
import { startGateway } from '../lib/gateway.js';
import { LINE_INTERVAL_MS, manySessionsCommand } from '../lib/many-sessions-line.js';
import { cmdline } from '../lib/proc.js';
import { streamGenerator, waitForPrompt } from '../lib/stream.js';

const TICKS_PER_S = 100;

interface ThreadTimes {
  key: string;
  ticks: number;
}

function threadsOf(pid: number, role: string): ThreadTimes[] {
  const out: ThreadTimes[] = [];
  let tids: string[] = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ key: `${role} ${pid}/${tid} ${comm}`, ticks: Number(f[11]) + Number(f[12]) });
    } catch {}
  }
  return out;
}

function snapshot(gatewayPid: number): Map<string, number> {
  const m = new Map<string, number>();
  const add = (list: ThreadTimes[]) => {
    for (const t of list) m.set(t.key, t.ticks);
  };
  add(threadsOf(gatewayPid, 'gateway'));
  for (const p of descendants(gatewayPid)) {
    const cmd = cmdline(p);
    add(threadsOf(p, /worker\/main/.test(cmd) ? 'worker' : cmd.slice(0, 30)));
  }
  add(threadsOf(process.pid, 'client'));
  return m;
}

/** Sessions per user in the many scenario (the bench's MAX_SESSIONS_PER_USER is 100). */
const SESSIONS_PER_USER = 20;

const many = process.argv[2] === 'many';
const gw = await startGateway({});
const gatewayPid = gw.process.pid as number;
try {
  let before = snapshot(gatewayPid);
  let last = before;
  let t0 = performance.now();
  const sampler = setInterval(() => {
    last = snapshot(gatewayPid);
  }, 500);
  if (many) {
    const n = Number(process.argv[3] ?? 500);
    const seconds = Number(process.argv[4] ?? 30);
    const sockets: BenchClient[] = [];
    let token = '';
    for (let i = 0; i < n; i++) {
      if (i % SESSIONS_PER_USER === 0) token = (await registerUser(gw.url, uniqueName('cpu'))).token;
      const sc = await BenchClient.authed(gw.wsUrl, token);
      sockets.push(sc);
      const s = await sc.createShell(120, 24);
      sc.type(s.id, manySessionsCommand(Math.ceil(((seconds + 30) * 1000) / LINE_INTERVAL_MS)));
    }
    await new Promise((r) => setTimeout(r, 3000));
    before = snapshot(gatewayPid);
    t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    last = snapshot(gatewayPid);
    console.log(`many: ${n} sessions printing`);
    clearInterval(sampler);
    await Promise.all(sockets.map((sc) => sc.close()));
  } else {
    const c = await gw.client();
    const s = await c.createShell(120, 30);
    await waitForPrompt(c, s.id);
    before = snapshot(gatewayPid);
    t0 = performance.now();
    const r = await streamGenerator(c, s.id, `--mb ${Number(process.argv[2] ?? 60)}`).done;
    clearInterval(sampler);
    const now = snapshot(gatewayPid);
    for (const [k, v] of now) last.set(k, v);
    console.log(`stream: ${r.mbPerS.toFixed(1)} MB/s`);
  }
  const wall = (performance.now() - t0) / 1000;
  const all = [...last].map(([k, v]) => ({ k, s: (v - (before.get(k) ?? 0)) / TICKS_PER_S }));
  const rows = all.filter((x) => x.s > 0.05).sort((a, b) => b.s - a.s);
  const total = all.reduce((sum, x) => sum + x.s, 0);
  const small = all.filter((x) => x.s <= 0.05);
  console.log(
    `${small.length} threads under 0.05 s each: ${small.reduce((sum, x) => sum + x.s, 0).toFixed(2)} s in all`,
  );
  for (const x of rows) {
    console.log(`${x.s.toFixed(2).padStart(7)} s  ${((100 * x.s) / wall).toFixed(0).padStart(3)}%  ${x.k}`);
  }
  console.log(`total ${total.toFixed(1)} CPU s in ${wall.toFixed(1)} s wall (${(total / wall).toFixed(2)} cores)`);
} finally {
  await gw.stop();
}
