import type { Db } from '../open.js';

export class RevokedTokensRepository {
  private readonly insert;
  private readonly lookup;

  constructor(private readonly db: Db) {
    this.insert = db.prepare('INSERT OR IGNORE INTO revoked_tokens (jti, user_id, expires_at) VALUES (?, ?, ?)');
    this.lookup = db.prepare<[string], { jti: string }>('SELECT jti FROM revoked_tokens WHERE jti = ?');
  }

  revoke(jti: string, userId: string, expiresAtMs: number): void {
    this.insert.run(jti, userId, expiresAtMs);
  }

  isRevoked(jti: string): boolean {
    return this.lookup.get(jti) !== undefined;
  }

  /** A revoked token that has expired anyway needs no row. */
  pruneExpired(nowMs: number): number {
    return this.db.prepare('DELETE FROM revoked_tokens WHERE expires_at < ?').run(nowMs).changes;
  }
}
