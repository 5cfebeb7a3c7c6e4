// An open room: header, timeline, composer and the side panel.

import * as api from './api.js';
import { h, replace, avatar, noteAvatar } from './dom.js';
import { t, byName, fmtTime, fmtFull } from './i18n.js';
import { parse, mentions, quote, reply } from './notation.js';
import { render } from './render.js';
import { Composer } from './composer.js';
import { SidePanel } from './side.js';
import { confirmDialog, taskDialog } from './dialogs.js';
import { roomAvatar } from './roomicon.js';
import { fileCard } from './files.js';
import { reactionBar, actionButtons, handleAction } from './reactions.js';
import { Partners } from './partners.js';

// NOTICE matches the body of a system message.
// A file's message starts like one but is a message (files.js).
const NOTICE = /^\[info\](\[title\])?\[dtext:(?!file_uploaded\])[a-z_]+\]/;

const PAGE = 50;

export class RoomView {
  constructor(app, id, target = '') {
    this.kind = 'room';
    this.app = app;
    this.id = id;
    this.target = target; // a message to open the room at, with those around it (a search result)
    this.room = app.rooms.get(id) || null;
    this.members = null; // /v2/rooms/{id}/members once loaded
    this.membersReads = new Set(); // per read of the list on its way, the changes applied meanwhile
    this.header = h('header', { class: 'room-header' });
    this.timeline = new Timeline(this);
    this.composer = new Composer(this);
    this.el = h('div', { class: 'room-view', dataset: { roomId: String(id) } }, this.header, this.timeline.el, this.composer.el);
    this.side = new SidePanel(this);
    this.sideEl = this.side.el;
    this.partners = new Partners(this, this.timeline.list); // partners.js
  }

  async load() {
    this.renderHeader();
    this.composer.update();
    this.side.renderAbout();
    // The list entry (if any) shows at once; the room itself adds the
    // description.
    const room = api.room(this.id).then((r) => {
      if (this.destroyed) return;
      this.room = { ...this.room, ...r };
      this.renderHeader();
      this.composer.update();
      this.side.renderAbout();
      // The members may have come first, when my role was not known:
      // an admin's join requests show now.
      this.side.requests.load();
    }, (e) => {
      if (this.destroyed) return;
      if (e.status === 404 || e.status === 403 || e.status === 400) this.gone(t('room.notfound'));
      else if (!this.room) this.app.error(e);
    });
    await Promise.all([
      room,
      this.timeline.load().then(() => this.partners.load()), // after the first screen
      this.loadMembers(),
      this.side.loadTasks(),
      this.side.files.load(),
    ]);
  }

  destroy() {
    this.destroyed = true;
    this.composer.destroy();
    this.partners.destroy();
  }

  gone(msg) {
    replace(this.el, h('div', { class: 'state state-error', role: 'status' }, msg));
    replace(this.sideEl);
  }

  async loadMembers() {
    // The changes onMembers applies while the list is on its way may not
    // be in it: they are applied to it again when it comes. (Reading it
    // again instead read it twice for a change of one's own, whose live
    // event comes while the read it made is on its way.)
    const applied = [];
    this.membersReads.add(applied);
    try {
      const ms = await api.members(this.id);
      for (const d of applied) applyMember(ms, d);
      const known = this.app.names.size;
      for (const m of ms) this.app.met(m);
      // Rows drawn before the members were known show IDs in place of
      // the names of [To:], [rp] and [qt]; draw them again.
      this.renamed = this.app.names.size !== known;
      this.members = ms.sort((a, b) => roleRank(a.role) - roleRank(b.role) || byName(a, b));
    } catch (e) {
      if (this.destroyed) return;
      if (e.status === 404 || e.status === 403) return;
      this.app.error(e);
      return;
    } finally {
      this.membersReads.delete(applied);
    }
    if (this.destroyed) return;
    const mine = this.members.find((m) => m.account_id === this.app.me.account_id);
    const could = this.canPost();
    if (mine && this.room) this.room.role = mine.role;
    this.renderHeader();
    this.side.renderMembers();
    this.composer.update();
    this.composer.attach.update();
    if (could !== this.canPost() || this.renamed) this.timeline.rerender(); // menus depend on the role
  }

  /** roomUpdated receives the room's fresh list entry, or null if I am no
   * longer in it. */
  roomUpdated(room) {
    if (this.destroyed) return;
    if (!room) {
      if (this.room && this.room.role) this.gone(t('room.gone'));
      return;
    }
    const was = this.room;
    this.room = { ...was, ...room };
    this.renderHeader();
    this.composer.update();
    if (!was || was.name !== room.name || was.description !== room.description) this.side.renderAbout();
    this.timeline.checkRead();
  }

  isAdmin() {
    return this.room && this.room.role === 'admin';
  }

  renderHeader() {
    const r = this.room;
    const name = r ? (r.type === 'my' ? t('rooms.mychat') : r.name) : '';
    replace(this.header,
      h('a', { href: '/', class: 'btn pane-back', 'aria-label': t('nav.backtochats'), on: { click: (e) => this.app.link(e, '/') } }, '‹'),
      r ? roomAvatar({ ...r, room_id: this.id }, name, 'sm') : null,
      h('h2', { class: 'room-title' }, name || t('loading')),
      this.members && r && r.type !== 'my' ? h('span', { class: 'room-sub' }, t('room.members', { n: this.members.length })) : null,
      this.partners.el,
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'btn btn-small side-toggle', 'aria-expanded': String(document.body.classList.contains('side-open')),
        on: { click: (e) => e.currentTarget.setAttribute('aria-expanded', String(document.body.classList.toggle('side-open'))) } }, t('side.about')));
    this.app.updateTitle();
  }

  /** readingNow: the room is on screen with its newest messages, so new
   * messages count as read as they show. */
  readingNow() {
    return !this.destroyed && document.visibilityState === 'visible' && !this.timeline.hasNewer && !this.timeline.holdRead;
  }

  visible() {
    this.timeline.checkRead();
  }

  /** counts takes the unread and mention counts the node answered. */
  counts(r) {
    const room = this.app.rooms.get(this.id);
    if (!room || !r || (room.unread_num === r.unread_num && room.mention_num === r.mention_num)) return;
    room.unread_num = r.unread_num;
    room.mention_num = r.mention_num;
    this.app.roomList.render();
    this.app.updateTitle();
  }

  onMessage(m) {
    this.timeline.add(m);
    if (m.body.includes('[download:')) this.side.files.changed();
  }

  onMessageUpdated(m) {
    this.timeline.update(m);
  }

  onMessageDeleted(mid) {
    if (mid) this.timeline.remove(String(mid));
    this.side.files.changed();
  }

  onTask(task) {
    this.side.onTask(task);
  }

  /** onMembers follows a live members change. One that names an account
   * other than mine with its role now ("none": out) is applied to the
   * list here, drawing the member list again; in a room of thousands,
   * reading the whole list at each one of a thousand removals kept every
   * open page fetching. An addition of someone not listed, several at
   * once, or a change of mine reads the list again, one read at a time. */
  onMembers(d) {
    const me = this.app.me.account_id;
    if (this.members && d && d.account_id && d.account_id !== me && d.role) {
      const change = { account_id: d.account_id, role: d.role };
      if (d.role === 'none' || this.members.some((m) => m.account_id === d.account_id)) {
        applyMember(this.members, change);
        for (const applied of this.membersReads) applied.push(change); // a list on its way may be older
        this.membersChanged();
        return;
      }
    }
    this.reloadMembers();
  }

  /** membersChanged draws what depends on the member list after changes
   * made to it here, once for a burst of them (a thousand removals come
   * as a thousand events), 300 ms after the first. */
  membersChanged() {
    if (this.membersDraw) return;
    this.membersDraw = setTimeout(() => {
      this.membersDraw = 0;
      if (this.destroyed || !this.members) return;
      this.members.sort((a, b) => roleRank(a.role) - roleRank(b.role) || byName(a, b));
      this.renderHeader();
      this.side.renderMembers();
    }, 300);
  }

  /** reloadMembers reads the member list again: at once if no read is on
   * its way, else once more after it. */
  async reloadMembers() {
    if (this.loadingMembers) {
      this.membersAgain = true;
      return;
    }
    this.loadingMembers = true;
    try {
      await this.loadMembers();
    } finally {
      this.loadingMembers = false;
    }
    if (this.membersAgain && !this.destroyed) {
      this.membersAgain = false;
      await this.reloadMembers();
    }
  }

  /** onRoomChanged reads the room again after its settings changed: the
   * room list has no description. */
  async onRoomChanged() {
    this.timeline.catchUp();
    try {
      const r = await api.room(this.id);
      if (this.destroyed) return;
      this.room = { ...this.room, ...r };
    } catch {
      return; // the room list refresh tells if it is gone
    }
    this.renderHeader();
    this.side.renderAbout();
  }

  resync(outage) {
    this.timeline.catchUp();
    if (this.partners.nodes) this.partners.load(); // loaded once: what it missed
    if (!outage) return;
    this.side.loadTasks();
    this.reloadMembers();
  }

  /** focusMessage shows message mid: at once if it is loaded, else by
   * reloading the timeline around it. */
  focusMessage(mid) {
    if (this.timeline.byId.has(String(mid))) return this.timeline.reveal(String(mid));
    this.target = String(mid);
    this.timeline.reset();
    this.timeline.load();
  }

  /** jump scrolls to a message if it is loaded here, else opens its room. */
  jump(roomId, mid) {
    if (String(roomId) !== String(this.id)) {
      if (roomId) this.app.navigate(`/rooms/${roomId}`);
      return;
    }
    this.timeline.reveal(String(mid));
  }

  canPost() {
    return this.room && this.room.role && this.room.role !== 'readonly';
  }
}

/** applyMember applies a live change of one account's role (none: out)
 * to a member list; an account not in it is not added. */
function applyMember(list, change) {
  const i = list.findIndex((m) => m.account_id === change.account_id);
  if (i < 0) return;
  if (change.role === 'none') list.splice(i, 1);
  else list[i] = { ...list[i], role: change.role };
}

function roleRank(role) {
  return { admin: 0, member: 1, readonly: 2 }[role] ?? 3;
}

/** Timeline is a room's messages, paged. A room with unread messages opens
 * at the first of them, under an "unread from here" line, and pages newer
 * messages as the reader scrolls down; otherwise it opens at the newest
 * page. Older pages load as the reader scrolls up, new messages append
 * live once the newest are loaded. The read marker follows the reader:
 * it moves to the last message fully on screen, never past it. */
class Timeline {
  constructor(rv) {
    this.rv = rv;
    this.app = rv.app;
    this.byId = new Map(); // message_id → {m, li}
    this.taskNotices = new Set(); // message_ids of task_added notices shown
    this.newest = '';
    this.oldest = '';
    this.hasOlder = true;
    this.hasNewer = false; // opened at the first unread: newer pages are still to load
    this.unreadMid = ''; // the first message shown that I have not read, if any
    this.holdRead = false; // marked unread by hand: leave the marker until the room is opened again
    this.ready = false;
    this.pending = [];
    this.added = null; // rows added since the last frame: see settle
    // epoch changes when what is shown is replaced (reset, jumpNewest):
    // a page asked for before then is of the old view, and is dropped.
    this.epoch = 0;
    this.top = h('div', { class: 'timeline-top', role: 'status' });
    this.bottom = h('div', { class: 'timeline-bottom', role: 'status' });
    this.list = h('ol', { class: 'messages', 'aria-label': t('nav.chats') });
    this.empty = h('div', { class: 'state timeline-empty', hidden: true }, t('timeline.empty'));
    this.divider = h('li', { class: 'unread-divider', role: 'separator' }, h('span', null, t('timeline.unreadfrom')));
    this.scroller = h('div', { class: 'timeline', tabindex: '0' }, this.top, this.list, this.bottom, this.empty);
    this.pill = h('button', { type: 'button', class: 'new-pill', hidden: true, on: { click: () => this.scrollBottom() } }, t('timeline.new'));
    this.jumpBtn = h('button', { type: 'button', class: 'jump-newest', hidden: true, on: { click: () => this.jumpNewest() } }, t('timeline.jump'));
    this.el = h('div', { class: 'timeline-wrap' }, this.scroller, this.pill, this.jumpBtn);
    let queued = false;
    this.scroller.addEventListener('scroll', () => {
      if (this.scroller.scrollTop < 200) this.older();
      if (this.nearBottom()) this.newer();
      if (this.atBottom()) this.pill.hidden = true;
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        this.updateJump();
        this.checkRead();
      });
    }, { passive: true });
    this.list.addEventListener('click', (e) => this.action(e));
  }

  ctx() {
    return { name: (id) => this.app.name(id), me: String(this.app.me.account_id), onReply: (room, mid) => this.rv.jump(room, mid),
      file: (id, label) => fileCard(this.rv.id, id, label) };
  }

  loadFailed(e) {
    if (this.rv.destroyed) return;
    if (e.status === 404 || e.status === 403) return this.rv.gone(t('room.notfound'));
    replace(this.top, h('span', { class: 'form-error' }, t('timeline.error', { error: e.message })), ' ',
      h('button', { type: 'button', class: 'btn btn-small', on: { click: () => this.load() } }, t('retry')));
  }

  /** load shows the room at the first unread message, or at the newest
   * page when everything is read. */
  async load() {
    const epoch = this.epoch;
    replace(this.top, h('span', { class: 'spinner' }), t('timeline.loading'));
    const listed = this.app.rooms.get(this.rv.id);
    let first = null;
    let msgs;
    const target = this.rv.target;
    try {
      if (target) {
        // A search result: the message and those around it.
        msgs = await api.history(this.rv.id, { around: target, limit: PAGE });
        const at = msgs.findIndex((m) => m.message_id === target);
        this.hasOlder = at >= PAGE / 2;
        this.hasNewer = at >= 0 && msgs.length - at - 1 >= PAGE / 2;
      } else {
        // One request gives the place and the page around it. When the room
        // list says nothing is unread, the newest page is all there is to load.
        if (listed && !listed.unread_num) {
          msgs = await api.history(this.rv.id, { limit: PAGE });
        } else {
          const u = await api.unread(this.rv.id, PAGE);
          first = u.first_unread;
          msgs = u.messages || [];
        }
        const at = first ? msgs.findIndex((m) => m.message_id === first.message_id) : -1;
        this.hasOlder = (at < 0 ? msgs.length : at) >= PAGE;
        this.hasNewer = at >= 0 && msgs.length - at - 1 >= PAGE;
      }
    } catch (e) {
      return this.loadFailed(e);
    }
    if (this.rv.destroyed || epoch !== this.epoch) return;
    const frag = document.createDocumentFragment();
    for (const m of msgs) {
      if (this.byId.has(m.message_id)) continue;
      if (first && m.message_id === first.message_id) frag.appendChild(this.divider);
      frag.appendChild(this.row(m));
    }
    this.list.appendChild(frag);
    if (msgs.length) {
      this.oldest = msgs[0].message_id;
      this.newest = msgs[msgs.length - 1].message_id;
    }
    this.unreadMid = first ? first.message_id : '';
    this.ready = true;
    if (!this.hasNewer) for (const m of this.pending.splice(0)) this.add(m);
    this.pending = [];
    this.updateState();
    if (target && this.byId.has(target)) this.reveal(target);
    else if (first) this.scroller.scrollTop = Math.max(0, this.divider.offsetTop - 40);
    else this.scrollBottom();
    if (!performance.getEntriesByName('horenso-first-screen').length) performance.mark('horenso-first-screen');
    this.updateJump();
    this.checkRead();
    this.fill();
  }

  // fill loads more pages while the view is not yet scrollable.
  fill() {
    if (this.scroller.scrollHeight > this.scroller.clientHeight + 200) return;
    if (this.hasOlder) this.older();
    else if (this.hasNewer) this.newer();
  }

  async older() {
    if (!this.ready || !this.hasOlder || this.loadingOlder || !this.oldest) return;
    this.loadingOlder = true;
    const epoch = this.epoch;
    replace(this.top, h('span', { class: 'spinner' }), t('timeline.older'));
    try {
      const msgs = await api.history(this.rv.id, { before: this.oldest, limit: PAGE });
      if (this.rv.destroyed || epoch !== this.epoch) return;
      this.hasOlder = msgs.length >= PAGE;
      const frag = document.createDocumentFragment();
      for (const m of msgs) if (!this.byId.has(m.message_id)) frag.appendChild(this.row(m));
      const before = this.scroller.scrollHeight;
      const top = this.scroller.scrollTop;
      this.list.prepend(frag);
      this.scroller.scrollTop = top + (this.scroller.scrollHeight - before);
      if (msgs.length) this.oldest = msgs[0].message_id;
    } catch (e) {
      this.app.error(e, 'timeline.error');
    } finally {
      this.loadingOlder = false;
      this.updateState();
    }
    this.fill();
  }

  /** newer loads the next page below, when the room was opened at its
   * first unread message and the newest are not loaded yet. */
  async newer() {
    if (!this.ready || !this.hasNewer || this.loadingNewer || !this.newest) return;
    this.loadingNewer = true;
    const epoch = this.epoch;
    replace(this.bottom, h('span', { class: 'spinner' }), t('timeline.newer'));
    try {
      const msgs = await api.history(this.rv.id, { after: this.newest, limit: PAGE });
      if (this.rv.destroyed || epoch !== this.epoch) return;
      this.hasNewer = msgs.length >= PAGE;
      const frag = document.createDocumentFragment();
      for (const m of msgs) if (!this.byId.has(m.message_id)) frag.appendChild(this.row(m));
      this.list.appendChild(frag);
      if (msgs.length) this.newest = msgs[msgs.length - 1].message_id;
      if (!this.unreadMid) this.unreadMid = this.nextUnread(null);
    } catch (e) {
      this.app.error(e, 'timeline.error');
    } finally {
      this.loadingNewer = false;
      replace(this.bottom);
      this.updateState();
    }
    this.updateJump();
    this.checkRead();
    this.fill();
  }

  /** jumpNewest drops what is shown and shows the newest page, which the
   * reader then reads: everything before it counts as read too. */
  async jumpNewest() {
    if (!this.hasNewer) {
      this.scrollBottom();
      return;
    }
    this.jumpBtn.disabled = true;
    let msgs;
    try {
      msgs = await api.history(this.rv.id, { limit: PAGE });
    } catch (e) {
      this.jumpBtn.disabled = false;
      this.app.error(e, 'timeline.error');
      return;
    }
    if (this.rv.destroyed) return;
    this.epoch++;
    this.jumpBtn.disabled = false;
    this.byId.clear();
    this.list.replaceChildren();
    this.hasNewer = false;
    this.hasOlder = msgs.length >= PAGE;
    const frag = document.createDocumentFragment();
    for (const m of msgs) frag.appendChild(this.row(m));
    this.list.appendChild(frag);
    this.oldest = msgs.length ? msgs[0].message_id : '';
    this.newest = msgs.length ? msgs[msgs.length - 1].message_id : '';
    this.unreadMid = this.holdRead ? '' : this.nextUnread(null);
    this.updateState();
    this.scrollBottom();
    this.updateJump();
    this.checkRead();
    this.fill();
  }

  /** catchUp fetches everything after the newest message shown. */
  async catchUp() {
    if (!this.ready || this.hasNewer) return; // paging down will fetch them
    if (this.catching) {
      this.again = true;
      return;
    }
    this.catching = true;
    const epoch = this.epoch;
    try {
      for (;;) {
        const msgs = await api.history(this.rv.id, this.newest ? { after: this.newest, limit: PAGE } : { limit: PAGE });
        if (this.rv.destroyed) return;
        if (epoch !== this.epoch) { // shown afresh meanwhile: catch up from there
          this.again = true;
          break;
        }
        for (const m of msgs) this.add(m);
        if (msgs.length < PAGE) break;
      }
    } catch (e) {
      if (e.status !== 0) this.app.error(e);
    } finally {
      this.catching = false;
    }
    if (this.again) {
      this.again = false;
      await this.catchUp();
    }
  }

  updateState() {
    replace(this.top, !this.hasOlder && this.byId.size ? h('span', { class: 'timeline-start' }, t('timeline.start')) : null);
    this.empty.hidden = this.byId.size > 0 || !this.ready;
  }

  atBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
  }

  nearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 400;
  }

  // updateJump offers the newest messages when they are not loaded or a
  // screen or more below.
  updateJump() {
    const s = this.scroller;
    const far = s.scrollHeight - s.scrollTop - s.clientHeight > s.clientHeight;
    this.jumpBtn.hidden = !this.ready || !(this.hasNewer || far) || !this.pill.hidden;
  }

  scrollBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.pill.hidden = true;
    this.updateJump();
  }

  /** reset empties the timeline, to load it afresh. */
  reset() {
    this.byId.clear();
    this.list.replaceChildren();
    this.newest = this.oldest = '';
    this.hasOlder = true;
    this.hasNewer = false;
    this.unreadMid = '';
    this.ready = false;
    this.pending = [];
    this.added = null;
    this.epoch++;
  }

  /** add appends a message that arrived live or by catching up. What
   * reads the page's layout (staying at the bottom, the read marker) is
   * done once a frame, in settle: a burst of hundreds (a member taken
   * out is a system message each) read it once each, and in a room of
   * thousands each read took tens of ms. */
  add(m) {
    if (!this.ready) {
      this.pending.push(m);
      return;
    }
    if (this.byId.has(m.message_id)) {
      this.update(m);
      return;
    }
    if (this.hasNewer) return; // not next to what is shown; paging down brings it
    if (!this.added) {
      this.added = { stick: this.atBottom() }; // before this frame's rows are in
      requestAnimationFrame(() => this.settle());
    }
    if (m.account.account_id === this.app.me.account_id) this.added.stick = true;
    this.list.appendChild(this.row(m));
    this.newest = m.message_id;
    if (!this.oldest) this.oldest = m.message_id;
    if (!this.unreadMid && !this.holdRead && this.counts(this.byId.get(m.message_id).li)) this.unreadMid = m.message_id;
  }

  // settle follows the rows added since the last frame: it keeps the
  // reader at the bottom if they were there (or one was mine), else
  // offers the new ones, and moves the read marker.
  settle() {
    const added = this.added;
    this.added = null;
    if (!added || this.rv.destroyed || !this.ready) return;
    this.updateState();
    if (added.stick) this.scrollBottom();
    else this.pill.hidden = false;
    this.updateJump();
    this.checkRead();
  }

  // counts: the row is of a message that counts as unread until read
  // (someone else's, not deleted, not a system message).
  counts(li) {
    return li.dataset.unread === '1';
  }

  // nextUnread returns the message_id of the first counting row after li
  // (from the top without li), or ''.
  nextUnread(li) {
    for (let x = li ? li.nextElementSibling : this.list.firstElementChild; x; x = x.nextElementSibling) {
      if (x.dataset.mid && this.counts(x)) return x.dataset.mid;
    }
    return '';
  }

  // lastSeen returns the last message row whose end is on screen (or,
  // for a row taller than the screen, whose start is), or null.
  lastSeen() {
    const rows = this.list.children;
    const bottom = this.scroller.scrollTop + this.scroller.clientHeight;
    let lo = 0;
    let hi = rows.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = rows[mid];
      if (r.offsetTop + Math.min(r.offsetHeight, this.scroller.clientHeight - 8) <= bottom) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    for (let i = found; i >= 0; i--) {
      const r = rows[i];
      if (r.dataset.mid && !r.classList.contains('notice')) return r;
    }
    return null;
  }

  /** checkRead moves the read marker to the last message on screen when
   * an unread message is at or above it. One request at a time; when it
   * answers, the reader may have read further. */
  async checkRead() {
    if (!this.ready || this.reading || this.holdRead || !this.unreadMid) return;
    if (this.rv.destroyed || document.visibilityState !== 'visible') return;
    const first = this.byId.get(this.unreadMid);
    if (!first) {
      this.unreadMid = this.nextUnread(null);
      if (this.unreadMid) this.checkRead();
      return;
    }
    const seen = this.lastSeen();
    if (!seen || (seen !== first.li && !(first.li.compareDocumentPosition(seen) & Node.DOCUMENT_POSITION_FOLLOWING))) return;
    this.reading = true;
    const epoch = this.epoch;
    const next = this.nextUnread(seen);
    try {
      this.rv.counts(await api.readUpTo(this.rv.id, seen.dataset.mid));
    } catch {
      return; // tried again on the next scroll
    } finally {
      this.reading = false;
    }
    if (this.holdRead) return;
    // Shown afresh meanwhile (a jump to the newest): next is of the rows
    // that were, and the view set its own first unread.
    if (epoch === this.epoch) this.unreadMid = next;
    this.checkRead();
  }

  /** markUnread marks a message and everything after it unread, and
   * leaves the marker there until the room is opened again. */
  async markUnread(it) {
    let r;
    try {
      r = await api.markUnread(this.rv.id, it.m.message_id);
    } catch (e) {
      this.app.error(e);
      return;
    }
    this.holdRead = true;
    this.unreadMid = '';
    const li = this.byId.get(it.m.message_id).li;
    li.before(this.divider);
    this.rv.counts(r);
    this.app.toast(t('msg.markedunread'));
  }

  /** rerender rebuilds every row, e.g. after the reader's role changed. */
  rerender() {
    for (const it of this.byId.values()) if (!it.editing) it.li.replaceWith(this.row(it.m));
  }

  update(m) {
    const it = this.byId.get(m.message_id);
    if (!it) return;
    it.m = m;
    if (it.editing) return;
    it.li.replaceWith(this.row(m));
  }

  remove(mid) {
    const it = this.byId.get(mid);
    if (!it) return;
    if (this.unreadMid === mid) this.unreadMid = this.nextUnread(it.li);
    it.li.remove();
    this.byId.delete(mid);
    this.updateState();
  }

  reveal(mid) {
    const it = this.byId.get(mid);
    if (!it) return;
    it.li.scrollIntoView({ block: 'center' });
    it.li.classList.remove('flash');
    void it.li.offsetWidth;
    it.li.classList.add('flash');
  }

  row(m) {
    if (NOTICE.test(m.body)) return this.noticeRow(m);
    const aid = String(m.account.account_id);
    const mine = m.account.account_id === this.app.me.account_id;
    const nodes = parse(m.body);
    const tome = !mine && mentions(nodes, String(this.app.me.account_id));
    const org = this.app.partnerOrg(aid);
    const deleted = m.body === '[deleted]';
    const btn = (action, label) => h('button', { type: 'button', class: 'msg-action', dataset: { action }, title: label }, label);
    const actions = deleted ? null : h('div', { class: 'msg-actions', role: 'toolbar', 'aria-label': m.account.name },
      this.rv.canPost() ? btn('reply', t('msg.reply')) : null,
      this.rv.canPost() ? btn('quote', t('msg.quote')) : null,
      this.rv.canPost() ? btn('task', t('msg.task')) : null,
      mine ? null : btn('unread', t('msg.unread')),
      mine ? btn('edit', t('msg.edit')) : null,
      mine ? btn('delete', t('msg.delete')) : null,
      actionButtons(m)); // reactions.js
    noteAvatar(aid, m.account.avatar_image_url);
    const li = h('li', { class: ['msg', mine && 'mine', tome && 'tome'], id: `m${m.message_id}`, dataset: { mid: m.message_id, aid, unread: !mine && !deleted ? '1' : '0' } },
      avatar(aid, m.account.name),
      h('div', { class: 'msg-main' },
        h('div', { class: 'msg-head' },
          h('span', { class: 'msg-name' }, m.account.name),
          org ? h('span', { class: 'msg-org' }, org) : null,
          tome ? h('span', { class: 'msg-tome' }, t('msg.tome')) : null,
          h('time', { datetime: new Date(m.send_time * 1000).toISOString(), title: fmtFull(m.send_time) }, fmtTime(m.send_time)),
          m.update_time ? h('span', { class: 'msg-edited', title: fmtFull(m.update_time) }, t('msg.edited')) : null),
        h('div', { class: 'msg-body' }, render(nodes, this.ctx())),
        deleted ? null : reactionBar(m)),
      actions);
    this.byId.set(m.message_id, { m, li });
    return li;
  }

  // noticeRow renders a system message (a task added or done, a member
  // added, a room renamed: ChatWork's [info][dtext:…] notices) as one
  // compact line, without the actions of a message.
  // A task's "added" notice has a done toggle, which shows the task as it
  // is now, once the room's tasks are loaded.
  noticeRow(m) {
    const added = m.body.includes('[dtext:task_added]');
    if (added) this.taskNotices.add(m.message_id);
    const task = added ? this.rv.side.taskOf(m.message_id) : null;
    let toggle = null;
    if (task) {
      const done = task.status === 'done';
      toggle = h('input', { type: 'checkbox', class: 'task-toggle', checked: done, disabled: !this.rv.canPost(),
        'aria-label': done ? t('task.markopen') : t('task.markdone') });
      toggle.addEventListener('change', () => {
        toggle.disabled = true;
        this.rv.side.setStatus(task, toggle.checked ? 'done' : 'open');
      });
    }
    const li = h('li', { class: ['msg', 'notice', task && 'notice-task', task && task.status === 'done' && 'done'], id: `m${m.message_id}`,
      dataset: task ? { mid: m.message_id, aid: String(m.account.account_id), taskId: String(task.task_id) } : { mid: m.message_id, aid: String(m.account.account_id) } },
    h('span', { class: 'notice-name' }, m.account.name),
    toggle,
    h('div', { class: 'notice-body' }, render(parse(m.body), this.ctx())),
    h('time', { datetime: new Date(m.send_time * 1000).toISOString(), title: fmtFull(m.send_time) }, fmtTime(m.send_time)));
    this.byId.set(m.message_id, { m, li });
    return li;
  }

  /** refreshTasks redraws the task notices, whose toggles show the tasks
   * as they are now. */
  refreshTasks() {
    for (const mid of this.taskNotices) {
      const it = this.byId.get(mid);
      if (it) it.li.replaceWith(this.noticeRow(it.m));
      else this.taskNotices.delete(mid);
    }
  }

  action(e) {
    const b = e.target.closest('button[data-action]');
    if (!b) {
      // Phones have no hover: a tap on a message shows its actions.
      const li = !e.target.closest('a, button, textarea') && e.target.closest('li.msg:not(.notice)');
      if (li) li.classList.toggle('picked');
      return;
    }
    const li = b.closest('li.msg');
    const it = li && this.byId.get(li.dataset.mid);
    if (!it) return;
    const m = it.m;
    const composer = this.rv.composer;
    if (handleAction(this, it, b)) return; // reactions.js
    switch (b.dataset.action) {
      case 'reply':
        composer.insert(reply(m.account.account_id, this.rv.id, m.message_id, m.account.name));
        break;
      case 'quote':
        composer.insert(quote(m.account.account_id, m.send_time, m.body));
        break;
      case 'task':
        taskDialog(this.rv, { body: stripHeader(m.body) });
        break;
      case 'unread':
        this.markUnread(it);
        break;
      case 'edit':
        this.edit(it);
        break;
      case 'delete':
        this.del(m);
        break;
    }
  }

  edit(it) {
    if (it.editing) return;
    it.editing = true;
    const body = it.li.querySelector('.msg-body');
    const ta = h('textarea', { class: 'edit-input', rows: Math.min(12, it.m.body.split('\n').length + 1), 'aria-label': t('msg.edit') });
    ta.value = it.m.body;
    const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const done = () => {
      it.editing = false;
      const fresh = this.row(it.m);
      it.li.replaceWith(fresh);
    };
    const save = async () => {
      if (!ta.value.trim()) return;
      try {
        await api.editMessage(this.rv.id, it.m.message_id, ta.value);
        it.m = { ...it.m, body: ta.value, update_time: Math.floor(Date.now() / 1000) };
        done();
      } catch (e) {
        err.textContent = t('error.generic', { error: e.message });
        err.hidden = false;
      }
    };
    ta.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') done();
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !e.isComposing) save();
    });
    const editor = h('div', { class: 'msg-editor' }, ta, err,
      h('div', { class: 'msg-editor-actions' },
        h('button', { type: 'button', class: 'btn', on: { click: done } }, t('msg.cancel')),
        h('button', { type: 'button', class: 'btn btn-primary', on: { click: save } }, t('msg.save'))));
    body.replaceWith(editor);
    ta.focus();
  }

  async del(m) {
    if (!(await confirmDialog(t('msg.confirmdelete'), t('msg.delete')))) return;
    try {
      await api.deleteMessage(this.rv.id, m.message_id);
      this.remove(m.message_id);
    } catch (e) {
      this.app.error(e);
    }
  }
}

// HEADER matches what addresses a message at its start: [To:…] and [rp …]
// tags with the names after them, and [toall].
const HEADER = /^(?:\s*(?:\[To:[^\]]+\]|\[rp [^\]]+\]|\[toall\])[^\[\n]*)+\s*/;

/** stripHeader drops the addressing at the start of a message body: a task
 * made from a reply is about what was said, not to whom. */
export function stripHeader(body) {
  const rest = body.replace(HEADER, '');
  return rest || body;
}
