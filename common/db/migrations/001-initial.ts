/** The first schema. Times are epoch milliseconds (INTEGER); ids are UUID strings. */
export const sql = `
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL COLLATE NOCASE UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
  -- Bumped on password change, role change and disable: every older token stops working.
  token_version INTEGER NOT NULL DEFAULT 0,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE user_preferences (
  user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  data TEXT NOT NULL DEFAULT '{}',
  updated_at INTEGER NOT NULL
);

-- Tokens revoked before their expiry (logout). Pruned once expired.
CREATE TABLE revoked_tokens (
  jti TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  expires_at INTEGER NOT NULL
);
CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires_at);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  provider TEXT NOT NULL,
  ciphertext BLOB,
  iv BLOB,
  auth_tag BLOB,
  key_version INTEGER,
  hint TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_used_at INTEGER
);
CREATE INDEX api_keys_user ON api_keys (user_id, created_at);

CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  profile TEXT NOT NULL CHECK (profile IN ('claude', 'shell')),
  command TEXT NOT NULL,
  cwd TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'exited', 'closed', 'crashed', 'terminated')),
  state TEXT NOT NULL CHECK (state IN ('starting', 'busy', 'waiting_input', 'idle', 'exited')),
  cols INTEGER NOT NULL,
  rows INTEGER NOT NULL,
  pid INTEGER,
  created_at INTEGER NOT NULL,
  last_activity_at INTEGER NOT NULL,
  closed_at INTEGER,
  exit_code INTEGER,
  signal INTEGER,
  close_reason TEXT
);
CREATE INDEX sessions_user_status ON sessions (user_id, status);
CREATE INDEX sessions_status_closed ON sessions (status, closed_at);

CREATE TABLE session_metadata (
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (session_id, key)
) WITHOUT ROWID;

-- What a viewer saw, line by line. The rowid is kept (not WITHOUT ROWID) so that a full-text
-- index can use it as its content rowid.
CREATE TABLE terminal_lines (
  id INTEGER PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  line_number INTEGER NOT NULL,
  text TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  UNIQUE (session_id, line_number)
);

CREATE TABLE metrics_samples (
  timestamp INTEGER PRIMARY KEY,
  data TEXT NOT NULL
);
`;
