// The room list: every chat I am in with unread and mention counts, a
// filter by kind, and search-as-you-type.

import { h, replace, fold } from './dom.js';
import { t, collator } from './i18n.js';
import { roomAvatar } from './roomicon.js';
import { pinButton } from './reactions.js';

const FILTERS = ['all', 'unread', 'mention', 'group', 'direct', 'my'];

export class RoomList {
  constructor(app) {
    this.app = app;
    this.query = '';
    this.filter = 'all';
    this.search = h('input', { type: 'search', class: 'room-search', placeholder: t('rooms.search'), 'aria-label': t('rooms.search'),
      on: { input: () => { this.query = this.search.value; this.render(); } } });
    this.select = h('select', { class: 'room-filter', 'aria-label': t('rooms.filter'),
      on: { change: () => { this.filter = this.select.value; this.render(); } } },
    FILTERS.map((f) => h('option', { value: f }, t('rooms.filter.' + f))));
    this.list = h('ul', { class: 'room-list', 'aria-label': t('nav.chats') });
    this.status = h('div', { class: 'state' }, t('loading'));
    this.el = h('nav', { class: 'pane-rooms', 'aria-label': t('nav.chats') },
      h('div', { class: 'room-tools' }, this.search, this.select), this.status, this.list);
  }

  failed(e) {
    replace(this.status, h('span', { class: 'form-error' }, t('error.generic', { error: e.message })), ' ',
      h('button', { type: 'button', class: 'btn btn-small', on: { click: () => { replace(this.status, t('loading')); this.app.loadRooms().catch((e) => this.failed(e)); } } }, t('retry')));
    this.status.hidden = false;
  }

  /** sorted returns the rooms in display order: sticky first, then the
   * most recently active, then by name. */
  sorted() {
    return [...this.app.rooms.values()].sort((a, b) =>
      (b.sticky ? 1 : 0) - (a.sticky ? 1 : 0) ||
      (b.last_update_time || 0) - (a.last_update_time || 0) ||
      collator.compare(a.name, b.name));
  }

  render() {
    if (!this.app.roomsLoaded) return;
    const q = fold(this.query.trim());
    const rooms = this.sorted().filter((r) => {
      switch (this.filter) {
        case 'unread': if (!r.unread_num) return false; break;
        case 'mention': if (!r.mention_num) return false; break;
        case 'group': case 'direct': case 'my': if (r.type !== this.filter) return false;
      }
      return !q || fold(this.roomName(r)).includes(q);
    });
    const rv = this.app.currentRoom();
    const current = rv ? rv.id : 0;
    this.status.hidden = rooms.length > 0;
    if (!rooms.length) this.status.textContent = this.app.rooms.size ? t('rooms.nomatch', { q: this.query }) : t('rooms.empty');
    const items = rooms.map((r) => {
      const name = this.roomName(r);
      const a = h('a', {
        href: `/rooms/${r.room_id}`,
        class: ['room', r.room_id === current && 'active', r.unread_num > 0 && 'has-unread'],
        'aria-current': r.room_id === current ? 'page' : false,
        on: { click: (e) => this.app.link(e, `/rooms/${r.room_id}`) },
      },
      roomAvatar(r, name, 'sm'),
      h('span', { class: 'room-name' }, name),
      r.mention_num > 0 ? h('span', { class: 'badge badge-mention', title: t('rooms.mentions', { n: r.mention_num }) }, `@${r.mention_num}`) : null,
      r.unread_num > 0 ? h('span', { class: 'badge badge-unread', title: t('rooms.unread', { n: r.unread_num }) }, String(r.unread_num)) : null);
      return h('li', { class: 'room-item', dataset: { roomId: String(r.room_id), type: r.type, sticky: r.sticky ? '1' : '0' } }, a, pinButton(this.app, r));
    });
    replace(this.list, items);
  }

  roomName(r) {
    return r.type === 'my' ? t('rooms.mychat') : r.name;
  }
}
