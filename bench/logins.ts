/**
 * Benchmark 7 (and issue 2's first benchmark): 20 concurrent logins at bcrypt cost 12 while a
 * keystroke echo runs (benchmark 3's measurement): logins/s, the gateway's event-loop lag
 * p50/p99 meanwhile, and the echo p99 against the same echo without logins. Baseline: the same
 * logins against the product's AuthService with hashing on the main thread (a separate process,
 * bench/fixtures/main-thread-login-server.ts), with its own event-loop lag.
 */
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { registerUser, uniqueName } from '../test/helpers/api.js';
import { measureEcho, SessionEcho } from './lib/echo.js';
import { endLagWindow, startLagWindow } from './lib/event-loop-lag.js';
import { BENCH_DIR } from './lib/gateway.js';
import { percentile } from './lib/stats.js';
import type { Benchmark } from './lib/types.js';

/** Concurrent logins (the 20; 4 in quick mode, where cost-12 hashing dominates time). */
export const LOGINS = { quick: 4, full: 20 };
export const BCRYPT_ROUNDS = 12;
/** Keystrokes of the reference echo without logins. */
const IDLE_KEYS = { quick: 100, full: 500 };
/** Keystrokes the echo may send while the logins run (bounds that loop). */
const MAX_KEYS_DURING = 100_000;
/** The baseline server must say it listens within this time. */
const BASELINE_START_TIMEOUT_MS = 30_000;
const PASSWORD = 'correct horse battery staple';
/**
 * Each login is a different user: the login limiter counts an attempt as a failure until bcrypt
 * has verified it (so parallel guesses cannot slip through), hence one account's parallel logins
 * are limited after LOGIN_MAX_FAILURES_PER_ACCOUNT. Every benchmark client is 127.0.0.1, so
 * the per-address bound is raised for the run (production clients have their own addresses).
 */
export const LOGIN_LIMITS_ENV = { LOGIN_MAX_FAILURES_PER_ADDRESS: '1000' };
const BASELINE_USER_PREFIX = 'benchlogin';

/** One login per user, all at once: logins/s over the whole burst. */
async function concurrentLogins(url: string, usernames: readonly string[], password: string): Promise<number> {
  const t0 = performance.now();
  const statuses = await Promise.all(
    usernames.map((username) =>
      fetch(`${url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  const failed = statuses.filter((s) => s !== 200).length;
  if (failed > 0)
    throw new Error(`${failed} of ${usernames.length} logins failed (statuses ${[...new Set(statuses)].join(',')})`);
  return usernames.length / seconds;
}

async function startBaselineServer(count: number): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(path.join(BENCH_DIR, 'fixtures/main-thread-login-server.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      BCRYPT_ROUNDS: String(BCRYPT_ROUNDS),
      LOGIN_USER_PREFIX: BASELINE_USER_PREFIX,
      LOGIN_USERS: String(count),
      LOGIN_PASSWORD: PASSWORD,
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('baseline login server did not start')), BASELINE_START_TIMEOUT_MS);
    child.once('message', (m: { port: number }) => {
      clearTimeout(timer);
      resolve(m.port);
    });
    child.once('exit', (code) => reject(new Error(`baseline login server exited (${code})`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

export const logins: Benchmark = {
  name: 'logins',
  id: '7',
  title: '20 concurrent logins at cost 12 beside a keystroke echo',
  rounds: { quick: 1, full: 3 },
  async run(ctx) {
    const count = ctx.quick ? LOGINS.quick : LOGINS.full;
    const { gw, release } = await ctx.gateway({ BCRYPT_ROUNDS: String(BCRYPT_ROUNDS), ...LOGIN_LIMITS_ENV });
    let pooled: {
      loginsPerS: number;
      lagP50: number;
      lagP99: number;
      echoIdleP99: number;
      echoDuringP99: number;
      keysDuring: number;
    };
    try {
      const users = await Promise.all(
        Array.from(
          { length: count },
          async (_, i) => (await registerUser(gw.url, uniqueName(`login${i}x`), PASSWORD)).user.username,
        ),
      );
      const echo = await SessionEcho.start(await gw.client());
      const echoIdle = await measureEcho(echo, ctx.quick ? IDLE_KEYS.quick : IDLE_KEYS.full);
      await startLagWindow(gw.url);
      let running = true;
      const during = measureEcho(echo, MAX_KEYS_DURING, () => !running);
      // Awaited below; until then a lost echo must not count as an unhandled rejection.
      during.catch(() => undefined);
      const loginsPerS = await concurrentLogins(gw.url, users, PASSWORD).finally(() => (running = false));
      const echoDuring = await during;
      const lag = await endLagWindow(gw.url);
      pooled = {
        loginsPerS,
        lagP50: lag.gatewayP50Ms,
        lagP99: lag.gatewayP99Ms,
        echoIdleP99: percentile(echoIdle, 99),
        echoDuringP99: percentile(echoDuring, 99),
        keysDuring: echoDuring.length,
      };
    } finally {
      await release();
    }
    ctx.log('baseline: hashing on the main thread');
    const base = await startBaselineServer(count);
    let baseline: { loginsPerS: number; lagP50: number; lagP99: number };
    try {
      await fetch(`${base.url}/lag`);
      const names = Array.from({ length: count }, (_, i) => `${BASELINE_USER_PREFIX}${i}`);
      const loginsPerS = await concurrentLogins(base.url, names, PASSWORD);
      const lag = (await (await fetch(`${base.url}/lag`)).json()) as { p50Ms: number; p99Ms: number };
      baseline = { loginsPerS, lagP50: lag.p50Ms, lagP99: lag.p99Ms };
    } finally {
      const exited = new Promise((r) => base.child.once('exit', r));
      base.child.disconnect();
      await exited;
    }
    return [
      {
        metric: `logins/s, ${count} concurrent`,
        unit: 'logins/s',
        value: pooled.loginsPerS,
        baseline: { label: 'hashing on the main thread', value: baseline.loginsPerS },
        target: { kind: 'ratioAtLeast', value: 1.5 },
      },
      {
        metric: 'gateway event-loop lag p50 during logins',
        unit: 'ms',
        value: pooled.lagP50,
        baseline: { label: 'main-thread hashing server', value: baseline.lagP50 },
      },
      {
        metric: 'gateway event-loop lag p99 during logins',
        unit: 'ms',
        value: pooled.lagP99,
        baseline: { label: 'main-thread hashing server', value: baseline.lagP99 },
        target: { kind: 'atMost', value: 10 },
      },
      {
        metric: 'echo p99 during logins',
        unit: 'ms',
        value: pooled.echoDuringP99,
        baseline: { label: 'same echo without logins', value: pooled.echoIdleP99 },
        target: { kind: 'addedAtMost', value: 2 },
        note: `${pooled.keysDuring} keys during the logins`,
      },
    ];
  },
};
