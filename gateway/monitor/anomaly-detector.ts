/**
 * Anomaly rules over successive samples: fixed thresholds (documented below, overridable through
 * the constructor) plus a rolling baseline — a reading far above its own recent history is
 * anomalous even below the fixed threshold. The detector remembers which anomalies are active so
 * the monitor can log each one once when it starts and once when it clears.
 */
import type { Anomaly, MetricsSample } from '../../common/metrics-sample.js';

export interface AnomalyThresholds {
  /** CPU busy share of the whole machine over one interval: sessions will feel slow beyond it. */
  cpuPercent: number;
  /** Memory in use: beyond it the kernel may start killing sessions. */
  memoryPercent: number;
  /** Gateway event-loop lag (p99 over the interval): every keystroke echo waits this long. */
  eventLoopLagMs: number;
  /** Running sessions on this one host (each Claude Code CLI takes ~150–400 MB). */
  activeSessions: number;
  /** One indexed read query: normally well under 1 ms; slower means lock contention or a sick disk. */
  dbLatencyMs: number;
  /** Worker restarts tolerated within `workerRestartWindowMs` (0: any restart is an anomaly). */
  workerRestarts: number;
  /** How long a worker restart keeps being reported. */
  workerRestartWindowMs: number;
  /** Rolling baseline: samples remembered per metric... */
  baselineSamples: number;
  /** ...how many are needed before the rule applies... */
  baselineMinSamples: number;
  /** ...and how many standard deviations above the mean count as anomalous. */
  baselineSigmas: number;
}

export const DEFAULT_THRESHOLDS: Readonly<AnomalyThresholds> = Object.freeze({
  cpuPercent: 90,
  memoryPercent: 90,
  eventLoopLagMs: 100,
  activeSessions: 100,
  dbLatencyMs: 100,
  workerRestarts: 0,
  workerRestartWindowMs: 10 * 60_000,
  baselineSamples: 60,
  baselineMinSamples: 10,
  baselineSigmas: 3,
});

type Reading = Omit<MetricsSample, 'anomalies'>;

/**
 * Metrics the rolling baseline watches, with the smallest rise that may count: a metric that is
 * flat (σ ≈ 0) would otherwise turn every tiny wobble into an anomaly.
 */
export const BASELINE_METRICS: readonly {
  metric: string;
  read: (r: Reading) => number;
  minRise: number;
  unit: string;
}[] = [
  { metric: 'cpuPercent', read: (r) => r.cpuPercent, minRise: 15, unit: '%' },
  { metric: 'memory.percent', read: (r) => r.memory.percent, minRise: 10, unit: '%' },
  { metric: 'eventLoopLagMs', read: (r) => r.eventLoopLagMs, minRise: 25, unit: ' ms' },
  { metric: 'db.latencyMs', read: (r) => r.db.latencyMs, minRise: 20, unit: ' ms' },
  { metric: 'process.gatewayRssBytes', read: (r) => r.process.gatewayRssBytes, minRise: 128 * 1024 * 1024, unit: ' B' },
  { metric: 'process.workersRssBytes', read: (r) => r.process.workersRssBytes, minRise: 256 * 1024 * 1024, unit: ' B' },
];

export interface Evaluation {
  anomalies: Anomaly[];
  /** Anomalies that were not active at the previous sample. */
  started: Anomaly[];
  /** Metrics that were anomalous at the previous sample and are not any more. */
  cleared: string[];
}

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(1));

export class AnomalyDetector {
  readonly thresholds: Readonly<AnomalyThresholds>;
  private readonly history = new Map<string, number[]>();
  private readonly restartTimes: number[] = [];
  private lastRestartCount: number | undefined;
  private active = new Set<string>();

  constructor(overrides: Partial<AnomalyThresholds> = {}) {
    this.thresholds = Object.freeze({ ...DEFAULT_THRESHOLDS, ...overrides });
  }

  /** `workerRestarts` is the supervisor's cumulative restart counter. */
  evaluate(r: Reading, workerRestarts: number, nowMs: number = Date.parse(r.timestamp)): Evaluation {
    const t = this.thresholds;
    const found: Anomaly[] = [];
    const above = (metric: string, value: number, threshold: number, what: string, unit: string) => {
      if (value > threshold) {
        found.push({
          metric,
          value,
          threshold,
          message: `${what} ${fmt(value)}${unit} is above ${fmt(threshold)}${unit}`,
        });
      }
    };
    above('cpuPercent', r.cpuPercent, t.cpuPercent, 'CPU', '%');
    above('memory.percent', r.memory.percent, t.memoryPercent, 'Memory in use', '%');
    above('eventLoopLagMs', r.eventLoopLagMs, t.eventLoopLagMs, 'Gateway event-loop lag', ' ms');
    above('sessions.active', r.sessions.active, t.activeSessions, 'Running sessions', '');
    above('db.latencyMs', r.db.latencyMs, t.dbLatencyMs, 'Database query latency', ' ms');
    if (!r.db.ok) found.push({ metric: 'db.ok', value: 0, threshold: 1, message: 'The database health query failed' });

    const newRestarts = this.lastRestartCount === undefined ? 0 : Math.max(0, workerRestarts - this.lastRestartCount);
    this.lastRestartCount = workerRestarts;
    for (let i = 0; i < newRestarts; i++) this.restartTimes.push(nowMs);
    while (this.restartTimes.length > 0 && (this.restartTimes[0] as number) <= nowMs - t.workerRestartWindowMs)
      this.restartTimes.shift();
    const restarts = this.restartTimes.length;
    if (restarts > t.workerRestarts) {
      const window = `${fmt(t.workerRestartWindowMs / 60_000)} min`;
      found.push({
        metric: 'workerRestarts',
        value: restarts,
        threshold: t.workerRestarts,
        message: `${restarts} worker restart${restarts === 1 ? '' : 's'} in the last ${window} (a worker crashed; its sessions ended)`,
      });
    }

    for (const b of BASELINE_METRICS) {
      const value = b.read(r);
      const past = this.history.get(b.metric) ?? [];
      if (past.length >= t.baselineMinSamples) {
        const mean = past.reduce((s, v) => s + v, 0) / past.length;
        const sd = Math.sqrt(past.reduce((s, v) => s + (v - mean) ** 2, 0) / past.length);
        const limit = mean + Math.max(t.baselineSigmas * sd, b.minRise);
        if (value > limit) {
          found.push({
            metric: `${b.metric}.baseline`,
            value,
            threshold: Math.round(limit * 100) / 100,
            message: `${b.metric} ${fmt(value)}${b.unit} is far above its recent baseline (mean ${fmt(mean)}${b.unit} of ${past.length} samples)`,
          });
        }
      }
      past.push(value);
      if (past.length > t.baselineSamples) past.shift();
      this.history.set(b.metric, past);
    }

    const now = new Set(found.map((a) => a.metric));
    const started = found.filter((a) => !this.active.has(a.metric));
    const cleared = [...this.active].filter((m) => !now.has(m));
    this.active = now;
    return { anomalies: found, started, cleared };
  }
}
