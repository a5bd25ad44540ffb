import { startGateway } from './lib/gateway.js';
import { streamGenerator, waitForPrompt } from './lib/stream.js';
import { workerOfSession } from './lib/proc.js';
import { SessionEcho, measureEcho } from './lib/echo.js';
const gw = await startGateway({ MAX_BUFFER_SIZE: '1000' });
try {
  const owner = await gw.client();
  const target = await owner.createShell(120, 30);
  await waitForPrompt(owner, target.id);
  await streamGenerator(owner, target.id, '--lines 1100 --width 120 --full-width').done;
  await waitForPrompt(owner, target.id);
  const pc = await gw.client();
  let probe: SessionEcho | undefined;
  for (let i = 0; i < 4; i++) { const e = await SessionEcho.start(pc, 80, 24); if (workerOfSession(e.pid) === workerOfSession(target.pid)) { probe = e; break; } }
  if (!probe) throw new Error('no probe');
  const frames: string[] = [];
  const orig = (pc as any).onMessage.bind(pc);
  (pc as any).onMessage = (buf: Buffer) => { frames.push(`${performance.now().toFixed(0)} ${buf.toString().slice(0, 160)}`); if (frames.length > 40) frames.shift(); orig(buf); };
  await measureEcho(probe, 1000);
  const viewer = await gw.client();
  let attaching = true;
  const p = measureEcho(probe, 100000, () => !attaching); p.catch(() => undefined);
  for (let i = 0; i < 50; i++) {
    await viewer.request({ type: 'attach_session', sessionId: target.id }, 'session_buffer');
    await viewer.request({ type: 'detach_session', sessionId: target.id }, 'session_detached');
    await new Promise((r) => setTimeout(r, 50));
  }
  attaching = false;
  try { const d = await p; console.log('ok', d.length); } catch (e) { console.log((e as Error).message, performance.now().toFixed(0)); console.log(frames.slice(-12).join('\n')); }
} finally { await gw.stop(); }
