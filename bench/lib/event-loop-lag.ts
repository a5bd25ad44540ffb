/**
 * Event-loop lag of the gateway and its workers, read from the gateway's Prometheus `/metrics`
 * (prom-client default metrics; the workers' are aggregated by the gateway under `ccm_worker_`).
 *
 * What the numbers mean: prom-client keeps a `monitorEventLoopDelay({ resolution: 10 })`
 * histogram per process and RESETS it on every scrape. Its samples are the time between two
 * 10 ms timer ticks, so the lag is the recorded value minus the 10 ms resolution. A benchmark
 * therefore scrapes once to start a window (`startLagWindow`) and once to end it
 * (`endLagWindow`): the percentiles cover exactly that window. Worker figures are aggregated by
 * prom-client across workers: p50/p99 are the MEAN over workers, max is the max over workers.
 * A block of N ms counts as one sample (the timer fires once after it), so p99 under-weights
 * long stalls: max is reported beside it.
 */

/** prom-client's default eventLoopMonitoringPrecision: every sample includes it. */
export const PROM_LAG_RESOLUTION_MS = 10;

export interface LagWindow {
  gatewayP50Ms: number;
  gatewayP99Ms: number;
  gatewayMaxMs: number;
  workerP99Ms: number;
  workerMaxMs: number;
}

/** Unlabelled samples of a Prometheus text exposition, by metric name. */
export function parseProm(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.length === 0) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[2] === undefined) out.set(m[1] as string, Number(m[3]));
  }
  return out;
}

export async function scrapeMetrics(baseUrl: string): Promise<Map<string, number>> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parseProm(await res.text());
}

const lagMs = (m: Map<string, number>, name: string): number => {
  const v = m.get(name);
  return v === undefined ? Number.NaN : Math.max(0, v * 1000 - PROM_LAG_RESOLUTION_MS);
};

/** Resets every process's histogram: the next `endLagWindow` covers from now. */
export async function startLagWindow(baseUrl: string): Promise<void> {
  await scrapeMetrics(baseUrl);
}

export async function endLagWindow(baseUrl: string): Promise<LagWindow> {
  const m = await scrapeMetrics(baseUrl);
  return {
    gatewayP50Ms: lagMs(m, 'nodejs_eventloop_lag_p50_seconds'),
    gatewayP99Ms: lagMs(m, 'nodejs_eventloop_lag_p99_seconds'),
    gatewayMaxMs: lagMs(m, 'nodejs_eventloop_lag_max_seconds'),
    workerP99Ms: lagMs(m, 'ccm_worker_nodejs_eventloop_lag_p99_seconds'),
    workerMaxMs: lagMs(m, 'ccm_worker_nodejs_eventloop_lag_max_seconds'),
  };
}
