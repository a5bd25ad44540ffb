/**
 * Abuse 10 (issue 7): the Origin matrix at the WebSocket upgrade. Figures: only the allowed
 * origins (and no Origin at all: a non-browser client) get a 101; every other origin — foreign,
 * look-alike, `null`, userinfo tricks, other scheme or port, a list — gets 403 before any frame is
 * read, even with `authenticate` + `create_session` pipelined behind the request; 0 PTYs spawned.
 * CORS preflights follow the same list.
 */
import { expect } from 'chai';
import { ptyProcessCount } from '../faults/support/processes.js';
import { encodeFrame, OP_TEXT, RawWs, rawUpgrade } from '../faults/support/raw-ws.js';
import { registerUser } from '../helpers/api.js';
import { GatewayProcess } from '../helpers/gateway-process.js';

describe('abuse: Origin matrix at the WebSocket upgrade', function () {
  this.timeout(60_000);
  let g: GatewayProcess;
  let token = '';
  const frame = (msg: unknown) => encodeFrame(OP_TEXT, Buffer.from(JSON.stringify(msg)));

  before(async () => {
    g = await GatewayProcess.start({ env: { WORKER_COUNT: '1' } });
    token = (await registerUser(g.url)).token;
  });
  after(async () => {
    await g.stop();
    g.cleanup();
  });

  const refused = (p: number): [string, string[]][] => [
    ['foreign', ['http://evil.test']],
    ['look-alike suffix', [`http://127.0.0.1:${p}.evil.test`]],
    ['look-alike suffix (localhost)', [`http://localhost:${p}.evil.test`]],
    ['look-alike prefix', [`http://evil-127.0.0.1:${p}`]],
    ['userinfo trick', [`http://127.0.0.1:${p}@evil.test`]],
    ['null (sandboxed iframe, file://)', ['null']],
    ['empty', ['']],
    ['other port', ['http://127.0.0.1:1']],
    ['no port', ['http://127.0.0.1']],
    ['other scheme', [`https://127.0.0.1:${p}`]],
    ['IPv6 loopback (not listed)', [`http://[::1]:${p}`]],
    ['with a path', [`http://127.0.0.1:${p}/ws`]],
    ['a list', [`http://127.0.0.1:${p}, http://evil.test`]],
    ['allowed then foreign (two headers)', [`http://127.0.0.1:${p}`, 'http://evil.test']],
    ['browser extension', ['chrome-extension://abcdefghijklmnop']],
  ];

  it('refuses every other origin with 403, reads no frame, spawns nothing', async () => {
    const wrong: string[] = [];
    for (const [name, origins] of refused(g.port)) {
      const trailing = Buffer.concat([
        frame({ type: 'authenticate', token, requestId: 'a' }),
        frame({ type: 'create_session', profile: 'shell', requestId: 'c' }),
      ]);
      const answer = await rawUpgrade(g.port, { headers: origins.map((o) => `Origin: ${o}`), trailing });
      const body = await new Promise<string>((resolve) => {
        let rest = answer.rest.toString('latin1');
        answer.socket.on('data', (d: Buffer) => (rest += d.toString('latin1')));
        answer.socket.on('close', () => resolve(rest));
        setTimeout(() => {
          answer.socket.destroy();
          resolve(`${rest} (still open)`);
        }, 3000);
      });
      await new Promise((r) => setTimeout(r, 50));
      const ptys = ptyProcessCount(g);
      if (answer.status !== 403 || body.includes('authenticated') || body.includes('(still open)') || ptys !== 0) {
        wrong.push(
          `${name} (${origins.join(' | ')}): ${answer.status}, ${ptys} PTYs, after head: ${JSON.stringify(body.slice(0, 80))}`,
        );
      }
    }
    expect(wrong).to.deep.equal([]);
  });

  it('accepts the allowed origins and a request without Origin (101, then authenticate works)', async () => {
    for (const origin of [`http://127.0.0.1:${g.port}`, `http://localhost:${g.port}`, undefined]) {
      const raw = await RawWs.open(g.port, origin === undefined ? {} : { origin });
      raw.send({ type: 'authenticate', token, requestId: 'a' });
      expect((await raw.next((m) => m.requestId === 'a')).type, String(origin)).to.equal('authenticated');
      raw.destroy();
    }
    expect(ptyProcessCount(g)).to.equal(0);
  });

  it('CORS preflight and responses: allowed origins only', async () => {
    const preflight = (origin: string) =>
      fetch(`${g.url}/api/auth/me`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
    const ok = await preflight(`http://127.0.0.1:${g.port}`);
    expect(ok.status).to.equal(204);
    expect(ok.headers.get('access-control-allow-origin')).to.equal(`http://127.0.0.1:${g.port}`);
    for (const origin of ['http://evil.test', `http://127.0.0.1:${g.port}.evil.test`, 'null']) {
      const res = await preflight(origin);
      expect(res.status, origin).to.equal(403);
      expect(res.headers.get('access-control-allow-origin'), origin).to.equal(null);
      const get = await fetch(`${g.url}/api/auth/me`, { headers: { origin, authorization: `Bearer ${token}` } });
      expect(get.headers.get('access-control-allow-origin'), origin).to.equal(null);
    }
  });
});
