/**
 * API keys: name, provider, hint (last 4 characters), set a value, delete. A value typed here
 * goes to the server once and is never shown again (the server never returns it).
 */
import { api, isMissingRoute } from './api.js';
import { h, replace, when } from './dom.js';

/** Delete asks for a second click within this long. */
const CONFIRM_WINDOW_MS = 4000;

export class KeysView {
  /** @param {() => void} onKeysChanged the new-session form reloads its key choice */
  constructor(onKeysChanged) {
    this.onKeysChanged = onKeysChanged;
    this.name = h('input', {
      type: 'text',
      name: 'name',
      placeholder: 'name, e.g. work',
      required: true,
      maxLength: 100,
      autocomplete: 'off',
    });
    this.value = h('input', {
      type: 'password',
      name: 'value',
      placeholder: 'value (optional, can be set later)',
      autocomplete: 'off',
    });
    this.error = h('p', { class: 'form-error', attrs: { role: 'alert' } });
    this.table = h('tbody');
    this.status = h('p', { class: 'muted', attrs: { role: 'status' } });
    this.tableWrap = h(
      'div',
      { class: 'table-wrap', hidden: true },
      h(
        'table',
        { class: 'keys' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Name', 'Provider', 'Key', 'Last used', 'Set value', ''].map((t) => h('th', {}, t)),
          ),
        ),
        this.table,
      ),
    );
    this.el = h(
      'section',
      { class: 'view keys-view' },
      h('h2', {}, 'API keys'),
      h(
        'p',
        { class: 'muted' },
        'A key is given to a session you start with it, as ANTHROPIC_API_KEY. Only its last 4 characters are ever shown.',
      ),
      h(
        'form',
        { class: 'inline-form', onsubmit: (e) => this.add(e) },
        this.name,
        this.value,
        h('button', { type: 'submit', class: 'primary' }, 'Add key'),
      ),
      this.error,
      this.status,
      this.tableWrap,
    );
  }

  async show() {
    this.status.textContent = 'Loading…';
    try {
      const { keys } = await api('GET', '/api/keys');
      this.status.textContent = keys.length === 0 ? 'No API keys yet.' : '';
      this.tableWrap.hidden = keys.length === 0;
      replace(
        this.table,
        keys.map((k) => this.row(k)),
      );
    } catch (err) {
      replace(this.table);
      this.tableWrap.hidden = true;
      this.status.textContent = isMissingRoute(err) ? 'API keys are not available on this server yet.' : err.message;
    }
  }

  row(k) {
    const value = h('input', {
      type: 'password',
      placeholder: k.hasValue ? 'new value' : 'value',
      autocomplete: 'off',
      attrs: { 'aria-label': `Value of ${k.name}` },
    });
    let armed = null;
    const del = h('button', { type: 'button', class: 'small danger-ghost' }, 'Delete');
    del.addEventListener('click', async () => {
      if (!armed) {
        del.textContent = 'Really delete?';
        armed = setTimeout(() => {
          armed = null;
          del.textContent = 'Delete';
        }, CONFIRM_WINDOW_MS);
        return;
      }
      clearTimeout(armed);
      await this.run(() => api('DELETE', `/api/keys/${encodeURIComponent(k.id)}`));
    });
    return h(
      'tr',
      { dataset: { keyId: k.id } },
      h('td', {}, k.name),
      h('td', {}, k.provider ?? ''),
      h('td', { class: 'mono' }, k.hasValue ? `••••${k.hint ?? ''}` : h('span', { class: 'muted' }, 'no value')),
      h('td', {}, k.lastUsedAt ? when(k.lastUsedAt) : h('span', { class: 'muted' }, 'never')),
      h(
        'td',
        {},
        h(
          'form',
          {
            class: 'inline-form',
            onsubmit: async (e) => {
              e.preventDefault();
              if (!value.value) return;
              await this.run(() => api('PUT', `/api/keys/${encodeURIComponent(k.id)}`, { value: value.value }));
            },
          },
          value,
          h('button', { type: 'submit', class: 'small' }, 'Save'),
        ),
      ),
      h('td', {}, del),
    );
  }

  async add(e) {
    e.preventDefault();
    const body = { name: this.name.value.trim() };
    if (this.value.value) body.value = this.value.value;
    const ok = await this.run(() => api('POST', '/api/keys', body));
    if (ok) {
      this.name.value = '';
      this.value.value = '';
    }
  }

  async run(action) {
    this.error.textContent = '';
    try {
      await action();
      await this.show();
      this.onKeysChanged();
      return true;
    } catch (err) {
      this.error.textContent = isMissingRoute(err) ? 'API keys are not available on this server yet.' : err.message;
      return false;
    }
  }
}
