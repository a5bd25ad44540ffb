import * as m001 from './001-initial.js';
import * as m002 from './002-line-search.js';
import * as m003 from './003-encryption-keys.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Numbered, append-only. Never edit a released migration: add the next one. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', sql: m001.sql },
  { version: 2, name: 'line-search', sql: m002.sql },
  { version: 3, name: 'encryption-keys', sql: m003.sql },
];
