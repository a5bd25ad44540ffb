/** Reads a gateway's SQLite file from the test (after the gateway stopped, or beside it in WAL). */
import Database from 'better-sqlite3';

export type Db = InstanceType<typeof Database>;

export function openDb(file: string): Db {
  const db = new Database(file);
  db.pragma('busy_timeout = 5000');
  return db;
}

export function integrityCheck(file: string): string {
  const db = openDb(file);
  try {
    const rows = db.pragma('integrity_check') as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).join('; ');
  } finally {
    db.close();
  }
}

export interface StoredLine {
  line_number: number;
  text: string;
}

export function storedLines(db: Db, sessionId: string): StoredLine[] {
  return db
    .prepare<[string], StoredLine>(
      'SELECT line_number, text FROM terminal_lines WHERE session_id = ? ORDER BY line_number',
    )
    .all(sessionId);
}

/** Line numbers must be exactly 1..n. Returns a description of the first violation, or undefined. */
export function lineNumberGap(lines: readonly StoredLine[]): string | undefined {
  for (let i = 0; i < lines.length; i++) {
    const n = (lines[i] as StoredLine).line_number;
    if (n !== i + 1) return `line_number ${n} at position ${i + 1}`;
  }
  return undefined;
}
