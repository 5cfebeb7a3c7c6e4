// Webhooks in Settings: the account's ChatWork-style webhooks, with their
// health (enabled, or why the node disabled them; failures; queued
// deliveries), a form to add one (its token is shown once), and buttons
// to enable, disable, show the delivery log and delete. The API is
// /api/webhooks (docs/API.md, "Webhooks"). Its UI text lives here, in
// English and Japanese, to keep the shared dictionary out of it.

import { request } from './api.js';
import { h, replace } from './dom.js';
import { lang, fmtFull } from './i18n.js';

const text = {
  en: {
    title: 'Webhooks',
    intro: 'The node POSTs events of your rooms to these URLs, signed as ChatWork does.',
    none: 'No webhooks yet.',
    url: 'URL',
    add: 'Add webhook',
    token: 'Token (shown only now; your receiver checks X-ChatWorkWebhookSignature with it):',
    enabled: 'Enabled',
    disabled: 'Disabled: {reason}',
    enable: 'Enable',
    disable: 'Disable',
    remove: 'Delete',
    log: 'Deliveries',
    nolog: 'No deliveries yet.',
    health: '{failures} failed in a row · {queued} queued',
    last: 'last delivered {time}',
    events: 'Events',
    message_created: 'New messages',
    message_updated: 'Edited messages',
    mention_to_me: 'Mentions of me',
    noevents: 'Choose at least one event.',
  },
  ja: {
    title: 'Webhook',
    intro: 'ルームのイベントを、ChatWork と同じ署名付きでこの URL に POST します。',
    none: 'Webhook はまだありません。',
    url: 'URL',
    add: 'Webhook を追加',
    token: 'トークン(今だけ表示されます。受信側は X-ChatWorkWebhookSignature の検証に使います):',
    enabled: '有効',
    disabled: '無効: {reason}',
    enable: '有効にする',
    disable: '無効にする',
    remove: '削除',
    log: '送信履歴',
    nolog: '送信履歴はまだありません。',
    health: '連続失敗 {failures} 件 · 待機 {queued} 件',
    last: '最終送信 {time}',
    events: 'イベント',
    message_created: 'メッセージ作成',
    message_updated: 'メッセージ編集',
    mention_to_me: '自分へのメンション',
    noevents: 'イベントを 1 つ以上選んでください。',
  },
};

function tr(key, vars) {
  let s = (text[lang] || text.en)[key] ?? text.en[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

const eventTypes = ['message_created', 'message_updated', 'mention_to_me'];

/** webhooksSection is the Settings dialog's webhooks fieldset. base is
 * where the webhooks are: /api for mine, /api/admin/users/HANDLE for
 * another account's on the admin page. */
export function webhooksSection(base = '/api') {
  const list = h('ul', { class: 'webhook-list' });
  const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const fail = (e) => {
    err.textContent = e.message;
    err.hidden = false;
  };
  const tokenBox = h('div', { class: 'webhook-new', hidden: true });

  const load = async () => {
    try {
      const hooks = (await request('GET', `${base}/webhooks`)) || [];
      err.hidden = true;
      replace(list, hooks.length ? hooks.map(row) : [h('li', { class: 'webhook-none muted' }, tr('none'))]);
    } catch (e) {
      fail(e);
    }
  };

  const row = (w) => {
    const act = (label, fn, danger) => h('button', {
      type: 'button', class: ['btn', 'btn-small', danger ? 'btn-danger' : null],
      on: { click: async () => {
        try {
          await fn();
        } catch (e) {
          fail(e);
        }
        load();
      } },
    }, label);
    const path = `${base}/webhooks/${w.webhook_setting_id}`;
    const log = h('ol', { class: 'webhook-log', hidden: true });
    const showLog = h('button', { type: 'button', class: 'btn btn-small', on: { click: async () => {
      if (!log.hidden) {
        log.hidden = true;
        return;
      }
      try {
        const attempts = (await request('GET', path + '/deliveries')) || [];
        replace(log, attempts.length ? attempts.map((a) => h('li', { class: ['webhook-attempt', a.outcome], dataset: { outcome: a.outcome } },
          `${fmtFull(Math.floor(a.time / 1000))} · ${a.event} · #${a.attempt} · ${a.outcome}`,
          a.status ? ` · ${a.status}` : '', a.error ? ` · ${a.error}` : ''))
          : [h('li', { class: 'muted' }, tr('nolog'))]);
        log.hidden = false;
      } catch (e) {
        fail(e);
      }
    } } }, tr('log'));
    const state = w.enabled ? tr('enabled') : tr('disabled', { reason: w.disabled_reason || '' });
    const meta = [tr('health', { failures: w.failures, queued: w.queued })];
    if (w.last_success) meta.push(tr('last', { time: fmtFull(Math.floor(w.last_success / 1000)) }));
    return h('li', { class: 'webhook', dataset: { id: String(w.webhook_setting_id), enabled: w.enabled ? '1' : '' } },
      h('div', { class: 'webhook-what' },
        h('div', { class: 'webhook-url', title: w.url }, w.url),
        h('div', { class: 'muted webhook-meta' }, w.events.map((e) => tr(e)).join(', ')),
        h('div', { class: ['webhook-meta', 'webhook-state', w.enabled ? 'muted' : 'form-error'] }, state),
        h('div', { class: 'muted webhook-meta' }, meta.join(' · '), w.last_error && w.enabled ? ` · ${w.last_error}` : ''),
        log),
      h('div', { class: 'webhook-actions' },
        showLog,
        w.enabled ? act(tr('disable'), () => request('PUT', path, { form: { enabled: 0 } }))
          : act(tr('enable'), () => request('PUT', path, { form: { enabled: 1 } })),
        act(tr('remove'), () => request('DELETE', path), true)));
  };

  const url = h('input', { type: 'url', id: 'webhook-url', name: 'webhook_url', placeholder: 'https://', autocomplete: 'off' });
  const boxes = eventTypes.map((e) => h('input', { type: 'checkbox', name: 'webhook_event', value: e, checked: e !== 'message_updated' }));
  const addBtn = h('button', { type: 'button', class: 'btn' }, tr('add'));
  const add = async () => {
    err.hidden = true;
    tokenBox.hidden = true;
    const events = boxes.filter((b) => b.checked).map((b) => b.value);
    if (!events.length) return fail(new Error(tr('noevents')));
    addBtn.disabled = true;
    try {
      const w = await request('POST', `${base}/webhooks`, { json: { url: url.value.trim(), events } });
      url.value = '';
      replace(tokenBox, [h('p', null, tr('token')), h('code', { class: 'webhook-token' }, w.token)]);
      tokenBox.hidden = false;
      load();
    } catch (e) {
      fail(e);
    } finally {
      addBtn.disabled = false;
    }
  };
  addBtn.addEventListener('click', add);
  // The dialog's form has no submit of its own: Enter adds, not closes.
  url.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.isComposing) {
      e.preventDefault();
      add();
    }
  });
  load();
  return h('fieldset', { class: 'field webhooks' }, h('legend', null, tr('title')),
    h('p', { class: 'muted' }, tr('intro')),
    list,
    h('div', { class: 'field' }, h('label', { for: url.id }, tr('url')), url),
    h('div', { class: 'webhook-events', role: 'group', 'aria-label': tr('events') },
      ...boxes.map((b) => h('label', { class: 'check' }, b, tr(b.value)))),
    addBtn, tokenBox, err);
}
