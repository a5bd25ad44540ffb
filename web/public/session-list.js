/**
 * The session list: each running session with its live state badge, name, profile, cwd and age,
 * with open / rename / close; ended sessions folded below; and the "new session" form.
 */
import { api, isMissingRoute } from './api.js';
import { age, h, replace } from './dom.js';

/** Ages in the list are refreshed this often. */
const AGE_REFRESH_MS = 15_000;
/** A close button asks for a second click within this long (no modal dialogs). */
const CONFIRM_WINDOW_MS = 4000;
/** Ended sessions listed under the running ones (the rest are in History). */
const ENDED_SHOWN = 15;

const BADGE_TEXT = { starting: 'starting', busy: 'busy', waiting_input: 'waiting', idle: 'idle', exited: 'exited' };

export function stateBadge(session) {
  const state = session.status === 'running' ? session.state : 'exited';
  return h('span', { class: `badge state-${state}`, dataset: { state } }, BADGE_TEXT[state] ?? state);
}

/** A button that needs a second click to act. */
function confirmButton(label, confirmLabel, action) {
  let armed = null;
  const b = h('button', { type: 'button', class: 'small danger-ghost' }, label);
  b.addEventListener('click', () => {
    if (armed) {
      clearTimeout(armed);
      armed = null;
      b.textContent = label;
      b.classList.remove('armed');
      action();
      return;
    }
    b.textContent = confirmLabel;
    b.classList.add('armed');
    armed = setTimeout(() => {
      armed = null;
      b.textContent = label;
      b.classList.remove('armed');
    }, CONFIRM_WINDOW_MS);
  });
  return b;
}

export class SessionList {
  /**
   * @param {object} opts
   * @param {import('./store.js').SessionStore} opts.store
   * @param {import('./socket.js').TerminalSocket} opts.socket
   * @param {(id: string) => void} opts.open
   * @param {(id: string) => void} opts.showHistory
   * @param {() => {cols: number, rows: number}} opts.terminalSize size a new terminal will get
   * @param {(msg: string) => void} opts.toast
   */
  constructor(opts) {
    Object.assign(this, opts);
    this.editing = null;
    this.rows = new Map();
    this.runningList = h('ul', { class: 'session-list', attrs: { 'aria-label': 'Running sessions' } });
    this.endedList = h('ul', { class: 'session-list ended' });
    this.endedCount = h('span', {}, '');
    this.ended = h(
      'details',
      { class: 'ended-sessions' },
      h('summary', {}, 'Ended sessions ', this.endedCount),
      this.endedList,
    );
    this.emptyNote = h('p', { class: 'muted empty-note' }, 'No running session.');
    this.form = this.buildForm();
    this.el = h(
      'aside',
      { class: 'sidebar' },
      h('h2', {}, 'Sessions'),
      this.emptyNote,
      this.runningList,
      this.ended,
      this.form,
    );
    this.store.subscribe(() => this.render());
    this.ageTimer = setInterval(() => this.render(), AGE_REFRESH_MS);
    this.render();
  }

  destroy() {
    clearInterval(this.ageTimer);
  }

  buildForm() {
    this.profile = h(
      'select',
      { name: 'profile', attrs: { 'aria-label': 'Profile' } },
      h('option', { value: 'claude' }, 'claude'),
      h('option', { value: 'shell' }, 'shell'),
    );
    this.cwd = h('input', {
      name: 'cwd',
      type: 'text',
      placeholder: 'working directory (default: home)',
      autocomplete: 'off',
    });
    this.name = h('input', {
      name: 'name',
      type: 'text',
      placeholder: 'name (optional)',
      maxLength: 100,
      autocomplete: 'off',
    });
    this.keySelect = h(
      'select',
      { name: 'apiKeyId', attrs: { 'aria-label': 'API key' } },
      h('option', { value: '' }, 'no API key'),
    );
    this.keyLabel = h('label', { class: 'field', hidden: true }, h('span', {}, 'API key'), this.keySelect);
    this.formError = h('p', { class: 'form-error', attrs: { role: 'alert' } });
    this.createButton = h('button', { type: 'submit', class: 'primary' }, 'Start session');
    return h(
      'form',
      { class: 'new-session', onsubmit: (e) => this.submit(e) },
      h('h3', {}, 'New session'),
      h('label', { class: 'field' }, h('span', {}, 'Profile'), this.profile),
      h('label', { class: 'field' }, h('span', {}, 'Directory'), this.cwd),
      h('label', { class: 'field' }, h('span', {}, 'Name'), this.name),
      this.keyLabel,
      this.formError,
      this.createButton,
    );
  }

  /** Fills the API key choice; hidden when the server has no keys route yet or no keys. */
  async loadKeys() {
    try {
      const { keys } = await api('GET', '/api/keys');
      replace(
        this.keySelect,
        h('option', { value: '' }, 'no API key'),
        keys.map((k) =>
          h('option', { value: k.id, disabled: !k.hasValue }, `${k.name}${k.hint ? ` (…${k.hint})` : ''}`),
        ),
      );
      this.keyLabel.hidden = keys.length === 0;
    } catch (err) {
      this.keyLabel.hidden = true;
      if (!isMissingRoute(err)) console.warn('could not load API keys', err);
    }
  }

  async submit(e) {
    e.preventDefault();
    this.formError.textContent = '';
    const { cols, rows } = this.terminalSize();
    const msg = { type: 'create_session', profile: this.profile.value, cols, rows };
    if (this.cwd.value.trim()) msg.cwd = this.cwd.value.trim();
    if (this.name.value.trim()) msg.name = this.name.value.trim();
    if (this.keySelect.value) msg.apiKeyId = this.keySelect.value;
    this.createButton.disabled = true;
    try {
      // The app opens the tab on `session_created` itself, before any output is handled.
      await this.socket.request(msg);
      this.name.value = '';
    } catch (err) {
      this.formError.textContent = err.message;
    } finally {
      this.createButton.disabled = false;
    }
  }

  async rename(id, name) {
    try {
      const reply = await this.socket.request({ type: 'rename_session', sessionId: id, name });
      this.store.patch(id, { name: reply.name });
    } catch (err) {
      this.toast(`Rename failed: ${err.message}`);
    }
  }

  async close(id) {
    try {
      const reply = await this.socket.request({ type: 'close_session', sessionId: id });
      this.store.closed(id, reply.reason, reply.exitCode);
    } catch (err) {
      this.toast(`Close failed: ${err.message}`);
    }
  }

  row(s) {
    const waiting = s.status === 'running' && s.state === 'waiting_input';
    const classes = ['session', `state-${s.status === 'running' ? s.state : 'exited'}`];
    if (waiting) classes.push('attention');
    const nameEl =
      this.editing === s.id
        ? this.renameForm(s)
        : h('button', { type: 'button', class: 'session-name', title: 'Open', onclick: () => this.open(s.id) }, s.name);
    const actions =
      s.status === 'running'
        ? [
            h('button', { type: 'button', class: 'small ghost', onclick: () => this.startRename(s.id) }, 'Rename'),
            h('button', { type: 'button', class: 'small ghost', onclick: () => this.showHistory(s.id) }, 'History'),
            confirmButton('Close', 'Really close?', () => this.close(s.id)),
          ]
        : [h('button', { type: 'button', class: 'small ghost', onclick: () => this.showHistory(s.id) }, 'History')];
    return h(
      'li',
      { class: classes.join(' '), dataset: { sessionId: s.id } },
      h('div', { class: 'session-head' }, nameEl, stateBadge(s)),
      h(
        'div',
        { class: 'session-meta' },
        h('span', { class: 'profile' }, s.profile),
        // Right-aligned overflow keeps the end of a long path; the inner span keeps it left-to-right.
        h('span', { class: 'cwd', title: s.cwd }, h('span', { dir: 'ltr' }, s.cwd)),
        h('span', { class: 'age', title: s.createdAt }, age(s.createdAt)),
      ),
      h('div', { class: 'session-actions' }, actions),
    );
  }

  startRename(id) {
    this.editing = id;
    this.render(true);
    this.runningList.querySelector('input.rename')?.focus();
  }

  renameForm(s) {
    const input = h('input', {
      class: 'rename',
      type: 'text',
      value: s.name,
      maxLength: 100,
      attrs: { 'aria-label': 'New name' },
    });
    return h(
      'form',
      {
        class: 'rename-form',
        onsubmit: (e) => {
          e.preventDefault();
          const name = input.value.trim();
          this.editing = null;
          if (name && name !== s.name) void this.rename(s.id, name);
          this.render(true);
        },
        onkeydown: (e) => {
          if (e.key === 'Escape') {
            this.editing = null;
            this.render(true);
          }
        },
      },
      input,
      h('button', { type: 'submit', class: 'small primary' }, 'Save'),
    );
  }

  render(force = false) {
    // While a name is being edited, leave the list alone (re-rendering would lose the caret).
    if (!force && this.editing && this.runningList.contains(document.activeElement)) {
      if (this.store.get(this.editing)?.status !== 'running') this.editing = null;
      else return;
    }
    const running = this.store.running();
    const ended = this.store.ended();
    this.emptyNote.hidden = running.length > 0;
    replace(
      this.runningList,
      running.map((s) => this.row(s)),
    );
    this.ended.hidden = ended.length === 0;
    this.endedCount.textContent = `(${ended.length})`;
    replace(
      this.endedList,
      ended.slice(0, ENDED_SHOWN).map((s) => this.row(s)),
    );
  }
}
