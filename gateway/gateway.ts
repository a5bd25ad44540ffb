/**
 * Builds the gateway from a frozen config: database (migrated before any worker forks), auth,
 * workers, sessions, HTTP and WebSocket on one port. `start()` resolves once it is ready;
 * `shutdown()` is the orderly stop (API.md "Signals").
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type Config, defaultOrigins } from '../common/config.js';
import { migrate } from '../common/db/migrate.js';
import { type Db, openDatabase } from '../common/db/open.js';
import type { Logger } from '../common/log.js';
import { PROJECT_ROOT } from '../common/paths.js';
import { AuthService } from './auth/auth-service.js';
import { PasswordHasher } from './auth/password-hasher.js';
import { Cleanup } from './cleanup.js';
import { createApp } from './http/app.js';
import { adminRoutes } from './http/routes/admin.js';
import { authRoutes } from './http/routes/auth.js';
import { healthRoutes } from './http/routes/health.js';
import { keyRoutes } from './http/routes/keys.js';
import { metricsRoutes } from './http/routes/metrics.js';
import { monitoringRoutes } from './http/routes/monitoring.js';
import { sessionRoutes } from './http/routes/sessions.js';
import { ApiKeyService } from './keys/api-key-service.js';
import { GatewayMetrics } from './metrics.js';
import { SystemMonitor } from './monitor/system-monitor.js';
import { workersRssBytes } from './monitor/worker-stats.js';
import { SessionService } from './sessions/session-service.js';
import { Supervisor } from './supervisor/supervisor.js';
import { ClientRegistry } from './ws/client-registry.js';
import { TerminalSocketServer } from './ws/server.js';

/** A whole request (headers and body) must arrive within this. */
export const HTTP_REQUEST_TIMEOUT_MS = 30_000;
export const HTTP_KEEP_ALIVE_TIMEOUT_MS = 5_000;

export const VERSION: string = (
  JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

export class Gateway {
  readonly db: Db;
  readonly auth: AuthService;
  readonly supervisor: Supervisor;
  readonly sessions: SessionService;
  readonly metrics: GatewayMetrics;
  readonly apiKeys: ApiKeyService;
  readonly monitor: SystemMonitor;
  readonly cleanup: Cleanup;
  readonly server: http.Server;
  readonly sockets: TerminalSocketServer;
  private readonly hasher: PasswordHasher;
  /** Shared by CORS and the upgrade check; filled in after listen when it follows the port. */
  private readonly origins: string[];
  private readonly startedAt = Date.now();
  private stopping: Promise<void> | undefined;
  /** The last history-writer status of each worker. */
  private readonly historyByWorker = new Map<number, 'ok' | 'full' | 'error'>();

  constructor(
    readonly config: Config,
    readonly log: Logger,
  ) {
    this.origins = [...config.allowedOrigins];
    this.db = openDatabase(config.dbPath, { synchronous: 'FULL', maxSizeBytes: config.dbMaxSizeBytes });
    const applied = migrate(this.db);
    if (applied.length > 0) log.info({ applied }, 'database migrated');
    this.hasher = new PasswordHasher(config.bcryptRounds);
    this.auth = new AuthService(this.db, config, this.hasher, log);
    this.supervisor = new Supervisor(
      config.workerCount,
      {
        dbPath: config.dbPath,
        dbMaxSizeBytes: config.dbMaxSizeBytes,
        maxBufferSize: config.maxBufferSize,
        logLevel: config.logLevel,
        logDir: config.logDir,
      },
      log,
    );
    const registry = new ClientRegistry();
    this.metrics = new GatewayMetrics({
      activeSessions: () => this.sessions.liveCount,
      attached: () => this.sessions.attachedCount(),
      sockets: () => this.sockets.connectionCount,
      workersReady: () => this.supervisor.stats().ready,
    });
    this.apiKeys = new ApiKeyService(this.db, config.encryptionKey, log);
    this.sessions = new SessionService(this.db, config, this.supervisor, registry, this.apiKeys, log, {
      created: (profile) => this.metrics.sessionsCreated.inc({ profile }),
      closed: (reason) => this.metrics.sessionsClosed.inc({ reason }),
      stateChanged: (state) => this.metrics.stateChanges.inc({ state }),
    });
    this.auth.on('login', (result) => this.metrics.logins.inc({ result }));
    this.supervisor.on('restarted', () => this.metrics.workerRestarts.inc());
    this.supervisor.on('event', (worker, e) => {
      if (e.type !== 'history') return;
      const state = e.ok ? 'ok' : e.errorCode === 'STORAGE_FULL' ? 'full' : 'error';
      if (this.historyByWorker.get(worker.config.workerId) !== state) {
        this.historyByWorker.set(worker.config.workerId, state);
        if (state !== 'ok') log.error({ workerId: worker.config.workerId, state }, 'history writes failing');
        else log.info({ workerId: worker.config.workerId }, 'history writes resumed');
      }
    });
    this.supervisor.on('rtt', (seconds) => this.metrics.ipcRoundTrip.observe(seconds));
    const stale = this.sessions.repo.markStaleRunningTerminated();
    if (stale > 0) log.warn({ sessions: stale }, 'sessions of the previous run marked terminated');
    this.monitor = new SystemMonitor(
      this.db,
      {
        sessions: () => ({ active: this.sessions.liveCount, attached: this.sessions.attachedCount() }),
        wsConnections: () => this.sockets.connectionCount,
        workersRssBytes: () => workersRssBytes(this.supervisor),
        workerRestarts: () => this.supervisor.restarts,
      },
      { intervalMs: config.monitoringIntervalMs, dbPath: config.dbPath },
      log,
    );
    this.cleanup = new Cleanup(
      this.db,
      {
        dbPath: config.dbPath,
        intervalMs: config.sessionCleanupIntervalMs,
        sessionRetentionDays: config.sessionRetentionDays,
        monitoringRetentionDays: config.monitoringRetentionDays,
        pruneRevokedTokens: () => this.auth.pruneRevoked(),
      },
      log,
    );

    const app = createApp({
      allowedOrigins: this.origins,
      trustProxy: config.trustProxy,
      log,
      routes: [
        [
          '/',
          healthRoutes({
            db: this.db,
            startedAt: this.startedAt,
            workers: () => this.supervisor.stats(),
            history: () => this.historyHealth(),
          }),
        ],
        ['/', metricsRoutes({ token: config.metricsToken, metrics: this.metrics, supervisor: this.supervisor })],
        ['/api/auth', authRoutes(this.auth)],
        ['/api/sessions', sessionRoutes(this.db, this.auth, this.sessions)],
        ['/api/keys', keyRoutes(this.auth, this.apiKeys)],
        ['/api/admin', adminRoutes(this.db, this.auth, log)],
        ['/api/monitoring', monitoringRoutes(this.auth, this.monitor)],
      ],
      onRequestDone: (method, route, status, seconds) =>
        this.metrics.httpDuration.observe({ method, route, status: String(status) }, seconds),
    });
    // Slow clients may not hold connections by dribbling headers (slowloris). Node enforces the
    // timeouts only when it checks, every connectionsCheckingInterval (30 s by default): check
    // four times per headers timeout so a slow socket lives at most ~1.25 × the setting.
    const headersTimeout = config.httpHeadersTimeoutMs;
    this.server = http.createServer(
      { connectionsCheckingInterval: Math.max(100, Math.floor(headersTimeout / 4)) },
      app,
    );
    this.server.headersTimeout = headersTimeout;
    this.server.requestTimeout = Math.max(HTTP_REQUEST_TIMEOUT_MS, headersTimeout);
    this.server.keepAliveTimeout = HTTP_KEEP_ALIVE_TIMEOUT_MS;
    this.sockets = new TerminalSocketServer(this.server, registry, this.auth, this.sessions, log, {
      allowedOrigins: this.origins,
      authTimeoutMs: config.wsAuthTimeoutMs,
      heartbeatIntervalMs: config.wsHeartbeatIntervalMs,
      version: VERSION,
      onMessage: (type) => this.metrics.wsMessages.inc({ type }),
    });
  }

  private historyHealth(): 'ok' | 'full' | 'error' {
    const states = [...this.historyByWorker.values()];
    if (states.includes('full')) return 'full';
    return states.includes('error') ? 'error' : 'ok';
  }

  async start(): Promise<number> {
    const listening = new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.config.port, this.config.host, () => resolve());
    });
    await Promise.all([this.supervisor.start(), listening]);
    const port = (this.server.address() as AddressInfo).port;
    if (this.config.allowedOriginsFromPort) this.origins.splice(0, this.origins.length, ...defaultOrigins(port));
    this.monitor.start();
    this.cleanup.start();
    this.log.info(
      { port, host: this.config.host, workers: this.config.workerCount, ms: Date.now() - this.startedAt },
      'gateway ready',
    );
    return port;
  }

  shutdown(): Promise<void> {
    this.stopping ??= this.doShutdown();
    return this.stopping;
  }

  private async doShutdown(): Promise<void> {
    this.log.info('shutdown started');
    this.sessions.stopAccepting();
    // Timers stop now; a sample or cleanup batch in progress finishes before the DB closes.
    const background = Promise.all([this.monitor.stop(), this.cleanup.stop()]);
    const httpClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await this.sockets.closeAll();
    await this.supervisor.shutdown();
    this.sessions.finishShutdown();
    this.server.closeAllConnections();
    await httpClosed;
    await this.hasher.close();
    await background;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
    this.log.info('shutdown complete');
  }
}
