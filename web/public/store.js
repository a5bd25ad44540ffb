/**
 * What the page knows about the user's sessions (SessionInfo by id), kept current from
 * `sessions_list`, `session_created`, `session_state_changed`, `session_renamed` and
 * `session_closed`. Views subscribe and re-render from it.
 */

const STATUS_FOR_REASON = {
  exited: 'exited',
  crashed: 'crashed',
  closed: 'closed',
  timeout: 'closed',
  shutdown: 'closed',
};

export class SessionStore {
  constructor() {
    this.sessions = new Map();
    this.listeners = new Set();
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  changed() {
    for (const fn of this.listeners) fn(this);
  }

  setAll(list) {
    this.sessions = new Map(list.map((s) => [s.id, s]));
    this.changed();
  }

  upsert(info) {
    this.sessions.set(info.id, { ...this.sessions.get(info.id), ...info });
    this.changed();
  }

  /** Returns false when the session is unknown (the caller may want to reload the list). */
  patch(id, fields) {
    const s = this.sessions.get(id);
    if (!s) return false;
    this.sessions.set(id, { ...s, ...fields });
    this.changed();
    return true;
  }

  closed(id, reason, exitCode) {
    return this.patch(id, {
      status: STATUS_FOR_REASON[reason] ?? 'closed',
      state: 'exited',
      exitCode: exitCode ?? null,
      closedAt: new Date().toISOString(),
    });
  }

  get(id) {
    return this.sessions.get(id);
  }

  /** Newest first. */
  all() {
    return [...this.sessions.values()].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  }

  running() {
    return this.all().filter((s) => s.status === 'running');
  }

  ended() {
    return this.all().filter((s) => s.status !== 'running');
  }

  waiting() {
    return this.running().filter((s) => s.state === 'waiting_input');
  }
}
