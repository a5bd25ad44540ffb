/**
 * The CCManager web terminal: wiring only. Log in, then one WebSocket (socket.js) feeds the
 * session store (store.js), the terminals (terminal-tabs.js) and the waiting-for-you signals
 * (attention.js); the other views (history, API keys, monitoring) talk REST (api.js).
 * Routes live in the URL hash: #/ (terminals), #/history[/<sessionId>], #/keys, #/monitor.
 */
import { api, session } from './api.js';
import { Attention } from './attention.js';
import { authView } from './auth-view.js';
import { h, replace } from './dom.js';
import { HistoryView } from './history-view.js';
import { KeysView } from './keys-view.js';
import { MonitorView } from './monitor-view.js';
import { SessionList } from './session-list.js';
import { TerminalSocket } from './socket.js';
import { SessionStore } from './store.js';
import { TabManager } from './terminal-tabs.js';

/** Other devices may create or rename sessions (not pushed to us): the list is re-read this often. */
const LIST_POLL_MS = 30_000;
/** Several unknown-session events in a row cause one list reload. */
const LIST_RELOAD_DEBOUNCE_MS = 300;
/** Toasts disappear after this long. */
const TOAST_MS = 5000;
/** Below this width the session list becomes a drawer over the terminal. */
const NARROW_QUERY = '(max-width: 700px)';
/** Rough cell size (px) before any terminal exists, to size a new session close to its final size. */
const CELL_WIDTH_PX = 8.4;
const CELL_HEIGHT_PX = 17;

const root = document.getElementById('app');
let current = null;

const STATUS_TEXT = {
  idle: '',
  connecting: 'connecting…',
  ready: 'connected',
  reconnecting: 'reconnecting…',
  stopped: 'disconnected',
};

class App {
  constructor(user) {
    this.user = user;
    this.store = new SessionStore();
    this.socket = new TerminalSocket(() => session.token);
    this.restored = false;
    this.narrow = window.matchMedia(NARROW_QUERY);

    this.tabs = new TabManager({ socket: this.socket, store: this.store, onActiveChange: () => this.onActiveChange() });
    this.attention = new Attention(
      this.store,
      () => (this.route === 'terminal' ? this.tabs.activeId : null),
      (id) => this.openSession(id),
    );
    this.list = new SessionList({
      store: this.store,
      socket: this.socket,
      open: (id) => this.openSession(id),
      showHistory: (id) => {
        location.hash = `#/history/${encodeURIComponent(id)}`;
      },
      terminalSize: () => this.terminalSize(),
      toast: (m) => this.toast(m),
    });
    this.history = new HistoryView(this.store);
    this.keys = new KeysView(() => void this.list.loadKeys());
    this.monitor = new MonitorView();

    this.connStatus = h('span', { id: 'conn-status', class: 'conn', dataset: { status: 'idle' } });
    this.toasts = h('div', { class: 'toasts', attrs: { 'aria-live': 'polite' } });
    const nav = (hash, label, id) => h('a', { href: hash, class: 'nav-link', dataset: { route: id } }, label);
    this.navLinks = [
      nav('#/', 'Terminal', 'terminal'),
      nav('#/history', 'History', 'history'),
      nav('#/keys', 'API keys', 'keys'),
      user.role === 'admin' ? nav('#/monitor', 'Monitoring', 'monitor') : null,
    ].filter(Boolean);
    this.listToggle = h(
      'button',
      {
        type: 'button',
        class: 'ghost small list-toggle',
        attrs: { 'aria-label': 'Show sessions' },
        onclick: () => this.toggleList(),
      },
      '☰ Sessions',
    );
    const header = h(
      'header',
      { class: 'topbar' },
      h('span', { class: 'brand' }, 'CCManager'),
      this.listToggle,
      h('nav', { class: 'nav' }, this.navLinks),
      h('span', { class: 'spacer' }),
      this.attention.permissionButton(),
      this.connStatus,
      h('span', { class: 'user', title: user.role }, user.username),
      h('button', { type: 'button', class: 'ghost small', onclick: () => logout(true) }, 'Log out'),
    );
    this.terminalView = h('div', { class: 'view terminal-view list-open' }, this.list.el, this.tabs.el);
    this.views = {
      terminal: this.terminalView,
      history: this.history.el,
      keys: this.keys.el,
      monitor: this.monitor.el,
    };
    this.main = h('main', { class: 'main' }, Object.values(this.views));
    this.el = h('div', { class: 'app' }, header, this.main, this.toasts);

    this.wireSocket();
    this.onHashChange = () => this.showRoute();
    window.addEventListener('hashchange', this.onHashChange);
    this.pollTimer = setInterval(() => this.reloadList(), LIST_POLL_MS);
    this.onVisible = () => {
      if (document.visibilityState === 'visible') this.reloadList();
    };
    document.addEventListener('visibilitychange', this.onVisible);
  }

  mount() {
    replace(root, this.el);
    this.showRoute();
    this.socket.start();
    void this.list.loadKeys();
    this.attention.updateTitle();
  }

  destroy() {
    this.socket.stop();
    this.tabs.reset();
    this.list.destroy();
    this.monitor.hide();
    clearInterval(this.pollTimer);
    window.removeEventListener('hashchange', this.onHashChange);
    document.removeEventListener('visibilitychange', this.onVisible);
  }

  wireSocket() {
    const s = this.socket;
    s.on('status', (status) => {
      this.connStatus.dataset.status = status;
      this.connStatus.textContent = STATUS_TEXT[status] ?? status;
    });
    s.on('retry', ({ delayMs }) => {
      this.connStatus.textContent = `reconnecting in ${Math.max(1, Math.round(delayMs / 1000))} s…`;
    });
    s.on('ready', () => void this.onReady());
    s.on('unauthorized', () => logout(false, 'Your login has ended. Please log in again.'));
    s.on('terminal_output', (m) => this.tabs.onOutput(m));
    s.on('session_created', (m) => {
      // Synchronously, before the next frame (this session's first output) is handled.
      this.store.upsert(m.session);
      this.tabs.openCreated(m.session);
      this.afterOpen();
    });
    s.on('session_state_changed', (m) => {
      if (!this.store.patch(m.sessionId, { state: m.state })) this.reloadListSoon();
      this.attention.onStateChanged(m.sessionId, m.state, m.previousState);
    });
    s.on('session_closed', (m) => {
      if (!this.store.closed(m.sessionId, m.reason, m.exitCode)) this.reloadListSoon();
      this.tabs.onClosed(m);
    });
    s.on('session_renamed', (m) => this.store.patch(m.sessionId, { name: m.name }));
    s.on('session_error', (m) => {
      if (m.requestId === undefined && m.code === 'SLOW_CONSUMER' && m.sessionId) this.tabs.onDetached(m.sessionId);
    });
  }

  async onReady() {
    // Every open tab resumes from its seq at once; the list follows.
    this.tabs.reattachAll();
    await this.reloadList();
    if (!this.restored) {
      this.restored = true;
      this.tabs.restore();
      if (this.tabs.order.length > 0) this.afterOpen();
    }
  }

  async reloadList() {
    if (!this.socket.isReady) return;
    try {
      const { sessions } = await this.socket.request({ type: 'list_sessions' });
      this.store.setAll(sessions);
    } catch {
      // The next 'ready' reloads it.
    }
  }

  reloadListSoon() {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.reloadList(), LIST_RELOAD_DEBOUNCE_MS);
  }

  openSession(id) {
    if (location.hash !== '' && location.hash !== '#/') location.hash = '#/';
    this.tabs.open(id);
    this.afterOpen();
  }

  /** On a phone the list is a drawer: get it out of the way of the terminal. */
  afterOpen() {
    if (this.narrow.matches) this.terminalView.classList.remove('list-open');
  }

  toggleList() {
    this.terminalView.classList.toggle('list-open');
    this.tabs.active?.fitSoon();
  }

  onActiveChange() {
    this.attention.updateTitle();
  }

  terminalSize() {
    const t = this.tabs.active?.term;
    if (t) return { cols: t.cols, rows: t.rows };
    const box = this.tabs.panes.getBoundingClientRect();
    const cols = Math.floor(box.width / CELL_WIDTH_PX) || 80;
    const rows = Math.floor(box.height / CELL_HEIGHT_PX) || 24;
    return { cols: Math.max(20, Math.min(1000, cols)), rows: Math.max(5, Math.min(500, rows)) };
  }

  get route() {
    const [, name = ''] = location.hash.split('/');
    return this.views[name] ? name : 'terminal';
  }

  showRoute() {
    const parts = location.hash.split('/');
    const route = this.route;
    for (const [name, el] of Object.entries(this.views)) el.hidden = name !== route;
    for (const a of this.navLinks) a.classList.toggle('active', a.dataset.route === route);
    this.listToggle.hidden = route !== 'terminal';
    if (route === 'monitor') this.monitor.show();
    else this.monitor.hide();
    if (route === 'keys') void this.keys.show();
    if (route === 'history') this.history.show(parts[2] ? decodeURIComponent(parts[2]) : undefined);
    if (route === 'terminal') requestAnimationFrame(() => this.tabs.fitActive());
    this.attention.updateTitle();
  }

  toast(message) {
    const t = h('div', { class: 'toast' }, message);
    this.toasts.appendChild(t);
    setTimeout(() => t.remove(), TOAST_MS);
  }
}

function showLogin(notice) {
  const view = authView((user) => startApp(user));
  if (notice) view.querySelector('form')?.prepend(h('p', { class: 'notice' }, notice));
  replace(root, view);
  document.title = 'CCManager';
}

function startApp(user) {
  current?.destroy();
  current = new App(user);
  current.mount();
}

async function logout(tellServer, notice) {
  const app = current;
  current = null;
  if (tellServer && session.token) await api('POST', '/api/auth/logout').catch(() => undefined);
  app?.destroy();
  session.clear();
  showLogin(notice);
}

async function boot() {
  session.onUnauthorized(() => {
    if (current) void logout(false, 'Your login has ended. Please log in again.');
  });
  if (!session.token) return showLogin();
  try {
    const { user } = await api('GET', '/api/auth/me');
    session.setUser(user);
    startApp(user);
  } catch (err) {
    // Offline or server restarting: carry on with what we know; the socket keeps retrying.
    if (err.status === 401) {
      session.clear();
      return showLogin('Your login has ended. Please log in again.');
    }
    const user = session.user;
    if (user) startApp(user);
    else showLogin();
  }
}

void boot();
