// Invitation links (/g/CODE): the landing page, and the room admins' list
// of requests to join.

import * as api from './api.js';
import { h, replace, avatar } from './dom.js';
import { t, fmtFull } from './i18n.js';
import { parse } from './notation.js';
import { render } from './render.js';

/** InviteView is the page an invitation link opens: the room's name, the
 * invitation's description (what its admin wrote for newcomers: the room's
 * own is for members only), and a button to join, or to ask the admins. */
export class InviteView {
  constructor(app, code) {
    this.kind = 'invite';
    this.app = app;
    this.code = code;
    this.body = h('div', { class: 'page-body invite' }, h('p', { class: 'state' }, t('loading')));
    this.el = h('div', { class: 'page page-invite' },
      h('header', { class: 'room-header' }, h('h2', { class: 'room-title' }, t('invite.title'))), this.body);
  }

  async load() {
    let l;
    try {
      l = await api.linkTarget(this.code);
    } catch (e) {
      replace(this.body, h('p', { class: 'state state-error', role: 'status' },
        e.status === 404 ? t('invite.notfound') : t('error.generic', { error: e.message })));
      return;
    }
    if (this.app.view !== this) return;
    const status = h('p', { class: 'invite-status', role: 'status' });
    const open = () => this.app.navigate(`/rooms/${l.room_id}`);
    let action;
    if (l.member) {
      status.textContent = t('invite.member');
      action = h('button', { type: 'button', class: 'btn btn-primary', on: { click: open } }, t('invite.open'));
    } else {
      const msg = l.need_acceptance ? h('textarea', { class: 'invite-message', rows: '3', 'aria-label': t('invite.message'), placeholder: t('invite.message') }) : null;
      const btn = h('button', { type: 'button', class: 'btn btn-primary' }, l.need_acceptance ? t('invite.request') : t('invite.join'));
      btn.addEventListener('click', async () => {
        btn.disabled = true;
        try {
          const r = await api.join(this.code, msg ? msg.value : '');
          if (r && r.pending) {
            status.textContent = t('invite.pending');
            if (msg) msg.disabled = true;
            return;
          }
          await this.app.loadRooms().catch(() => {});
          this.app.navigate(`/rooms/${r.room_id}`);
        } catch (e) {
          btn.disabled = false;
          status.textContent = t('error.generic', { error: e.message });
        }
      });
      if (l.need_acceptance) status.textContent = t('invite.needsok');
      action = h('div', { class: 'invite-actions' }, msg, btn);
    }
    replace(this.body, h('section', { class: 'invite-card' },
      h('div', { class: 'invite-head' }, avatar(`room${l.room_id}`, l.name), h('h3', { class: 'invite-name' }, l.name)),
      l.description ? h('div', { class: 'desc invite-desc' }, render(parse(l.description), { name: (id) => this.app.name(id), me: String(this.app.me.account_id) })) : null,
      status, action));
  }
}

/** JoinRequests is the side panel's list of requests to join a room, for
 * its admins: accept or decline each. */
export class JoinRequests {
  constructor(rv) {
    this.rv = rv;
    this.list = h('ul', { class: 'request-list join-requests' });
    this.el = h('section', { class: 'side-section side-requests', hidden: true, 'aria-labelledby': 'side-requests-h' },
      h('h3', { id: 'side-requests-h' }, t('invite.requests')), this.list);
  }

  async load() {
    const room = this.rv.room;
    if (!room || room.type !== 'group' || !this.rv.isAdmin()) {
      this.el.hidden = true;
      return;
    }
    let reqs;
    try {
      reqs = await api.joinRequests(this.rv.id);
    } catch {
      this.el.hidden = true;
      return;
    }
    if (this.rv.destroyed) return;
    this.el.hidden = reqs.length === 0;
    replace(this.list, reqs.map((r) => h('li', { class: 'request', dataset: { aid: String(r.account_id) } },
      avatar(r.account_id, r.name, 'sm'),
      h('div', { class: 'request-main' },
        h('span', { class: 'request-name' }, r.name), r.organization_name ? h('span', { class: 'org' }, r.organization_name) : null,
        r.message ? h('p', { class: 'request-message' }, r.message) : null,
        h('time', { class: 'muted', title: fmtFull(r.request_time) }, fmtFull(r.request_time))),
      h('button', { type: 'button', class: 'btn btn-small btn-primary', on: { click: () => this.decide(r, true) } }, t('invite.accept')),
      h('button', { type: 'button', class: 'btn btn-small', on: { click: () => this.decide(r, false) } }, t('invite.decline')))));
  }

  async decide(r, accept) {
    try {
      await (accept ? api.acceptJoin(this.rv.id, r.account_id) : api.declineJoin(this.rv.id, r.account_id));
    } catch (e) {
      this.rv.app.error(e);
    }
    this.load();
    if (accept) this.rv.loadMembers();
  }
}
