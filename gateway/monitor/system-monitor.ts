/**
 * Every MONITORING_INTERVAL: one MetricsSample (API.md) of the host, the gateway, its workers,
 * sessions, sockets and database, checked by the anomaly detector, stored in metrics_samples
 * (pruned by the cleanup after MONITORING_RETENTION_DAYS) and kept in memory as the latest.
 */
import fs from 'node:fs';
import os from 'node:os';
import { type IntervalHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Db } from '../../common/db/open.js';
import { MetricsSamplesRepository } from '../../common/db/repositories/metrics-samples.js';
import type { Logger } from '../../common/log.js';
import type { MetricsSample } from '../../common/metrics-sample.js';
import { AnomalyDetector, type AnomalyThresholds } from './anomaly-detector.js';
import { CpuMeter } from './cpu-meter.js';

/** Event-loop delay timer resolution; the lag reported is the delay beyond it. */
export const EVENT_LOOP_RESOLUTION_MS = 20;

export interface MonitorSources {
  sessions(): { active: number; attached: number };
  wsConnections(): number;
  workersRssBytes(): Promise<number>;
  /** Cumulative count of worker restarts (supervisor.restarts). */
  workerRestarts(): number;
}

export interface MonitorOptions {
  intervalMs: number;
  /** The SQLite file, to size its -wal file. */
  dbPath: string;
  thresholds?: Partial<AnomalyThresholds>;
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

export class SystemMonitor {
  readonly samples: MetricsSamplesRepository;
  readonly detector: AnomalyDetector;
  private readonly cpu = new CpuMeter();
  private readonly loopDelay: IntervalHistogram;
  private readonly dbProbe;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<MetricsSample> | undefined;
  private last: MetricsSample | undefined;

  constructor(
    db: Db,
    private readonly sources: MonitorSources,
    private readonly opts: MonitorOptions,
    private readonly log: Logger,
  ) {
    this.samples = new MetricsSamplesRepository(db);
    this.detector = new AnomalyDetector(opts.thresholds);
    // A real, indexed query that reads the file (not `SELECT 1`, which never touches it).
    this.dbProbe = db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM sessions WHERE status = 'running'");
    this.loopDelay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  }

  start(): void {
    this.loopDelay.enable();
    this.timer = setInterval(() => {
      // A slow sample (a worker not answering) is not overlapped by the next one.
      if (!this.inFlight) void this.sample().catch((err: unknown) => this.log.error({ err }, 'metrics sample failed'));
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  /** Stops sampling; resolves once a sample in progress has been stored. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.loopDelay.disable();
    await this.inFlight?.catch(() => undefined);
  }

  /** The newest sample of this run (a stored one from a previous run would describe another process). */
  latest(): MetricsSample | undefined {
    return this.last;
  }

  /** Takes a sample now (joining one already in progress), stores it and returns it. */
  sample(): Promise<MetricsSample> {
    this.inFlight ??= this.take().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async take(): Promise<MetricsSample> {
    const workersRssBytes = await this.sources.workersRssBytes();
    const timestamp = new Date().toISOString();
    const total = os.totalmem();
    const used = total - os.freemem();
    const load = os.loadavg();
    const reading: Omit<MetricsSample, 'anomalies'> = {
      timestamp,
      cpuPercent: this.cpu.read(),
      loadAvg: [round2(load[0] ?? 0), round2(load[1] ?? 0), round2(load[2] ?? 0)],
      memory: { totalBytes: total, usedBytes: used, percent: round2((100 * used) / total) },
      process: { gatewayRssBytes: process.memoryUsage.rss(), workersRssBytes },
      sessions: this.sources.sessions(),
      ws: { connections: this.sources.wsConnections() },
      db: this.probeDb(),
      eventLoopLagMs: this.readLoopLag(),
    };
    const { anomalies, started, cleared } = this.detector.evaluate(reading, this.sources.workerRestarts());
    // Field names avoid `value`, which the logger redacts as a possible credential.
    for (const a of started)
      this.log.warn({ metric: a.metric, reading: a.value, threshold: a.threshold }, `anomaly started: ${a.message}`);
    for (const metric of cleared) this.log.info({ metric }, `anomaly cleared: ${metric}`);
    const sample: MetricsSample = { ...reading, anomalies };
    this.last = sample;
    try {
      this.samples.insert(sample);
    } catch (err) {
      this.log.error({ err }, 'could not store a metrics sample');
    }
    return sample;
  }

  private probeDb(): MetricsSample['db'] {
    const started = performance.now();
    let ok = true;
    try {
      this.dbProbe.get();
    } catch {
      ok = false;
    }
    const latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
    let walBytes = 0;
    try {
      walBytes = fs.statSync(`${this.opts.dbPath}-wal`).size;
    } catch {
      // No -wal file (checkpointed and truncated, or not WAL): nothing pending.
    }
    return { ok, latencyMs, walBytes };
  }

  /** p99 of the event-loop delay since the previous sample, beyond the timer's own resolution. */
  private readLoopLag(): number {
    const h = this.loopDelay;
    const lag = h.count > 0 ? Math.max(0, h.percentile(99) / 1e6 - EVENT_LOOP_RESOLUTION_MS) : 0;
    h.reset();
    return round2(lag);
  }
}
