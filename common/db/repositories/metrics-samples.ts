/**
 * metrics_samples: one JSON MetricsSample per row, keyed by its time (epoch ms). Averages are
 * computed by SQLite (json_extract) so a 24 h window never parses thousands of rows in JS.
 */

import type { Anomaly, MetricsSample } from '../../metrics-sample.js';
import type { Db } from '../open.js';

/** Numeric fields of a sample, as JSON paths, averaged by `average()`. */
const AVERAGED_PATHS = {
  cpuPercent: '$.cpuPercent',
  load1: '$.loadAvg[0]',
  load5: '$.loadAvg[1]',
  load15: '$.loadAvg[2]',
  memTotal: '$.memory.totalBytes',
  memUsed: '$.memory.usedBytes',
  memPercent: '$.memory.percent',
  gatewayRss: '$.process.gatewayRssBytes',
  workersRss: '$.process.workersRssBytes',
  sessionsActive: '$.sessions.active',
  sessionsAttached: '$.sessions.attached',
  wsConnections: '$.ws.connections',
  dbLatency: '$.db.latencyMs',
  walBytes: '$.db.walBytes',
  eventLoopLag: '$.eventLoopLagMs',
} as const;

type AverageRow = { [K in keyof typeof AVERAGED_PATHS]: number | null } & { n: number; dbOkAll: number | null };

const round = (v: number | null, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round((v ?? 0) * f) / f;
};

export class MetricsSamplesRepository {
  private readonly insertStmt;
  private readonly latestStmt;
  private readonly rangeStmt;
  private readonly averageStmt;
  private readonly anomaliesStmt;

  constructor(private readonly db: Db) {
    // Two samples in one millisecond (a forced sample racing the timer): the later one wins.
    this.insertStmt = db.prepare('INSERT OR REPLACE INTO metrics_samples (timestamp, data) VALUES (?, ?)');
    this.latestStmt = db.prepare<[], { data: string }>(
      'SELECT data FROM metrics_samples ORDER BY timestamp DESC LIMIT 1',
    );
    this.rangeStmt = db.prepare<[number, number, number], { data: string }>(
      'SELECT data FROM metrics_samples WHERE timestamp >= ? AND timestamp <= ? ORDER BY timestamp LIMIT ?',
    );
    const columns = Object.entries(AVERAGED_PATHS)
      .map(([name, p]) => `AVG(json_extract(data, '${p}')) AS ${name}`)
      .join(', ');
    this.averageStmt = db.prepare<[number, number], AverageRow>(
      `SELECT COUNT(*) AS n, MIN(json_extract(data, '$.db.ok')) AS dbOkAll, ${columns}
       FROM metrics_samples WHERE timestamp >= ? AND timestamp <= ?`,
    );
    this.anomaliesStmt = db.prepare<
      [number, number],
      { metric: string; value: number; threshold: number; message: string }
    >(
      `SELECT json_extract(a.value, '$.metric') AS metric, json_extract(a.value, '$.value') AS value,
              json_extract(a.value, '$.threshold') AS threshold, json_extract(a.value, '$.message') AS message
       FROM metrics_samples s, json_each(s.data, '$.anomalies') a
       WHERE s.timestamp >= ? AND s.timestamp <= ? ORDER BY s.timestamp`,
    );
  }

  insert(sample: MetricsSample): void {
    this.insertStmt.run(Date.parse(sample.timestamp), JSON.stringify(sample));
  }

  latest(): MetricsSample | undefined {
    const row = this.latestStmt.get();
    return row ? (JSON.parse(row.data) as MetricsSample) : undefined;
  }

  /** Samples with fromMs ≤ time ≤ toMs, oldest first, at most `limit` (page on with the last time + 1). */
  range(fromMs: number, toMs: number, limit: number): MetricsSample[] {
    return this.rangeStmt.all(fromMs, toMs, limit).map((r) => JSON.parse(r.data) as MetricsSample);
  }

  /**
   * The mean of every numeric field over [fromMs, toMs] as a MetricsSample stamped `toMs`;
   * `db.ok` is true only if every sample was ok; `anomalies` lists each metric that was anomalous
   * in the window once, with its largest value. Null when the window holds no sample.
   */
  average(fromMs: number, toMs: number): { average: MetricsSample | null; count: number } {
    const a = this.averageStmt.get(fromMs, toMs);
    if (!a || a.n === 0) return { average: null, count: 0 };
    const worst = new Map<string, Anomaly>();
    for (const an of this.anomaliesStmt.all(fromMs, toMs)) {
      const seen = worst.get(an.metric);
      if (!seen || an.value > seen.value) worst.set(an.metric, an);
    }
    return {
      count: a.n,
      average: {
        timestamp: new Date(toMs).toISOString(),
        cpuPercent: round(a.cpuPercent),
        loadAvg: [round(a.load1), round(a.load5), round(a.load15)],
        memory: {
          totalBytes: Math.round(a.memTotal ?? 0),
          usedBytes: Math.round(a.memUsed ?? 0),
          percent: round(a.memPercent),
        },
        process: { gatewayRssBytes: Math.round(a.gatewayRss ?? 0), workersRssBytes: Math.round(a.workersRss ?? 0) },
        sessions: { active: round(a.sessionsActive), attached: round(a.sessionsAttached) },
        ws: { connections: round(a.wsConnections) },
        db: { ok: a.dbOkAll === 1, latencyMs: round(a.dbLatency, 3), walBytes: Math.round(a.walBytes ?? 0) },
        eventLoopLagMs: round(a.eventLoopLag),
        anomalies: [...worst.values()],
      },
    };
  }

  /** Retention: deletes up to `limit` samples older than `beforeMs` (batches keep write locks short). */
  deleteBefore(beforeMs: number, limit: number): number {
    return this.db
      .prepare(
        'DELETE FROM metrics_samples WHERE timestamp IN (SELECT timestamp FROM metrics_samples WHERE timestamp < ? LIMIT ?)',
      )
      .run(beforeMs, limit).changes;
  }
}
