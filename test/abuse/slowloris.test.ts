/**
 * Abuse 14 (issue 7): slowloris. SOCKETS connections each send a request line and then one
 * header line every DRIP_INTERVAL_MS, never ending the head. Figures: every one of them is closed
 * by the server's own timeouts (none by the test) within CLOSE_BOUND_MS; a normal client polling
 * /health is served all along.
 *
 * The bound: the gateway sets headersTimeout to HTTP_HEADERS_TIMEOUT_MS (10 s, gateway.ts), and
 * Node checks it every `connectionsCheckingInterval` (default 30 s, an option of
 * http.createServer that the gateway does not set): a slow head lives 10–40 s. A test-only
 * setting (proposed: HTTP_HEADERS_TIMEOUT_MS, with the checking interval derived from it) would
 * bring this test from ~40 s to ~3 s; it is passed below and ignored until it exists.
 */
import net from 'node:net';
import { expect } from 'chai';
import { GatewayProcess } from '../helpers/gateway-process.js';

const SOCKETS = 500;
const DRIP_INTERVAL_MS = 1000;
/** Proposed test setting (see above); the product ignores unknown variables today. */
const PROPOSED_HEADERS_TIMEOUT_MS = 2000;
/** Today's worst case: headersTimeout 10 s + Node's 30 s checking interval, plus slack. */
const CLOSE_BOUND_MS = 10_000 + 30_000 + 3000;
const POLL_INTERVAL_MS = 250;
/** Connections are opened in batches so the test itself does not look like a SYN flood. */
const OPEN_BATCH = 50;

describe('abuse: slowloris (500 sockets dribbling header bytes)', function () {
  this.timeout(CLOSE_BOUND_MS + 30_000);
  let g: GatewayProcess;

  before(async () => {
    g = await GatewayProcess.start({
      env: { WORKER_COUNT: '1', HTTP_HEADERS_TIMEOUT_MS: String(PROPOSED_HEADERS_TIMEOUT_MS) },
    });
  });
  after(async () => {
    await g.stop();
    g.cleanup();
  });

  it(`all ${SOCKETS} are closed by the server within ${CLOSE_BOUND_MS} ms while a normal client is served`, async () => {
    const closedAfter: number[] = [];
    const sockets: net.Socket[] = [];
    const timers: NodeJS.Timeout[] = [];
    const started = Date.now();
    for (let i = 0; i < SOCKETS; i += OPEN_BATCH) {
      await Promise.all(
        Array.from(
          { length: Math.min(OPEN_BATCH, SOCKETS - i) },
          (_, j) =>
            new Promise<void>((resolve, reject) => {
              const s = net.connect(g.port, '127.0.0.1');
              const t0 = Date.now();
              s.on('error', () => undefined);
              s.on('close', () => closedAfter.push(Date.now() - t0));
              s.once('connect', () => {
                s.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
                let n = 0;
                timers.push(
                  setInterval(() => {
                    if (!s.destroyed) s.write(`X-Slow-${i + j}-${n++}: y\r\n`);
                  }, DRIP_INTERVAL_MS),
                );
                resolve();
              });
              s.once('error', reject);
              sockets.push(s);
            }),
        ),
      );
    }

    const polls: { status: number; ms: number }[] = [];
    let byServer = 0;
    try {
      while (closedAfter.length < SOCKETS && Date.now() - started < CLOSE_BOUND_MS) {
        const t0 = Date.now();
        const status = await fetch(`${g.url}/health`, { signal: AbortSignal.timeout(5000) }).then(
          (r) => r.status,
          () => -1,
        );
        polls.push({ status, ms: Date.now() - t0 });
        await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
      }
    } finally {
      for (const t of timers) clearInterval(t);
      byServer = closedAfter.length;
      const stillOpen = sockets.filter((s) => !s.destroyed).length;
      for (const s of sockets) s.destroy();
      const sorted = closedAfter.slice(0, byServer).sort((a, b) => a - b);
      console.log(
        `      closed by the server ${byServer}/${SOCKETS} (first ${sorted[0]} ms, last ${sorted.at(-1)} ms); ` +
          `still open at the bound ${stillOpen}; /health polls ${polls.length}, failed ${polls.filter((p) => p.status !== 200).length}, ` +
          `slowest ${Math.max(...polls.map((p) => p.ms))} ms`,
      );
    }
    expect(byServer, 'closed by the server before the bound').to.equal(SOCKETS);
    expect(polls.length).to.be.greaterThan(3);
    expect(polls.filter((p) => p.status !== 200)).to.deep.equal([]);
  });
});
