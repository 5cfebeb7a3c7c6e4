// The app: session, shell, routing, and the live event stream dispatched to
// whatever is on screen.

import * as api from './api.js';
import { h, replace, debounce, avatar, noteAvatar } from './dom.js';
import { t } from './i18n.js';
import { Live } from './live.js';
import { parse, mentions, plain } from './notation.js';
import { loginView } from './login.js';
import { RoomList } from './roomlist.js';
import { RoomView } from './roomview.js';
import { MyTasksView, ContactsView } from './pages.js';
import { InviteView } from './invite.js';
import { AdminView, tr as adminText } from './admin.js';
import { groupDialog, settingsDialog } from './dialogs.js';
import { prefs } from './prefs.js';
import { searchBox, SearchView, searchQuery, openTarget } from './search.js';
import { BookmarksView } from './reactions.js';

export class App {
  constructor(root) {
    this.root = root;
    this.me = null; // /v2/me, or the session until it loads
    this.rooms = new Map(); // room_id → /v2/rooms entry
    this.roomsLoaded = false;
    this.names = new Map(); // account_id (string) → name
    this.orgs = new Map(); // account_id (string) → organization name
    this.contacts = null; // /v2/contacts, loaded on demand
    this.people = new Map(); // account_id → member or contact entry: everyone met so far
    this.drafts = new Map(); // room_id → unsent composer text
    this.view = null; // RoomView | MyTasksView | ContactsView
    this.live = null;
    this.refreshRooms = debounce(() => this.loadRooms().catch((e) => this.error(e)), 300);
    api.onUnauthorized(() => this.loggedOut());
    addEventListener('popstate', () => this.route());
    document.addEventListener('visibilitychange', () => this.view && this.view.visible && this.view.visible());
    addEventListener('focus', () => this.view && this.view.visible && this.view.visible());
  }

  async boot() {
    let s;
    try {
      s = await api.session();
    } catch (e) {
      replace(this.root, h('div', { class: 'fatal', role: 'alert' }, t('error.generic', { error: e.message }),
        h('button', { type: 'button', on: { click: () => location.reload() } }, t('retry'))));
      return;
    }
    if (!s) return this.showLogin();
    this.start(s);
  }

  showLogin() {
    this.stop();
    if (location.pathname !== '/login') {
      const back = location.pathname === '/' ? '' : location.pathname;
      history.replaceState(null, '', '/login' + (back ? `?next=${encodeURIComponent(back)}` : ''));
    }
    document.title = t('login.title');
    replace(this.root, loginView((s) => {
      const next = new URLSearchParams(location.search).get('next');
      history.replaceState(null, '', next && next.startsWith('/') && !next.startsWith('//') ? next : '/');
      this.start(s);
    }));
    this.root.removeAttribute('aria-busy');
  }

  loggedOut() {
    if (!this.me) return;
    this.me = null;
    this.showLogin();
  }

  async logout() {
    try {
      await api.logout();
    } catch {
      // the session is gone either way
    }
    this.me = null;
    this.rooms.clear();
    this.names.clear();
    this.people.clear();
    this.contacts = null;
    this.drafts.clear();
    this.showLogin();
  }

  stop() {
    if (this.live) this.live.stop();
    this.live = null;
    if (this.view && this.view.destroy) this.view.destroy();
    this.view = null;
  }

  start(s) {
    this.me = { account_id: s.account_id, name: s.name, admin: !!s.admin };
    this.names.set(String(s.account_id), s.name);
    this.shell();
    this.live = new Live({
      onEvent: (type, d) => this.onEvent(type, d),
      onState: (st) => this.connState(st),
      onResync: (outage) => this.resync(outage),
      onLoggedOut: () => this.loggedOut(),
    });
    this.live.start();
    // The room list and the routed screen load in parallel.
    this.loadRooms().catch((e) => this.roomList.failed(e));
    Promise.all([api.me(), api.health().catch(() => null)]).then(([m, health]) => {
      // The global account ID (handle@node) is what people at partner
      // organizations need to send a contact request.
      const global = m.chatwork_id && !m.chatwork_id.includes('@') && health && health.node_id
        ? `${m.chatwork_id}@${health.node_id}` : m.chatwork_id || '';
      this.me = { ...this.me, ...m, global_id: global };
      this.names.set(String(m.account_id), m.name);
      noteAvatar(m.account_id, m.avatar_image_url);
      this.showMe();
      if (m.organization_name) this.orgs.set(String(m.account_id), m.organization_name);
      this.myId.textContent = global;
      this.myId.title = global;
      dispatchEvent(new CustomEvent('horenso-me'));
    }).catch(() => {});
    this.loadIncoming();
    this.loadMyTaskCount();
    this.route();
  }

  shell() {
    const navBtn = (path, label, badge) =>
      h('a', { href: path, class: 'nav-link', dataset: { nav: path }, on: { click: (e) => this.link(e, path) } }, label, badge);
    this.taskBadge = h('span', { class: 'badge badge-count', hidden: true });
    this.reqBadge = h('span', { class: 'badge badge-count', hidden: true, 'aria-label': t('contacts.requests') });
    this.connEl = h('div', { class: 'conn-banner', role: 'status', hidden: true }, t('conn.down'));
    this.myId = h('span', { class: 'my-id' });
    this.toasts = h('div', { class: 'toasts', role: 'alert', 'aria-live': 'assertive' });
    this.roomList = new RoomList(this);
    this.center = h('section', { class: 'pane-center', 'aria-label': t('nav.chats') });
    // At phone width the side panel is a pane of its own, with a way back.
    this.sideBody = h('div', { class: 'pane-side-body' });
    this.side = h('aside', { class: 'pane-side' },
      h('button', { type: 'button', class: 'btn pane-back side-back', on: { click: () => this.closeSide() } }, '‹ ', t('nav.backtochat')),
      this.sideBody);
    this.topNav = h('nav', { class: 'topnav', 'aria-label': 'Main' },
      navBtn('/', t('nav.chats')),
      navBtn('/tasks', t('nav.mytasks'), this.taskBadge),
      navBtn('/contacts', t('nav.contacts'), this.reqBadge),
      // Bookmarks (reactions.js): an icon, where the bar has little room.
      h('a', { href: '/bookmarks', class: 'nav-link nav-icon', dataset: { nav: '/bookmarks' }, 'aria-label': t('bookmark.title'),
        title: t('bookmark.title'), on: { click: (e) => this.link(e, '/bookmarks') } }, '🔖'),
      this.me.admin ? navBtn('/admin', adminText('nav')) : null);
    const search = searchBox(this);
    this.searchInput = search.input;
    replace(this.root,
      h('header', { class: 'topbar' },
        h('a', { href: '/', class: 'brand', on: { click: (e) => this.link(e, '/') } }, h('span', { class: 'brand-mark' }, '報'), t('app.name')),
        this.topNav,
        search.el,
        h('span', { class: 'spacer' }),
        h('button', { type: 'button', class: 'btn btn-primary new-group', 'aria-label': t('nav.newgroup'), on: { click: () => this.newGroup() } },
          '+', h('span', { class: 'new-group-label' }, ' ', t('nav.newgroup'))),
        this.userEl = h('span', { class: 'user-box' }),
        h('button', { type: 'button', class: 'btn', on: { click: () => settingsDialog(this) } }, t('nav.settings')),
        h('button', { type: 'button', class: 'btn', dataset: { action: 'logout' }, on: { click: () => this.logout() } }, t('logout'))),
      this.connEl,
      h('main', { class: 'layout' }, this.roomList.el, this.center, this.side),
      this.toasts);
    this.showMe();
    this.root.removeAttribute('aria-busy');
    document.body.dataset.conn = 'connecting';
  }

  /** showMe shows my avatar and name in the top bar; the profile
   * settings call it after a change. */
  showMe() {
    if (!this.userEl) return;
    replace(this.userEl, avatar(this.me.account_id, this.me.name, 'sm'),
      h('span', { class: 'user' }, h('span', { class: 'user-name' }, this.me.name), this.myId));
  }

  link(e, path) {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    this.navigate(path);
  }

  navigate(path, replaceState = false) {
    if (path !== location.pathname) {
      if (replaceState) history.replaceState(null, '', path);
      else history.pushState(null, '', path);
    }
    this.route();
  }

  route() {
    if (!this.me) return;
    const p = location.pathname;
    for (const a of this.topNav.querySelectorAll('[data-nav]')) {
      const on = a.dataset.nav === '/' ? p === '/' || p.startsWith('/rooms/') : p.startsWith(a.dataset.nav);
      if (on) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    const m = p.match(/^\/rooms\/(\d+)$/);
    if (m) return this.openRoom(Number(m[1]));
    if (p === '/tasks') return this.show(new MyTasksView(this));
    if (p === '/contacts') return this.show(new ContactsView(this));
    if (p === '/bookmarks') return this.show(new BookmarksView(this));
    if (p === '/admin' || p.startsWith('/admin/')) return this.show(new AdminView(this));
    if (p === '/search') return this.show(new SearchView(this, searchQuery()));
    const g = p.match(/^\/g\/([^/]+)$/);
    if (g) return this.show(new InviteView(this, decodeURIComponent(g[1])));
    // At phone width "/" is the room list, one pane at a time.
    if (phone()) {
      this.show(null);
      return;
    }
    // "/" (or anything else): the last room opened, or my chat.
    const last = Number(localStorage.getItem('horenso.lastRoom'));
    if (last && (!this.roomsLoaded || this.rooms.has(last))) return this.navigate(`/rooms/${last}`, true);
    if (!this.roomsLoaded) {
      this.show(null);
      replace(this.center, h('div', { class: 'state' }, t('loading')));
      this.roomsReady = () => this.route();
      return;
    }
    const my = [...this.rooms.values()].find((r) => r.type === 'my') || this.roomList.sorted()[0];
    if (my) return this.navigate(`/rooms/${my.room_id}`, true);
    this.show(null);
    replace(this.center, h('div', { class: 'state' }, t('rooms.empty')));
  }

  show(view) {
    if (this.view && this.view.destroy) this.view.destroy();
    this.view = view;
    document.body.dataset.view = view ? view.kind : '';
    // Which pane a phone shows: the room list, a room, or a page.
    document.body.dataset.pane = !view ? 'rooms' : view.kind === 'room' ? 'room' : 'page';
    this.closeSide();
    this.roomList.render();
    if (!view) {
      replace(this.sideBody);
      this.side.hidden = true;
      return;
    }
    replace(this.center, view.el);
    if (view.sideEl) {
      replace(this.sideBody, view.sideEl);
      this.side.hidden = false;
    } else {
      replace(this.sideBody);
      this.side.hidden = true;
    }
    if (view.load) view.load();
  }

  /** closeSide closes the side panel where it opens over (or, on a phone,
   * in place of) the room. */
  closeSide() {
    document.body.classList.remove('side-open');
    for (const b of this.center.querySelectorAll('.side-toggle')) b.setAttribute('aria-expanded', 'false');
  }

  openRoom(id) {
    const target = openTarget(); // a search result's message
    if (this.view && this.view.kind === 'room' && this.view.id === id) {
      if (target) this.view.focusMessage(target);
      return;
    }
    localStorage.setItem('horenso.lastRoom', String(id));
    this.show(new RoomView(this, id, target));
    this.roomList.render();
    this.updateTitle();
  }

  currentRoom() {
    return this.view && this.view.kind === 'room' ? this.view : null;
  }

  async loadRooms() {
    const list = await api.rooms();
    const seen = new Set();
    for (const r of list) {
      seen.add(r.room_id);
      this.rooms.set(r.room_id, r);
    }
    for (const id of [...this.rooms.keys()]) if (!seen.has(id)) this.rooms.delete(id);
    this.roomsLoaded = true;
    this.roomList.render();
    this.updateTitle();
    const rv = this.currentRoom();
    if (rv) rv.roomUpdated(this.rooms.get(rv.id) || null);
    if (this.roomsReady) {
      const f = this.roomsReady;
      this.roomsReady = null;
      f();
    }
  }

  async loadIncoming() {
    try {
      const reqs = await api.incomingRequests();
      this.reqBadge.hidden = reqs.length === 0;
      this.reqBadge.textContent = String(reqs.length);
      return reqs;
    } catch {
      return null;
    }
  }

  async loadMyTaskCount() {
    try {
      const tasks = await api.myTasks('open');
      this.taskBadge.hidden = tasks.length === 0;
      this.taskBadge.textContent = String(tasks.length);
    } catch {
      // the badge stays as it was
    }
  }

  async loadContacts(force = false) {
    if (this.contacts && !force) return this.contacts;
    const list = await api.contacts();
    for (const c of list) this.met(c);
    this.contacts = list;
    return list;
  }

  /** met records a person seen in a member list or as a contact. */
  met(p) {
    this.names.set(String(p.account_id), p.name);
    if (p.organization_name) this.orgs.set(String(p.account_id), p.organization_name);
    if (this.me && p.account_id !== this.me.account_id) {
      this.people.set(p.account_id, { account_id: p.account_id, name: p.name, organization_name: p.organization_name || '' });
    }
  }

  /** candidates are the people one may add to a chat: contacts, and
   * everyone met in a member list. */
  async candidates() {
    const out = new Map();
    try {
      for (const c of await this.loadContacts()) out.set(c.account_id, c);
    } catch (e) {
      if (e.status !== 501 && e.status !== 404) this.error(e);
    }
    for (const p of this.people.values()) if (!out.has(p.account_id)) out.set(p.account_id, p);
    return [...out.values()];
  }

  /** name returns the display name of an account ID, or "". */
  name(id) {
    return this.names.get(String(id)) || '';
  }

  /** org returns the organization of an account, if it is not mine. */
  partnerOrg(id) {
    const org = this.orgs.get(String(id));
    const mine = this.me && this.me.organization_name;
    return org && mine && org !== mine ? org : '';
  }

  updateTitle() {
    let unread = 0;
    for (const r of this.rooms.values()) unread += r.unread_num || 0;
    const rv = this.currentRoom();
    const room = rv && this.rooms.get(rv.id);
    const name = this.view && this.view.kind === 'tasks' ? t('mytasks.title')
      : this.view && this.view.kind === 'contacts' ? t('contacts.title')
        : room ? this.roomList.roomName(room) : t('app.name');
    document.title = `${unread ? `(${unread}) ` : ''}${name} - ${t('app.name')}`;
  }

  connState(st) {
    document.body.dataset.conn = st;
    this.connEl.hidden = st !== 'down';
  }

  resync(outage) {
    this.connState('up');
    this.refreshRooms();
    if (outage) this.loadIncoming();
    if (this.view && this.view.resync) this.view.resync(outage);
  }

  onEvent(type, d) {
    if (document.body.dataset.conn !== 'up') this.connState('up');
    const rv = this.currentRoom();
    const here = rv && rv.id === d.room_id;
    switch (type) {
      case 'message': {
        const m = d.message;
        if (!m) break;
        this.names.set(String(m.account.account_id), m.account.name);
        const mine = m.account.account_id === this.me.account_id;
        const room = this.rooms.get(d.room_id);
        const tome = !mine && mentions(parse(m.body), String(this.me.account_id));
        if (here) rv.onMessage(m);
        if (room) {
          room.last_update_time = Math.max(room.last_update_time || 0, m.send_time || 0);
          room.message_num = (room.message_num || 0) + 1;
          if (!mine && !(here && rv.readingNow())) {
            room.unread_num = (room.unread_num || 0) + 1;
            if (tome) room.mention_num = (room.mention_num || 0) + 1;
          }
          this.roomList.render();
          this.updateTitle();
        }
        if (tome || (!mine && room && room.type === 'direct')) this.notify(m, d.room_id);
        this.refreshRooms();
        break;
      }
      case 'message_updated':
      case 'reaction': // the message with its reactions as they are now
        if (here && d.message) rv.onMessageUpdated(d.message);
        break;
      case 'notice': // a system message: shown as it happens, never unread
        if (here && d.message) rv.timeline.add(d.message);
        break;
      case 'message_deleted':
        if (here) rv.onMessageDeleted(d.message ? d.message.message_id : d.message_id);
        this.refreshRooms();
        break;
      // Tasks, members and room settings show as system messages in the
      // timeline, which the stream does not carry: fetch them.
      case 'task':
        if (here) rv.onTask(d.task);
        if (here) rv.timeline.catchUp();
        if (this.view && this.view.kind === 'tasks') this.view.onTask(d.task);
        this.loadMyTaskCount();
        this.refreshRooms();
        break;
      case 'members':
        if (here) rv.onMembers(d);
        if (here) rv.timeline.catchUp();
        this.refreshRooms();
        break;
      case 'room': // a new direct chat may be a contact request
        if (here) rv.onRoomChanged();
        // fall through
      case 'contact':
        this.contacts = null;
        this.loadIncoming();
        if (this.view && this.view.kind === 'contacts') this.view.load();
        this.refreshRooms();
        break;
      case 'receipt': // a partner acknowledged more (partners.js)
        if (here) rv.partners.onReceipt();
        break;
      case 'partner': // a partner connected or went offline
        if (rv) rv.partners.onPartner();
        break;
      default: // read
        this.refreshRooms();
    }
  }

  notify(m, roomId) {
    if (!prefs.notify || typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    const rv = this.currentRoom();
    if (document.visibilityState === 'visible' && rv && rv.id === roomId) return;
    const room = this.rooms.get(roomId);
    const title = room && room.type === 'direct' ? t('notify.direct', { name: m.account.name })
      : t('notify.mention', { name: m.account.name, room: room ? room.name : '' });
    const n = new Notification(title, {
      body: plain(parse(m.body), (id) => this.name(id)).slice(0, 200),
      tag: `horenso-${roomId}-${m.message_id}`,
    });
    n.addEventListener('click', () => {
      window.focus();
      this.navigate(`/rooms/${roomId}`);
      n.close();
    });
  }

  async newGroup() {
    const id = await groupDialog(this);
    if (id) {
      await this.loadRooms().catch(() => {});
      this.navigate(`/rooms/${id}`);
    }
  }

  /** error shows a failure to the user. */
  error(e, prefix) {
    const msg = e && e.status === 0 ? t('error.network') : t(prefix || 'error.generic', { error: e && e.message ? e.message : String(e) });
    this.toast(msg, 'error');
  }

  toast(msg, kind = 'info') {
    if (!this.toasts) return;
    const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': t('close') }, '×');
    const el = h('div', { class: ['toast', `toast-${kind}`] }, h('span', null, msg), close);
    close.addEventListener('click', () => el.remove());
    this.toasts.appendChild(el);
    setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
  }
}

/** phone: the window is as narrow as a phone's (app.css, max-width: 640px). */
export function phone() {
  return matchMedia('(max-width: 640px)').matches;
}
