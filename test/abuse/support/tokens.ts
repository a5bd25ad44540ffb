/** Forged and broken JWTs for the token matrix, signed with the gateway's real secret when needed. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import jwt from 'jsonwebtoken';

export const ISS = 'ccmanager-backend';
export const AUD = 'ccmanager-api';

/** The development secret a gateway generated into its data folder. */
export function jwtSecretOf(dir: string): string {
  return fs.readFileSync(path.join(dir, 'jwt_secret'), 'utf8').trim();
}

const now = () => Math.floor(Date.now() / 1000);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

export interface ForgedCase {
  name: string;
  token: string;
  /** The code the gateway must answer with. */
  code: string;
}

/** Every way a bearer token can be wrong, for user `sub` of a gateway whose secret is `secret`. */
export function forgedTokens(secret: string, sub: string): ForgedCase[] {
  const base = (): jwt.SignOptions => ({
    algorithm: 'HS256',
    issuer: ISS,
    audience: AUD,
    subject: sub,
    jwtid: crypto.randomUUID(),
  });
  const opts = (o: jwt.SignOptions = {}): jwt.SignOptions => ({ ...base(), expiresIn: 60, ...o });
  const good = jwt.sign({ ver: 0 }, secret, opts());
  const [h, p, s] = good.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  return [
    { name: 'garbage', token: 'not.a.token', code: 'INVALID_TOKEN' },
    { name: 'an 8 KB string', token: 'a'.repeat(8000), code: 'INVALID_TOKEN' },
    { name: 'alg none (unsigned)', token: `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`, code: 'INVALID_TOKEN' },
    { name: 'alg none, signature kept', token: `${b64({ alg: 'none', typ: 'JWT' })}.${p}.${s}`, code: 'INVALID_TOKEN' },
    { name: 'HS384', token: jwt.sign({ ver: 0 }, secret, opts({ algorithm: 'HS384' })), code: 'INVALID_TOKEN' },
    { name: 'HS512', token: jwt.sign({ ver: 0 }, secret, opts({ algorithm: 'HS512' })), code: 'INVALID_TOKEN' },
    { name: 'HS256 with another secret', token: jwt.sign({ ver: 0 }, 'x'.repeat(48), opts()), code: 'INVALID_TOKEN' },
    {
      name: 'expired',
      token: jwt.sign({ ver: 0, exp: now() - 10, iat: now() - 100 }, secret, base()),
      code: 'TOKEN_EXPIRED',
    },
    {
      name: 'not yet valid (nbf)',
      token: jwt.sign({ ver: 0 }, secret, opts({ notBefore: 3600, expiresIn: 7200 })),
      code: 'INVALID_TOKEN',
    },
    { name: 'no exp', token: jwt.sign({ ver: 0 }, secret, base()), code: 'INVALID_TOKEN' },
    { name: 'wrong aud', token: jwt.sign({ ver: 0 }, secret, opts({ audience: 'other' })), code: 'INVALID_TOKEN' },
    { name: 'wrong iss', token: jwt.sign({ ver: 0 }, secret, opts({ issuer: 'other' })), code: 'INVALID_TOKEN' },
    { name: 'tampered sub', token: `${h}.${b64({ ...claims, sub: crypto.randomUUID() })}.${s}`, code: 'INVALID_TOKEN' },
    {
      name: 'unknown user, validly signed',
      token: jwt.sign({ ver: 0 }, secret, opts({ subject: crypto.randomUUID() })),
      code: 'INVALID_TOKEN',
    },
    { name: 'stale token version', token: jwt.sign({ ver: 99 }, secret, opts()), code: 'TOKEN_REVOKED' },
    { name: 'ver as a string', token: jwt.sign({ ver: '0' }, secret, opts()), code: 'INVALID_TOKEN' },
  ];
}

/** A correctly signed token of the server for `sub` (the control case). */
export function validToken(secret: string, sub: string, ver = 0): string {
  return jwt.sign({ ver }, secret, {
    algorithm: 'HS256',
    issuer: ISS,
    audience: AUD,
    subject: sub,
    jwtid: crypto.randomUUID(),
    expiresIn: 60,
  });
}
