/** The express app: security headers, CORS, bounded JSON bodies, request logs, routes, errors. */
import path from 'node:path';
import express, { type Express, type RequestHandler, type Router } from 'express';
import helmet from 'helmet';
import { AppError, errorBody } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { PROJECT_ROOT } from '../../common/paths.js';
import { errorHandler, notFoundHandler } from './errors.js';

/** Largest JSON body accepted; API bodies are small (credentials, key values, names). */
export const JSON_BODY_LIMIT = '64kb';

export interface AppOptions {
  allowedOrigins: readonly string[];
  trustProxy: boolean;
  log: Logger;
  /** Mounted in order: [path, router]. */
  routes: [string, Router][];
  /** Called once per request with its route template and status (for metrics). */
  onRequestDone?: (method: string, route: string, status: number, seconds: number) => void;
}

function cors(allowed: readonly string[]): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin && allowed.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE, OPTIONS');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    if (req.method === 'OPTIONS') {
      if (origin && allowed.includes(origin)) res.status(204).end();
      else res.status(403).json(errorBody(new AppError('ORIGIN_NOT_ALLOWED')));
      return;
    }
    next();
  };
}

/** Bodies must be JSON: anything else is a 415, not a silently empty body. */
const requireJson: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !req.is('application/json')) throw new AppError('UNSUPPORTED_MEDIA_TYPE');
  next();
};

function requestLog(log: Logger, onDone: AppOptions['onRequestDone']): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : req.baseUrl || 'unmatched';
      // The path only: query strings may carry search terms; never headers or bodies.
      log.info(
        { method: req.method, path: req.path, route, status: res.statusCode, ms: Math.round(seconds * 1000) },
        'request',
      );
      onDone?.(req.method, route, res.statusCode, seconds);
    });
    next();
  };
}

export function createApp(opts: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', opts.trustProxy);
  app.set('query parser', 'simple');
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          connectSrc: ["'self'", 'ws:', 'wss:'],
          imgSrc: ["'self'", 'data:'],
          objectSrc: ["'none'"],
          frameAncestors: ["'none'"],
        },
      },
      crossOriginEmbedderPolicy: false,
    }),
  );
  app.use(requestLog(opts.log, opts.onRequestDone));
  app.use(cors(opts.allowedOrigins));
  app.use('/api', requireJson, express.json({ limit: JSON_BODY_LIMIT, strict: true }));
  for (const [mount, router] of opts.routes) app.use(mount, router);
  app.use('/vendor/xterm', express.static(path.join(PROJECT_ROOT, 'node_modules/@xterm/xterm'), { index: false }));
  app.use(
    '/vendor/xterm-addon-fit',
    express.static(path.join(PROJECT_ROOT, 'node_modules/@xterm/addon-fit'), { index: false }),
  );
  app.use(express.static(path.join(PROJECT_ROOT, 'web/public')));
  app.use(notFoundHandler);
  app.use(errorHandler(opts.log));
  return app;
}
