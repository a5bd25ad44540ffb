/**
 * The one catalogue of error codes. Every REST error body and every WebSocket `error` /
 * `session_error` event carries one of these codes; the HTTP status is fixed per code so that
 * clients can rely on both. The README's "Errors" table documents every code (a unit test checks).
 */
export const ERROR_CATALOGUE = {
  VALIDATION_FAILED: { status: 400, message: 'The request is invalid' },
  INVALID_JSON: { status: 400, message: 'The body is not valid JSON' },
  INVALID_SEARCH_QUERY: { status: 400, message: 'The search query is not valid' },
  INVALID_CWD: { status: 400, message: 'The working directory is not allowed' },
  COMMAND_NOT_FOUND: { status: 400, message: 'The session command was not found' },
  API_KEY_HAS_NO_VALUE: { status: 400, message: 'That API key has no value yet' },
  UNAUTHENTICATED: { status: 401, message: 'Authentication required' },
  INVALID_TOKEN: { status: 401, message: 'The token is not valid' },
  TOKEN_EXPIRED: { status: 401, message: 'The token has expired' },
  TOKEN_REVOKED: { status: 401, message: 'The token has been revoked' },
  INVALID_CREDENTIALS: { status: 401, message: 'Wrong username or password' },
  AUTH_TIMEOUT: { status: 401, message: 'Authenticate first, within the time allowed' },
  FORBIDDEN: { status: 403, message: 'Not allowed' },
  REGISTRATION_CLOSED: { status: 403, message: 'Registration is closed' },
  PROFILE_NOT_ALLOWED: { status: 403, message: 'That session profile is not allowed for you' },
  ORIGIN_NOT_ALLOWED: { status: 403, message: 'Origin not allowed' },
  NOT_FOUND: { status: 404, message: 'Not found' },
  SESSION_NOT_FOUND: { status: 404, message: 'No session with that id' },
  API_KEY_NOT_FOUND: { status: 404, message: 'No API key with that id' },
  USER_NOT_FOUND: { status: 404, message: 'No user with that id' },
  USERNAME_TAKEN: { status: 409, message: 'That username is taken' },
  SESSION_NOT_RUNNING: { status: 409, message: 'The session is not running' },
  LAST_ADMIN: { status: 409, message: 'The last active admin cannot be demoted or disabled' },
  API_KEY_LIMIT_REACHED: { status: 409, message: 'API key limit reached' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send application/json' },
  RATE_LIMITED: { status: 429, message: 'Too many attempts; try again later' },
  SESSION_LIMIT_REACHED: { status: 429, message: 'Session limit reached' },
  SLOW_CONSUMER: { status: 429, message: 'The client did not read output fast enough and was detached' },
  INTERNAL_ERROR: { status: 500, message: 'Internal error' },
  API_KEY_DECRYPT_FAILED: { status: 500, message: 'The stored API key could not be decrypted' },
  DB_UNAVAILABLE: { status: 503, message: 'The database is unavailable' },
  STORAGE_FULL: { status: 503, message: 'The database is full; writes are paused' },
  WORKER_UNAVAILABLE: { status: 503, message: 'No terminal worker is available' },
  SHUTTING_DOWN: { status: 503, message: 'The server is shutting down' },
  REQUEST_TIMEOUT: { status: 504, message: 'The request timed out' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

/** An expected failure with a catalogue code; its message is safe to show to the client. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? ERROR_CATALOGUE[code].message);
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.details = details;
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export function errorBody(err: AppError): ErrorBody {
  const body: ErrorBody = { error: { code: err.code, message: err.message } };
  if (err.details !== undefined) body.error.details = err.details;
  return body;
}

/** Typed result for expected failures (bugs throw instead). */
export type Result<T> = { ok: true; value: T } | { ok: false; error: { code: ErrorCode; message: string } };
