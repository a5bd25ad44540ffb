/**
 * Issue 5's search benchmark: 50 000 history lines across 20 sessions of two users; latency of
 * the product's FTS5 search (LinesRepository.search, what GET /api/sessions/search runs) against
 * a plain LIKE scan of the same rows, for the same queries, each restricted to one user. The
 * rare term's hits are checked: exactly the caller's lines, none of the other user's.
 */
import { type LineRow, LinesRepository } from '../common/db/repositories/lines.js';
import { genLines } from './lib/gen-lines.js';
import { percentile } from './lib/stats.js';
import { tempDb } from './lib/temp-db.js';
import type { Benchmark } from './lib/types.js';

export const LINES = { quick: 5000, full: 50_000 };
export const SESSIONS = 20;
/** Every RARE_EVERY-th line carries the rare term (both users' sessions). */
const RARE_EVERY = 1000;
const RARE_TERM = 'zebrafish';
/** Results asked for, as the route's default. */
const LIMIT = 50;
/** Times each query runs per engine. */
const REPEATS = { quick: 10, full: 100 };
const ROWS_PER_TRANSACTION = 1000;

/** FTS5 query → the LIKE patterns (all must match) a plain scan needs for the same intent. */
const QUERIES: { fts: string; like: string[] }[] = [
  { fts: RARE_TERM, like: [`%${RARE_TERM}%`] },
  { fts: 'session', like: ['%session%'] },
  { fts: 'compil*', like: ['%compil%'] },
  { fts: 'error AND build', like: ['%error%', '%build%'] },
  { fts: '"passed object"', like: ['%passed object%'] },
];

export const search: Benchmark = {
  name: 'search',
  id: 'i5',
  title: 'History search: FTS5 against a LIKE scan',
  rounds: { quick: 1, full: 3 },
  async run(ctx) {
    const total = ctx.quick ? LINES.quick : LINES.full;
    const repeats = ctx.quick ? REPEATS.quick : REPEATS.full;
    const t = tempDb('NORMAL');
    try {
      const users = [t.addUser('alice'), t.addUser('bob')];
      const sessions = Array.from({ length: SESSIONS }, (_, i) => ({
        user: users[i % 2] as string,
        id: t.addSession(users[i % 2] as string, `s${i}`),
      }));
      const texts = genLines(total);
      const repo = new LinesRepository(t.db);
      const perSession = Math.ceil(total / SESSIONS);
      const expectedRare = new Map<string, number>(users.map((u) => [u, 0]));
      let batch: LineRow[] = [];
      const now = Date.now();
      texts.forEach((text, i) => {
        const s = sessions[Math.floor(i / perSession)] as { user: string; id: string };
        const rare = i % RARE_EVERY === 0;
        if (rare) expectedRare.set(s.user, (expectedRare.get(s.user) ?? 0) + 1);
        batch.push({
          session_id: s.id,
          line_number: (i % perSession) + 1,
          text: rare ? `${text} ${RARE_TERM}` : text,
          timestamp: now - total + i,
        });
        if (batch.length === ROWS_PER_TRANSACTION) {
          repo.insertBatch(batch);
          batch = [];
        }
      });
      if (batch.length > 0) repo.insertBatch(batch);

      const alice = users[0] as string;
      const rareHits = repo.search(alice, RARE_TERM, total, undefined);
      const aliceSessions = new Set(sessions.filter((s) => s.user === alice).map((s) => s.id));
      if (rareHits.length !== expectedRare.get(alice) || rareHits.some((h) => !aliceSessions.has(h.sessionId))) {
        throw new Error(
          `search found ${rareHits.length} lines of '${RARE_TERM}' for alice, expected ${expectedRare.get(alice)} of hers only`,
        );
      }

      const likeStmts = new Map(
        QUERIES.map((q) => [
          q.fts,
          t.db.prepare(
            `SELECT l.session_id, s.name, l.line_number, l.timestamp, l.text
               FROM terminal_lines l JOIN sessions s ON s.id = l.session_id
              WHERE s.user_id = ? AND ${q.like.map(() => 'l.text LIKE ?').join(' AND ')}
              ORDER BY l.timestamp DESC, l.id DESC LIMIT ?`,
          ),
        ]),
      );
      const fts: number[] = [];
      const like: number[] = [];
      for (let r = 0; r < repeats; r++) {
        for (const q of QUERIES) {
          const user = users[r % 2] as string;
          let t0 = performance.now();
          repo.search(user, q.fts, LIMIT);
          fts.push(performance.now() - t0);
          t0 = performance.now();
          likeStmts.get(q.fts)?.all(user, ...q.like, LIMIT);
          like.push(performance.now() - t0);
        }
      }
      const note = `${total} lines, ${SESSIONS} sessions, 2 users, ${QUERIES.length} queries × ${repeats}, limit ${LIMIT}`;
      return [
        {
          metric: 'search p50',
          unit: 'ms',
          value: percentile(fts, 50),
          baseline: { label: 'LIKE scan', value: percentile(like, 50) },
          note,
        },
        {
          metric: 'search p99',
          unit: 'ms',
          value: percentile(fts, 99),
          baseline: { label: 'LIKE scan', value: percentile(like, 99) },
        },
      ];
    } finally {
      t.dispose();
    }
  },
};
