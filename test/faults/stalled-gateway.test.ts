/**
 * Fault (beyond issue 7's list, found by fault 1): the gateway's event loop stalls — here it is
 * stopped with SIGSTOP for STALL_MS right after a create_session left the test — so that the
 * worker's reply and the PTY's first output reach the gateway together. Figure: the creating
 * socket still receives the session's output from its first byte (first frame seq = its
 * length), for every one of ROUNDS sessions; and the gateway serves on after SIGCONT.
 */
import { expect } from 'chai';
import { registerUser } from '../helpers/api.js';
import { GatewayProcess } from '../helpers/gateway-process.js';
import { TestClient } from '../helpers/ws-client.js';

const ROUNDS = 10;
/** Long enough for the worker to spawn the shell and the shell to print its prompt. */
const STALL_MS = 800;
/** When the stop lands after the request left the test: varied, as the gateway's timing varies. */
const FORWARD_DELAYS_MS = [5, 10, 20, 40, 80];

describe('fault: a stalled gateway event loop during create_session', function () {
  this.timeout(60_000);
  let g: GatewayProcess;
  let c: TestClient;

  before(async () => {
    g = await GatewayProcess.start({ env: { WORKER_COUNT: '1' } });
    c = await TestClient.authed(g.wsUrl, (await registerUser(g.url)).token);
  });
  after(async () => {
    g.child.kill('SIGCONT');
    await c.close();
    await g.stop();
    g.cleanup();
  });

  it(`the creator receives every session from its first output byte (${ROUNDS} sessions)`, async () => {
    const late: string[] = [];
    const ids: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const reply = c.request({ type: 'create_session', profile: 'shell' }, 'session_created');
      // Time for the gateway to forward create_session to the worker; then it is stopped while
      // the worker answers and the shell prints.
      await new Promise((r) => setTimeout(r, FORWARD_DELAYS_MS[i % FORWARD_DELAYS_MS.length]));
      g.child.kill('SIGSTOP');
      await new Promise((r) => setTimeout(r, STALL_MS));
      g.child.kill('SIGCONT');
      const s = (await reply).session;
      ids.push(s.id);
      c.send({ type: 'terminal_input', sessionId: s.id, data: 'echo READY-$((6*7))\r' });
      await c.waitForOutput(s.id, /READY-42\r\n/);
      const first = c.messages.find((m) => m.type === 'terminal_output' && m.sessionId === s.id);
      if (first && first.seq !== first.data.length)
        late.push(`session ${i + 1}: first frame ends at seq ${first.seq}, holds ${first.data.length}`);
    }
    for (const id of ids) await c.request({ type: 'close_session', sessionId: id }, 'session_closed');
    expect(late).to.deep.equal([]);
  });
});
