/**
 * CPU seconds per thread (gateway, workers, their PTY programs, this client) while one session
 * streams gen-output: shows where the two cores go. Reads utime+stime from /proc (Linux).
 *
 *   node --import tsx bench/tools/thread-cpu.ts 60
 */
import fs from 'node:fs';
import { descendants } from '../../test/helpers/gateway-process.js';
import { startGateway } from '../lib/gateway.js';
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
    const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
    add(threadsOf(p, /worker\/main/.test(cmd) ? 'worker' : cmd.slice(0, 30)));
  }
  add(threadsOf(process.pid, 'client'));
  return m;
}

const mb = Number(process.argv[2] ?? 60);
const gw = await startGateway(
  Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('X_'))) as Record<string, string>,
);
try {
  const c = await gw.client();
  const s = await c.createShell(120, 30);
  await waitForPrompt(c, s.id);
  const before = snapshot(gw.process.pid as number);
  const t0 = performance.now();
  const run = streamGenerator(c, s.id, `--mb ${mb}`);
  let last = before;
  const sampler = setInterval(() => {
    last = snapshot(gw.process.pid as number);
  }, 500);
  const r = await run.done;
  clearInterval(sampler);
  const after = snapshot(gw.process.pid as number);
  for (const [k, v] of last) if (!after.has(k)) after.set(k, v);
  const wall = (performance.now() - t0) / 1000;
  console.log(`stream: ${r.mbPerS.toFixed(1)} MB/s over ${wall.toFixed(1)} s`);
  const rows = [...after]
    .map(([k, v]) => ({ k, s: (v - (before.get(k) ?? 0)) / TICKS_PER_S }))
    .filter((x) => x.s > 0.05)
    .sort((a, b) => b.s - a.s);
  let total = 0;
  for (const x of rows) {
    total += x.s;
    console.log(`${x.s.toFixed(2).padStart(7)} s  ${((100 * x.s) / wall).toFixed(0).padStart(3)}%  ${x.k}`);
  }
  console.log(`total ${total.toFixed(1)} CPU s in ${wall.toFixed(1)} s wall (${(total / wall).toFixed(2)} cores)`);
  await c.closeSession(s.id);
} finally {
  await gw.stop();
}
