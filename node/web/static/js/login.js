// The login screen.

import * as api from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';

/** loginView returns the login form; done(session) runs after a login. */
export function loginView(done) {
  const login = h('input', { id: 'login', name: 'login', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-wide' }, t('login.submit'));
  const form = h('form', { class: 'login-form', 'aria-labelledby': 'login-title' },
    h('div', { class: 'login-brand' }, h('span', { class: 'brand-mark big' }, '報'), h('span', null, 'Horenso')),
    h('h1', { id: 'login-title' }, t('login.title')),
    h('label', { for: 'login' }, t('login.login')), login,
    h('label', { for: 'password' }, t('login.password')), password,
    err, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.hidden = true;
    submit.disabled = true;
    submit.textContent = t('login.busy');
    try {
      const s = await api.login(login.value.trim(), password.value);
      done(s);
    } catch (e) {
      err.textContent = e.status === 0 ? t('error.network') : t('login.failed', { error: e.message });
      err.hidden = false;
      password.select();
    } finally {
      submit.disabled = false;
      submit.textContent = t('login.submit');
    }
  });
  setTimeout(() => login.focus());
  return h('div', { class: 'login-page' }, form);
}
