import { expect } from 'chai';
import { api, registerUser } from '../helpers/api.js';
import { GatewayProcess } from '../helpers/gateway-process.js';
import { type Msg, TestClient } from '../helpers/ws-client.js';

const states = (c: TestClient, sessionId: string, from = 0): string[] =>
  c.messages
    .slice(from)
    .filter((m) => m.type === 'session_state_changed' && m.sessionId === sessionId)
    .map((m) => m.state);

describe('Claude state detection through the real stack (fake-claude)', function () {
  this.timeout(90_000);
  let g: GatewayProcess;
  let user: { token: string };

  before(async () => {
    g = await GatewayProcess.start();
    user = await registerUser(g.url);
  });
  after(async () => {
    await g.stop();
    g.cleanup();
  });

  const nextState = (c: TestClient, sessionId: string, state: string, from: number, timeoutMs = 10_000): Promise<Msg> =>
    c.next(
      (m) => m.type === 'session_state_changed' && m.sessionId === sessionId && m.state === state,
      timeoutMs,
      from,
    );

  it('busy → waiting_input → idle, pushed to every socket of the owner, persisted in SessionInfo', async () => {
    const c = await TestClient.authed(g.wsUrl, user.token);
    const bystander = await TestClient.authed(g.wsUrl, user.token); // not attached
    const s = await c.createSession({ profile: 'claude', cols: 100, rows: 30 });
    await nextState(c, s.id, 'idle', 0);

    let from = c.messages.length;
    c.send({ type: 'terminal_input', sessionId: s.id, data: 'work 1200\r' });
    const busy = await nextState(c, s.id, 'busy', from);
    expect(busy.previousState).to.equal('idle');
    await nextState(c, s.id, 'idle', from);

    from = c.messages.length;
    c.send({ type: 'terminal_input', sessionId: s.id, data: 'ask\r' });
    const waiting = await nextState(c, s.id, 'waiting_input', from);
    expect(waiting.previousState).to.equal('idle');
    const info = await c.request({ type: 'get_session_info', sessionId: s.id }, 'session_info');
    expect(info.session.state).to.equal('waiting_input');
    const rest = await api(g.url, 'GET', '/api/sessions/active', { token: user.token });
    expect(rest.body.sessions.find((x: { id: string }) => x.id === s.id).state).to.equal('waiting_input');
    c.send({ type: 'terminal_input', sessionId: s.id, data: '1' });
    await nextState(c, s.id, 'idle', from);
    expect(states(c, s.id, from)).to.deep.equal(['waiting_input', 'idle']);

    // The socket that never attached got the same events.
    await bystander.next(
      (m) => m.type === 'session_state_changed' && m.sessionId === s.id && m.state === 'idle',
      5000,
      bystander.messages.findIndex((m) => m.state === 'waiting_input'),
    );
    expect(states(bystander, s.id)).to.deep.equal(states(c, s.id));
    await c.request({ type: 'close_session', sessionId: s.id }, 'session_closed');
    await Promise.all([c.close(), bystander.close()]);
  });

  it('flicker (busy-idle-busy within the debounce) produces no idle event until it settles', async () => {
    const c = await TestClient.authed(g.wsUrl, user.token);
    const s = await c.createSession({ profile: 'claude', cols: 100, rows: 30 });
    await nextState(c, s.id, 'idle', 0);
    const from = c.messages.length;
    c.send({ type: 'terminal_input', sessionId: s.id, data: 'flicker 4\r' });
    await nextState(c, s.id, 'busy', from);
    await c.waitForOutput(s.id, 'flicker done', 15_000);
    await nextState(c, s.id, 'idle', from);
    expect(states(c, s.id, from)).to.deep.equal(['busy', 'idle']);
    await c.request({ type: 'close_session', sessionId: s.id }, 'session_closed');
    await c.close();
  });

  it('another user never receives the state events of a session', async () => {
    const other = await registerUser(g.url);
    const spy = await TestClient.authed(g.wsUrl, other.token);
    const c = await TestClient.authed(g.wsUrl, user.token);
    const s = await c.createSession({ profile: 'claude' });
    c.send({ type: 'terminal_input', sessionId: s.id, data: 'work 300\r' });
    await nextState(c, s.id, 'busy', 0);
    await nextState(c, s.id, 'idle', c.messages.length - 1);
    expect(spy.messages.filter((m) => m.sessionId === s.id)).to.have.length(0);
    await c.request({ type: 'close_session', sessionId: s.id }, 'session_closed');
    await Promise.all([c.close(), spy.close()]);
  });
});
