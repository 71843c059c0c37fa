// Sign-in with a secret key: checked against the API, kept in this tab's sessionStorage only.
import { ApiError, rememberKey, request } from './api.js';
import { h, replace } from './dom.js';

export function renderSignIn(main, signedIn) {
  const input = h('input', {
    id: 'key', name: 'key', type: 'password', required: true, autocomplete: 'off', spellcheck: 'false',
    'aria-describedby': 'key-help key-error',
  });
  const error = h('p', { id: 'key-error', class: 'error', role: 'alert' });
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', { class: 'card signin', novalidate: true },
    h('h1', {}, 'Sign in'),
    h('label', { for: 'key' }, 'Secret API key'),
    input,
    h('p', { id: 'key-help', class: 'hint' },
      'A secret key of your project (profiled keys create --kind secret). It stays in this tab only and is sent as ',
      h('code', {}, 'Authorization: Bearer'), '.'),
    error,
    button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) {
      error.textContent = 'Enter a secret key.';
      input.focus();
      return;
    }
    button.disabled = true;
    error.textContent = '';
    try {
      await request('/v1/background_jobs?limit=1', { key });
      rememberKey(key);
      signedIn();
    } catch (e) {
      if (e instanceof ApiError && e.status === 403)
        error.textContent = 'That is a public key. The console needs a secret key of the project.';
      else if (e instanceof ApiError && e.status === 401)
        error.textContent = 'That key is not known to this daemon, or it was revoked.';
      else
        error.textContent = `Sign-in failed: ${e.message}`;
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
  replace(main, form);
  input.focus();
}
