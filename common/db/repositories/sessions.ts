import type { CloseReason, Profile, SessionInfo, SessionState, SessionStatus } from '../../models.js';
import { iso, isoOrNull } from '../../models.js';
import type { Db } from '../open.js';

export interface SessionRow {
  id: string;
  user_id: string;
  name: string;
  profile: Profile;
  command: string;
  cwd: string;
  status: SessionStatus;
  state: SessionState;
  cols: number;
  rows: number;
  pid: number | null;
  created_at: number;
  last_activity_at: number;
  closed_at: number | null;
  exit_code: number | null;
  signal: number | null;
  close_reason: CloseReason | null;
}

export function toSessionInfo(row: SessionRow, attachedClients: number): SessionInfo {
  return {
    id: row.id,
    name: row.name,
    profile: row.profile,
    command: row.command,
    cwd: row.cwd,
    status: row.status,
    state: row.state,
    cols: row.cols,
    rows: row.rows,
    pid: row.pid,
    createdAt: iso(row.created_at),
    lastActivityAt: iso(row.last_activity_at),
    closedAt: isoOrNull(row.closed_at),
    exitCode: row.exit_code,
    attachedClients,
  };
}

export type NewSession = Pick<SessionRow, 'id' | 'user_id' | 'name' | 'profile' | 'command' | 'cwd' | 'cols' | 'rows'>;

export class SessionsRepository {
  private readonly byId;
  private readonly setStateStmt;
  private readonly touchStmt;

  constructor(private readonly db: Db) {
    this.byId = db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?');
    this.setStateStmt = db.prepare('UPDATE sessions SET state = ? WHERE id = ?');
    this.touchStmt = db.prepare('UPDATE sessions SET last_activity_at = ? WHERE id = ?');
  }

  insert(s: NewSession): SessionRow {
    const now = Date.now();
    this.db
      .prepare(
        `INSERT INTO sessions (id, user_id, name, profile, command, cwd, status, state, cols, rows,
           created_at, last_activity_at)
         VALUES (@id, @user_id, @name, @profile, @command, @cwd, 'running', 'starting', @cols, @rows, @now, @now)`,
      )
      .run({ ...s, now });
    return this.get(s.id) as SessionRow;
  }

  get(id: string): SessionRow | undefined {
    return this.byId.get(id);
  }

  listByUser(userId: string, status?: SessionStatus): SessionRow[] {
    if (status) {
      return this.db
        .prepare<[string, string], SessionRow>(
          'SELECT * FROM sessions WHERE user_id = ? AND status = ? ORDER BY created_at',
        )
        .all(userId, status);
    }
    return this.db
      .prepare<[string], SessionRow>('SELECT * FROM sessions WHERE user_id = ? ORDER BY created_at DESC')
      .all(userId);
  }

  listByStatus(status: SessionStatus): SessionRow[] {
    return this.db
      .prepare<[string], SessionRow>('SELECT * FROM sessions WHERE status = ? ORDER BY created_at')
      .all(status);
  }

  countRunningByUser(userId: string): number {
    return (
      this.db
        .prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ? AND status = 'running'")
        .get(userId)?.n ?? 0
    );
  }

  setPid(id: string, pid: number): void {
    this.db.prepare('UPDATE sessions SET pid = ? WHERE id = ?').run(pid, id);
  }

  setSize(id: string, cols: number, rows: number): void {
    this.db.prepare('UPDATE sessions SET cols = ?, rows = ? WHERE id = ?').run(cols, rows, id);
  }

  rename(id: string, name: string): void {
    this.db.prepare('UPDATE sessions SET name = ? WHERE id = ?').run(name, id);
  }

  setState(id: string, state: SessionState): void {
    this.setStateStmt.run(state, id);
  }

  touch(id: string, atMs: number): void {
    this.touchStmt.run(atMs, id);
  }

  /**
   * Many activity times in one transaction: at synchronous=FULL each commit is an fsync, and
   * 500 separate ones blocked the gateway's event loop ~100 ms (measured in bench/many-sessions).
   */
  touchMany(entries: readonly (readonly [id: string, atMs: number])[]): void {
    if (entries.length === 0) return;
    this.db.transaction(() => {
      for (const [id, at] of entries) this.touchStmt.run(at, id);
    })();
  }

  /** Records the end of a session once; a later call for the same session changes nothing. */
  markEnded(
    id: string,
    status: Exclude<SessionStatus, 'running'>,
    reason: CloseReason,
    exitCode: number | null,
    signal: number | null,
  ): boolean {
    return (
      this.db
        .prepare(
          `UPDATE sessions SET status = ?, state = 'exited', close_reason = ?, exit_code = ?, signal = ?,
             closed_at = ? WHERE id = ? AND status = 'running'`,
        )
        .run(status, reason, exitCode, signal, Date.now(), id).changes > 0
    );
  }

  /** At gateway start: every session still marked running died with the previous run. */
  markStaleRunningTerminated(): number {
    return this.db
      .prepare(
        `UPDATE sessions SET status = 'terminated', state = 'exited', close_reason = 'crashed',
           closed_at = ? WHERE status = 'running'`,
      )
      .run(Date.now()).changes;
  }

  /** Retention: deletes ended sessions closed before `beforeMs` (lines and metadata cascade). */
  deleteEndedBefore(beforeMs: number): number {
    return this.db.prepare("DELETE FROM sessions WHERE status != 'running' AND closed_at < ?").run(beforeMs).changes;
  }
}
