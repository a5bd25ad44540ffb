/**
 * REST client and the login token. The token lives in sessionStorage (it survives a reload of
 * this tab, dies with the tab, and is never put in a URL) and goes out only as a Bearer header.
 */

const TOKEN_KEY = 'ccm.token';
const USER_KEY = 'ccm.user';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onUnauthorized = () => undefined;

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  get user() {
    try {
      return JSON.parse(sessionStorage.getItem(USER_KEY) ?? 'null');
    } catch {
      return null;
    }
  },
  save(token, user) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(USER_KEY, JSON.stringify(user));
  },
  setUser(user) {
    sessionStorage.setItem(USER_KEY, JSON.stringify(user));
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
  },
  /** Called when the server says the token is no longer good (expired, revoked). */
  onUnauthorized(fn) {
    onUnauthorized = fn;
  },
};

/** Calls the API; resolves with the parsed body (undefined for 204), rejects with ApiError. */
export async function api(method, path, body) {
  const headers = {};
  const token = session.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The server cannot be reached');
  }
  if (res.status === 204) return undefined;
  const text = await res.text();
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const err = parsed?.error;
    const apiError = new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? res.statusText);
    const tokenProblem = ['UNAUTHENTICATED', 'INVALID_TOKEN', 'TOKEN_EXPIRED', 'TOKEN_REVOKED'];
    if (res.status === 401 && token && tokenProblem.includes(apiError.code)) onUnauthorized(apiError);
    throw apiError;
  }
  return parsed;
}

/** A route that another part of the server may not have yet: 404 on the route itself. */
export function isMissingRoute(err) {
  return err instanceof ApiError && err.status === 404 && (err.code === 'NOT_FOUND' || err.code === 'HTTP_404');
}

export const query = (params) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
};
