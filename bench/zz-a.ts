import { startGateway } from './lib/gateway.js';
import { streamGenerator, waitForPrompt } from './lib/stream.js';
import { workerOfSession } from './lib/proc.js';
const gw = await startGateway({ MAX_BUFFER_SIZE: '1000' });
try {
  const owner = await gw.client();
  const target = await owner.createShell(120, 30);
  await waitForPrompt(owner, target.id);
  await streamGenerator(owner, target.id, '--lines 1100 --width 120 --full-width').done;
  await waitForPrompt(owner, target.id);
  const pc = await gw.client();
  let probe: { id: string; pid: number } | undefined;
  for (let i = 0; i < 4; i++) {
    const s = await pc.createShell(80, 24);
    await waitForPrompt(pc, s.id);
    if (workerOfSession(s.pid) === workerOfSession(target.pid)) { probe = s; break; }
  }
  if (!probe) throw new Error('no probe');
  pc.type(probe.id, 'exec cat\r');
  await waitForPrompt(pc, probe.id);
  let lastSeq = -1; let gaps = 0; let got = '';
  const others: string[] = [];
  pc.onOutput(probe.id, (data, seq) => { if (lastSeq >= 0 && seq - data.length !== lastSeq) gaps++; lastSeq = seq; got += data; });
  const viewer = await gw.client();
  let attaching = true;
  const attachLoop = (async () => {
    for (let i = 0; i < 50; i++) {
      await viewer.request({ type: 'attach_session', sessionId: target.id }, 'session_buffer');
      await viewer.request({ type: 'detach_session', sessionId: target.id }, 'session_detached');
      await new Promise((r) => setTimeout(r, 50));
    }
    attaching = false;
  })();
  let sent = '';
  const orig = (pc as any).onMessage.bind(pc);
  (pc as any).onMessage = (buf: Buffer) => { const t = buf.toString(); if (!t.startsWith('{"type":"terminal_output"')) others.push(t.slice(0, 200)); orig(buf); };
  let i = 0;
  while (attaching && i < 3000) {
    const ch = 'abcdefghijklmnopqrstuvwxyz'[i % 26] as string;
    sent += ch; pc.type(probe.id, ch); i++;
    const t0 = performance.now();
    while (!got.endsWith(ch) && performance.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 1));
    if (!got.endsWith(ch)) { console.log('LOST at key', i, 'sent tail', sent.slice(-5), 'got tail', JSON.stringify(got.slice(-10)), 'gaps', gaps, 'lastSeq', lastSeq); break; }
    if (i % 400 === 0) { pc.type(probe.id, '\r'); await new Promise((r) => setTimeout(r, 30)); got = ''; }
  }
  console.log('keys', i, 'gaps', gaps, 'others', others.slice(-5));
  const buf = await pc.request({ type: 'get_session_buffer', sessionId: probe.id }, 'session_buffer');
  console.log('probe buffer seq', buf.seq, 'client lastSeq', lastSeq, 'screen tail', JSON.stringify((buf.data as string).slice(-60)));
  await attachLoop.catch((e) => console.log('attach loop', e.message));
} finally { await gw.stop(); }
