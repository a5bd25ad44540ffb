import crypto from 'node:crypto';
import { expect } from 'chai';
import { AppError } from '../../common/errors.js';
import { AUTH_TAG_BYTES, decodeKey, IV_BYTES, KeyCipher } from '../../gateway/keys/key-cipher.js';

const VALUE = 'sk-ant-api03-unit-test-value-0123456789';
const AAD = 'ccmanager/api-key/k1/u1';

function expectDecryptFailure(run: () => unknown): AppError {
  try {
    run();
  } catch (err) {
    expect(err).to.be.instanceOf(AppError);
    expect((err as AppError).code).to.equal('API_KEY_DECRYPT_FAILED');
    expect((err as AppError).message).to.match(/integrity check|malformed/);
    return err as AppError;
  }
  throw new Error('expected API_KEY_DECRYPT_FAILED');
}

describe('KeyCipher (AES-256-GCM)', () => {
  const cipher = new KeyCipher(crypto.randomBytes(32));

  it('round-trips a value and never stores it in the clear', () => {
    const sealed = cipher.seal(VALUE, AAD);
    expect(sealed.iv.length).to.equal(IV_BYTES);
    expect(sealed.authTag.length).to.equal(AUTH_TAG_BYTES);
    expect(sealed.ciphertext.includes(Buffer.from(VALUE))).to.equal(false);
    expect(cipher.open(sealed, AAD)).to.equal(VALUE);
  });

  it('draws a fresh IV for every encryption', () => {
    const ivs = new Set<string>();
    const cts = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const s = cipher.seal(VALUE, AAD);
      ivs.add(s.iv.toString('hex'));
      cts.add(s.ciphertext.toString('hex'));
    }
    expect(ivs.size).to.equal(200);
    expect(cts.size).to.equal(200);
  });

  it('refuses tampered ciphertext, IV or tag with a clear error, never garbage', () => {
    const sealed = cipher.seal(VALUE, AAD);
    for (const part of ['ciphertext', 'iv', 'authTag'] as const) {
      for (const index of [0, sealed[part].length - 1]) {
        const copy = { ...sealed, [part]: Buffer.from(sealed[part]) };
        copy[part][index] = (copy[part][index] as number) ^ 0x01;
        expectDecryptFailure(() => cipher.open(copy, AAD));
      }
    }
  });

  it('refuses a ciphertext moved to another row (AAD) or opened with another key', () => {
    const sealed = cipher.seal(VALUE, AAD);
    expectDecryptFailure(() => cipher.open(sealed, 'ccmanager/api-key/k2/u1'));
    expectDecryptFailure(() => new KeyCipher(crypto.randomBytes(32)).open(sealed, AAD));
  });

  it('refuses a truncated tag or IV as malformed', () => {
    const sealed = cipher.seal(VALUE, AAD);
    expectDecryptFailure(() => cipher.open({ ...sealed, authTag: sealed.authTag.subarray(0, 4) }, AAD));
    expectDecryptFailure(() => cipher.open({ ...sealed, iv: sealed.iv.subarray(0, 8) }, AAD));
  });

  it('fingerprints a key without revealing it', () => {
    const key = crypto.randomBytes(32);
    const fp = new KeyCipher(key).fingerprint();
    expect(fp).to.equal(new KeyCipher(Buffer.from(key)).fingerprint());
    expect(fp).not.to.equal(new KeyCipher(crypto.randomBytes(32)).fingerprint());
    expect(fp).not.to.include(key.toString('hex').slice(0, 8));
  });

  it('accepts only 32-byte keys, as hex or base64', () => {
    const key = crypto.randomBytes(32);
    expect(decodeKey(key.toString('hex'))?.equals(key)).to.equal(true);
    expect(decodeKey(key.toString('base64'))?.equals(key)).to.equal(true);
    expect(decodeKey('abcd')).to.equal(undefined);
    expect(() => new KeyCipher(crypto.randomBytes(16))).to.throw(/32 bytes/);
  });
});
