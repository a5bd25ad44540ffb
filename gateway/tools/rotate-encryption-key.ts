/**
 * `npm run rotate-key`: re-encrypts every stored API key under a new ENCRYPTION_KEY.
 *
 *   1. Stop the gateway.
 *   2. ENCRYPTION_KEY=<current key> NEW_ENCRYPTION_KEY=<new key> npm run rotate-key
 *      (keys are 32 bytes as 64 hex characters or base64; `openssl rand -hex 32` makes one;
 *      without ENCRYPTION_KEY the development key in the data folder is used, and replaced).
 *   3. Set ENCRYPTION_KEY to the new key, start the gateway.
 *
 * One transaction: on any error nothing changes. Never prints a key.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Config, ConfigError, loadConfig } from '../../common/config.js';
import { migrate } from '../../common/db/migrate.js';
import { openDatabase } from '../../common/db/open.js';
import { AppError } from '../../common/errors.js';
import { decodeKey } from '../keys/key-cipher.js';
import { KeyRotationError, rotateEncryptionKey } from '../keys/key-rotation.js';

/** The file where development mode keeps its generated key (common/config.ts). */
const DEV_KEY_FILE = 'encryption_key';

function fail(message: string): never {
  process.stderr.write(`rotate-key: ${message}\n`);
  process.exit(1);
}

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}
const newRaw = process.env.NEW_ENCRYPTION_KEY;
if (!newRaw) fail('set NEW_ENCRYPTION_KEY to the new key (32 bytes as 64 hex characters or base64)');
const newKey = decodeKey(newRaw);
if (!newKey) fail('NEW_ENCRYPTION_KEY must be 32 bytes, as 64 hex characters or base64');

const db = openDatabase(config.dbPath, { synchronous: 'FULL' });
try {
  migrate(db);
  const result = rotateEncryptionKey(db, config.encryptionKey, newKey);
  db.pragma('wal_checkpoint(TRUNCATE)');
  process.stdout.write(
    `rotate-key: ${result.keysReencrypted} API key(s) re-encrypted, key version ${result.fromVersion} -> ${result.toVersion}\n`,
  );
  const devFile = path.join(config.dataDir, DEV_KEY_FILE);
  const fromDevFile =
    process.env.ENCRYPTION_KEY === undefined &&
    fs.existsSync(devFile) &&
    decodeKey(fs.readFileSync(devFile, 'utf8'))?.equals(config.encryptionKey);
  if (fromDevFile) {
    const tmp = `${devFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${newKey.toString('hex')}\n`, { mode: 0o600 });
    fs.renameSync(tmp, devFile);
    process.stdout.write(`rotate-key: the development key in ${devFile} now holds the new key\n`);
  } else {
    process.stdout.write('rotate-key: now set ENCRYPTION_KEY to the new key, then start the gateway\n');
  }
} catch (err) {
  if (!(err instanceof KeyRotationError || err instanceof AppError)) throw err;
  process.stderr.write(`rotate-key: ${err.message}\n`);
  process.exitCode = 1;
} finally {
  db.close();
}
