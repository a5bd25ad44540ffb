/**
 * Logging: JSON lines to LOG_DIR/combined.log (everything at LOG_LEVEL) and LOG_DIR/error.log
 * (errors only), plus the console (pretty when a developer watches a TTY, JSON otherwise).
 * Credentials are redacted by path; terminal I/O is never passed to the logger at all.
 */
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import pinoPretty from 'pino-pretty';

export type Logger = pino.Logger;

/** Every path where a credential could appear in a logged object. */
export const REDACTED_PATHS = [
  'password',
  'token',
  'value',
  'apiKey',
  'secret',
  'authorization',
  '*.password',
  '*.token',
  '*.value',
  '*.apiKey',
  '*.secret',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'body.password',
  'body.value',
];

export interface LogOptions {
  level: string;
  dir: string;
  name: string;
  pretty: boolean;
}

export function createLogger(opts: LogOptions): Logger {
  fs.mkdirSync(opts.dir, { recursive: true });
  // sync: true so a crash or process.exit never loses the last lines (log volume is low:
  // requests and lifecycle events, never terminal output).
  const combined = pino.destination({ dest: path.join(opts.dir, 'combined.log'), sync: true, mkdir: true });
  const errors = pino.destination({ dest: path.join(opts.dir, 'error.log'), sync: true, mkdir: true });
  const consoleStream = opts.pretty
    ? pinoPretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
    : pino.destination({ dest: 1, sync: true });
  const level = opts.level as pino.LevelWithSilent;
  const streams: pino.StreamEntry[] = [
    { level: level === 'silent' ? 'fatal' : (level as pino.Level), stream: combined },
    { level: 'error', stream: errors },
    { level: level === 'silent' ? 'fatal' : (level as pino.Level), stream: consoleStream },
  ];
  return pino(
    {
      name: opts.name,
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
      base: { pid: process.pid, name: opts.name },
    },
    pino.multistream(streams),
  );
}
