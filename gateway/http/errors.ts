/** The one express error middleware: catalogue codes out, never a stack trace. */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { ZodError } from 'zod';
import { storageError } from '../../common/db/open.js';
import { AppError, errorBody, isAppError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';

export function validationError(err: ZodError): AppError {
  const issue = err.issues[0];
  const where = issue?.path.join('.') || 'body';
  return new AppError('VALIDATION_FAILED', `${where}: ${issue?.message ?? 'invalid'}`);
}

/** Parses with a zod schema or throws VALIDATION_FAILED naming the field. */
export function parseOrThrow<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: ZodError } },
  value: unknown,
): T {
  const r = schema.safeParse(value);
  if (!r.success) throw validationError(r.error);
  return r.data;
}

export const notFoundHandler: RequestHandler = (_req, _res, next) => {
  next(new AppError('NOT_FOUND', 'No such route'));
};

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    let appError: AppError;
    const e = err as { type?: string; status?: number; code?: string };
    if (isAppError(err)) appError = err;
    else if (e?.type === 'entity.too.large') appError = new AppError('PAYLOAD_TOO_LARGE');
    else if (e?.type === 'entity.parse.failed') appError = new AppError('INVALID_JSON');
    else if (e?.type === 'charset.unsupported' || e?.type === 'encoding.unsupported')
      appError = new AppError('UNSUPPORTED_MEDIA_TYPE');
    else if (storageError(err)) appError = storageError(err) as AppError;
    else if (e?.status === 400 || e?.status === 404)
      appError = new AppError(e.status === 400 ? 'VALIDATION_FAILED' : 'NOT_FOUND');
    else {
      log.error({ err, method: req.method, route: req.route?.path }, 'unhandled error in request');
      appError = new AppError('INTERNAL_ERROR');
    }
    if (appError.code === 'RATE_LIMITED') {
      const retry = (appError.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
      if (retry) res.setHeader('Retry-After', String(retry));
    }
    if (res.headersSent) return;
    res.status(appError.status).json(errorBody(appError));
  };
}
