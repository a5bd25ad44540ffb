/**
 * Full-text search over terminal_lines (FTS5, external content). Triggers keep the index in
 * step with inserts and deletes, including the cascade from a deleted session.
 */
export const sql = `
CREATE VIRTUAL TABLE terminal_lines_fts USING fts5(
  text,
  content = 'terminal_lines',
  content_rowid = 'id',
  tokenize = 'unicode61'
);
CREATE TRIGGER terminal_lines_ai AFTER INSERT ON terminal_lines BEGIN
  INSERT INTO terminal_lines_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER terminal_lines_ad AFTER DELETE ON terminal_lines BEGIN
  INSERT INTO terminal_lines_fts (terminal_lines_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
`;
