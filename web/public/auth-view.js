/** Log in / register. On success the token goes to sessionStorage (api.js), never into a URL. */
import { api, session } from './api.js';
import { h } from './dom.js';

/** Password bounds of the server (8–72 UTF-8 bytes), checked here only to explain early. */
const MIN_PASSWORD_BYTES = 8;
const MAX_PASSWORD_BYTES = 72;

export function authView(onLoggedIn) {
  let mode = 'login';
  const username = h('input', {
    name: 'username',
    type: 'text',
    autocomplete: 'username',
    required: true,
    autocapitalize: 'none',
    spellcheck: false,
  });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'form-error', attrs: { role: 'alert' } });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Log in');
  const switcher = h('button', { type: 'button', class: 'link' }, 'No account? Register');
  const title = h('h1', {}, 'Log in');

  const setMode = (m) => {
    mode = m;
    title.textContent = m === 'login' ? 'Log in' : 'Create an account';
    submit.textContent = m === 'login' ? 'Log in' : 'Register';
    switcher.textContent = m === 'login' ? 'No account? Register' : 'Have an account? Log in';
    password.autocomplete = m === 'login' ? 'current-password' : 'new-password';
    error.textContent = '';
  };
  switcher.addEventListener('click', () => setMode(mode === 'login' ? 'register' : 'login'));

  const form = h(
    'form',
    {
      class: 'auth-form',
      onsubmit: async (e) => {
        e.preventDefault();
        error.textContent = '';
        const bytes = new TextEncoder().encode(password.value).length;
        if (mode === 'register' && (bytes < MIN_PASSWORD_BYTES || bytes > MAX_PASSWORD_BYTES)) {
          error.textContent = `The password must be ${MIN_PASSWORD_BYTES}–${MAX_PASSWORD_BYTES} bytes long.`;
          return;
        }
        submit.disabled = true;
        try {
          const path = mode === 'login' ? '/api/auth/login' : '/api/auth/register';
          const res = await api('POST', path, { username: username.value.trim(), password: password.value });
          session.save(res.token, res.user);
          password.value = '';
          onLoggedIn(res.user);
        } catch (err) {
          error.textContent = err.message;
        } finally {
          submit.disabled = false;
        }
      },
    },
    title,
    h('label', { class: 'field' }, h('span', {}, 'Username'), username),
    h('label', { class: 'field' }, h('span', {}, 'Password'), password),
    error,
    submit,
    switcher,
  );
  return h('main', { class: 'auth-page' }, h('div', { class: 'brand big' }, 'CCManager'), form);
}
