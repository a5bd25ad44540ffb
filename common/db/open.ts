import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AppError } from '../errors.js';

export type Db = Database.Database;

/** How long a connection waits for another process's write lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

export interface OpenOptions {
  /** FULL for users/keys/sessions (gateway); NORMAL for terminal lines (workers): see DESIGN.md. */
  synchronous: 'FULL' | 'NORMAL';
  readonly?: boolean;
  /** Caps the file (PRAGMA max_page_count, per connection): past it SQLite answers SQLITE_FULL. */
  maxSizeBytes?: number;
}

export function openDatabase(file: string, opts: OpenOptions): Db {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file, { readonly: opts.readonly ?? false });
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  if (!opts.readonly) db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma(`synchronous = ${opts.synchronous}`);
  if (opts.maxSizeBytes && opts.maxSizeBytes > 0) {
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.pragma(`max_page_count = ${Math.max(1, Math.floor(opts.maxSizeBytes / pageSize))}`);
  }
  return db;
}

/** The catalogue error an SQLite failure means to a client, or undefined for a bug. */
export function storageError(err: unknown): AppError | undefined {
  if (isDiskFull(err)) return new AppError('STORAGE_FULL');
  const code = (err as { code?: string } | null)?.code ?? '';
  if (
    code.startsWith('SQLITE_BUSY') ||
    code.startsWith('SQLITE_LOCKED') ||
    code.startsWith('SQLITE_IOERR') ||
    code === 'SQLITE_READONLY'
  ) {
    return new AppError('DB_UNAVAILABLE');
  }
  return undefined;
}

/** True when an error is SQLite telling us the disk (or max_page_count) is full. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE';
}
