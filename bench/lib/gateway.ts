/**
 * The real gateway (real workers, real PTYs, a temp SQLite file) started the way the tests start
 * it, on 127.0.0.1 and port 0, with the first user registered (admin, so shell sessions are
 * allowed). `stop()` also checks that nothing it started survives.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerUser, uniqueName } from '../../test/helpers/api.js';
import { GatewayProcess } from '../../test/helpers/gateway-process.js';
import { BenchClient } from './bench-client.js';

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const GEN_OUTPUT = path.join(BENCH_DIR, 'fixtures/gen-output.mjs');

/** What every benchmark gateway runs with unless a benchmark overrides it. */
const BENCH_ENV: Record<string, string> = {
  WORKER_COUNT: '2',
  MAX_SESSIONS_PER_USER: '100',
  // Heartbeats of the test default (30 s) would never fire in a run; keep the production default.
  WS_HEARTBEAT_INTERVAL_MS: '30000',
};

export interface BenchGateway {
  process: GatewayProcess;
  url: string;
  wsUrl: string;
  token: string;
  /** A socket of the admin user, authenticated. */
  client(): Promise<BenchClient>;
  stop(): Promise<void>;
}

export async function startGateway(env: Record<string, string> = {}): Promise<BenchGateway> {
  const g = await GatewayProcess.start({ env: { ...BENCH_ENV, ...env } });
  let admin: { token: string };
  try {
    admin = await registerUser(g.url, uniqueName('bench'));
  } catch (err) {
    await g.stop().catch(() => undefined);
    g.cleanup();
    throw err;
  }
  const clients: BenchClient[] = [];
  return {
    process: g,
    url: g.url,
    wsUrl: g.wsUrl,
    token: admin.token,
    async client() {
      const c = await BenchClient.authed(g.wsUrl, admin.token);
      clients.push(c);
      return c;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.close()));
      try {
        await g.stop(30_000);
      } finally {
        g.cleanup();
      }
    },
  };
}

/** `node gen-output.mjs …` as typed into a shell session (absolute path: the cwd is a temp dir). */
export function genCommand(args: string): string {
  return `node ${GEN_OUTPUT} ${args}\r`;
}

let nonceCounter = 0;
export function nonce(): string {
  nonceCounter++;
  return `n${process.pid}x${nonceCounter}x${Math.floor(Math.random() * 1e6)}`;
}

/** Environment of the gateway shared by a quick run: what every benchmark needs at once. */
export const SHARED_GATEWAY_ENV: Record<string, string> = {
  BCRYPT_ROUNDS: '12',
  MAX_SESSIONS_PER_USER: '200',
  // All benchmark clients are 127.0.0.1 (see bench/logins.ts).
  LOGIN_MAX_FAILURES_PER_ADDRESS: '1000',
};

/** Hands out gateways: fresh per lease in full mode, one shared in quick mode. */
export class GatewayPool {
  private shared: Promise<BenchGateway> | undefined;

  constructor(private readonly quick: boolean) {}

  async lease(env: Record<string, string> = {}): Promise<{ gw: BenchGateway; release(): Promise<void> }> {
    if (this.quick) {
      this.shared ??= startGateway(SHARED_GATEWAY_ENV);
      const gw = await this.shared;
      return { gw, release: async () => undefined };
    }
    const gw = await startGateway(env);
    return { gw, release: () => gw.stop() };
  }

  async close(): Promise<void> {
    const shared = this.shared;
    this.shared = undefined;
    if (shared) await (await shared).stop();
  }
}
