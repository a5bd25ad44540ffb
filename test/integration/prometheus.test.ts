import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import { registerUser } from '../helpers/api.js';
import { GatewayProcess, waitFor } from '../helpers/gateway-process.js';
import { TestClient } from '../helpers/ws-client.js';

const PROMTOOL = '/usr/bin/promtool';
const PROMETHEUS = '/usr/bin/prometheus';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

describe('Prometheus /metrics (real gateway, promtool, a real Prometheus server)', function () {
  this.timeout(90_000);
  let g: GatewayProcess;
  const METRICS_TOKEN = 'metrics-token-for-the-test-0123456789';

  before(async () => {
    if (!fs.existsSync(PROMTOOL)) throw new Error('promtool missing: .ci/run installs Debian prometheus');
    g = await GatewayProcess.start({ env: { METRICS_TOKEN } });
    const u = await registerUser(g.url);
    const c = await TestClient.authed(g.wsUrl, u.token);
    const s = await c.createSession({ profile: 'shell' });
    c.send({ type: 'terminal_input', sessionId: s.id, data: 'seq 1 2000\r' });
    await c.waitForOutput(s.id, /2000\r\n/);
    await c.request({ type: 'close_session', sessionId: s.id }, 'session_closed');
    await c.close();
  });
  after(async () => {
    await g.stop();
    g.cleanup();
  });

  it('requires the token when METRICS_TOKEN is set', async () => {
    expect((await fetch(`${g.url}/metrics`)).status).to.equal(401);
    expect((await fetch(`${g.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).to.equal(401);
  });

  it('passes promtool check metrics and shows gateway, worker and product metrics with no ids as labels', async () => {
    const res = await fetch(`${g.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).to.equal(200);
    const text = await res.text();
    const lint = execFileSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(lint.trim()).to.equal('');
    for (const name of [
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'ccm_worker_process_resident_memory_bytes',
      'ccm_sessions_active',
      'ccm_sessions_created_total{profile="shell"} 1',
      'ccm_sessions_closed_total{reason="closed"} 1',
      'ccm_ws_connections',
      'ccm_output_chars_total',
      'ccm_input_chars_total',
      'ccm_history_lines_written_total',
      'ccm_db_write_duration_seconds_bucket',
      'ccm_http_request_duration_seconds_bucket',
      'ccm_login_attempts_total',
      'ccm_worker_restarts_total',
      'ccm_ipc_round_trip_seconds_bucket',
    ]) {
      expect(text, name).to.include(name);
    }
    expect(text).not.to.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
    const lines = Number(/^ccm_history_lines_written_total (\d+)/m.exec(text)?.[1]);
    expect(lines).to.be.greaterThan(2000);
  });

  it('is scraped by a real Prometheus server (target up == 1)', async () => {
    const port = await freePort();
    const dir = path.join(g.dir, 'prometheus');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'token'), METRICS_TOKEN);
    fs.writeFileSync(
      path.join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'scrape_configs:',
        '  - job_name: ccmanager',
        `    authorization: { type: Bearer, credentials_file: ${path.join(dir, 'token')} }`,
        `    static_configs: [ { targets: ['127.0.0.1:${g.port}'] } ]`,
      ].join('\n'),
    );
    const prom = spawn(
      PROMETHEUS,
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    try {
      const up = await waitFor(
        'target up',
        async () => {
          try {
            const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=up`).then((x) => x.json());
            const v = r?.data?.result?.[0]?.value?.[1];
            return v === '1' ? v : undefined;
          } catch {
            return undefined;
          }
        },
        30_000,
        250,
      );
      expect(up).to.equal('1');
      const q = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=ccm_workers_ready`).then((x) => x.json());
      expect(q.data.result[0].value[1]).to.equal('2');
    } finally {
      prom.kill('SIGTERM');
      await new Promise((r) => prom.once('exit', r));
    }
  });
});
