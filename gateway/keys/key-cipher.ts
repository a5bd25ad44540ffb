/**
 * AES-256-GCM for stored API keys. Every encryption draws a fresh random IV; every decryption
 * checks the 16-byte auth tag, so altered ciphertext, a swapped IV or tag, or the wrong key fail
 * loudly (API_KEY_DECRYPT_FAILED) and never yield garbage. The caller binds each ciphertext to
 * its row with `aad` (additional authenticated data), so a ciphertext copied into another row or
 * another user's key fails the same check.
 */
import crypto from 'node:crypto';
import { AppError } from '../../common/errors.js';

const ALGORITHM = 'aes-256-gcm';
/** AES-256 key length. */
export const KEY_BYTES = 32;
/** 96-bit IVs are GCM's native size (NIST SP 800-38D); random per encryption. */
export const IV_BYTES = 12;
/** Full-length tag; shorter tags weaken the integrity check, so they are refused. */
export const AUTH_TAG_BYTES = 16;
/** Label for the key fingerprint: lets us recognise a key without storing anything that reveals it. */
const FINGERPRINT_LABEL = 'ccmanager/encryption-key-fingerprint/v1';

export interface Sealed {
  ciphertext: Buffer;
  iv: Buffer;
  authTag: Buffer;
}

/** Decodes a 32-byte key given as 64 hex characters or base64 (the ENCRYPTION_KEY formats). */
export function decodeKey(raw: string): Buffer | undefined {
  const trimmed = raw.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  const b64 = Buffer.from(trimmed, 'base64');
  return b64.length === KEY_BYTES ? b64 : undefined;
}

export class KeyCipher {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error(`encryption key must be ${KEY_BYTES} bytes, got ${key.length}`);
    this.key = Buffer.from(key);
  }

  /** HMAC of a fixed label under the key: equal for equal keys, reveals nothing about the key. */
  fingerprint(): string {
    return crypto.createHmac('sha256', this.key).update(FINGERPRINT_LABEL).digest('hex').slice(0, 32);
  }

  seal(plaintext: string, aad: string): Sealed {
    const iv = crypto.randomBytes(IV_BYTES);
    const cipher = crypto.createCipheriv(ALGORITHM, this.key, iv, { authTagLength: AUTH_TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { ciphertext, iv, authTag: cipher.getAuthTag() };
  }

  /** Throws AppError('API_KEY_DECRYPT_FAILED') unless the tag proves key, IV, AAD and ciphertext intact. */
  open(sealed: Sealed, aad: string): string {
    if (sealed.iv.length !== IV_BYTES || sealed.authTag.length !== AUTH_TAG_BYTES) {
      throw new AppError(
        'API_KEY_DECRYPT_FAILED',
        'The stored API key is malformed (wrong IV or auth tag length); set its value again',
      );
    }
    try {
      const decipher = crypto.createDecipheriv(ALGORITHM, this.key, sealed.iv, { authTagLength: AUTH_TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(sealed.authTag);
      const plain = Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
      return plain.toString('utf8');
    } catch {
      throw new AppError(
        'API_KEY_DECRYPT_FAILED',
        'The stored API key failed its integrity check (the ciphertext was altered or ENCRYPTION_KEY is not the key it was encrypted with); set its value again',
      );
    }
  }
}
