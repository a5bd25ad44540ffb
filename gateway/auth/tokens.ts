import crypto from 'node:crypto';
import jwtPkg from 'jsonwebtoken';
import { AppError } from '../../common/errors.js';

const { sign, verify, TokenExpiredError } = jwtPkg;

/** Pinned so that a token signed for another service (or with another algorithm) never passes. */
export const JWT_ALGORITHM = 'HS256';
export const JWT_ISSUER = 'ccmanager-backend';
export const JWT_AUDIENCE = 'ccmanager-api';
/** A bearer token longer than this is refused before any parsing (a valid one is ~300 bytes). */
export const MAX_TOKEN_LENGTH = 4096;

export interface TokenClaims {
  sub: string;
  jti: string;
  /** The user's token_version when the token was issued. */
  ver: number;
  exp: number;
  iat: number;
}

export interface IssuedToken {
  token: string;
  jti: string;
  expiresAt: string;
  expiresAtMs: number;
}

export class TokenService {
  constructor(
    private readonly secret: string,
    private readonly expiresIn: string,
  ) {}

  issue(userId: string, tokenVersion: number): IssuedToken {
    const jti = crypto.randomUUID();
    const expiresIn = /^\d+$/.test(this.expiresIn) ? Number(this.expiresIn) : this.expiresIn;
    const token = sign({ ver: tokenVersion }, this.secret, {
      algorithm: JWT_ALGORITHM,
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
      subject: userId,
      jwtid: jti,
      expiresIn: expiresIn as jwtPkg.SignOptions['expiresIn'],
    });
    const claims = this.verify(token);
    const expiresAtMs = claims.exp * 1000;
    return { token, jti, expiresAt: new Date(expiresAtMs).toISOString(), expiresAtMs };
  }

  /** Signature, algorithm, issuer, audience and expiry; the caller checks revocation. */
  verify(token: string): TokenClaims {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw new AppError('INVALID_TOKEN');
    }
    let payload: unknown;
    try {
      payload = verify(token, this.secret, {
        algorithms: [JWT_ALGORITHM],
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
      });
    } catch (err) {
      if (err instanceof TokenExpiredError) throw new AppError('TOKEN_EXPIRED');
      throw new AppError('INVALID_TOKEN');
    }
    const p = payload as Partial<TokenClaims>;
    if (
      typeof p.sub !== 'string' ||
      typeof p.jti !== 'string' ||
      typeof p.ver !== 'number' ||
      typeof p.exp !== 'number' ||
      typeof p.iat !== 'number'
    ) {
      throw new AppError('INVALID_TOKEN');
    }
    return p as TokenClaims;
  }
}
