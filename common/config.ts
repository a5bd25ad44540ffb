/**
 * Configuration: read once from the environment (and an optional `.env` at the project root),
 * validated with clear messages naming the variable, frozen, and passed down. Nothing else in
 * the code reads process.env. Secrets are removed from process.env afterwards so that children
 * (workers, PTYs) can never inherit them.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { PROJECT_ROOT } from './paths.js';

/** Minimum JWT secret length: HS256 keys shorter than the hash output weaken it. */
export const MIN_JWT_SECRET_BYTES = 32;
/** AES-256 needs exactly 32 key bytes. */
export const ENCRYPTION_KEY_BYTES = 32;

export const SECRET_ENV_NAMES = ['JWT_SECRET', 'ENCRYPTION_KEY', 'METRICS_TOKEN'] as const;

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int({ message: 'must be an integer' })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}` });

const envSchema = z.object({
  PORT: int(0, 65535).default(3001),
  HOST: z.string().min(1).default('127.0.0.1'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  JWT_SECRET: z.string().optional(),
  JWT_EXPIRES_IN: z
    .string()
    .regex(/^\d+[smhd]?$/, { message: 'must look like 7d, 12h, 30m, 45s or seconds' })
    .default('7d'),
  ENCRYPTION_KEY: z.string().optional(),
  DB_PATH: z.string().min(1).default('data/ccmanager.db'),
  WORKER_COUNT: int(1, 64).default(os.availableParallelism()),
  MAX_SESSIONS_PER_USER: int(1, 10_000).default(20),
  MAX_BUFFER_SIZE: int(10, 100_000).default(1000),
  SESSION_CLEANUP_INTERVAL: int(1000).default(3_600_000),
  SESSION_RETENTION_DAYS: z.coerce.number().min(0).default(7),
  SESSION_IDLE_TIMEOUT: int(0).default(0),
  MONITORING_INTERVAL: int(100).default(60_000),
  MONITORING_RETENTION_DAYS: z.coerce.number().min(0).default(7),
  CLAUDE_COMMAND: z.string().min(1).default('claude'),
  CLAUDE_ARGS: z.string().default(''),
  ALLOW_SHELL_SESSIONS: bool.default(false),
  SESSION_ROOT: z.string().min(1).default(os.homedir()),
  ALLOWED_ORIGINS: z.string().optional(),
  ALLOW_REGISTRATION: bool.default(true),
  BCRYPT_ROUNDS: int(4, 15).default(12),
  METRICS_TOKEN: z.string().min(16, { message: 'must be at least 16 characters' }).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_DIR: z.string().min(1).default('logs'),
  WS_AUTH_TIMEOUT_MS: int(100, 600_000).default(5000),
  WS_HEARTBEAT_INTERVAL_MS: int(100, 600_000).default(30_000),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: int(1, 1000).default(5),
  LOGIN_MAX_FAILURES_PER_ADDRESS: int(1, 100_000).default(20),
  LOGIN_FAILURE_WINDOW_MS: int(1000).default(15 * 60_000),
  SHUTDOWN_TIMEOUT_MS: int(100, 600_000).default(10_000),
  TRUST_PROXY: bool.default(false),
  HTTP_HEADERS_TIMEOUT_MS: int(500, 600_000).default(10_000),
  DB_MAX_SIZE_MB: z.coerce.number().min(0).default(0),
});

export type Profile = 'claude' | 'shell';

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly port: number;
  readonly host: string;
  readonly jwtSecret: string;
  readonly jwtExpiresIn: string;
  readonly encryptionKey: Buffer;
  readonly dbPath: string;
  readonly dataDir: string;
  readonly workerCount: number;
  readonly maxSessionsPerUser: number;
  readonly maxBufferSize: number;
  readonly sessionCleanupIntervalMs: number;
  readonly sessionRetentionDays: number;
  readonly sessionIdleTimeoutMs: number;
  readonly monitoringIntervalMs: number;
  readonly monitoringRetentionDays: number;
  readonly claudeCommand: string;
  readonly claudeArgs: readonly string[];
  readonly allowShellSessions: boolean;
  readonly sessionRoot: string;
  readonly allowedOrigins: readonly string[];
  /** True when ALLOWED_ORIGINS was not set: the origins follow the port actually bound (PORT=0). */
  readonly allowedOriginsFromPort: boolean;
  readonly allowRegistration: boolean;
  readonly bcryptRounds: number;
  readonly metricsToken: string | undefined;
  readonly logLevel: string;
  readonly logDir: string;
  readonly wsAuthTimeoutMs: number;
  readonly wsHeartbeatIntervalMs: number;
  readonly loginMaxFailuresPerAccount: number;
  readonly loginMaxFailuresPerAddress: number;
  readonly loginFailureWindowMs: number;
  readonly shutdownTimeoutMs: number;
  readonly trustProxy: boolean;
  /** A client must send its request headers within this (slowloris). */
  readonly httpHeadersTimeoutMs: number;
  /** 0 = unlimited; otherwise writes past this size fail exactly as on a full disk. */
  readonly dbMaxSizeBytes: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads `.env` at the project root (if any); real environment variables win over it. */
function readEnvFile(root: string): Record<string, string> {
  const file = path.join(root, '.env');
  if (!fs.existsSync(file)) return {};
  return parseEnv(fs.readFileSync(file, 'utf8')) as Record<string, string>;
}

function decodeEncryptionKey(raw: string): Buffer | undefined {
  const trimmed = raw.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  const b64 = Buffer.from(trimmed, 'base64');
  return b64.length === ENCRYPTION_KEY_BYTES ? b64 : undefined;
}

/**
 * In development a missing secret is generated once into the data folder (mode 0600) and reused,
 * so that a restart neither logs everyone out nor makes stored API keys unreadable.
 */
function devSecret(dataDir: string, fileName: string, generate: () => string): string {
  const file = path.join(dataDir, fileName);
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const value = generate();
  try {
    fs.writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
    return value;
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return fs.readFileSync(file, 'utf8').trim();
    throw err;
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, root: string = PROJECT_ROOT): Config {
  const merged = { ...readEnvFile(root), ...env };
  // Empty strings mean "unset" (a `.env` line like `METRICS_TOKEN=`).
  for (const key of Object.keys(merged)) if (merged[key] === '') delete merged[key];
  const parsed = envSchema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration: ${lines.join('; ')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const dbPath = path.resolve(root, e.DB_PATH);
  const dataDir = path.dirname(dbPath);

  let jwtSecret = e.JWT_SECRET;
  if (jwtSecret === undefined) {
    if (production) throw new ConfigError('JWT_SECRET is required when NODE_ENV=production');
    jwtSecret = devSecret(dataDir, 'jwt_secret', () => crypto.randomBytes(48).toString('base64url'));
  }
  if (Buffer.byteLength(jwtSecret) < MIN_JWT_SECRET_BYTES) {
    throw new ConfigError(`JWT_SECRET must be at least ${MIN_JWT_SECRET_BYTES} bytes`);
  }

  let encryptionKeyRaw = e.ENCRYPTION_KEY;
  if (encryptionKeyRaw === undefined) {
    if (production) throw new ConfigError('ENCRYPTION_KEY is required when NODE_ENV=production');
    encryptionKeyRaw = devSecret(dataDir, 'encryption_key', () => crypto.randomBytes(32).toString('hex'));
  }
  const encryptionKey = decodeEncryptionKey(encryptionKeyRaw);
  if (!encryptionKey) {
    throw new ConfigError('ENCRYPTION_KEY must be 32 bytes, as 64 hex characters or base64');
  }

  let sessionRoot: string;
  try {
    sessionRoot = fs.realpathSync(path.resolve(root, e.SESSION_ROOT));
  } catch {
    throw new ConfigError(`SESSION_ROOT: ${e.SESSION_ROOT} does not exist`);
  }

  const allowedOrigins = (e.ALLOWED_ORIGINS ?? defaultOrigins(e.PORT).join(','))
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o.length > 0);
  for (const origin of allowedOrigins) {
    if (!URL.canParse(origin)) throw new ConfigError(`ALLOWED_ORIGINS: ${origin} is not a URL`);
  }

  return Object.freeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    jwtSecret,
    jwtExpiresIn: e.JWT_EXPIRES_IN,
    encryptionKey,
    dbPath,
    dataDir,
    workerCount: e.WORKER_COUNT,
    maxSessionsPerUser: e.MAX_SESSIONS_PER_USER,
    maxBufferSize: e.MAX_BUFFER_SIZE,
    sessionCleanupIntervalMs: e.SESSION_CLEANUP_INTERVAL,
    sessionRetentionDays: e.SESSION_RETENTION_DAYS,
    sessionIdleTimeoutMs: e.SESSION_IDLE_TIMEOUT,
    monitoringIntervalMs: e.MONITORING_INTERVAL,
    monitoringRetentionDays: e.MONITORING_RETENTION_DAYS,
    claudeCommand: e.CLAUDE_COMMAND,
    claudeArgs: Object.freeze(e.CLAUDE_ARGS.split(' ').filter((a) => a.length > 0)),
    allowShellSessions: e.ALLOW_SHELL_SESSIONS,
    sessionRoot,
    allowedOrigins: Object.freeze(allowedOrigins.map((o) => new URL(o).origin)),
    allowedOriginsFromPort: e.ALLOWED_ORIGINS === undefined,
    allowRegistration: e.ALLOW_REGISTRATION,
    bcryptRounds: e.BCRYPT_ROUNDS,
    metricsToken: e.METRICS_TOKEN,
    logLevel: e.LOG_LEVEL,
    logDir: path.resolve(root, e.LOG_DIR),
    wsAuthTimeoutMs: e.WS_AUTH_TIMEOUT_MS,
    wsHeartbeatIntervalMs: e.WS_HEARTBEAT_INTERVAL_MS,
    loginMaxFailuresPerAccount: e.LOGIN_MAX_FAILURES_PER_ACCOUNT,
    loginMaxFailuresPerAddress: e.LOGIN_MAX_FAILURES_PER_ADDRESS,
    loginFailureWindowMs: e.LOGIN_FAILURE_WINDOW_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    trustProxy: e.TRUST_PROXY,
    httpHeadersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
    dbMaxSizeBytes: Math.floor(e.DB_MAX_SIZE_MB * 1024 * 1024),
  });
}

/** Children inherit process.env: remove the secrets once they are in the frozen config. */
/** The default origins for a port: the page served by this very server. */
export function defaultOrigins(port: number): string[] {
  return [`http://localhost:${port}`, `http://127.0.0.1:${port}`];
}

export function scrubSecretsFromEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of SECRET_ENV_NAMES) delete env[name];
}
