// An open room: header, timeline, composer and the side panel.

import * as api from './api.js';
import { h, replace, avatar } from './dom.js';
import { t, byName, fmtTime, fmtFull } from './i18n.js';
import { parse, mentions, quote, reply } from './notation.js';
import { render } from './render.js';
import { Composer } from './composer.js';
import { SidePanel } from './side.js';
import { confirmDialog, taskDialog } from './dialogs.js';
import { fileCard } from './files.js';

// NOTICE matches the body of a system message.
// A file's message starts like one but is a message (files.js).
const NOTICE = /^\[info\](\[title\])?\[dtext:(?!file_uploaded\])[a-z_]+\]/;

const PAGE = 50;

export class RoomView {
  constructor(app, id) {
    this.kind = 'room';
    this.app = app;
    this.id = id;
    this.room = app.rooms.get(id) || null;
    this.members = null; // /v2/rooms/{id}/members once loaded
    this.header = h('header', { class: 'room-header' });
    this.timeline = new Timeline(this);
    this.composer = new Composer(this);
    this.el = h('div', { class: 'room-view', dataset: { roomId: String(id) } }, this.header, this.timeline.el, this.composer.el);
    this.side = new SidePanel(this);
    this.sideEl = this.side.el;
    this.lastRead = '';
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
    }, (e) => {
      if (this.destroyed) return;
      if (e.status === 404 || e.status === 403 || e.status === 400) this.gone(t('room.notfound'));
      else if (!this.room) this.app.error(e);
    });
    await Promise.all([
      room,
      this.timeline.load().then(() => this.markRead()),
      this.loadMembers(),
      this.side.loadTasks(),
      this.side.files.load(),
    ]);
  }

  destroy() {
    this.destroyed = true;
    this.composer.destroy();
  }

  gone(msg) {
    replace(this.el, h('div', { class: 'state state-error', role: 'status' }, msg));
    replace(this.sideEl);
  }

  async loadMembers() {
    try {
      const ms = await api.members(this.id);
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
    }
    if (this.destroyed) return;
    const mine = this.members.find((m) => m.account_id === this.app.me.account_id);
    const could = this.canPost();
    if (mine && this.room) this.room.role = mine.role;
    this.renderHeader();
    this.side.renderMembers();
    this.side.files.members();
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
    if (room.unread_num > 0 && this.readingNow()) this.markRead();
  }

  isAdmin() {
    return this.room && this.room.role === 'admin';
  }

  renderHeader() {
    const r = this.room;
    const name = r ? (r.type === 'my' ? t('rooms.mychat') : r.name) : '';
    replace(this.header,
      r ? avatar(r.type === 'my' ? 'my' : `room${this.id}`, name, 'sm') : null,
      h('h2', { class: 'room-title' }, name || t('loading')),
      this.members && r && r.type !== 'my' ? h('span', { class: 'room-sub' }, t('room.members', { n: this.members.length })) : null,
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'btn btn-small side-toggle', 'aria-expanded': String(document.body.classList.contains('side-open')),
        on: { click: (e) => e.currentTarget.setAttribute('aria-expanded', String(document.body.classList.toggle('side-open'))) } }, t('side.about')));
    this.app.updateTitle();
  }

  /** readingNow: the room is on screen, so new messages count as read. */
  readingNow() {
    return !this.destroyed && document.visibilityState === 'visible';
  }

  visible() {
    const room = this.app.rooms.get(this.id);
    if (room && room.unread_num > 0 && this.readingNow()) this.markRead();
  }

  async markRead() {
    const newest = this.timeline.newest;
    if (!newest || !this.readingNow()) return;
    const room = this.app.rooms.get(this.id);
    if (this.lastRead === newest || (room && !room.unread_num && !room.mention_num && !this.unseen)) return;
    this.lastRead = newest;
    this.unseen = false;
    try {
      const r = await api.markRead(this.id, newest);
      if (room && r) {
        room.unread_num = r.unread_num;
        room.mention_num = r.mention_num;
      }
    } catch (e) {
      if (e.status !== 400) return; // 400: already read
      if (room) room.unread_num = room.mention_num = 0;
    }
    if (room && room.unread_num === undefined) room.unread_num = 0;
    this.app.roomList.render();
    this.app.updateTitle();
  }

  onMessage(m) {
    this.timeline.add(m);
    if (m.body.includes('[download:')) this.side.files.changed();
    if (m.account.account_id !== this.app.me.account_id) {
      this.unseen = true;
      if (this.readingNow()) this.markRead();
    }
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

  onMembers() {
    this.loadMembers();
  }

  resync(outage) {
    this.timeline.catchUp().then(() => this.markRead());
    if (!outage) return;
    this.side.loadTasks();
    this.loadMembers();
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

function roleRank(role) {
  return { admin: 0, member: 1, readonly: 2 }[role] ?? 3;
}

/** Timeline is a room's messages, paged: the newest page first, older pages
 * as the reader scrolls up, new messages appended live. */
class Timeline {
  constructor(rv) {
    this.rv = rv;
    this.app = rv.app;
    this.byId = new Map(); // message_id → {m, li}
    this.newest = '';
    this.oldest = '';
    this.hasOlder = true;
    this.ready = false;
    this.pending = [];
    this.top = h('div', { class: 'timeline-top', role: 'status' });
    this.list = h('ol', { class: 'messages', 'aria-label': t('nav.chats') });
    this.empty = h('div', { class: 'state timeline-empty', hidden: true }, t('timeline.empty'));
    this.scroller = h('div', { class: 'timeline', tabindex: '0' }, this.top, this.list, this.empty);
    this.pill = h('button', { type: 'button', class: 'new-pill', hidden: true, on: { click: () => this.scrollBottom() } }, t('timeline.new'));
    this.el = h('div', { class: 'timeline-wrap' }, this.scroller, this.pill);
    this.scroller.addEventListener('scroll', () => {
      if (this.scroller.scrollTop < 200) this.older();
      if (this.atBottom()) this.pill.hidden = true;
    }, { passive: true });
    this.list.addEventListener('click', (e) => this.action(e));
  }

  ctx() {
    return { name: (id) => this.app.name(id), me: String(this.app.me.account_id), onReply: (room, mid) => this.rv.jump(room, mid),
      file: (id, label) => fileCard(this.rv.id, id, label) };
  }

  async load() {
    replace(this.top, h('span', { class: 'spinner' }), t('timeline.loading'));
    let msgs;
    try {
      msgs = await api.history(this.rv.id, { limit: PAGE });
    } catch (e) {
      if (this.rv.destroyed) return;
      if (e.status === 404 || e.status === 403) return this.rv.gone(t('room.notfound'));
      replace(this.top, h('span', { class: 'form-error' }, t('timeline.error', { error: e.message })), ' ',
        h('button', { type: 'button', class: 'btn btn-small', on: { click: () => this.load() } }, t('retry')));
      return;
    }
    if (this.rv.destroyed) return;
    this.hasOlder = msgs.length >= PAGE;
    const frag = document.createDocumentFragment();
    for (const m of msgs) {
      if (this.byId.has(m.message_id)) continue;
      frag.appendChild(this.row(m));
    }
    this.list.appendChild(frag);
    if (msgs.length) {
      this.oldest = msgs[0].message_id;
      this.newest = msgs[msgs.length - 1].message_id;
    }
    this.ready = true;
    for (const m of this.pending.splice(0)) this.add(m);
    this.updateState();
    this.scrollBottom();
    if (!performance.getEntriesByName('horenso-first-screen').length) performance.mark('horenso-first-screen');
    this.fill();
  }

  // fill loads older pages while the view is not yet scrollable.
  fill() {
    if (this.hasOlder && this.scroller.scrollHeight <= this.scroller.clientHeight + 200) this.older();
  }

  async older() {
    if (!this.ready || !this.hasOlder || this.loadingOlder || !this.oldest) return;
    this.loadingOlder = true;
    replace(this.top, h('span', { class: 'spinner' }), t('timeline.older'));
    try {
      const msgs = await api.history(this.rv.id, { before: this.oldest, limit: PAGE });
      if (this.rv.destroyed) return;
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

  /** catchUp fetches everything after the newest message shown. */
  async catchUp() {
    if (!this.ready) return;
    if (this.catching) {
      this.again = true;
      return;
    }
    this.catching = true;
    try {
      for (;;) {
        const msgs = await api.history(this.rv.id, this.newest ? { after: this.newest, limit: PAGE } : { limit: PAGE });
        if (this.rv.destroyed) return;
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

  scrollBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.pill.hidden = true;
  }

  /** add appends a message that arrived live or by catching up. */
  add(m) {
    if (!this.ready) {
      this.pending.push(m);
      return;
    }
    if (this.byId.has(m.message_id)) {
      this.update(m);
      return;
    }
    const stick = this.atBottom() || m.account.account_id === this.app.me.account_id;
    this.list.appendChild(this.row(m));
    this.newest = m.message_id;
    if (!this.oldest) this.oldest = m.message_id;
    this.updateState();
    if (stick) this.scrollBottom();
    else this.pill.hidden = false;
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
      mine ? btn('edit', t('msg.edit')) : null,
      mine ? btn('delete', t('msg.delete')) : null);
    const li = h('li', { class: ['msg', mine && 'mine', tome && 'tome'], id: `m${m.message_id}`, dataset: { mid: m.message_id, aid } },
      avatar(aid, m.account.name),
      h('div', { class: 'msg-main' },
        h('div', { class: 'msg-head' },
          h('span', { class: 'msg-name' }, m.account.name),
          org ? h('span', { class: 'msg-org' }, org) : null,
          tome ? h('span', { class: 'msg-tome' }, t('msg.tome')) : null,
          h('time', { datetime: new Date(m.send_time * 1000).toISOString(), title: fmtFull(m.send_time) }, fmtTime(m.send_time)),
          m.update_time ? h('span', { class: 'msg-edited', title: fmtFull(m.update_time) }, t('msg.edited')) : null),
        h('div', { class: 'msg-body' }, render(nodes, this.ctx()))),
      actions);
    this.byId.set(m.message_id, { m, li });
    return li;
  }

  // noticeRow renders a system message (a task added or done, a member
  // added, a room renamed: ChatWork's [info][dtext:…] notices) as one
  // compact line, without the actions of a message.
  noticeRow(m) {
    const li = h('li', { class: 'msg notice', id: `m${m.message_id}`, dataset: { mid: m.message_id, aid: String(m.account.account_id) } },
      h('span', { class: 'notice-name' }, m.account.name),
      h('div', { class: 'notice-body' }, render(parse(m.body), this.ctx())),
      h('time', { datetime: new Date(m.send_time * 1000).toISOString(), title: fmtFull(m.send_time) }, fmtTime(m.send_time)));
    this.byId.set(m.message_id, { m, li });
    return li;
  }

  action(e) {
    const b = e.target.closest('button[data-action]');
    if (!b) return;
    const li = b.closest('li.msg');
    const it = li && this.byId.get(li.dataset.mid);
    if (!it) return;
    const m = it.m;
    const composer = this.rv.composer;
    switch (b.dataset.action) {
      case 'reply':
        composer.insert(reply(m.account.account_id, this.rv.id, m.message_id, m.account.name));
        break;
      case 'quote':
        composer.insert(quote(m.account.account_id, m.send_time, m.body));
        break;
      case 'task':
        taskDialog(this.rv, { body: m.body });
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
