/**
 * The terminal area: one tab per open session (each a TerminalTab that stays attached while it
 * is in the background), the active tab's info line, and the row of keys a phone keyboard lacks.
 * Which tabs are open survives a reload (sessionStorage), so a reload finds the same screens.
 */
import { h, replace } from './dom.js';
import { TerminalTab } from './terminal-tab.js';

const TABS_KEY = 'ccm.tabs';

/** The extra keys: label, key name understood by TerminalTab.sendKey, accessible name. */
const EXTRA_KEYS = [
  ['Esc', 'esc', 'Escape'],
  ['Tab', 'tab', 'Tab'],
  ['^C', 'ctrl-c', 'Control-C'],
  ['^D', 'ctrl-d', 'Control-D'],
  ['←', 'left', 'Left arrow'],
  ['↑', 'up', 'Up arrow'],
  ['↓', 'down', 'Down arrow'],
  ['→', 'right', 'Right arrow'],
];

const STATUS_TEXT = { attaching: 'attaching…', live: '', ended: 'ended', error: 'error' };

export class TabManager {
  /**
   * @param {object} opts
   * @param {import('./socket.js').TerminalSocket} opts.socket
   * @param {import('./store.js').SessionStore} opts.store
   * @param {() => void} opts.onActiveChange
   */
  constructor({ socket, store, onActiveChange }) {
    this.socket = socket;
    this.store = store;
    this.onActiveChange = onActiveChange;
    this.tabs = new Map();
    this.order = [];
    this.activeId = null;

    this.strip = h('div', { class: 'tab-strip', attrs: { role: 'tablist', 'aria-label': 'Open sessions' } });
    this.info = h('div', { class: 'term-info' });
    this.empty = h(
      'div',
      { class: 'term-empty' },
      h('p', {}, 'No session open.'),
      h('p', { class: 'muted' }, 'Open one from the list, or start a new one.'),
    );
    this.panes = h('div', { class: 'term-panes' }, this.empty);
    this.keys = h(
      'div',
      { class: 'extra-keys', attrs: { role: 'toolbar', 'aria-label': 'Extra keys' } },
      EXTRA_KEYS.map(([label, key, name]) =>
        h(
          'button',
          {
            type: 'button',
            class: 'key',
            dataset: { key },
            attrs: { 'aria-label': name },
            // Keep the focus (and a phone's keyboard) in the terminal.
            onpointerdown: (e) => e.preventDefault(),
            onmousedown: (e) => e.preventDefault(),
            onclick: () => this.active?.sendKey(key),
          },
          label,
        ),
      ),
    );
    this.el = h('section', { class: 'terminal-area' }, this.strip, this.info, this.panes, this.keys);
    new ResizeObserver(() => this.active?.fitSoon()).observe(this.panes);
    store.subscribe(() => this.render());
    this.render();
  }

  get active() {
    return this.activeId ? (this.tabs.get(this.activeId) ?? null) : null;
  }

  get(sessionId) {
    return this.tabs.get(sessionId);
  }

  /** Opens (attaching with replay) or brings forward the tab of a session. */
  open(sessionId) {
    let tab = this.tabs.get(sessionId);
    if (!tab) {
      const session = this.store.get(sessionId) ?? { id: sessionId, cols: 80, rows: 24, name: sessionId };
      tab = this.add(session);
      if (this.socket.isReady) void tab.attach();
    }
    this.activate(sessionId);
    return tab;
  }

  /** A session this socket has just created (and is attached to). */
  openCreated(session) {
    const tab = this.add(session);
    tab.startCreated();
    this.activate(session.id);
    return tab;
  }

  add(session) {
    const tab = new TerminalTab({ session, socket: this.socket, host: this.panes, onChange: () => this.render() });
    this.tabs.set(session.id, tab);
    this.order.push(session.id);
    return tab;
  }

  activate(sessionId) {
    if (!this.tabs.has(sessionId)) return;
    this.activeId = sessionId;
    for (const [id, tab] of this.tabs) {
      if (id === sessionId) tab.show();
      else tab.hide();
    }
    this.persist();
    this.render();
    this.onActiveChange();
  }

  /** Closes the tab only: the session keeps running on the server. */
  closeTab(sessionId) {
    const tab = this.tabs.get(sessionId);
    if (!tab) return;
    if (tab.status !== 'ended') this.socket.send({ type: 'detach_session', sessionId });
    tab.dispose();
    this.tabs.delete(sessionId);
    const i = this.order.indexOf(sessionId);
    this.order.splice(i, 1);
    if (this.activeId === sessionId) {
      this.activeId = null;
      const next = this.order[Math.min(i, this.order.length - 1)];
      if (next) this.activate(next);
    }
    this.persist();
    this.render();
    this.onActiveChange();
  }

  /** After every (re)connect: each tab resumes from the seq it has. */
  reattachAll() {
    for (const tab of this.tabs.values()) if (tab.status !== 'ended') void tab.attach();
  }

  /** Reopens the tabs of the previous page load that are still running. */
  restore() {
    let saved;
    try {
      saved = JSON.parse(sessionStorage.getItem(TABS_KEY) ?? 'null');
    } catch {
      saved = null;
    }
    if (!saved || !Array.isArray(saved.open)) return;
    for (const id of saved.open) {
      if (this.store.get(id)?.status === 'running' && !this.tabs.has(id)) {
        const tab = this.add(this.store.get(id));
        void tab.attach();
      }
    }
    const active = this.tabs.has(saved.active) ? saved.active : this.order[0];
    if (active) this.activate(active);
  }

  persist() {
    sessionStorage.setItem(TABS_KEY, JSON.stringify({ open: this.order, active: this.activeId }));
  }

  onOutput(msg) {
    this.tabs.get(msg.sessionId)?.onOutput(msg);
  }

  onClosed(msg) {
    const reason = msg.reason === 'exited' ? `exited (code ${msg.exitCode ?? '?'})` : `session ${msg.reason}`;
    this.tabs.get(msg.sessionId)?.markEnded(reason);
  }

  /** The server detached us (a slow consumer): attach again once the page is looked at. */
  onDetached(sessionId) {
    const tab = this.tabs.get(sessionId);
    if (!tab || tab.status === 'ended') return;
    if (document.visibilityState === 'visible') void tab.attach();
    else document.addEventListener('visibilitychange', () => void tab.attach(), { once: true });
  }

  fitActive() {
    this.active?.fitNow();
  }

  reset() {
    for (const tab of this.tabs.values()) tab.dispose();
    this.tabs.clear();
    this.order = [];
    this.activeId = null;
    sessionStorage.removeItem(TABS_KEY);
    this.render();
  }

  render() {
    this.empty.hidden = this.tabs.size > 0;
    this.keys.hidden = this.tabs.size === 0;
    replace(
      this.strip,
      this.order.map((id) => {
        const tab = this.tabs.get(id);
        const s = this.store.get(id);
        const state = tab.status === 'ended' ? 'exited' : (s?.state ?? 'starting');
        const waiting = state === 'waiting_input' && s?.status === 'running';
        const classes = ['tab', `state-${state}`];
        if (id === this.activeId) classes.push('active');
        if (waiting) classes.push('attention');
        return h(
          'div',
          { class: classes.join(' '), dataset: { sessionId: id } },
          h(
            'button',
            {
              type: 'button',
              class: 'tab-open',
              attrs: { role: 'tab', 'aria-selected': id === this.activeId },
              title: tab.title || s?.name || id,
              onclick: () => this.activate(id),
            },
            h('span', { class: `dot state-${state}` }),
            h('span', { class: 'tab-name' }, s?.name ?? id),
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'tab-close',
              title: 'Close the tab (the session keeps running)',
              attrs: { 'aria-label': 'Close tab' },
              onclick: () => this.closeTab(id),
            },
            '×',
          ),
        );
      }),
    );
    const tab = this.active;
    const s = tab ? this.store.get(tab.sessionId) : null;
    this.info.hidden = !tab;
    if (tab) {
      const status = tab.message || STATUS_TEXT[tab.status] || '';
      replace(
        this.info,
        h('span', { class: 'info-name' }, s?.name ?? tab.sessionId),
        s ? h('span', { class: 'muted' }, ` ${s.profile} · ${s.cwd}`) : null,
        tab.title ? h('span', { class: 'term-title', title: 'Title set by the program' }, tab.title) : null,
        status ? h('span', { class: `term-status status-${tab.status}` }, status) : null,
      );
    }
  }
}
