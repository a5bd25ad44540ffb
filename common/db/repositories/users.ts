import crypto from 'node:crypto';
import type { PublicUser, Role } from '../../models.js';
import { iso } from '../../models.js';
import type { Db } from '../open.js';

export interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  role: Role;
  token_version: number;
  disabled: number;
  created_at: number;
  updated_at: number;
}

export function toPublicUser(row: UserRow): PublicUser {
  return { id: row.id, username: row.username, role: row.role, createdAt: iso(row.created_at) };
}

export class UsersRepository {
  private readonly byId;
  private readonly byName;
  private readonly countAll;
  private readonly insertRow;

  constructor(private readonly db: Db) {
    this.byId = db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?');
    this.byName = db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?');
    this.countAll = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM users');
    this.insertRow = db.prepare(
      `INSERT INTO users (id, username, password_hash, role, created_at, updated_at)
       VALUES (@id, @username, @password_hash, @role, @created_at, @updated_at)`,
    );
  }

  findById(id: string): UserRow | undefined {
    return this.byId.get(id);
  }

  findByUsername(username: string): UserRow | undefined {
    return this.byName.get(username);
  }

  count(): number {
    return this.countAll.get()?.n ?? 0;
  }

  /**
   * Inserts a user; the first user ever becomes admin. Runs as one IMMEDIATE transaction so two
   * concurrent first registrations cannot both become admin. Throws SQLITE_CONSTRAINT_UNIQUE on a
   * taken name. `allowIfNotFirst` returns false to refuse (registration closed).
   */
  create(username: string, passwordHash: string, allowIfNotFirst: boolean): UserRow | 'closed' {
    return this.db
      .transaction((): UserRow | 'closed' => {
        const first = this.count() === 0;
        if (!first && !allowIfNotFirst) return 'closed';
        const now = Date.now();
        const row: UserRow = {
          id: crypto.randomUUID(),
          username,
          password_hash: passwordHash,
          role: first ? 'admin' : 'user',
          token_version: 0,
          disabled: 0,
          created_at: now,
          updated_at: now,
        };
        this.insertRow.run(row);
        return row;
      })
      .immediate();
  }

  list(): UserRow[] {
    return this.db.prepare<[], UserRow>('SELECT * FROM users ORDER BY created_at').all();
  }

  countActiveAdmins(): number {
    return (
      this.db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0").get()
        ?.n ?? 0
    );
  }

  /** Changing a role revokes every token of the user at once (token_version). */
  setRole(id: string, role: Role): void {
    this.db
      .prepare('UPDATE users SET role = ?, token_version = token_version + 1, updated_at = ? WHERE id = ?')
      .run(role, Date.now(), id);
  }

  setDisabled(id: string, disabled: boolean): void {
    this.db
      .prepare('UPDATE users SET disabled = ?, token_version = token_version + 1, updated_at = ? WHERE id = ?')
      .run(disabled ? 1 : 0, Date.now(), id);
  }

  setPassword(id: string, passwordHash: string): void {
    this.db
      .prepare('UPDATE users SET password_hash = ?, token_version = token_version + 1, updated_at = ? WHERE id = ?')
      .run(passwordHash, Date.now(), id);
  }
}
