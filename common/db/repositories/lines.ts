import type { Line } from '../../models.js';
import { iso } from '../../models.js';
import type { Db } from '../open.js';

export interface LineRow {
  session_id: string;
  line_number: number;
  text: string;
  timestamp: number;
}

export interface SearchHit {
  sessionId: string;
  sessionName: string;
  lineNumber: number;
  timestamp: string;
  snippet: string;
}

/** Marks placed around matched terms in search snippets. */
export const SNIPPET_OPEN = '[[';
export const SNIPPET_CLOSE = ']]';
/** Tokens of context that a snippet keeps around a match. */
const SNIPPET_TOKENS = 16;

const toLine = (r: { line_number: number; text: string; timestamp: number }): Line => ({
  lineNumber: r.line_number,
  text: r.text,
  timestamp: iso(r.timestamp),
});

export class LinesRepository {
  private readonly pageStmt;
  private readonly lastStmt;
  private readonly insertStmt;
  private readonly indexStmt;

  constructor(private readonly db: Db) {
    this.pageStmt = db.prepare<[string, number, number], LineRow>(
      'SELECT line_number, text, timestamp FROM terminal_lines WHERE session_id = ? AND line_number > ? ORDER BY line_number LIMIT ?',
    );
    this.lastStmt = db.prepare<[string, number], LineRow>(
      'SELECT line_number, text, timestamp FROM terminal_lines WHERE session_id = ? ORDER BY line_number DESC LIMIT ?',
    );
    this.insertStmt = db.prepare(
      'INSERT INTO terminal_lines (session_id, line_number, text, timestamp) VALUES (?, ?, ?, ?)',
    );
    // Rows of one transaction get consecutive ids (single writer per transaction).
    this.indexStmt = db.prepare(
      'INSERT INTO terminal_lines_fts (rowid, text) SELECT id, text FROM terminal_lines WHERE id >= ?',
    );
  }

  page(sessionId: string, after: number, limit: number): Line[] {
    return this.pageStmt.all(sessionId, after, limit).map(toLine);
  }

  last(sessionId: string, n: number): Line[] {
    return this.lastStmt.all(sessionId, n).reverse().map(toLine);
  }

  maxLineNumber(sessionId: string): number {
    return (
      this.db
        .prepare<[string], { n: number | null }>(
          'SELECT MAX(line_number) AS n FROM terminal_lines WHERE session_id = ?',
        )
        .get(sessionId)?.n ?? 0
    );
  }

  count(sessionId: string): number {
    return (
      this.db
        .prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM terminal_lines WHERE session_id = ?')
        .get(sessionId)?.n ?? 0
    );
  }

  /** One transaction per batch: all rows and their search index entries, or none. */
  insertBatch(rows: readonly LineRow[]): void {
    this.db.transaction((batch: readonly LineRow[]) => {
      let firstId: number | bigint | undefined;
      for (const r of batch) {
        const id = this.insertStmt.run(r.session_id, r.line_number, r.text, r.timestamp).lastInsertRowid;
        firstId ??= id;
      }
      if (firstId !== undefined) this.indexStmt.run(firstId);
    })(rows);
  }

  /**
   * FTS5 search over the lines of one user's sessions (optionally one session), newest first.
   * Throws SqliteError (code SQLITE_ERROR, message starting "fts5:") on bad query syntax.
   */
  search(userId: string | null, query: string, limit: number, sessionId?: string): SearchHit[] {
    const rows = this.db
      .prepare<
        { q: string; userId: string | null; sessionId: string | null; limit: number },
        { session_id: string; name: string; line_number: number; timestamp: number; snippet: string }
      >(
        `SELECT l.session_id, s.name, l.line_number, l.timestamp,
                snippet(terminal_lines_fts, 0, '${SNIPPET_OPEN}', '${SNIPPET_CLOSE}', '…', ${SNIPPET_TOKENS}) AS snippet
           FROM terminal_lines_fts
           JOIN terminal_lines l ON l.id = terminal_lines_fts.rowid
           JOIN sessions s ON s.id = l.session_id
          WHERE terminal_lines_fts MATCH @q
            AND (@userId IS NULL OR s.user_id = @userId)
            AND (@sessionId IS NULL OR l.session_id = @sessionId)
          ORDER BY l.timestamp DESC, l.id DESC
          LIMIT @limit`,
      )
      .all({ q: query, userId, sessionId: sessionId ?? null, limit });
    return rows.map((r) => ({
      sessionId: r.session_id,
      sessionName: r.name,
      lineNumber: r.line_number,
      timestamp: iso(r.timestamp),
      snippet: r.snippet,
    }));
  }
}
