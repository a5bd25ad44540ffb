import { Router } from 'express';
import type { Db } from '../../../common/db/open.js';

export interface HealthDeps {
  db: Db;
  startedAt: number;
  workers: () => { ready: number; total: number };
  /** 'full' / 'error' while a worker's history writer cannot commit (lines wait in its queue). */
  history: () => 'ok' | 'full' | 'error';
}

/** A real query, not a flag: a locked or missing database answers 503. */
function dbOk(db: Db): boolean {
  try {
    return db.prepare('SELECT 1 AS ok').get() !== undefined;
  } catch {
    return false;
  }
}

export function healthRoutes(deps: HealthDeps): Router {
  const r = Router();
  r.get('/health', (_req, res) => {
    const db = dbOk(deps.db);
    const workers = deps.workers();
    const degraded = !db || workers.ready === 0;
    res.status(degraded ? 503 : 200).json({
      status: degraded ? 'degraded' : 'ok',
      uptimeS: Math.round((Date.now() - deps.startedAt) / 1000),
      db: db ? 'ok' : 'error',
      workers,
      history: deps.history(),
    });
  });
  return r;
}
