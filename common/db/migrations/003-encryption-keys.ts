/**
 * Versions of ENCRYPTION_KEY. api_keys.key_version names the row here whose key encrypted it;
 * the fingerprint (an HMAC of a fixed label under the key) lets the gateway recognise its
 * configured key without storing anything that reveals it. `npm run rotate-key` adds a version.
 */
export const sql = `
CREATE TABLE encryption_keys (
  version INTEGER PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
`;
