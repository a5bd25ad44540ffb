/** /api/monitoring (API.md, admins only): the latest sample, a time range, and window averages. */
import { Router } from 'express';
import { z } from 'zod';
import { AppError } from '../../../common/errors.js';
import type { AuthService } from '../../auth/auth-service.js';
import type { SystemMonitor } from '../../monitor/system-monitor.js';
import { requireAdmin, requireAuth } from '../authenticate.js';
import { parseOrThrow } from '../errors.js';

/** Samples per history page (a day at the default 60 s interval is 1440). */
export const MAX_HISTORY_SAMPLES = 10_000;
export const DEFAULT_HISTORY_SAMPLES = 1000;
/** Without `from`, history starts this long before `to`. */
export const DEFAULT_HISTORY_SPAN_MS = 60 * 60_000;
/** The averaging windows API.md names. */
export const AVERAGE_WINDOWS = { '15m': 15 * 60_000, '1h': 60 * 60_000, '24h': 24 * 60 * 60_000 } as const;

const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 time, e.g. 2025-01-31T12:00:00Z' });

const historyQuery = z
  .object({
    from: isoTime.optional(),
    to: isoTime.optional(),
    limit: z.coerce.number().int().min(1).max(MAX_HISTORY_SAMPLES).default(DEFAULT_HISTORY_SAMPLES),
  })
  .transform((q) => {
    const to = q.to === undefined ? Date.now() : Date.parse(q.to);
    const from = q.from === undefined ? to - DEFAULT_HISTORY_SPAN_MS : Date.parse(q.from);
    return { from, to, limit: q.limit };
  });

const averageQuery = z.object({
  window: z.enum(Object.keys(AVERAGE_WINDOWS) as [keyof typeof AVERAGE_WINDOWS]).default('1h'),
});

export function monitoringRoutes(auth: AuthService, monitor: SystemMonitor): Router {
  const r = Router();
  r.use(requireAuth(auth), requireAdmin);

  r.get('/metrics', async (_req, res) => {
    res.json({ sample: monitor.latest() ?? (await monitor.sample()) });
  });

  /** Oldest first; a full page continues with `from` = the last sample's timestamp + 1 ms. */
  r.get('/metrics/history', (req, res) => {
    const { from, to, limit } = parseOrThrow(historyQuery, req.query);
    if (from > to) throw new AppError('VALIDATION_FAILED', 'from: must not be after to');
    res.json({ samples: monitor.samples.range(from, to, limit) });
  });

  r.get('/metrics/average', (req, res) => {
    const { window } = parseOrThrow(averageQuery, req.query);
    const to = Date.now();
    const { average, count } = monitor.samples.average(to - AVERAGE_WINDOWS[window], to);
    res.json({ window, average, count });
  });

  return r;
}
