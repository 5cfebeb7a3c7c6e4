// The node's admin pages, for its admins: users (add, disable, enable,
// reset a password), partners (add by address, list with organization
// and state, remove), another account's API tokens and webhooks, and the
// node's status. The API is /api/admin/... (docs/API.md, "Administration"),
// which refuses everyone else with 403. Its UI text lives here, in
// English and Japanese, to keep the shared dictionary out of it.

import { request } from './api.js';
import { h, replace, avatar, noteAvatar, fold } from './dom.js';
import { lang, fmtFull } from './i18n.js';
import { tokensSection } from './tokens.js';
import { webhooksSection } from './webhooks.js';

const text = {
  en: {
    nav: 'Admin',
    title: 'Administration',
    forbidden: 'Only the node’s admins can see this page.',
    'tab.users': 'Users',
    'tab.partners': 'Partners',
    'tab.tokens': 'Tokens & webhooks',
    'tab.status': 'Node status',
    loading: 'Loading…',
    'users.add': 'Add a user',
    'users.handle': 'Login (a-z, 0-9, . _ -)',
    'users.name': 'Display name',
    'users.email': 'Email (optional)',
    'users.password': 'Password (optional: one is made if empty)',
    'users.admin': 'Node admin',
    'users.create': 'Add user',
    'users.created': '{handle} added.',
    'users.onetime': 'Password for {handle}: give it to them now, it is not shown again.',
    'users.disable': 'Disable',
    'users.enable': 'Enable',
    'users.reset': 'Reset password',
    'users.resetConfirm': 'Give {handle} a new password? Their sessions end.',
    'users.disabled': 'Disabled',
    'users.active': 'Active',
    'users.adminRole': 'admin',
    'users.you': 'you',
    'users.search': 'Find a user by name, login or email',
    'users.more': '{n} more: search to find them',
    'users.nomatch': 'No user matches “{q}”',
    'partners.add': 'Add a partner',
    'partners.addr': 'Address (as the partner’s status page shows it: /ip4/…/tcp/…/p2p/12D3KooW…)',
    'partners.create': 'Add partner',
    'partners.none': 'No partners yet.',
    'partners.unknownOrg': 'Organization not known yet (no shared room)',
    'partners.connected': 'Connected',
    'partners.offlineSince': 'Offline since {time}',
    'partners.neverSeen': 'Not connected since this node started',
    'partners.rooms': '{n} shared rooms',
    'partners.rooms.one': '1 shared room',
    'partners.unacked': '{n} events not yet acknowledged',
    'partners.unacked.one': '1 event not yet acknowledged',
    'partners.remove': 'Remove',
    'partners.removeConfirm': 'Remove the partner {org}? Its people can no longer reach this node; shared rooms stay.',
    'tokens.user': 'User',
    'status.version': 'Version',
    'status.protocol': 'Protocol version',
    'status.nodeId': 'Node ID',
    'status.org': 'Organization',
    'status.addrs': 'Addresses (partners add this node by one of these)',
    'status.uptime': 'Up for',
    'status.started': 'since {time}',
    'status.store': 'Store size',
    'status.disk': 'Free disk',
    'status.diskFull': 'full: changes are refused',
    'status.counts': 'Accounts / rooms / events',
    'status.partners': 'Partners connected',
    'status.role': 'Role',
  },
  ja: {
    nav: '管理',
    title: 'ノードの管理',
    forbidden: 'このページはノードの管理者だけが見られます。',
    'tab.users': 'ユーザー',
    'tab.partners': 'パートナー',
    'tab.tokens': 'トークンと Webhook',
    'tab.status': 'ノードの状態',
    loading: '読み込み中…',
    'users.add': 'ユーザーを追加',
    'users.handle': 'ログイン名 (a-z, 0-9, . _ -)',
    'users.name': '表示名',
    'users.email': 'メールアドレス (任意)',
    'users.password': 'パスワード (任意: 空なら自動生成)',
    'users.admin': 'ノード管理者',
    'users.create': '追加',
    'users.created': '{handle} を追加しました。',
    'users.onetime': '{handle} のパスワードです。今すぐ本人に伝えてください。再表示はできません。',
    'users.disable': '無効にする',
    'users.enable': '有効にする',
    'users.reset': 'パスワードを再発行',
    'users.resetConfirm': '{handle} に新しいパスワードを発行しますか? ログイン中の端末はログアウトされます。',
    'users.disabled': '無効',
    'users.active': '有効',
    'users.adminRole': '管理者',
    'users.you': 'あなた',
    'users.search': '名前・ログイン名・メールアドレスでユーザーを検索',
    'users.more': 'ほか {n} 人: 検索して探せます',
    'users.nomatch': '「{q}」に一致するユーザーはいません',
    'partners.add': 'パートナーを追加',
    'partners.addr': 'アドレス (相手のノードの状態ページにあるもの: /ip4/…/tcp/…/p2p/12D3KooW…)',
    'partners.create': '追加',
    'partners.none': 'パートナーはまだありません。',
    'partners.unknownOrg': '組織名は未取得 (共有ルームなし)',
    'partners.connected': '接続中',
    'partners.offlineSince': '{time} からオフライン',
    'partners.neverSeen': 'このノードの起動後、未接続',
    'partners.rooms': '共有ルーム {n}',
    'partners.unacked': '未確認のイベント {n}',
    'partners.remove': '削除',
    'partners.removeConfirm': 'パートナー {org} を削除しますか? 相手の人はこのノードに届かなくなります。共有ルームは残ります。',
    'tokens.user': 'ユーザー',
    'status.version': 'バージョン',
    'status.protocol': 'プロトコルのバージョン',
    'status.nodeId': 'ノード ID',
    'status.org': '組織',
    'status.addrs': 'アドレス (パートナーはこのどれかで追加します)',
    'status.uptime': '稼働時間',
    'status.started': '{time} から',
    'status.store': 'ストアのサイズ',
    'status.disk': 'ディスクの空き',
    'status.diskFull': '容量不足: 変更を受け付けていません',
    'status.counts': 'アカウント / ルーム / イベント',
    'status.partners': '接続中のパートナー',
    'status.role': '役割',
  },
};

/** tr translates the admin pages' text. */
export function tr(key, vars) {
  // English has a singular: "key.one" when n is 1.
  if (vars && vars.n === 1 && (text[lang] || text.en)[key + '.one']) key += '.one';
  let s = (text[lang] || text.en)[key] ?? text.en[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

const tabs = ['users', 'partners', 'tokens', 'status'];

/** adminUsersMax is how many users the users tab draws at once, each with
 * its buttons: its search box finds the others. */
export const adminUsersMax = 100;

/** findUsers returns the users a search box's text finds by name, login
 * or email (all of them for none), for the users and tokens tabs. */
function findUsers(users, text) {
  const q = fold(text.trim());
  return q ? users.filter((u) => fold([u.name, u.handle, u.email].join('\n')).includes(q)) : users;
}

const fmtBytes = (n) => {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
};

const fmtDuration = (s) => {
  const d = Math.floor(s / 86400), hr = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  return d ? `${d}d ${hr}h` : hr ? `${hr}h ${m}m` : `${m}m ${s % 60}s`;
};

let uid = 0;
function field(label, input) {
  input.id = input.id || `adm-${++uid}`;
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
}

/** AdminView is the /admin page; /admin/<tab> opens a tab. */
export class AdminView {
  constructor(app) {
    this.kind = 'admin';
    this.app = app;
    const m = location.pathname.match(/^\/admin\/(\w+)/);
    this.tab = m && tabs.includes(m[1]) ? m[1] : 'users';
    this.body = h('div', { class: 'admin-body' });
    this.tabBar = h('div', { class: 'tabs admin-tabs', role: 'tablist' },
      tabs.map((k) => h('button', { type: 'button', role: 'tab', class: 'tab', dataset: { tab: k },
        on: { click: () => this.switchTab(k) } }, tr('tab.' + k))));
    this.el = h('div', { class: 'page page-admin' },
      h('header', { class: 'room-header' }, h('h2', { class: 'room-title' }, tr('title'))),
      h('div', { class: 'page-body' }, app.me.admin ? this.tabBar : null, this.body));
  }

  switchTab(k) {
    this.tab = k;
    history.replaceState(null, '', `/admin/${k}`);
    this.load();
  }

  async load() {
    this.app.updateTitle();
    if (!this.app.me.admin) {
      replace(this.body, h('p', { class: 'state form-error admin-forbidden', role: 'alert' }, tr('forbidden')));
      return;
    }
    for (const b of this.tabBar.children) b.setAttribute('aria-selected', b.dataset.tab === this.tab ? 'true' : 'false');
    replace(this.body, h('p', { class: 'state' }, tr('loading')));
    const section = { users: () => this.users(), partners: () => this.partners(), tokens: () => this.tokens(), status: () => this.status() }[this.tab];
    try {
      const el = await section();
      if (this.app.view === this) replace(this.body, el);
    } catch (e) {
      if (this.app.view === this) replace(this.body, h('p', { class: 'state form-error', role: 'alert' }, e.status === 403 ? tr('forbidden') : e.message));
    }
  }

  resync(outage) {
    if (outage) this.load();
  }

  // ---- users

  async users() {
    let list = (await request('GET', '/api/admin/users')) || [];
    const note = h('div', { class: 'admin-note', role: 'status' });
    const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const fail = (e) => {
      err.textContent = e.message;
      err.hidden = false;
    };
    const onetime = (handle, pw) => replace(note, h('div', { class: 'onetime' },
      h('p', null, tr('users.onetime', { handle })), h('input', { type: 'text', readonly: true, class: 'onetime-password', value: pw,
        'aria-label': tr('users.onetime', { handle }), on: { focus: (e) => e.target.select() } })));

    const handle = h('input', { type: 'text', name: 'handle', required: true, autocomplete: 'off', spellcheck: 'false', pattern: '[a-z0-9._-]+' });
    const name = h('input', { type: 'text', name: 'name', autocomplete: 'off' });
    const email = h('input', { type: 'email', name: 'email', autocomplete: 'off' });
    const password = h('input', { type: 'text', name: 'password', autocomplete: 'new-password' });
    const admin = h('input', { type: 'checkbox', name: 'admin' });
    const form = h('form', { class: 'admin-form admin-add-user' },
      h('h3', null, tr('users.add')),
      h('div', { class: 'field-row' }, field(tr('users.handle'), handle), field(tr('users.name'), name)),
      h('div', { class: 'field-row' }, field(tr('users.email'), email), field(tr('users.password'), password)),
      h('label', { class: 'check' }, admin, tr('users.admin')),
      h('button', { type: 'submit', class: 'btn btn-primary' }, tr('users.create')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.hidden = true;
      try {
        const u = await request('POST', '/api/admin/users', { form: { handle: handle.value.trim(), name: name.value.trim(),
          email: email.value.trim(), password: password.value, admin: admin.checked ? 1 : 0 } });
        form.reset();
        await this.reload();
        if (u.password) onetime(u.handle, u.password);
        else replace(note, h('p', null, tr('users.created', { handle: u.handle })));
      } catch (x) {
        fail(x);
      }
    });

    const row = (u) => {
      noteAvatar(u.account_id, u.avatar_image_url);
      const self = u.account_id === this.app.me.account_id;
      const act = (label, action, fn, danger) => h('button', { type: 'button', class: ['btn', 'btn-small', danger && 'btn-danger'], dataset: { action },
        on: { click: async () => {
          err.hidden = true;
          try {
            await fn();
          } catch (x) {
            fail(x);
          }
        } } }, label);
      const path = `/api/admin/users/${encodeURIComponent(u.handle)}`;
      return h('li', { class: ['admin-user', u.disabled && 'disabled'], dataset: { handle: u.handle, disabled: u.disabled ? '1' : '' } },
        avatar(u.account_id, u.name, 'sm'),
        h('div', { class: 'admin-user-main' },
          h('div', { class: 'admin-user-name' }, u.name, ' ', h('code', null, u.handle),
            u.admin ? h('span', { class: 'badge admin-badge' }, tr('users.adminRole')) : null,
            self ? h('span', { class: 'muted' }, ` (${tr('users.you')})`) : null),
          h('div', { class: 'muted' }, [u.email, u.disabled ? tr('users.disabled') : tr('users.active')].filter(Boolean).join(' · '))),
        h('div', { class: 'admin-actions' },
          self ? null : u.disabled
            ? act(tr('users.enable'), 'enable', async () => { await request('DELETE', `${path}/disabled`); await this.reload(); })
            : act(tr('users.disable'), 'disable', async () => { await request('PUT', `${path}/disabled`); await this.reload(); }, true),
          act(tr('users.reset'), 'reset', async () => {
            if (!confirm(tr('users.resetConfirm', { handle: u.handle }))) return;
            const r = await request('POST', `${path}/password`);
            onetime(u.handle, r.password);
          })));
    };
    // An organization of thousands: the first adminUsersMax users that the
    // search box matches (all while it is empty), the rest found by name.
    const filter = h('input', { type: 'search', class: 'picker-filter admin-user-filter', placeholder: tr('users.search'), 'aria-label': tr('users.search') });
    const ul = h('ul', { class: 'admin-list admin-users' });
    const more = h('p', { class: 'muted admin-users-more', hidden: true });
    const render = () => {
      const shown = findUsers(list, filter.value);
      replace(ul, shown.slice(0, adminUsersMax).map(row));
      more.hidden = shown.length <= adminUsersMax;
      more.textContent = tr('users.more', { n: shown.length - adminUsersMax });
    };
    filter.addEventListener('input', render);
    this.reload = async () => {
      list = (await request('GET', '/api/admin/users')) || [];
      render();
    };
    render();
    return h('div', { class: 'admin-section' }, note, err, filter, ul, more, form);
  }

  // ---- partners

  async partners() {
    const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const ul = h('ul', { class: 'admin-list admin-partners' });
    const render = (ps) => replace(ul, ps.length ? ps.map(row) : h('li', { class: 'muted' }, tr('partners.none')));
    const reload = async () => render((await request('GET', '/api/admin/partners')) || []);
    const row = (p) => {
      const org = p.organization_name || tr('partners.unknownOrg');
      const state = p.connected ? tr('partners.connected')
        : p.last_seen ? tr('partners.offlineSince', { time: fmtFull(p.last_seen) }) : tr('partners.neverSeen');
      const remove = h('button', { type: 'button', class: 'btn btn-small btn-danger', dataset: { action: 'remove' }, on: { click: async () => {
        if (!confirm(tr('partners.removeConfirm', { org }))) return;
        try {
          await request('DELETE', `/api/admin/partners/${encodeURIComponent(p.node_id)}`);
        } catch (x) {
          err.textContent = x.message;
          err.hidden = false;
        }
        reload();
      } } }, tr('partners.remove'));
      return h('li', { class: 'admin-partner', dataset: { nodeId: p.node_id, state: p.connected ? 'connected' : 'offline' } },
        h('span', { class: ['admin-partner-dot', p.connected ? 'on' : 'off'], 'aria-hidden': 'true' }),
        h('div', { class: 'admin-partner-main' },
          h('div', { class: 'admin-partner-org' }, org),
          h('div', { class: 'partner-state' }, state),
          h('div', { class: 'muted' }, tr('partners.rooms', { n: p.rooms_shared }),
            p.unacked ? ' · ' + tr('partners.unacked', { n: p.unacked }) : '', p.last_error && !p.connected ? ` · ${p.last_error}` : ''),
          h('code', { class: 'admin-node-id' }, p.node_id),
          p.addrs.map((a) => h('div', null, h('code', { class: 'admin-addr muted' }, a)))),
        h('div', { class: 'admin-actions' }, remove));
    };
    render((await request('GET', '/api/admin/partners')) || []);
    const addr = h('input', { type: 'text', name: 'addr', required: true, autocomplete: 'off', spellcheck: 'false', placeholder: '/ip4/203.0.113.5/tcp/4001/p2p/12D3KooW…' });
    const form = h('form', { class: 'admin-form admin-add-partner' }, h('h3', null, tr('partners.add')), field(tr('partners.addr'), addr),
      h('button', { type: 'submit', class: 'btn btn-primary' }, tr('partners.create')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.hidden = true;
      try {
        await request('POST', '/api/admin/partners', { form: { addr: addr.value.trim() } });
        addr.value = '';
        await reload();
      } catch (x) {
        err.textContent = x.message;
        err.hidden = false;
      }
    });
    return h('div', { class: 'admin-section' }, ul, err, form);
  }

  // ---- another account's tokens and webhooks

  async tokens() {
    const users = (await request('GET', '/api/admin/users')) || [];
    const holder = h('div', { class: 'admin-tokens' });
    const sel = h('select', { name: 'token_user' });
    const show = () => {
      const base = `/api/admin/users/${encodeURIComponent(sel.value)}`;
      replace(holder, tokensSection(base), webhooksSection(base));
    };
    sel.addEventListener('change', show);
    // As on the users tab: the first adminUsersMax users the search box
    // matches, and the one shown, which stays first while it does not.
    const filter = h('input', { type: 'search', class: 'picker-filter token-user-filter', placeholder: tr('users.search'), 'aria-label': tr('users.search') });
    const more = h('p', { class: 'muted token-users-more', hidden: true });
    const render = () => {
      const q = filter.value.trim();
      const shown = findUsers(users, q);
      const options = shown.slice(0, adminUsersMax);
      const current = users.find((u) => u.handle === sel.value);
      if (current && !options.includes(current)) options.unshift(current);
      replace(sel, options.map((u) => h('option', { value: u.handle }, `${u.name} (${u.handle})`)));
      if (current) sel.value = current.handle;
      more.hidden = shown.length <= adminUsersMax && (shown.length > 0 || !q);
      more.textContent = shown.length ? tr('users.more', { n: shown.length - adminUsersMax }) : tr('users.nomatch', { q });
    };
    filter.addEventListener('input', render);
    render();
    if (users.length) show();
    const user = field(tr('tokens.user'), sel);
    user.insertBefore(filter, sel);
    user.append(more);
    return h('div', { class: 'admin-section' }, user, holder);
  }

  // ---- status

  async status() {
    const st = await request('GET', '/api/admin/status');
    const row = (label, ...value) => [h('dt', null, label), h('dd', null, ...value)];
    return h('div', { class: 'admin-section' }, h('dl', { class: 'admin-status' },
      row(tr('status.version'), st.version),
      row(tr('status.protocol'), String(st.protocol_version)),
      row(tr('status.nodeId'), h('code', { class: 'status-node-id' }, st.node_id)),
      row(tr('status.org'), st.organization_name),
      row(tr('status.addrs'), st.addrs.length ? st.addrs.map((a) => h('div', null, h('code', { class: 'status-addr' }, a))) : '—'),
      row(tr('status.uptime'), fmtDuration(st.uptime_seconds), ' ', h('span', { class: 'muted' }, tr('status.started', { time: fmtFull(st.started) }))),
      row(tr('status.store'), fmtBytes(st.store_bytes)),
      row(tr('status.disk'), fmtBytes(st.disk_free_bytes), st.disk_full ? h('span', { class: 'form-error' }, ' ', tr('status.diskFull')) : null),
      row(tr('status.counts'), `${st.accounts} / ${st.rooms} / ${st.events}`),
      row(tr('status.partners'), h('span', { class: 'status-partners' }, `${st.partners_connected} / ${st.partners}`)),
      row(tr('status.role'), st.role)));
  }
}
