import { expect } from 'chai';
import type { MetricsSample } from '../../common/metrics-sample.js';
import { AnomalyDetector, DEFAULT_THRESHOLDS } from '../../gateway/monitor/anomaly-detector.js';

type Reading = Omit<MetricsSample, 'anomalies'>;

let clock = Date.parse('2025-01-01T00:00:00Z');
function reading(
  over: Partial<{ cpu: number; mem: number; lag: number; sessions: number; dbMs: number; dbOk: boolean }> = {},
): Reading {
  clock += 1000;
  return {
    timestamp: new Date(clock).toISOString(),
    cpuPercent: over.cpu ?? 10,
    loadAvg: [0.1, 0.1, 0.1],
    memory: { totalBytes: 1000, usedBytes: 400, percent: over.mem ?? 40 },
    process: { gatewayRssBytes: 100e6, workersRssBytes: 200e6 },
    sessions: { active: over.sessions ?? 1, attached: 1 },
    ws: { connections: 1 },
    db: { ok: over.dbOk ?? true, latencyMs: over.dbMs ?? 0.2, walBytes: 0 },
    eventLoopLagMs: over.lag ?? 1,
  };
}

const metrics = (e: { anomalies: { metric: string }[] }) => e.anomalies.map((a) => a.metric).sort();

describe('AnomalyDetector', () => {
  it('reports nothing for a calm machine', () => {
    const d = new AnomalyDetector();
    for (let i = 0; i < 30; i++) expect(d.evaluate(reading(), 0).anomalies).to.deep.equal([]);
  });

  it('applies each fixed threshold', () => {
    const d = new AnomalyDetector({ baselineMinSamples: 1000 });
    const e = d.evaluate(reading({ cpu: 95, mem: 95, lag: 150, sessions: 101, dbMs: 150, dbOk: false }), 0);
    expect(metrics(e)).to.deep.equal([
      'cpuPercent',
      'db.latencyMs',
      'db.ok',
      'eventLoopLagMs',
      'memory.percent',
      'sessions.active',
    ]);
    const cpu = e.anomalies.find((a) => a.metric === 'cpuPercent');
    expect(cpu).to.deep.include({ value: 95, threshold: DEFAULT_THRESHOLDS.cpuPercent });
    expect(cpu?.message).to.match(/CPU 95% is above 90%/);
  });

  it('takes thresholds from the constructor (a tiny one forces an anomaly)', () => {
    const d = new AnomalyDetector({ cpuPercent: -1 });
    const e = d.evaluate(reading({ cpu: 0 }), 0);
    expect(metrics(e)).to.deep.equal(['cpuPercent']);
  });

  it('reports a worker restart for the restart window, then clears', () => {
    const d = new AnomalyDetector({ workerRestartWindowMs: 5000 });
    expect(d.evaluate(reading(), 0).anomalies).to.deep.equal([]);
    const e = d.evaluate(reading(), 1);
    expect(metrics(e)).to.deep.equal(['workerRestarts']);
    expect(e.anomalies[0]?.message).to.match(/1 worker restart in the last/);
    expect(e.started.map((a) => a.metric)).to.deep.equal(['workerRestarts']);
    // Still within the window (readings are 1 s apart): active, but not "started" again.
    const during = d.evaluate(reading(), 1);
    expect(metrics(during)).to.deep.equal(['workerRestarts']);
    expect(during.started).to.deep.equal([]);
    let cleared: string[] = [];
    for (let i = 0; i < 6 && cleared.length === 0; i++) cleared = d.evaluate(reading(), 1).cleared;
    expect(cleared).to.deep.equal(['workerRestarts']);
  });

  it('reports a start once and a clear once', () => {
    const d = new AnomalyDetector();
    const seq = [10, 95, 96, 97, 10, 10].map((cpu) => d.evaluate(reading({ cpu }), 0));
    expect(seq.map((e) => e.started.length)).to.deep.equal([0, 1, 0, 0, 0, 0]);
    expect(seq.map((e) => e.cleared)).to.deep.equal([[], [], [], [], ['cpuPercent'], []]);
  });

  it('flags a reading far above its rolling baseline, below the fixed threshold', () => {
    const d = new AnomalyDetector({ baselineMinSamples: 10 });
    for (let i = 0; i < 20; i++) expect(d.evaluate(reading({ cpu: 10 + (i % 3) }), 0).anomalies).to.deep.equal([]);
    const e = d.evaluate(reading({ cpu: 60 }), 0);
    expect(metrics(e)).to.deep.equal(['cpuPercent.baseline']);
    const a = e.anomalies[0];
    expect(a?.threshold).to.be.greaterThan(11).and.lessThan(60);
    expect(a?.message).to.match(/baseline/);
  });

  it('does not flag small wobbles of a flat metric (minimum rise)', () => {
    const d = new AnomalyDetector({ baselineMinSamples: 10 });
    for (let i = 0; i < 20; i++) d.evaluate(reading({ lag: 1 }), 0);
    expect(d.evaluate(reading({ lag: 5 }), 0).anomalies).to.deep.equal([]);
  });

  it('needs enough history before the baseline rule applies', () => {
    const d = new AnomalyDetector({ baselineMinSamples: 10 });
    for (let i = 0; i < 5; i++) d.evaluate(reading({ cpu: 1 }), 0);
    expect(d.evaluate(reading({ cpu: 80 }), 0).anomalies).to.deep.equal([]);
  });
});
