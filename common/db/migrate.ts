import { MIGRATIONS, type Migration } from './migrations/index.js';
import type { Db } from './open.js';

/**
 * Applies every migration newer than the database's user_version, each in its own transaction,
 * once, at gateway start (before workers fork). Returns the versions applied.
 */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const current = db.pragma('user_version', { simple: true }) as number;
  const applied: number[] = [];
  // Lets cleanup return freed pages to the file system without a full VACUUM. It must be set
  // on an empty database, before the first table exists; and because openDatabase has already
  // switched the file to WAL (which writes its header), it only takes effect through a VACUUM
  // (instant on an empty file). Without the VACUUM, auto_vacuum silently stays NONE.
  if (current === 0) {
    db.pragma('auto_vacuum = INCREMENTAL');
    db.exec('VACUUM');
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
    applied.push(m.version);
  }
  return applied;
}
