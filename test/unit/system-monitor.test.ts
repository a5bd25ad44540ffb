/** The monitor in-process on a real SQLite file: forced anomalies through the thresholds. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import pino from 'pino';
import { migrate } from '../../common/db/migrate.js';
import { type Db, openDatabase } from '../../common/db/open.js';
import { SystemMonitor } from '../../gateway/monitor/system-monitor.js';

describe('SystemMonitor (real SQLite file, real host readings)', () => {
  let dir: string;
  let db: Db;
  let lines: string[];
  let monitor: SystemMonitor | undefined;
  const log = () =>
    pino(
      { level: 'info' },
      new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
  let sources: {
    sessions: () => { active: number; attached: number };
    wsConnections: () => number;
    workersRssBytes: () => Promise<number>;
    workerRestarts: () => number;
  };
  /** Rules that the host's real (possibly busy) state could trip are switched off. */
  const quiet = {
    cpuPercent: Infinity,
    memoryPercent: Infinity,
    eventLoopLagMs: Infinity,
    baselineMinSamples: Infinity,
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccm-monitor-'));
    db = openDatabase(path.join(dir, 'm.db'), { synchronous: 'NORMAL' });
    migrate(db);
    lines = [];
    sources = {
      sessions: () => ({ active: 3, attached: 2 }),
      wsConnections: () => 4,
      workersRssBytes: async () => 1234,
      workerRestarts: () => 0,
    };
  });
  afterEach(async () => {
    await monitor?.stop();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('takes a sample from its sources and stores it', async () => {
    monitor = new SystemMonitor(db, sources, { intervalMs: 1000, dbPath: path.join(dir, 'm.db') }, log());
    const s = await monitor.sample();
    expect(s).to.deep.include({ sessions: { active: 3, attached: 2 }, ws: { connections: 4 } });
    expect(s.process.workersRssBytes).to.equal(1234);
    expect(s.cpuPercent).to.be.within(0, 100);
    expect(s.db.ok).to.equal(true);
    expect(s.db.walBytes).to.be.greaterThan(0);
    expect(monitor.samples.latest()).to.deep.equal(s);
  });

  it('a tiny threshold forces an anomaly: reported in the sample, logged once at start and once at clear', async () => {
    monitor = new SystemMonitor(
      db,
      sources,
      {
        intervalMs: 1000,
        dbPath: path.join(dir, 'm.db'),
        thresholds: { ...quiet, activeSessions: 0, dbLatencyMs: -1 },
      },
      log(),
    );
    const first = await monitor.sample();
    expect(first.anomalies.map((a) => a.metric).sort()).to.deep.equal(['db.latencyMs', 'sessions.active']);
    await monitor.sample();
    sources.sessions = () => ({ active: 0, attached: 0 });
    const third = await monitor.sample();
    expect(third.anomalies.map((a) => a.metric)).to.deep.equal(['db.latencyMs']);
    const started = lines.filter((l) => l.includes('anomaly started'));
    const cleared = lines.filter((l) => l.includes('anomaly cleared'));
    expect(started).to.have.length(2);
    expect(cleared).to.have.length(1);
    expect(cleared[0]).to.include('sessions.active');
    expect(JSON.parse(started.find((l) => l.includes('sessions.active')) as string)).to.include({
      reading: 3,
      threshold: 0,
    });
  });

  it('samples on its interval once started, and stops', async () => {
    monitor = new SystemMonitor(db, sources, { intervalMs: 100, dbPath: path.join(dir, 'm.db') }, log());
    monitor.start();
    const deadline = Date.now() + 10_000;
    while (monitor.samples.range(0, Date.now() + 1000, 100).length < 3) {
      if (Date.now() > deadline) throw new Error('no samples');
      await new Promise((r) => setTimeout(r, 50));
    }
    await monitor.stop();
    const n = monitor.samples.range(0, Date.now() + 1000, 1000).length;
    await new Promise((r) => setTimeout(r, 300));
    expect(monitor.samples.range(0, Date.now() + 1000, 1000).length).to.equal(n);
  });
});
