import crypto from 'node:crypto';
import { Router } from 'express';
import { AppError } from '../../../common/errors.js';
import type { GatewayMetrics } from '../../metrics.js';
import type { Supervisor } from '../../supervisor/supervisor.js';

function isLoopback(address: string | undefined): boolean {
  return (
    address === '127.0.0.1' ||
    address === '::1' ||
    address === '::ffff:127.0.0.1' ||
    (address?.startsWith('127.') ?? false)
  );
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1] ?? '';
  const a = crypto.createHash('sha256').update(presented).digest();
  const b = crypto.createHash('sha256').update(token).digest();
  return crypto.timingSafeEqual(a, b);
}

/** /metrics: bearer METRICS_TOKEN when set; otherwise loopback clients only. */
export function metricsRoutes(deps: {
  token: string | undefined;
  metrics: GatewayMetrics;
  supervisor: Supervisor;
}): Router {
  const r = Router();
  r.get('/metrics', async (req, res) => {
    if (deps.token !== undefined) {
      if (!tokenMatches(req.headers.authorization, deps.token))
        throw new AppError('UNAUTHENTICATED', 'Send the metrics token as a bearer token');
    } else if (!isLoopback(req.socket.remoteAddress)) {
      throw new AppError('FORBIDDEN', 'Set METRICS_TOKEN to expose /metrics beyond loopback');
    }
    const { contentType, body } = await deps.metrics.exposition(deps.supervisor);
    res.setHeader('Content-Type', contentType);
    res.send(body);
  });
  return r;
}
