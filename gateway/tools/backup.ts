/**
 * Online backup of the SQLite database (SQLite's backup API through better-sqlite3): safe while
 * the server runs, unlike copying the file (a copy can catch the WAL half-applied).
 * Usage: npm run backup -- <target-file>
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../../common/config.js';

const target = process.argv[2];
if (!target) {
  process.stderr.write('usage: npm run backup -- <target-file>\n');
  process.exit(2);
}
const config = loadConfig();
const db = new Database(config.dbPath, { readonly: true, fileMustExist: true });
const started = Date.now();
await db.backup(path.resolve(target));
db.close();
process.stdout.write(`backed up ${config.dbPath} to ${path.resolve(target)} in ${Date.now() - started} ms\n`);
