/**
 * A fresh SQLite file with the product's migrations and pragmas (common/db), for in-process
 * baselines that use the product's repositories.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate } from '../../common/db/migrate.js';
import { type Db, openDatabase } from '../../common/db/open.js';
import { SessionsRepository } from '../../common/db/repositories/sessions.js';
import { UsersRepository } from '../../common/db/repositories/users.js';

export interface TempDb {
  db: Db;
  file: string;
  /** A user row (id); sessions below belong to it unless given another. */
  addUser(name: string): string;
  addSession(userId: string, name: string): string;
  dispose(): void;
}

export function tempDb(synchronous: 'FULL' | 'NORMAL' = 'NORMAL'): TempDb {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccm-bench-db-'));
  const file = path.join(dir, 'bench.db');
  const db = openDatabase(file, { synchronous });
  migrate(db);
  const users = new UsersRepository(db);
  const sessions = new SessionsRepository(db);
  return {
    db,
    file,
    addUser: (name) => {
      const row = users.create(name, 'not-a-hash', true);
      if (row === 'closed') throw new Error('registration closed');
      return row.id;
    },
    addSession: (userId, name) => {
      const id = crypto.randomUUID();
      sessions.insert({ id, user_id: userId, name, profile: 'shell', command: 'bash', cwd: dir, cols: 120, rows: 30 });
      return id;
    },
    dispose: () => {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
