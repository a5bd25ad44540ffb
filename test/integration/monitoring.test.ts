/** The system monitor end to end, with a short MONITORING_INTERVAL. */
import { expect } from 'chai';
import type { MetricsSample } from '../../common/metrics-sample.js';
import { api, registerUser } from '../helpers/api.js';
import { GatewayProcess, waitFor, workerPids } from '../helpers/gateway-process.js';
import { TestClient } from '../helpers/ws-client.js';

const INTERVAL_MS = 200;

function expectSampleShape(s: MetricsSample): void {
  expect(Object.keys(s).sort()).to.deep.equal(
    [
      'anomalies',
      'cpuPercent',
      'db',
      'eventLoopLagMs',
      'loadAvg',
      'memory',
      'process',
      'sessions',
      'timestamp',
      'ws',
    ].sort(),
  );
  expect(Number.isNaN(Date.parse(s.timestamp))).to.equal(false);
  expect(s.cpuPercent).to.be.within(0, 100);
  expect(s.loadAvg).to.have.length(3);
  for (const l of s.loadAvg) expect(l).to.be.at.least(0);
  expect(s.memory.totalBytes).to.be.greaterThan(0);
  expect(s.memory.usedBytes).to.be.within(0, s.memory.totalBytes);
  expect(s.memory.percent).to.be.within(0, 100);
  expect(s.process.gatewayRssBytes).to.be.greaterThan(10 * 1024 * 1024);
  expect(s.process.workersRssBytes).to.be.at.least(0);
  expect(Object.keys(s.sessions).sort()).to.deep.equal(['active', 'attached']);
  expect(s.ws.connections).to.be.at.least(0);
  expect(Object.keys(s.db).sort()).to.deep.equal(['latencyMs', 'ok', 'walBytes']);
  expect(s.db.latencyMs).to.be.at.least(0);
  expect(s.db.walBytes).to.be.at.least(0);
  expect(s.eventLoopLagMs).to.be.at.least(0);
  expect(s.anomalies).to.be.an('array');
}

describe('system monitor (real gateway, MONITORING_INTERVAL=200)', function () {
  this.timeout(60_000);
  let g: GatewayProcess;
  let admin: { token: string };
  const get = (path: string) => api(g.url, 'GET', path, { token: admin.token });

  before(async () => {
    g = await GatewayProcess.start({ env: { MONITORING_INTERVAL: String(INTERVAL_MS) } });
    admin = await registerUser(g.url);
  });
  after(async () => {
    await g.stop();
    g.cleanup();
  });

  it('samples every interval: history returns them, in order, with the API.md shape', async () => {
    const samples = await waitFor('a few samples', async () => {
      const res = await get('/api/monitoring/metrics/history');
      expect(res.status).to.equal(200);
      return res.body.samples.length >= 4 ? (res.body.samples as MetricsSample[]) : undefined;
    });
    for (const s of samples) expectSampleShape(s);
    const times = samples.map((s) => Date.parse(s.timestamp));
    expect([...times].sort((a, b) => a - b)).to.deep.equal(times);
    expect(samples.some((s) => s.process.workersRssBytes > 10 * 1024 * 1024)).to.equal(true);
    expect(samples.every((s) => s.db.ok)).to.equal(true);
  });

  it('GET /metrics returns the latest sample', async () => {
    const res = await get('/api/monitoring/metrics');
    expect(res.status).to.equal(200);
    expectSampleShape(res.body.sample);
    expect(Date.now() - Date.parse(res.body.sample.timestamp)).to.be.lessThan(60_000);
  });

  it('counts sessions, viewers and sockets', async () => {
    const c = await TestClient.authed(g.wsUrl, admin.token);
    try {
      const s = await c.createSession({ profile: 'shell' });
      const seen = await waitFor('a sample with the session', async () => {
        const sample = (await get('/api/monitoring/metrics')).body.sample as MetricsSample;
        return sample.sessions.active >= 1 && sample.sessions.attached >= 1 && sample.ws.connections >= 1
          ? sample
          : undefined;
      });
      expectSampleShape(seen);
      await c.request({ type: 'close_session', sessionId: s.id }, 'session_closed');
    } finally {
      await c.close();
    }
  });

  it('history honours from, to and limit, and validates them', async () => {
    const all = (await get('/api/monitoring/metrics/history')).body.samples as MetricsSample[];
    expect(all.length).to.be.at.least(4);
    const [, second, third] = all as [MetricsSample, MetricsSample, MetricsSample];
    const range = await get(`/api/monitoring/metrics/history?from=${second.timestamp}&to=${third.timestamp}`);
    expect(range.body.samples.map((s: MetricsSample) => s.timestamp)).to.deep.equal([
      second.timestamp,
      third.timestamp,
    ]);
    const one = await get(`/api/monitoring/metrics/history?from=${second.timestamp}&limit=1`);
    expect(one.body.samples).to.have.length(1);
    expect(one.body.samples[0].timestamp).to.equal(second.timestamp);
    for (const q of [
      'from=yesterday',
      'to=12345',
      'limit=0',
      'limit=100001',
      `from=${third.timestamp}&to=${second.timestamp}`,
    ]) {
      const res = await get(`/api/monitoring/metrics/history?${q}`);
      expect(res.status, q).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
    }
  });

  it('average over a window returns the mean sample and the count', async () => {
    const res = await get('/api/monitoring/metrics/average?window=15m');
    expect(res.status).to.equal(200);
    expect(res.body.window).to.equal('15m');
    expect(res.body.count).to.be.at.least(4);
    expectSampleShape(res.body.average);
    const dflt = await get('/api/monitoring/metrics/average');
    expect(dflt.body.window).to.equal('1h');
    expect(dflt.body.count).to.be.at.least(res.body.count);
    for (const w of ['2h', ''])
      expect((await get(`/api/monitoring/metrics/average?window=${w}`)).status, w).to.equal(400);
  });

  it('reports a worker restart as an anomaly, logged once when it starts', async () => {
    const [victim] = workerPids(g.pid);
    expect(victim, 'a worker process').to.be.a('number');
    process.kill(victim as number, 'SIGKILL');
    const sample = await waitFor('the restart anomaly', async () => {
      const s = (await get('/api/monitoring/metrics')).body.sample as MetricsSample;
      return s.anomalies.some((a) => a.metric === 'workerRestarts') ? s : undefined;
    });
    const anomaly = sample.anomalies.find((a) => a.metric === 'workerRestarts');
    expect(anomaly).to.include({ value: 1, threshold: 0 });
    expect(anomaly?.message).to.match(/worker restart/);
    // Later samples still report it, but the log says so once.
    await new Promise((r) => setTimeout(r, INTERVAL_MS * 3));
    const started = g
      .logs()
      .split('\n')
      .filter((l) => l.includes('anomaly started') && l.includes('workerRestarts'));
    expect(started).to.have.length(1);
    const history = (await get('/api/monitoring/metrics/history')).body.samples as MetricsSample[];
    expect(history.filter((s) => s.anomalies.some((a) => a.metric === 'workerRestarts')).length).to.be.at.least(2);
    const avg = (await get('/api/monitoring/metrics/average?window=15m')).body.average as MetricsSample;
    expect(avg.anomalies.map((a) => a.metric)).to.include('workerRestarts');
  });
});
