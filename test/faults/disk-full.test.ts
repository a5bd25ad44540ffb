/**
 * Fault 5 (issue 7): the database runs out of space while a session streams. Figures: the API
 * answers 503 with a code (STORAGE_FULL) over REST and WebSocket; sessions keep running (output
 * flows, input echoes, no process dies); nothing is half-written (a refused write leaves no row,
 * history stays 1..n with every line once); writing resumes when space returns.
 *
 * Two ways to run out of space, one body:
 *  - a real full disk: the data folder is a small tmpfs filled with a filler file (needs root
 *    and mount(2); skipped otherwise). SQLite turns ENOSPC into SQLITE_FULL.
 *  - `PRAGMA max_page_count` (what issue 7 names): it is per connection, so the gateway's and
 *    every history thread's connection apply it from DB_MAX_SIZE_MB. The database is pre-sized
 *    with a filler table to MAX_PAGE_MARGIN pages below the cap; space returns when the test
 *    drops the filler (its pages go to the freelist, reused below the cap).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { migrate } from '../../common/db/migrate.js';
import { openDatabase } from '../../common/db/open.js';
import { api, registerUser, uniqueName } from '../helpers/api.js';
import { GatewayProcess, ROOT, waitFor } from '../helpers/gateway-process.js';
import { TestClient } from '../helpers/ws-client.js';
import { integrityCheck, lineNumberGap, openDb, storedLines } from './support/db.js';
import { continuity, numbersInOutput, numbersInTexts, streamCommand } from './support/numbered.js';
import { workerPids } from './support/processes.js';

/** Size of the tmpfs that holds the data folder: room for the schema, a little history, the WAL. */
const TMPFS_SIZE = '24m';
/** Pages the max_page_count variant leaves free above what the pre-sized database already holds. */
const MAX_PAGE_MARGIN = 64;
/** Pages of filler written into the pre-sized database (freed again by DROP TABLE). */
const FILLER_PAGES = 2000;
/** How long the storage stays full while sessions must keep running. */
const FULL_HOLD_MS = 4000;
/** Bound for "the write path noticed" and "writing resumed". */
const NOTICE_TIMEOUT_MS = 20_000;
const STREAM_INTERVAL_MS = 2;
/** create_session calls tried while full before the WebSocket figure is taken as "never refused". */
const WS_CREATE_ATTEMPTS = 3;
const STREAM_MAX_LINES = 200_000;
/** The setting that applies max_page_count on every connection (README: configuration). */
const HOOK_NAME = 'DB_MAX_SIZE_MB';

interface SpaceControl {
  /** Environment for the gateway (DB_PATH and friends). */
  env: Record<string, string>;
  fill(): void;
  free(): void;
  teardown(): void;
}

interface Figures {
  restFull: { status: number; code: string | undefined };
  wsFull: { type: string; code: string | undefined };
  /** create_session calls that still found room before one was refused. */
  wsCreatedWhileFull: number;
  linesWhileFull: number;
  echoWhileFull: boolean;
  gatewayAlive: boolean;
  workersUnchanged: boolean;
  refusedUserAbsent: boolean;
  resumedMs: number;
  historyProblems: string[];
  integrity: string;
  /** How the gateway ended if it died, and its fatal log line. */
  crash: string;
}

/** A request that may meet a dead gateway: the failure is a figure, not an exception. */
async function tryApi(...args: Parameters<typeof api>): Promise<{ status: number; body: any }> {
  try {
    return await api(...args);
  } catch (err) {
    return { status: -1, body: { error: { code: (err as Error).message } } };
  }
}

function tmpfsSpace(dir: string): SpaceControl | string {
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'tmpfs', dataDir], { stdio: 'pipe' });
  } catch (err) {
    return `cannot mount a tmpfs here (${String((err as Error).message).split('\n')[0]}); run as root for a real full disk`;
  }
  const filler = path.join(dataDir, 'filler');
  return {
    env: { DB_PATH: path.join(dataDir, 'ccmanager.db') },
    fill() {
      // Fill to the last byte: big writes first, then smaller ones until ENOSPC.
      const fd = fs.openSync(filler, 'w');
      try {
        for (const size of [1 << 20, 64 << 10, 4 << 10, 512]) {
          const chunk = Buffer.alloc(size, 0x78);
          for (;;) {
            try {
              fs.writeSync(fd, chunk);
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw err;
            }
          }
        }
      } finally {
        fs.closeSync(fd);
      }
    },
    free() {
      fs.rmSync(filler, { force: true });
    },
    teardown() {
      try {
        execFileSync('umount', [dataDir], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', dataDir], { stdio: 'pipe' });
      }
    },
  };
}

function maxPageCountSpace(dir: string): SpaceControl {
  const dbPath = path.join(dir, 'ccmanager.db');
  // Pre-sized: the schema plus FILLER_PAGES of filler, so the limit is only MAX_PAGE_MARGIN away.
  const db = openDatabase(dbPath, { synchronous: 'FULL' });
  migrate(db);
  db.exec('CREATE TABLE test_filler (data BLOB)');
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const insert = db.prepare('INSERT INTO test_filler (data) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < FILLER_PAGES; i++) insert.run(Buffer.alloc(pageSize - 100, 1));
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  const pages = db.pragma('page_count', { simple: true }) as number;
  db.close();
  return {
    // In MiB, as the setting wants it; the gateway floors bytes / page size back to pages.
    env: { DB_PATH: dbPath, [HOOK_NAME]: String(((pages + MAX_PAGE_MARGIN) * pageSize) / (1024 * 1024)) },
    fill() {
      // Nothing to do: streaming history fills the margin.
    },
    free() {
      // This connection has no limit; the freed pages go to the freelist and are reused below it.
      const d = openDb(dbPath);
      d.exec('DROP TABLE test_filler');
      d.close();
    },
    teardown() {},
  };
}

async function runDiskFull(space: SpaceControl, dir: string): Promise<Figures> {
  const g = await GatewayProcess.start({
    dir,
    env: { WORKER_COUNT: '2', LOG_DIR: path.join(dir, 'logs'), ...space.env },
  });
  const figures: Figures = {
    restFull: { status: 0, code: undefined },
    wsFull: { type: '', code: undefined },
    wsCreatedWhileFull: 0,
    linesWhileFull: 0,
    echoWhileFull: false,
    gatewayAlive: false,
    workersUnchanged: false,
    refusedUserAbsent: false,
    resumedMs: Number.POSITIVE_INFINITY,
    historyProblems: [],
    integrity: '',
    crash: '',
  };
  try {
    const u = await registerUser(g.url);
    const c = await TestClient.authed(g.wsUrl, u.token);
    const streamer = await c.createSession({ profile: 'shell' });
    const echo = await c.createSession({ profile: 'shell' });
    c.send({
      type: 'terminal_input',
      sessionId: streamer.id,
      data: streamCommand('D', STREAM_MAX_LINES, STREAM_INTERVAL_MS),
    });
    await c.waitForOutput(streamer.id, /^D200\r$/m);
    const workers = workerPids(g).sort();

    space.fill();
    // The write path notices: a REST write is refused with 503 and a code.
    let refusedName = '';
    await waitFor(
      'a write refused with 503',
      async () => {
        refusedName = uniqueName('full');
        const r = await tryApi(g.url, 'POST', '/api/auth/register', {
          body: { username: refusedName, password: 'long enough pw' },
        });
        figures.restFull = { status: r.status, code: r.body?.error?.code };
        return r.status >= 500 || r.status === -1;
      },
      NOTICE_TIMEOUT_MS,
      200,
    ).catch(() => undefined);
    // A write that finds room in an existing page still succeeds on a full database (SQLite
    // needs a new page to fail), so create_session is tried a few times: the first refusal counts.
    for (let i = 0; i < WS_CREATE_ATTEMPTS; i++) {
      const ws = await c
        .request({ type: 'create_session', profile: 'shell' }, undefined, 5000)
        .catch((err: Error) => ({ type: err.message.slice(0, 60), code: undefined }) as Record<string, any>);
      figures.wsFull = { type: ws.type, code: ws.code };
      if (ws.type !== 'session_created') break;
      figures.wsCreatedWhileFull++;
      await c.request({ type: 'close_session', sessionId: ws.session.id }).catch(() => undefined);
    }

    // Sessions keep running while the storage stays full.
    const before = numbersInOutput(c.outputOf(streamer.id), 'D').length;
    c.send({ type: 'terminal_input', sessionId: echo.id, data: 'echo FULL-$((40+2))\r' });
    figures.echoWhileFull = await c.waitForOutput(echo.id, /FULL-42\r\n/, FULL_HOLD_MS).then(
      () => true,
      () => false,
    );
    await new Promise((r) => setTimeout(r, FULL_HOLD_MS));
    figures.linesWhileFull = numbersInOutput(c.outputOf(streamer.id), 'D').length - before;
    figures.gatewayAlive = g.exitCode === null && g.exitSignal === null;
    figures.workersUnchanged = JSON.stringify(workerPids(g).sort()) === JSON.stringify(workers);

    space.free();
    const freedAt = Date.now();
    await waitFor(
      'writes accepted again',
      async () =>
        (
          await tryApi(g.url, 'POST', '/api/auth/register', {
            body: { username: uniqueName('back'), password: 'long enough pw' },
          })
        ).status === 201,
      NOTICE_TIMEOUT_MS,
      200,
    ).then(
      () => (figures.resumedMs = Date.now() - freedAt),
      () => undefined,
    );
    // The refused registration left nothing behind: the name is still free.
    const again = await tryApi(g.url, 'POST', '/api/auth/register', {
      body: { username: refusedName, password: 'long enough pw' },
    });
    figures.refusedUserAbsent = figures.restFull.status !== 201 && again.status === 201;

    const received = numbersInOutput(c.outputOf(streamer.id), 'D');
    if (figures.gatewayAlive) {
      await c.request({ type: 'close_session', sessionId: streamer.id }, 'session_closed', 20_000);
      await c.request({ type: 'close_session', sessionId: echo.id }, 'session_closed', 20_000);
    }
    await c.close();
    if (g.exitCode === null && g.exitSignal === null) await g.stop();
    const db = openDb(g.env.DB_PATH as string);
    try {
      const rows = storedLines(db, streamer.id);
      const gap = lineNumberGap(rows);
      if (gap) figures.historyProblems.push(gap);
      const stored = numbersInTexts(
        rows.map((r) => r.text),
        'D',
      );
      const cont = continuity(stored);
      if (cont.lost || cont.duplicated) figures.historyProblems.push(`stored lines ${JSON.stringify(cont)}`);
      const have = new Set(stored);
      const lost = received.filter((n) => !have.has(n)).length;
      if (lost) figures.historyProblems.push(`${lost} of ${received.length} received lines not in history`);
      const counts = db
        .prepare('SELECT (SELECT count(*) FROM terminal_lines) AS r, (SELECT count(*) FROM terminal_lines_fts) AS f')
        .get() as {
        r: number;
        f: number;
      };
      if (counts.r !== counts.f) figures.historyProblems.push(`search index ${counts.f} of ${counts.r} rows`);
    } finally {
      db.close();
    }
    figures.integrity = integrityCheck(g.env.DB_PATH as string);
  } finally {
    if (g.exitCode === null && g.exitSignal === null) await g.stop().catch(() => undefined);
    else await g.assertNoSurvivors().catch(() => undefined);
    const fatal = g
      .logs()
      .split('\n')
      .filter((l) => /"level":(50|60)/.test(l))
      .map((l) => {
        const e = JSON.parse(l) as { name?: string; msg?: string; err?: { message?: string; stack?: string } };
        // The first frame in product code says where the error escaped.
        const at = /\((\/[^)]*\/(?:gateway|worker|common)\/[^)]*)\)/
          .exec(e.err?.stack ?? '')?.[1]
          ?.replace(`${ROOT}/`, '');
        return `${e.name}: ${e.msg} (${e.err?.message ?? ''}${at ? ` at ${at}` : ''})`;
      });
    if (g.exitCode !== null || g.exitSignal !== null) figures.crash = `exit ${g.exitCode ?? g.exitSignal}`;
    figures.crash += [...new Set(fatal)].map((l) => `; ${l}`).join('');
  }
  return figures;
}

function describeFigures(
  name: string,
  make: (dir: string) => SpaceControl | string,
  skipReason: () => string | undefined,
): void {
  describe(name, function () {
    this.timeout(120_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccm-full-'));
    let space: SpaceControl | string = 'not set up';
    let f: Figures | undefined;

    before(async function () {
      const reason = skipReason();
      if (reason) {
        console.log(`      skipped: ${reason}`);
        this.skip();
      }
      space = make(dir);
      if (typeof space === 'string') {
        console.log(`      skipped: ${space}`);
        this.skip();
      }
      f = await runDiskFull(space as SpaceControl, dir);
      console.log(`      ${JSON.stringify(f)}`);
    });
    after(() => {
      if (typeof space !== 'string') space.teardown();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('the API answers 503 STORAGE_FULL (REST) and session_error STORAGE_FULL (WebSocket)', () => {
      expect(f?.restFull).to.deep.equal({ status: 503, code: 'STORAGE_FULL' });
      // Refused over the socket with the same code — unless every try found room in a page.
      if (f?.wsCreatedWhileFull !== WS_CREATE_ATTEMPTS) {
        expect(f?.wsFull).to.deep.equal({ type: 'session_error', code: 'STORAGE_FULL' });
      }
    });

    it('sessions keep running: output flows, input echoes, gateway and workers stay up', () => {
      expect(f?.gatewayAlive, `gateway alive (${f?.crash})`).to.equal(true);
      expect(f?.workersUnchanged, 'same worker processes').to.equal(true);
      expect(f?.echoWhileFull, 'echo while full').to.equal(true);
      expect(f?.linesWhileFull, 'lines streamed while full').to.be.greaterThan(0);
    });

    it('nothing half-written: a refused write leaves no row, history 1..n with every line once', () => {
      expect(f?.refusedUserAbsent, 'refused registration left no user').to.equal(true);
      expect(f?.historyProblems).to.deep.equal([]);
      expect(f?.integrity).to.equal('ok');
    });

    it(`writing resumes when space returns (within ${NOTICE_TIMEOUT_MS} ms)`, () => {
      expect(f?.resumedMs).to.be.lessThan(NOTICE_TIMEOUT_MS);
    });
  });
}

describe('fault: disk full during streaming', () => {
  describeFigures('a real full disk (tmpfs data folder)', tmpfsSpace, () =>
    process.getuid?.() === 0 ? undefined : 'needs root to mount a tmpfs',
  );
  describeFigures('PRAGMA max_page_count on every connection', maxPageCountSpace, () =>
    fs.readFileSync(path.join(ROOT, 'common/config.ts'), 'utf8').includes(HOOK_NAME)
      ? undefined
      : `needs ${HOOK_NAME} (max_page_count is per connection: the gateway's and every history thread's connection must apply it)`,
  );
});
