/** The system monitor's sample (API.md `MetricsSample`), shared by the monitor and its table. */
export interface Anomaly {
  /** Which reading, e.g. `cpuPercent`, or `cpuPercent.baseline` for the rolling-baseline rule. */
  metric: string;
  value: number;
  threshold: number;
  message: string;
}

export interface MetricsSample {
  timestamp: string;
  /** Busy share of all CPUs over the last interval (not since boot), 0–100. */
  cpuPercent: number;
  loadAvg: [number, number, number];
  memory: { totalBytes: number; usedBytes: number; percent: number };
  process: { gatewayRssBytes: number; workersRssBytes: number };
  sessions: { active: number; attached: number };
  ws: { connections: number };
  db: { ok: boolean; latencyMs: number; walBytes: number };
  eventLoopLagMs: number;
  anomalies: Anomaly[];
}
