/**
 * Stored API keys. A value is kept only as AES-256-GCM ciphertext + IV + auth tag (sealed by the
 * gateway's key cipher) under `key_version`; the only plaintext is the 4-character hint. Every
 * query of a user's key names the user, so another user's key is simply not found.
 */

import type { ApiKeyInfo } from '../../models.js';
import { iso, isoOrNull } from '../../models.js';
import type { Db } from '../open.js';

export interface ApiKeyRow {
  id: string;
  user_id: string;
  name: string;
  provider: string;
  ciphertext: Buffer | null;
  iv: Buffer | null;
  auth_tag: Buffer | null;
  key_version: number | null;
  hint: string | null;
  created_at: number;
  updated_at: number;
  last_used_at: number | null;
}

/** The sealed value of a key, or null to clear it. */
export interface StoredSecret {
  ciphertext: Buffer;
  iv: Buffer;
  authTag: Buffer;
  keyVersion: number;
  /** Null when the value is too short to show any of it. */
  hint: string | null;
}

export function toApiKeyInfo(row: ApiKeyRow): ApiKeyInfo {
  return {
    id: row.id,
    name: row.name,
    provider: row.provider,
    hint: row.hint,
    hasValue: row.ciphertext !== null,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    lastUsedAt: isoOrNull(row.last_used_at),
  };
}

export class ApiKeysRepository {
  private readonly byOwner;
  private readonly listStmt;
  private readonly countStmt;
  private readonly insertStmt;
  private readonly renameStmt;
  private readonly secretStmt;
  private readonly deleteStmt;
  private readonly usedStmt;

  constructor(private readonly db: Db) {
    this.byOwner = db.prepare<[string, string], ApiKeyRow>('SELECT * FROM api_keys WHERE id = ? AND user_id = ?');
    this.listStmt = db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE user_id = ? ORDER BY created_at, id');
    this.countStmt = db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM api_keys WHERE user_id = ?');
    this.insertStmt = db.prepare(
      `INSERT INTO api_keys (id, user_id, name, provider, ciphertext, iv, auth_tag, key_version, hint, created_at, updated_at)
       VALUES (@id, @user_id, @name, @provider, @ciphertext, @iv, @auth_tag, @key_version, @hint, @now, @now)`,
    );
    this.renameStmt = db.prepare('UPDATE api_keys SET name = ?, updated_at = ? WHERE id = ? AND user_id = ?');
    this.secretStmt = db.prepare(
      `UPDATE api_keys SET ciphertext = @ciphertext, iv = @iv, auth_tag = @auth_tag, key_version = @key_version,
         hint = @hint, updated_at = @now WHERE id = @id`,
    );
    this.deleteStmt = db.prepare('DELETE FROM api_keys WHERE id = ? AND user_id = ?');
    this.usedStmt = db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?');
  }

  findOwned(id: string, userId: string): ApiKeyRow | undefined {
    return this.byOwner.get(id, userId);
  }

  listByUser(userId: string): ApiKeyRow[] {
    return this.listStmt.all(userId);
  }

  countByUser(userId: string): number {
    return this.countStmt.get(userId)?.n ?? 0;
  }

  insert(key: { id: string; userId: string; name: string; provider: string }, secret: StoredSecret | null): ApiKeyRow {
    this.insertStmt.run({
      id: key.id,
      user_id: key.userId,
      name: key.name,
      provider: key.provider,
      ...secretColumns(secret),
      now: Date.now(),
    });
    return this.findOwned(key.id, key.userId) as ApiKeyRow;
  }

  rename(id: string, userId: string, name: string): void {
    this.renameStmt.run(name, Date.now(), id, userId);
  }

  /** Sets (or with null clears) the sealed value. The caller has checked ownership. */
  setSecret(id: string, secret: StoredSecret | null, now = Date.now()): void {
    this.secretStmt.run({ id, ...secretColumns(secret), now });
  }

  /** Key rotation: the same value sealed under another key version; updated_at is left alone. */
  reseal(id: string, sealed: { ciphertext: Buffer; iv: Buffer; authTag: Buffer }, keyVersion: number): void {
    this.db
      .prepare('UPDATE api_keys SET ciphertext = ?, iv = ?, auth_tag = ?, key_version = ? WHERE id = ?')
      .run(sealed.ciphertext, sealed.iv, sealed.authTag, keyVersion, id);
  }

  delete(id: string, userId: string): boolean {
    return this.deleteStmt.run(id, userId).changes > 0;
  }

  markUsed(id: string, atMs: number): void {
    this.usedStmt.run(atMs, id);
  }

  /** Every key that has a value (for key rotation). */
  allWithValues(): ApiKeyRow[] {
    return this.db
      .prepare<[], ApiKeyRow>('SELECT * FROM api_keys WHERE ciphertext IS NOT NULL ORDER BY created_at, id')
      .all();
  }

  /** How many stored values are sealed under some other key version than `version`. */
  countWithOtherVersion(version: number): number {
    return (
      this.db
        .prepare<[number], { n: number }>(
          'SELECT COUNT(*) AS n FROM api_keys WHERE ciphertext IS NOT NULL AND key_version IS NOT ?',
        )
        .get(version)?.n ?? 0
    );
  }
}

function secretColumns(secret: StoredSecret | null) {
  return {
    ciphertext: secret?.ciphertext ?? null,
    iv: secret?.iv ?? null,
    auth_tag: secret?.authTag ?? null,
    key_version: secret?.keyVersion ?? null,
    hint: secret?.hint ?? null,
  };
}
