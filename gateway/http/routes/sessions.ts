import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../../common/db/open.js';
import { LinesRepository } from '../../../common/db/repositories/lines.js';
import { AppError } from '../../../common/errors.js';
import type { Line } from '../../../common/models.js';
import type { AuthService } from '../../auth/auth-service.js';
import type { SessionService } from '../../sessions/session-service.js';
import { principalOf, requireAuth } from '../authenticate.js';
import { parseOrThrow } from '../errors.js';

/** Bounds of the history routes (API.md). */
export const MAX_HISTORY_PAGE = 5000;
export const DEFAULT_HISTORY_PAGE = 500;
export const MAX_RECENT_LINES = 1000;
export const DEFAULT_RECENT_LINES = 100;
export const MAX_SEARCH_RESULTS = 500;
export const DEFAULT_SEARCH_RESULTS = 50;
export const MAX_QUERY_LENGTH = 500;

const intParam = (min: number, max: number, dflt: number) => z.coerce.number().int().min(min).max(max).default(dflt);

const historyQuery = z.object({
  after: intParam(0, Number.MAX_SAFE_INTEGER, 0),
  limit: intParam(1, MAX_HISTORY_PAGE, DEFAULT_HISTORY_PAGE),
  q: z.string().min(1).max(MAX_QUERY_LENGTH).optional(),
});
const recentQuery = z.object({ lines: intParam(1, MAX_RECENT_LINES, DEFAULT_RECENT_LINES) });
const searchQuery = z.object({
  q: z.string().min(1).max(MAX_QUERY_LENGTH),
  limit: intParam(1, MAX_SEARCH_RESULTS, DEFAULT_SEARCH_RESULTS),
});

/** Runs an FTS5 query; a syntax error in the user's query is their 400, not our 500. */
function searchOrBadQuery<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (
      e.code === 'SQLITE_ERROR' &&
      /fts5|syntax|no such column|unterminated|unknown special query/i.test(e.message ?? '')
    ) {
      throw new AppError('INVALID_SEARCH_QUERY', 'The search query is not valid (see README: History search syntax)');
    }
    throw err;
  }
}

export function sessionRoutes(db: Db, auth: AuthService, sessions: SessionService): Router {
  const lines = new LinesRepository(db);
  const r = Router();
  r.use(requireAuth(auth));

  r.get('/active', (req, res) => {
    const all = req.query.all === '1' || req.query.all === 'true';
    res.json({ sessions: sessions.listActive(principalOf(req), all) });
  });

  r.get('/', (req, res) => {
    res.json({ sessions: sessions.listAll(principalOf(req)) });
  });

  r.get('/search', (req, res) => {
    const p = principalOf(req);
    const { q, limit } = parseOrThrow(searchQuery, req.query);
    const results = searchOrBadQuery(() => lines.search(p.user.id, q, limit));
    res.json({ query: q, results });
  });

  r.get('/:id/history', (req, res) => {
    const p = principalOf(req);
    const row = sessions.owned(p, req.params.id);
    const { after, limit, q } = parseOrThrow(historyQuery, req.query);
    if (q !== undefined) {
      const results = searchOrBadQuery(() => lines.search(null, q, limit, row.id));
      res.json({ sessionId: row.id, query: q, results });
      return;
    }
    const page = lines.page(row.id, after, limit);
    const last = page.at(-1);
    res.json({ sessionId: row.id, lines: page, nextAfter: page.length === limit && last ? last.lineNumber : null });
  });

  r.get('/:id/recent', async (req, res) => {
    const p = principalOf(req);
    const row = sessions.owned(p, req.params.id);
    const { lines: n } = parseOrThrow(recentQuery, req.query);
    const screen = await sessions.recentScreen(row.id).catch(() => null);
    const now = new Date().toISOString();
    const screenLines: Line[] = (screen?.lines ?? []).map((text, i) => ({
      lineNumber: (screen?.firstLineNumber ?? 0) + i,
      text,
      timestamp: now,
    }));
    const fromDb = screenLines.length >= n ? [] : lines.last(row.id, n - screenLines.length);
    res.json({ sessionId: row.id, lines: [...fromDb, ...screenLines].slice(-n) });
  });

  return r;
}
