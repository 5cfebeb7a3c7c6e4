// Settings: the account's API tokens (for bots and integrations). Lists
// them with their scopes, rooms, expiry and last use, revokes them, and
// creates one with ChatWork's OAuth scopes, a room limit and a lifetime;
// a new token is shown once, here, and never again.

import * as api from './api.js';
import { h, replace } from './dom.js';
import { t, fmtFull } from './i18n.js';


const lifetimes = [0, 7, 30, 90, 365]; // days; 0: never expires

/** tokensSection returns the settings fieldset of the account's API
 * tokens. It loads them at once. base is where the tokens are: /api for
 * mine, /api/admin/users/HANDLE for another account's on the admin page
 * (which offers no room limit: the rooms listed would be the admin's). */
export function tokensSection(base = '/api') {
  const listTokens = () => api.request('GET', `${base}/tokens`);
  const createToken = (spec) => api.request('POST', `${base}/tokens`, { json: spec });
  const revokeToken = (id) => api.request('DELETE', `${base}/tokens/${encodeURIComponent(id)}`);
  const mine = base === '/api';
  const list = h('ul', { class: 'token-list' });
  const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const fail = (e) => {
    err.textContent = e.status === 0 ? t('error.network') : e.message;
    err.hidden = false;
  };
  const shown = h('div', { class: 'token-new', hidden: true });
  const name = h('input', { type: 'text', name: 'token_name', maxlength: '100', autocomplete: 'off' });
  const scopeBoxes = h('div', { class: 'token-scopes' });
  const roomSel = h('select', { name: 'token_rooms', multiple: true, size: '4' });
  const expires = h('select', { name: 'token_expires' },
    lifetimes.map((d) => h('option', { value: String(d) }, d ? t('settings.tokens.days', { n: d }) : t('settings.tokens.never'))));
  const createBtn = h('button', { type: 'button', class: 'btn' }, t('settings.tokens.create'));

  const load = async () => {
    try {
      const r = await listTokens();
      err.hidden = true;
      if (!scopeBoxes.firstChild) {
        replace(scopeBoxes, r.scopes.filter((s) => s !== 'offline_access').map((s) => h('label', { class: 'check' },
          h('input', { type: 'checkbox', name: 'token_scope', value: s }), h('code', null, s))));
      }
      replace(list, r.tokens.length ? r.tokens.map(row) : h('li', { class: 'muted token-none' }, t('settings.tokens.none')));
    } catch (e) {
      fail(e);
    }
  };

  const row = (tk) => {
    const revoke = h('button', { type: 'button', class: 'btn btn-small btn-danger', on: { click: async () => {
      revoke.disabled = true;
      try {
        await revokeToken(tk.id);
      } catch (e) {
        if (e.status !== 404) fail(e);
      }
      load();
    } } }, t('settings.tokens.revoke'));
    const meta = [
      t('settings.tokens.created', { time: fmtFull(tk.created) }),
      tk.expires ? t('settings.tokens.expires', { time: fmtFull(tk.expires) }) : t('settings.tokens.noexpiry'),
      tk.last_used ? t('settings.tokens.used', { time: fmtFull(tk.last_used) }) : t('settings.tokens.unused'),
    ];
    if (tk.rooms.length) meta.push(t('settings.tokens.rooms', { rooms: tk.rooms.join(', ') }));
    return h('li', { class: 'token', dataset: { id: tk.id } },
      h('div', { class: 'token-what' },
        h('div', { class: 'token-name' }, tk.name || t('settings.tokens.unnamed')),
        h('div', { class: 'token-scope-list' }, tk.scopes.length ? tk.scopes.map((s) => h('code', null, s)) : t('settings.tokens.full')),
        h('div', { class: 'muted token-meta' }, meta.join(' · '))),
      revoke);
  };

  const create = async () => {
    err.hidden = true;
    createBtn.disabled = true;
    try {
      const scopes = [...scopeBoxes.querySelectorAll('input:checked')].map((b) => b.value);
      const rooms = [...roomSel.selectedOptions].map((o) => Number(o.value));
      const made = await createToken({ name: name.value.trim(), scopes, rooms, expires_in_days: Number(expires.value) });
      const value = h('input', { type: 'text', readonly: true, class: 'token-value', value: made.token, 'aria-label': t('settings.tokens.value') });
      const copy = h('button', { type: 'button', class: 'btn btn-small', on: { click: async () => {
        value.select();
        try {
          await navigator.clipboard.writeText(made.token);
          copy.textContent = t('settings.tokens.copied');
        } catch { /* selected: the user can copy it by hand */ }
      } } }, t('settings.tokens.copy'));
      replace(shown, h('p', { class: 'form-note', role: 'status' }, t('settings.tokens.once')), h('div', { class: 'field-row' }, value, copy));
      shown.hidden = false;
      form.open = false; // the new token, above, is what to look at now
      name.value = '';
      for (const b of scopeBoxes.querySelectorAll('input:checked')) b.checked = false;
      for (const o of roomSel.options) o.selected = false;
      await load();
    } catch (e) {
      fail(e);
    } finally {
      createBtn.disabled = false;
    }
  };
  createBtn.addEventListener('click', create);
  name.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.isComposing) {
      e.preventDefault(); // the settings dialog has no submit of its own
      create();
    }
  });
  if (mine) api.rooms().then((rs) => replace(roomSel, rs.map((r) => h('option', { value: String(r.room_id) }, `${r.name} (${r.room_id})`))), fail);
  load();

  const label = (text, input) => {
    const id = input.id || (input.id = `f-${Math.random().toString(36).slice(2)}`);
    return h('div', { class: 'field' }, h('label', { for: id }, text), input);
  };
  const form = h('details', { class: 'token-create' }, h('summary', null, t('settings.tokens.new')),
    label(t('settings.tokens.name'), name),
    h('fieldset', { class: 'field' }, h('legend', null, t('settings.tokens.scopes')),
      h('p', { class: 'muted' }, t('settings.tokens.scopes.none')), scopeBoxes),
    mine ? label(t('settings.tokens.limit'), roomSel) : null,
    label(t('settings.tokens.lifetime'), expires),
    createBtn);
  return h('fieldset', { class: 'field tokens' }, h('legend', null, t('settings.tokens')),
    h('p', { class: 'muted' }, t('settings.tokens.about')),
    list, err, shown, form);
}
