import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import pino from 'pino';
import { migrate } from '../../common/db/migrate.js';
import { type Db, openDatabase } from '../../common/db/open.js';
import { UsersRepository } from '../../common/db/repositories/users.js';
import { AppError } from '../../common/errors.js';
import { ApiKeyService } from '../../gateway/keys/api-key-service.js';
import { rotateEncryptionKey } from '../../gateway/keys/key-rotation.js';
import { ROOT } from '../helpers/gateway-process.js';

const run = promisify(execFile);
const log = pino({ level: 'silent' });

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return `${err.code}: ${err.message}`;
    throw err;
  }
  return undefined;
}

describe('encryption key rotation', function () {
  this.timeout(30_000);
  let dir: string;
  let dbPath: string;
  let db: Db;
  let userId: string;
  const oldKey = crypto.randomBytes(32);
  const newKey = crypto.randomBytes(32);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccm-rotate-'));
    dbPath = path.join(dir, 'ccmanager.db');
    db = openDatabase(dbPath, { synchronous: 'FULL' });
    migrate(db);
    const user = new UsersRepository(db).create('alice', 'x', true);
    userId = (user as { id: string }).id;
  });
  afterEach(() => {
    if (db.open) db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stores new values under key version 1', () => {
    const svc = new ApiKeyService(db, oldKey, log);
    expect(svc.keyVersion).to.equal(1);
    const k = svc.create(userId, { name: 'a', provider: 'anthropic', value: 'sk-ant-value-number-one' });
    const row = db.prepare('SELECT key_version FROM api_keys WHERE id = ?').get(k.id) as { key_version: number };
    expect(row.key_version).to.equal(1);
  });

  it('re-encrypts every row in one go; only the new key opens them afterwards', () => {
    const svc = new ApiKeyService(db, oldKey, log);
    const values = ['sk-ant-first-value-0001', 'sk-ant-second-value-0002', 'sk-ant-third-value-0003'];
    const ids = values.map((v, i) => svc.create(userId, { name: `k${i}`, provider: 'anthropic', value: v }).id);
    svc.create(userId, { name: 'empty', provider: 'anthropic' });
    const before = db.prepare('SELECT id, ciphertext, updated_at FROM api_keys ORDER BY id').all() as {
      ciphertext: Buffer | null;
      updated_at: number;
    }[];

    const result = rotateEncryptionKey(db, oldKey, newKey);
    expect(result).to.deep.equal({ keysReencrypted: 3, fromVersion: 1, toVersion: 2 });
    const after = db.prepare('SELECT id, ciphertext, key_version, updated_at FROM api_keys ORDER BY id').all() as {
      ciphertext: Buffer | null;
      key_version: number | null;
      updated_at: number;
    }[];
    for (const [i, row] of after.entries()) {
      expect(row.updated_at).to.equal(before[i]?.updated_at);
      if (row.ciphertext === null) continue;
      expect(row.key_version).to.equal(2);
      expect(row.ciphertext.equals(before[i]?.ciphertext as Buffer)).to.equal(false);
    }

    const withNew = new ApiKeyService(db, newKey, log);
    expect(withNew.keyVersion).to.equal(2);
    for (const [i, id] of ids.entries()) expect(withNew.valueForSession(userId, id)).to.equal(values[i]);
    const withOld = new ApiKeyService(db, oldKey, log);
    expect(codeOf(() => withOld.valueForSession(userId, ids[0] as string))).to.match(
      /^API_KEY_DECRYPT_FAILED: .*key version 2/,
    );
  });

  it('changes nothing when one row is tampered with', () => {
    const svc = new ApiKeyService(db, oldKey, log);
    const a = svc.create(userId, { name: 'a', provider: 'anthropic', value: 'sk-ant-good-value-aaaa' });
    const b = svc.create(userId, { name: 'b', provider: 'anthropic', value: 'sk-ant-good-value-bbbb' });
    const ct = (db.prepare('SELECT ciphertext FROM api_keys WHERE id = ?').get(b.id) as { ciphertext: Buffer })
      .ciphertext;
    ct[0] = (ct[0] as number) ^ 0xff;
    db.prepare('UPDATE api_keys SET ciphertext = ? WHERE id = ?').run(ct, b.id);
    expect(() => rotateEncryptionKey(db, oldKey, newKey)).to.throw(/integrity check/);
    expect(new ApiKeyService(db, oldKey, log).valueForSession(userId, a.id)).to.equal('sk-ant-good-value-aaaa');
    const versions = db.prepare('SELECT COUNT(*) AS n FROM encryption_keys').get() as { n: number };
    expect(versions.n).to.equal(1);
  });

  it('refuses an old key that is not the one in use', () => {
    const svc = new ApiKeyService(db, oldKey, log);
    svc.create(userId, { name: 'a', provider: 'anthropic', value: 'sk-ant-good-value-aaaa' });
    expect(() => rotateEncryptionKey(db, crypto.randomBytes(32), newKey)).to.throw(/not the key/);
  });

  it('npm run rotate-key (the CLI) rotates with ENCRYPTION_KEY and NEW_ENCRYPTION_KEY', async () => {
    const svc = new ApiKeyService(db, oldKey, log);
    const k = svc.create(userId, { name: 'a', provider: 'anthropic', value: 'sk-ant-cli-rotated-value' });
    db.close();
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      NODE_ENV: 'test',
      DB_PATH: dbPath,
      SESSION_ROOT: dir,
      ENCRYPTION_KEY: oldKey.toString('hex'),
      NEW_ENCRYPTION_KEY: newKey.toString('base64'),
    };
    const { stdout, stderr } = await run('npm', ['run', '--silent', 'rotate-key'], { cwd: ROOT, env });
    expect(stdout).to.match(/1 API key\(s\) re-encrypted, key version 1 -> 2/);
    expect(stdout + stderr).not.to.include(oldKey.toString('hex'));
    expect(stdout + stderr).not.to.include(newKey.toString('base64'));
    db = openDatabase(dbPath, { synchronous: 'FULL' });
    expect(new ApiKeyService(db, newKey, log).valueForSession(userId, k.id)).to.equal('sk-ant-cli-rotated-value');

    const again = await run('npm', ['run', '--silent', 'rotate-key'], { cwd: ROOT, env }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((again as { code: number }).code).to.equal(1);
    expect((again as { stderr: string }).stderr).to.match(/already rotated\?/);
  });
});
