import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { migrate } from '../../common/db/migrate.js';
import { type Db, openDatabase } from '../../common/db/open.js';
import { SessionsRepository } from '../../common/db/repositories/sessions.js';

describe('SessionsRepository (real SQLite file)', () => {
  let dir: string;
  let db: Db;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccm-repo-'));
    db = openDatabase(path.join(dir, 'c.db'), { synchronous: 'FULL' });
    migrate(db);
    db.prepare("INSERT INTO users VALUES ('u', 'u', 'h', 'user', 0, 0, 0, 0)").run();
  });
  after(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('touchMany writes every activity time in one go and leaves other rows alone', () => {
    const repo = new SessionsRepository(db);
    for (const id of ['a', 'b', 'c']) {
      repo.insert({ id, user_id: 'u', name: id, profile: 'shell', command: 'sh', cwd: '/', cols: 80, rows: 24 });
    }
    const before = repo.get('c')?.last_activity_at;
    repo.touchMany([
      ['a', 1_000],
      ['b', 2_000],
    ]);
    expect(repo.get('a')?.last_activity_at).to.equal(1_000);
    expect(repo.get('b')?.last_activity_at).to.equal(2_000);
    expect(repo.get('c')?.last_activity_at).to.equal(before);
    repo.touchMany([]);
  });
});
