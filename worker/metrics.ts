/** The worker's own Prometheus metrics; the gateway aggregates every worker's into /metrics. */
import client from 'prom-client';

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

export const outputBytes = new client.Counter({
  name: 'ccm_output_chars_total',
  help: 'Terminal output read from PTYs (UTF-16 code units)',
  registers: [registry],
});
export const inputBytes = new client.Counter({
  name: 'ccm_input_chars_total',
  help: 'Terminal input written to PTYs (UTF-16 code units)',
  registers: [registry],
});
export const historyLines = new client.Counter({
  name: 'ccm_history_lines_written_total',
  help: 'Terminal lines committed to history',
  registers: [registry],
});
export const dbWriteSeconds = new client.Histogram({
  name: 'ccm_db_write_duration_seconds',
  help: 'Duration of one history write transaction',
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});
export const ptyPaused = new client.Counter({
  name: 'ccm_pty_flow_pauses_total',
  help: 'Times a PTY was paused because viewers or the terminal parser fell behind',
  registers: [registry],
});
