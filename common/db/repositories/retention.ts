/**
 * Storage-side retention work for the cleanup: history lines of long-ended sessions in bounded
 * batches (a session can hold millions of lines; one giant DELETE would hold the write lock
 * that workers need for their history writes), and returning free pages to the file system.
 */
import type { Db } from '../open.js';

export class RetentionRepository {
  private readonly linesBatch;
  private readonly freelist;

  constructor(private readonly db: Db) {
    this.linesBatch = db.prepare(
      `DELETE FROM terminal_lines WHERE id IN (
         SELECT l.id FROM sessions s JOIN terminal_lines l ON l.session_id = s.id
         WHERE s.status != 'running' AND s.closed_at < ? LIMIT ?)`,
    );
    this.freelist = db.prepare<[], { freelist_count: number }>('PRAGMA freelist_count');
  }

  /** Deletes up to `limit` lines of sessions that ended before `beforeMs` (the FTS index follows by trigger). */
  deleteLinesOfSessionsEndedBefore(beforeMs: number, limit: number): number {
    return this.linesBatch.run(beforeMs, limit).changes;
  }

  /** True when the file was created with auto_vacuum = INCREMENTAL (see migrate.ts). */
  incrementalVacuumEnabled(): boolean {
    return this.db.pragma('auto_vacuum', { simple: true }) === 2;
  }

  freePages(): number {
    return this.freelist.get()?.freelist_count ?? 0;
  }

  /**
   * Moves up to `pages` free pages to the end of the file and truncates them (auto_vacuum =
   * INCREMENTAL). Run with exec: the pragma frees one page per step, so a single `run()` step
   * would free just one.
   */
  incrementalVacuum(pages: number): void {
    this.db.exec(`PRAGMA incremental_vacuum(${Math.max(1, Math.floor(pages))})`);
  }

  /**
   * Copies the WAL into the file without waiting for anyone (PASSIVE never blocks the event
   * loop); once the WAL is fully copied SQLite also truncates the file to its vacuumed size.
   */
  checkpointPassive(): void {
    this.db.pragma('wal_checkpoint(PASSIVE)');
  }
}
