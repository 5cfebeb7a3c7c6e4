// Reactions, bookmarks, pinned chats and message links.
//
// Reactions are ChatWork's six, room events that partners see; a message's
// reactions come with each timeline page and live event (m.reactions).
// Bookmarks and pins are mine alone, kept on my node. A message's link,
// /rooms/ROOM?m=MID, opens the room around it as a search result does.

import { request } from './api.js';
import { h, replace } from './dom.js';
import { t } from './i18n.js';

/** REACTIONS are the six, in ChatWork's order, with the picture each
 * shows. Their names are t('reaction.' + kind). */
export const REACTIONS = [
  { kind: 'roger', icon: '🙆' },
  { kind: 'bow', icon: '🙇' },
  { kind: 'cracker', icon: '🎉' },
  { kind: 'dance', icon: '💃' },
  { kind: 'clap', icon: '👏' },
  { kind: 'yes', icon: '👍' },
];

const reactionsPath = (room, mid) => `/api/rooms/${room}/messages/${mid}/reactions`;
/** react gives (on) or takes back my reaction; resolves the message's reactions. */
export const react = (room, mid, kind, on) =>
  request(on ? 'PUT' : 'DELETE', reactionsPath(room, mid), on ? { form: { reaction: kind } } : { query: { reaction: kind } });
export const bookmarks = () => request('GET', '/api/bookmarks').then((r) => r || []);
export const addBookmark = (room, mid) => request('POST', '/api/bookmarks', { form: { room_id: room, message_id: mid } });
export const removeBookmark = (room, mid) => request('DELETE', `/api/bookmarks/${room}/${mid}`);
export const pinRoom = (room, on) => request(on ? 'PUT' : 'DELETE', `/api/rooms/${room}/pin`);

/** messageLink is the address of message mid of room, to copy and share. */
export function messageLink(room, mid) {
  return `${location.origin}/rooms/${room}?m=${encodeURIComponent(mid)}`;
}

/** reactionBar shows a message's reactions: one chip per kind given, with
 * its count; mine is pressed. Clicking a chip adds or takes back mine. */
export function reactionBar(m) {
  const given = new Map((m.reactions || []).map((r) => [r.reaction, r]));
  if (!given.size) return null;
  return h('div', { class: 'msg-reactions', role: 'group', 'aria-label': t('reaction.label') },
    REACTIONS.filter((r) => given.has(r.kind)).map((r) => {
      const g = given.get(r.kind);
      const who = g.accounts.map((a) => a.name).join(', ');
      return h('button', { type: 'button', class: ['reaction', g.mine && 'mine'], dataset: { action: 'react', reaction: r.kind },
        'aria-pressed': g.mine ? 'true' : 'false', title: `${t('reaction.' + r.kind)}: ${who}` },
      h('span', { class: 'reaction-icon', 'aria-hidden': 'true' }, r.icon),
      h('span', { class: 'reaction-name' }, t('reaction.' + r.kind)),
      h('span', { class: 'reaction-count' }, String(g.count)));
    }));
}

/** picker is the six reactions to choose from, shown under a message. */
function picker(m) {
  const mine = new Set((m.reactions || []).filter((r) => r.mine).map((r) => r.reaction));
  return h('div', { class: 'reaction-picker', role: 'toolbar', 'aria-label': t('reaction.pick') },
    REACTIONS.map((r) => h('button', { type: 'button', class: ['reaction', mine.has(r.kind) && 'mine'], dataset: { action: 'react', reaction: r.kind },
      'aria-pressed': mine.has(r.kind) ? 'true' : 'false', title: t('reaction.' + r.kind) },
    h('span', { class: 'reaction-icon', 'aria-hidden': 'true' }, r.icon),
    h('span', { class: 'reaction-name' }, t('reaction.' + r.kind)))));
}

/** actionButtons are the buttons this module adds to a message's actions. */
export function actionButtons(m) {
  const btn = (action, label) => h('button', { type: 'button', class: 'msg-action', dataset: { action }, title: label }, label);
  return [
    btn('pick-reaction', t('reaction.add')),
    btn('bookmark', m.bookmarked ? t('bookmark.remove') : t('bookmark.add')),
    btn('copy-link', t('msg.copylink')),
  ];
}

/** handleAction does a message action of this module's; it reports
 * whether the action was one. tl is the room's timeline, it the message's
 * entry ({m, li}). */
export function handleAction(tl, it, b) {
  const room = tl.rv.id;
  const m = it.m;
  switch (b.dataset.action) {
    case 'pick-reaction': {
      const open = it.li.querySelector('.reaction-picker');
      if (open) open.remove();
      else it.li.querySelector('.msg-main').appendChild(picker(m));
      return true;
    }
    case 'react': {
      const kind = b.dataset.reaction;
      const on = b.getAttribute('aria-pressed') !== 'true';
      b.disabled = true;
      react(room, m.message_id, kind, on).then((rs) => {
        tl.update({ ...it.m, reactions: rs || [] });
      }).catch((e) => {
        b.disabled = false;
        tl.app.error(e);
      });
      return true;
    }
    case 'bookmark': {
      const on = !m.bookmarked;
      (on ? addBookmark(room, m.message_id) : removeBookmark(room, m.message_id)).then(() => {
        tl.update({ ...it.m, bookmarked: on });
        tl.app.toast(on ? t('bookmark.added') : t('bookmark.removed'));
      }).catch((e) => tl.app.error(e));
      return true;
    }
    case 'copy-link': {
      copyText(messageLink(room, m.message_id)).then(
        () => tl.app.toast(t('msg.linkcopied')),
        (e) => tl.app.error(e));
      return true;
    }
  }
  return false;
}

/** copyText puts text on the clipboard; where the Clipboard API is not
 * allowed (plain http), a selected text field and execCommand do it. */
async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const ta = h('textarea', { class: 'copy-buffer', readonly: true });
  ta.value = text;
  document.body.appendChild(ta);
  ta.select();
  try {
    if (!document.execCommand('copy')) throw new Error(t('msg.copyfailed'));
  } finally {
    ta.remove();
  }
}

/** pinButton is the room list's pin toggle of room r. */
export function pinButton(app, r) {
  const label = r.sticky ? t('pin.remove') : t('pin.add');
  return h('button', { type: 'button', class: ['room-pin', r.sticky && 'pinned'], 'aria-pressed': r.sticky ? 'true' : 'false',
    'aria-label': `${label}: ${app.roomList.roomName(r)}`, title: label,
    on: {
      click: async (e) => {
        e.preventDefault();
        e.stopPropagation();
        try {
          await pinRoom(r.room_id, !r.sticky);
          r.sticky = !r.sticky; // shown at once; the list reloads
          app.roomList.render();
          app.refreshRooms();
        } catch (err) {
          app.error(err);
        }
      },
    } }, '📌');
}

/** BookmarksView lists my bookmarked messages, newest bookmark first; one
 * opens its room at the message. */
export class BookmarksView {
  constructor(app) {
    this.kind = 'bookmarks';
    this.app = app;
    this.list = h('ul', { class: 'bookmark-list', 'aria-live': 'polite' });
    this.el = h('div', { class: 'page page-bookmarks' },
      h('header', { class: 'room-header' }, h('h2', { class: 'room-title' }, t('bookmark.title'))),
      h('div', { class: 'page-body' }, this.list));
  }

  async load() {
    document.title = `${t('bookmark.title')} - ${t('app.name')}`;
    replace(this.list, h('li', { class: 'state' }, t('loading')));
    let bs;
    try {
      bs = await bookmarks();
    } catch (e) {
      replace(this.list, h('li', { class: 'state form-error' }, t('error.generic', { error: e.message })));
      return;
    }
    if (this.app.view !== this) return;
    if (!bs.length) {
      replace(this.list, h('li', { class: 'state muted' }, t('bookmark.empty')));
      return;
    }
    replace(this.list, bs.map((b) => {
      const path = `/rooms/${b.room.room_id}?m=${encodeURIComponent(b.message.message_id)}`;
      return h('li', { class: 'bookmark', dataset: { mid: b.message.message_id } },
        h('a', { href: path, class: 'bookmark-link', on: { click: (e) => this.app.link(e, path) } },
          h('span', { class: 'bookmark-room' }, b.room.name || t('rooms.mychat')),
          h('span', { class: 'bookmark-author' }, b.message.account.name),
          h('span', { class: 'bookmark-body' }, b.message.body.slice(0, 300))),
        h('button', { type: 'button', class: 'btn btn-small', on: { click: () => this.remove(b) } }, t('bookmark.remove')));
    }));
  }

  async remove(b) {
    try {
      await removeBookmark(b.room.room_id, b.message.message_id);
    } catch (e) {
      this.app.error(e);
    }
    this.load();
  }

  resync() {
    this.load();
  }
}
