/**
 * Users' API keys: create, rename, set or clear the value, delete, and — for create_session with
 * `apiKeyId` — decrypt the caller's key for that one session (ApiKeyResolver). The value only
 * ever exists in plaintext in memory on its way in (a request body) or out (one session's
 * environment); it is never returned, logged or stored unencrypted.
 */
import crypto from 'node:crypto';
import type { Db } from '../../common/db/open.js';
import {
  type ApiKeyRow,
  ApiKeysRepository,
  type StoredSecret,
  toApiKeyInfo,
} from '../../common/db/repositories/api-keys.js';
import { EncryptionKeysRepository } from '../../common/db/repositories/encryption-keys.js';
import { AppError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { ApiKeyInfo } from '../../common/models.js';
import type { ApiKeyResolver } from '../sessions/session-service.js';
import { KeyCipher } from './key-cipher.js';

/** Keys a user may store; generous for real use, a bound against abuse. */
export const MAX_API_KEYS_PER_USER = 50;
/** The hint shows this many trailing characters of the value... */
export const HINT_CHARS = 4;
/** ...but only for values at least this long, so the hint never gives away most of a short value. */
export const HINT_MIN_VALUE_CHARS = 12;

/** Binds a ciphertext to its row and owner: copied into another row it fails the GCM check. */
export function apiKeyAad(row: Pick<ApiKeyRow, 'id' | 'user_id'>): string {
  return `ccmanager/api-key/${row.id}/${row.user_id}`;
}

export function hintOf(value: string): string | null {
  const chars = [...value];
  return chars.length >= HINT_MIN_VALUE_CHARS ? chars.slice(-HINT_CHARS).join('') : null;
}

export interface NewApiKey {
  name: string;
  provider: string;
  value?: string | undefined;
}

export interface ApiKeyChanges {
  name?: string | undefined;
  /** A string sets the value, null clears it, undefined leaves it. */
  value?: string | null | undefined;
}

export class ApiKeyService implements ApiKeyResolver {
  private readonly repo: ApiKeysRepository;
  private readonly cipher: KeyCipher;
  /** The encryption_keys version of the configured ENCRYPTION_KEY: new values are sealed under it. */
  readonly keyVersion: number;

  constructor(
    db: Db,
    encryptionKey: Buffer,
    private readonly log: Logger,
  ) {
    this.repo = new ApiKeysRepository(db);
    this.cipher = new KeyCipher(encryptionKey);
    const versions = new EncryptionKeysRepository(db);
    const fingerprint = this.cipher.fingerprint();
    this.keyVersion = db
      .transaction(() => versions.findByFingerprint(fingerprint)?.version ?? versions.add(fingerprint))
      .immediate();
    const stranded = this.repo.countWithOtherVersion(this.keyVersion);
    if (stranded > 0) {
      log.error(
        { keys: stranded, keyVersion: this.keyVersion },
        'stored API keys were encrypted under another ENCRYPTION_KEY and cannot be used; restore that key, or run npm run rotate-key, or set their values again',
      );
    }
  }

  list(userId: string): ApiKeyInfo[] {
    return this.repo.listByUser(userId).map(toApiKeyInfo);
  }

  create(userId: string, key: NewApiKey): ApiKeyInfo {
    if (this.repo.countByUser(userId) >= MAX_API_KEYS_PER_USER) {
      throw new AppError('API_KEY_LIMIT_REACHED', `At most ${MAX_API_KEYS_PER_USER} API keys per user`);
    }
    const id = crypto.randomUUID();
    const secret = key.value === undefined ? null : this.seal({ id, user_id: userId }, key.value);
    const row = this.repo.insert({ id, userId, name: key.name, provider: key.provider }, secret);
    this.log.info({ userId, keyId: id, provider: key.provider, hasValue: secret !== null }, 'api key created');
    return toApiKeyInfo(row);
  }

  update(userId: string, keyId: string, changes: ApiKeyChanges): ApiKeyInfo {
    const row = this.owned(userId, keyId);
    if (changes.name !== undefined) this.repo.rename(row.id, userId, changes.name);
    if (changes.value !== undefined) {
      this.repo.setSecret(row.id, changes.value === null ? null : this.seal(row, changes.value));
    }
    this.log.info(
      { userId, keyId, renamed: changes.name !== undefined, valueChanged: changes.value !== undefined },
      'api key updated',
    );
    return toApiKeyInfo(this.owned(userId, keyId));
  }

  delete(userId: string, keyId: string): void {
    if (!this.repo.delete(keyId, userId)) throw new AppError('API_KEY_NOT_FOUND');
    this.log.info({ userId, keyId }, 'api key deleted');
  }

  /** ApiKeyResolver: the caller's key in plaintext, for the one session being created. */
  valueForSession(userId: string, keyId: string): string {
    const row = this.owned(userId, keyId);
    if (row.ciphertext === null || row.iv === null || row.auth_tag === null) throw new AppError('API_KEY_HAS_NO_VALUE');
    if (row.key_version !== this.keyVersion) {
      throw new AppError(
        'API_KEY_DECRYPT_FAILED',
        `The stored API key was encrypted under encryption key version ${row.key_version}, but the configured ENCRYPTION_KEY is version ${this.keyVersion}; set its value again`,
      );
    }
    let value: string;
    try {
      value = this.cipher.open({ ciphertext: row.ciphertext, iv: row.iv, authTag: row.auth_tag }, apiKeyAad(row));
    } catch (err) {
      this.log.error({ userId, keyId, keyVersion: row.key_version }, 'stored api key failed its integrity check');
      throw err;
    }
    this.repo.markUsed(row.id, Date.now());
    this.log.info({ userId, keyId }, 'api key handed to a new session');
    return value;
  }

  private owned(userId: string, keyId: string): ApiKeyRow {
    const row = this.repo.findOwned(keyId, userId);
    if (!row) throw new AppError('API_KEY_NOT_FOUND');
    return row;
  }

  private seal(row: Pick<ApiKeyRow, 'id' | 'user_id'>, value: string): StoredSecret {
    const sealed = this.cipher.seal(value, apiKeyAad(row));
    return { ...sealed, keyVersion: this.keyVersion, hint: hintOf(value) };
  }
}
