/**
 * Prometheus metrics of the gateway, and the /metrics exposition that aggregates them with every
 * worker's (each worker's registry is fetched over IPC as JSON and merged by prom-client).
 * No label ever carries a user or session id.
 */
import client from 'prom-client';
import type { Supervisor } from './supervisor/supervisor.js';

/**
 * prom-client's default `nodejs_active_{handles,requests,resources}_total` are gauges named like
 * counters, which breaks Prometheus naming rules (promtool check metrics rejects them). They are
 * only the sums of the labelled `nodejs_active_handles` / `_requests` / `_resources` series, so
 * the exposition leaves them out.
 */
const REDUNDANT_TOTALS =
  /^(?:# (?:HELP|TYPE) )?(?:ccm_worker_)?nodejs_active_(?:handles|requests|resources)_total\b.*\n?/gm;

function lintSafe(text: string): string {
  return text.replace(REDUNDANT_TOTALS, '');
}

export class GatewayMetrics {
  readonly registry = new client.Registry();
  readonly sessionsCreated = new client.Counter({
    name: 'ccm_sessions_created_total',
    help: 'Sessions created',
    labelNames: ['profile'],
    registers: [this.registry],
  });
  readonly sessionsClosed = new client.Counter({
    name: 'ccm_sessions_closed_total',
    help: 'Sessions ended, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly stateChanges = new client.Counter({
    name: 'ccm_session_state_changes_total',
    help: 'Session state changes, by new state',
    labelNames: ['state'],
    registers: [this.registry],
  });
  readonly logins = new client.Counter({
    name: 'ccm_login_attempts_total',
    help: 'Login attempts, by result',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly workerRestarts = new client.Counter({
    name: 'ccm_worker_restarts_total',
    help: 'Worker processes restarted after a crash',
    registers: [this.registry],
  });
  readonly wsMessages = new client.Counter({
    name: 'ccm_ws_messages_total',
    help: 'Client WebSocket messages, by type',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly httpDuration = new client.Histogram({
    name: 'ccm_http_request_duration_seconds',
    help: 'HTTP request duration, by route template and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly ipcRoundTrip = new client.Histogram({
    name: 'ccm_ipc_round_trip_seconds',
    help: 'Gateway to worker request round trip (heartbeat ping)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });

  constructor(gauges: {
    activeSessions: () => number;
    attached: () => number;
    sockets: () => number;
    workersReady: () => number;
  }) {
    client.collectDefaultMetrics({ register: this.registry });
    const reg = [this.registry];
    new client.Gauge({
      name: 'ccm_sessions_active',
      help: 'Running sessions',
      registers: reg,
      collect() {
        this.set(gauges.activeSessions());
      },
    });
    new client.Gauge({
      name: 'ccm_sessions_attached_viewers',
      help: 'Viewers attached to sessions',
      registers: reg,
      collect() {
        this.set(gauges.attached());
      },
    });
    new client.Gauge({
      name: 'ccm_ws_connections',
      help: 'Open WebSocket connections',
      registers: reg,
      collect() {
        this.set(gauges.sockets());
      },
    });
    new client.Gauge({
      name: 'ccm_workers_ready',
      help: 'Worker processes ready',
      registers: reg,
      collect() {
        this.set(gauges.workersReady());
      },
    });
  }

  /** The exposition: gateway metrics plus the sum over workers (their default metrics included). */
  async exposition(supervisor: Supervisor): Promise<{ contentType: string; body: string }> {
    const workerMetrics = await Promise.all(
      supervisor
        .workers()
        .filter((w) => w.ready)
        .map((w) =>
          w.request<'metrics'>({ type: 'metrics' }, 2000).then(
            (r) => r.metrics,
            () => null,
          ),
        ),
    );
    type WorkerJson = Parameters<typeof client.AggregatorRegistry.aggregate>[0];
    const parts = workerMetrics.filter((m): m is unknown[] => m !== null) as unknown as WorkerJson;
    const gatewayText = await this.registry.metrics();
    if (parts.length === 0) return { contentType: this.registry.contentType, body: lintSafe(gatewayText) };
    const workers = client.AggregatorRegistry.aggregate(parts);
    // Worker process_* / nodejs_* series are renamed so they do not collide with the gateway's.
    const workerText = (await workers.metrics()).replace(/^(# (?:HELP|TYPE) )?(process_|nodejs_)/gm, '$1ccm_worker_$2');
    return { contentType: this.registry.contentType, body: lintSafe(`${gatewayText}\n${workerText}`) };
  }
}
