/** Versions of ENCRYPTION_KEY, known by fingerprint only (migration 003). */
import type { Db } from '../open.js';

export interface EncryptionKeyRow {
  version: number;
  fingerprint: string;
  created_at: number;
}

export class EncryptionKeysRepository {
  constructor(private readonly db: Db) {}

  latest(): EncryptionKeyRow | undefined {
    return this.db.prepare<[], EncryptionKeyRow>('SELECT * FROM encryption_keys ORDER BY version DESC LIMIT 1').get();
  }

  /** The newest version recorded for this fingerprint (a key may be rotated back to). */
  findByFingerprint(fingerprint: string): EncryptionKeyRow | undefined {
    return this.db
      .prepare<[string], EncryptionKeyRow>(
        'SELECT * FROM encryption_keys WHERE fingerprint = ? ORDER BY version DESC LIMIT 1',
      )
      .get(fingerprint);
  }

  /** Records a new version (the next number) and returns it. */
  add(fingerprint: string): number {
    const next = (this.latest()?.version ?? 0) + 1;
    this.db
      .prepare('INSERT INTO encryption_keys (version, fingerprint, created_at) VALUES (?, ?, ?)')
      .run(next, fingerprint, Date.now());
    return next;
  }
}
