/**
 * Re-encrypts every stored API key from the current ENCRYPTION_KEY to a new one, in one
 * transaction: either every row ends up under the new key version, or (on any failure) none
 * changes. Used by `npm run rotate-key` (gateway/tools/rotate-encryption-key.ts).
 */

import type { Db } from '../../common/db/open.js';
import { ApiKeysRepository } from '../../common/db/repositories/api-keys.js';
import { EncryptionKeysRepository } from '../../common/db/repositories/encryption-keys.js';
import { apiKeyAad } from './api-key-service.js';
import { KeyCipher } from './key-cipher.js';

export class KeyRotationError extends Error {
  override name = 'KeyRotationError';
}

export interface RotationResult {
  keysReencrypted: number;
  fromVersion: number;
  toVersion: number;
}

export function rotateEncryptionKey(db: Db, oldKey: Buffer, newKey: Buffer): RotationResult {
  const oldCipher = new KeyCipher(oldKey);
  const newCipher = new KeyCipher(newKey);
  if (oldCipher.fingerprint() === newCipher.fingerprint()) {
    throw new KeyRotationError('NEW_ENCRYPTION_KEY is the same key as ENCRYPTION_KEY');
  }
  const versions = new EncryptionKeysRepository(db);
  const keys = new ApiKeysRepository(db);
  return db
    .transaction((): RotationResult => {
      const rows = keys.allWithValues();
      const known = versions.findByFingerprint(oldCipher.fingerprint());
      if (!known && (versions.latest() !== undefined || rows.length > 0)) {
        throw new KeyRotationError(
          'ENCRYPTION_KEY is not the key this database was encrypted with; nothing was changed',
        );
      }
      const fromVersion = known?.version ?? versions.add(oldCipher.fingerprint());
      const stranded = rows.filter((r) => r.key_version !== fromVersion);
      if (stranded.length > 0) {
        const found = [...new Set(stranded.map((r) => r.key_version))].join(', ');
        throw new KeyRotationError(
          `ENCRYPTION_KEY is key version ${fromVersion}, but ${stranded.length} stored key(s) are under version ${found} ` +
            '(already rotated? then ENCRYPTION_KEY must be the newer key); nothing was changed',
        );
      }
      const toVersion = versions.add(newCipher.fingerprint());
      for (const row of rows) {
        const aad = apiKeyAad(row);
        // open() throws API_KEY_DECRYPT_FAILED on a tampered row: the transaction rolls back.
        const plain = oldCipher.open(
          { ciphertext: row.ciphertext as Buffer, iv: row.iv as Buffer, authTag: row.auth_tag as Buffer },
          aad,
        );
        keys.reseal(row.id, newCipher.seal(plain, aad), toVersion);
      }
      return { keysReencrypted: rows.length, fromVersion, toVersion };
    })
    .immediate();
}
