import type { Request, RequestHandler } from 'express';
import { AppError } from '../../common/errors.js';
import type { AuthService, Principal } from '../auth/auth-service.js';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

export function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new AppError('INVALID_TOKEN', 'Use Authorization: Bearer <token>');
  return match[1];
}

/** Verifies the bearer token and the user behind it on every request. */
export function requireAuth(auth: AuthService): RequestHandler {
  return (req, _res, next) => {
    req.principal = auth.authenticate(bearerToken(req));
    next();
  };
}

export const requireAdmin: RequestHandler = (req, _res, next) => {
  if (req.principal?.user.role !== 'admin') throw new AppError('FORBIDDEN', 'Admins only');
  next();
};

export function principalOf(req: Request): Principal {
  if (!req.principal) throw new AppError('UNAUTHENTICATED');
  return req.principal;
}
