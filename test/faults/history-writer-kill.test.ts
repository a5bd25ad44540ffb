/**
 * Fault 3 (issue 7): a history writer (a child process using the product's storage code, see
 * test/fixtures/history-writer-child.ts) is killed with SIGKILL in the middle of its work, KILLS
 * times, two writers at a time on the same file as two workers would be. Figures: every batch a
 * writer reported committed is present; no batch is present in part; line numbers stay 1..n;
 * the search index holds exactly the rows; integrity_check ok.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { migrate } from '../../common/db/migrate.js';
import { openDatabase } from '../../common/db/open.js';
import { ROOT } from '../helpers/gateway-process.js';
import { type Db, integrityCheck, lineNumberGap, storedLines } from './support/db.js';
import { Prng, seedFromEnv } from './support/prng.js';

const KILLS = 100;
/** Writers running at once (each on its own session), like two workers sharing the file. */
const LANES = 2;
/** A writer is killed this long after it said `ready` (a random moment in the range). */
const KILL_AFTER_MIN_MS = 0;
const KILL_AFTER_MAX_MS = 120;
/** Rows per batch are random in 1..MAX_BATCH_ROWS (the product commits up to 1000 at once). */
const MAX_BATCH_ROWS = 1000;
/** A writer that does not say `ready` by then fails the run. */
const READY_TIMEOUT_MS = 15_000;
const CHILD = path.join(ROOT, 'test/fixtures/history-writer-child.ts');

interface Batch {
  id: string;
  first: number;
  size: number;
}

interface KillResult {
  committed: Batch[];
  /** The batch that had begun but was not reported committed when the kill landed. */
  inFlight: Batch | undefined;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function parseReport(file: string): { committed: Batch[]; inFlight: Batch | undefined } {
  const committed: Batch[] = [];
  let begun: Batch | undefined;
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  for (const line of text.split('\n')) {
    const [word, id, first, size] = line.split(' ');
    const batch = { id: id as string, first: Number(first), size: Number(size) };
    if (word === 'begin') begun = batch;
    else if (word === 'committed') {
      committed.push(batch);
      begun = undefined;
    }
  }
  return { committed, inFlight: begun };
}

function runAndKill(dbPath: string, sessionId: string, killAfterMs: number, reportFile: string): Promise<KillResult> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', CHILD, dbPath, sessionId, String(MAX_BATCH_ROWS), reportFile],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let buffer = '';
    let stderr = '';
    const readyTimer = setTimeout(() => child.kill('SIGKILL'), READY_TIMEOUT_MS);
    child.stderr?.on('data', (d) => (stderr += String(d)));
    child.stdout?.on('data', (d) => {
      buffer += String(d);
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const word = buffer.slice(0, nl).split(' ')[0];
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf('\n');
        if (word === 'ready') {
          clearTimeout(readyTimer);
          setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        }
      }
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(readyTimer);
      resolve({ ...parseReport(reportFile), signal, stderr });
    });
  });
}

/** Problems with the batches a writer reported: each must be there, whole, under its numbers. */
function missingCommitted(db: Db, sessionId: string, batches: readonly Batch[]): string[] {
  const stmt = db.prepare<[string, number, number], { line_number: number; text: string }>(
    'SELECT line_number, text FROM terminal_lines WHERE session_id = ? AND line_number BETWEEN ? AND ? ORDER BY line_number',
  );
  const problems: string[] = [];
  for (const b of batches) {
    const rows = stmt.all(sessionId, b.first, b.first + b.size - 1);
    const ok = rows.length === b.size && rows.every((r, i) => r.text === `b:${b.id}:${i}/${b.size}`);
    if (!ok) problems.push(`batch ${b.id} (${b.size} rows from line ${b.first}): ${rows.length} rows found`);
  }
  return problems;
}

/** Every batch found in the table, complete or not. */
function partialBatches(db: Db, sessionId: string): { partial: string[]; batches: Map<string, number> } {
  const seen = new Map<string, { size: number; indexes: Set<number> }>();
  for (const r of storedLines(db, sessionId)) {
    const m = /^b:([\d.]+):(\d+)\/(\d+)$/.exec(r.text);
    if (!m) continue;
    const entry = seen.get(m[1] as string) ?? { size: Number(m[3]), indexes: new Set<number>() };
    entry.indexes.add(Number(m[2]));
    seen.set(m[1] as string, entry);
  }
  const partial: string[] = [];
  const batches = new Map<string, number>();
  for (const [id, e] of seen) {
    batches.set(id, e.size);
    if (e.indexes.size !== e.size) partial.push(`batch ${id}: ${e.indexes.size} of ${e.size} rows`);
  }
  return { partial, batches };
}

describe('fault: history writer killed in the middle of transactions, 100 times', function () {
  this.timeout(240_000);
  const seed = seedFromEnv();
  const rng = new Prng(seed);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccm-writerkill-'));
  const dbPath = path.join(dir, 'ccmanager.db');
  const sessionIds = Array.from({ length: LANES }, () => crypto.randomUUID());
  const results: KillResult[] = [];
  const problems: string[] = [];
  let integrity = '';
  const partial: string[] = [];
  let unreported = 0;
  let midTransaction = 0;
  let totalRows = 0;
  let indexed = 0;
  const gaps: string[] = [];

  before(async () => {
    const setup = openDatabase(dbPath, { synchronous: 'FULL' });
    migrate(setup);
    const now = Date.now();
    const userId = crypto.randomUUID();
    setup
      .prepare(
        "INSERT INTO users (id, username, password_hash, role, created_at, updated_at) VALUES (?, 'writer', 'x', 'admin', ?, ?)",
      )
      .run(userId, now, now);
    for (const id of sessionIds) {
      setup
        .prepare(
          `INSERT INTO sessions (id, user_id, name, profile, command, cwd, status, state, cols, rows, created_at, last_activity_at)
           VALUES (?, ?, 'writer', 'shell', 'sh', '/', 'running', 'starting', 80, 24, ?, ?)`,
        )
        .run(id, userId, now, now);
    }
    setup.close();

    const reader = openDatabase(dbPath, { synchronous: 'NORMAL' });
    try {
      await Promise.all(
        sessionIds.map(async (sessionId) => {
          const reported: Batch[] = [];
          for (let k = 0; k < KILLS / LANES; k++) {
            const reportFile = path.join(dir, `report-${sessionId}-${k}.txt`);
            const r = await runAndKill(dbPath, sessionId, rng.int(KILL_AFTER_MIN_MS, KILL_AFTER_MAX_MS), reportFile);
            results.push(r);
            if (r.signal !== 'SIGKILL')
              problems.push(`writer ended by ${r.signal ?? 'exit'} (not killed): ${r.stderr.slice(-300)}`);
            if (r.inFlight) midTransaction++;
            reported.push(...r.committed);
            // Checked after every kill: what was reported so far is all there.
            problems.push(...missingCommitted(reader, sessionId, r.committed));
          }
          problems.push(...missingCommitted(reader, sessionId, reported));
          const found = partialBatches(reader, sessionId);
          partial.push(...found.partial);
          const reportedIds = new Set(reported.map((b) => b.id));
          unreported += [...found.batches.keys()].filter((id) => !reportedIds.has(id)).length;
          const gap = lineNumberGap(storedLines(reader, sessionId));
          if (gap) gaps.push(`${sessionId}: ${gap}`);
        }),
      );
      const counts = reader
        .prepare(
          'SELECT (SELECT count(*) FROM terminal_lines) AS rows, (SELECT count(*) FROM terminal_lines_fts) AS fts',
        )
        .get() as { rows: number; fts: number };
      totalRows = counts.rows;
      indexed = counts.fts;
    } finally {
      reader.close();
    }
    integrity = integrityCheck(dbPath);
  });

  after(() => {
    const batches = results.reduce((n, r) => n + r.committed.length, 0);
    console.log(
      `      [seed ${seed}] kills ${results.length}; killed inside a transaction ${midTransaction}; batches reported ${batches}; ` +
        `committed but not yet reported ${unreported}; rows ${totalRows}`,
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`kills ${KILLS} writers, most of them inside a transaction`, () => {
    expect(results).to.have.length(KILLS);
    expect(problems.filter((p) => p.startsWith('writer ended'))).to.deep.equal([]);
    // The kill moment is random; a writer spends most of its time in insertBatch.
    expect(midTransaction).to.be.greaterThan(KILLS / 2);
  });

  it('every reported batch is present, whole', () => {
    expect(problems).to.deep.equal([]);
  });

  it('no partial batch; at most one unreported (committed, not yet printed) batch per kill', () => {
    expect(partial).to.deep.equal([]);
    expect(unreported).to.be.at.most(KILLS);
  });

  it('line numbers 1..n with no gap, and the search index holds exactly the rows', () => {
    expect(gaps).to.deep.equal([]);
    expect(indexed).to.equal(totalRows);
  });

  it('PRAGMA integrity_check is ok', () => {
    expect(integrity).to.equal('ok');
  });
});
