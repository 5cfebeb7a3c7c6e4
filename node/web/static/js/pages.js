// Screens besides a room: my tasks across rooms, and contacts.

import * as api from './api.js';
import { h, replace, avatar, fold } from './dom.js';
import { t, byName } from './i18n.js';
import { taskItem } from './side.js';

/** MyTasksView lists the tasks assigned to me in every room. */
export class MyTasksView {
  constructor(app) {
    this.kind = 'tasks';
    this.app = app;
    this.status = 'open';
    this.tasks = [];
    this.list = h('ul', { class: 'task-list big', 'aria-live': 'polite' });
    this.tabs = h('div', { class: 'tabs', role: 'tablist' },
      ['open', 'done'].map((s) => h('button', { type: 'button', role: 'tab', class: 'tab', dataset: { tab: s },
        'aria-selected': s === this.status ? 'true' : 'false', on: { click: () => this.switchTab(s) } }, t('side.' + s))));
    this.el = h('div', { class: 'page page-tasks' },
      h('header', { class: 'room-header' }, h('h2', { class: 'room-title' }, t('mytasks.title'))),
      h('div', { class: 'page-body' }, this.tabs, this.list));
  }

  switchTab(s) {
    this.status = s;
    for (const b of this.tabs.children) b.setAttribute('aria-selected', b.dataset.tab === s ? 'true' : 'false');
    this.load();
  }

  async load() {
    this.app.updateTitle();
    replace(this.list, h('li', { class: 'state' }, t('loading')));
    try {
      this.tasks = await api.myTasks(this.status);
    } catch (e) {
      replace(this.list, h('li', { class: 'state form-error' }, t('error.generic', { error: e.message })));
      return;
    }
    if (this.app.view === this) this.render();
    if (this.status === 'open') {
      this.app.taskBadge.hidden = this.tasks.length === 0;
      this.app.taskBadge.textContent = String(this.tasks.length);
    }
  }

  resync(outage) {
    if (outage) this.load();
  }

  onTask() {
    this.load();
  }

  render() {
    if (!this.tasks.length) {
      replace(this.list, h('li', { class: 'state muted' }, t(this.status === 'open' ? 'mytasks.empty' : 'mytasks.nodone')));
      return;
    }
    const ctx = { name: (id) => this.app.name(id), me: String(this.app.me.account_id) };
    const sorted = [...this.tasks].sort((a, b) => (a.limit_time || Infinity) - (b.limit_time || Infinity) || a.task_id - b.task_id);
    replace(this.list, sorted.map((task) => taskItem(this.app, { ...task, account: null }, ctx, {
      room: task.room,
      onToggle: (status) => this.setStatus(task, status),
    })));
  }

  async setStatus(task, status) {
    try {
      await api.setTaskStatus(task.room.room_id, task.task_id, status);
    } catch (e) {
      this.app.error(e);
    }
    this.load();
  }
}

/** ContactsView: my contacts (open a direct chat), incoming requests
 * (accept or decline), and a form to ask someone, here or at a partner
 * organization, to become a contact. */
export class ContactsView {
  constructor(app) {
    this.kind = 'contacts';
    this.app = app;
    this.contacts = [];
    this.filter = h('input', { type: 'search', class: 'picker-filter', placeholder: t('contacts.filter'), 'aria-label': t('contacts.filter'),
      on: { input: () => this.renderContacts() } });
    this.list = h('ul', { class: 'contact-list' });
    this.requests = h('ul', { class: 'request-list' });
    // The account box suggests people of the directory as one types: a
    // colleague by handle, a partner's person by global ID.
    this.suggest = h('datalist', { id: 'contact-suggest' });
    this.account = h('input', { id: 'contact-account', name: 'account', required: true, placeholder: t('contacts.placeholder'), autocomplete: 'off', spellcheck: 'false',
      list: 'contact-suggest', on: { input: () => this.lookup() } });
    this.message = h('input', { id: 'contact-message', name: 'message' });
    this.formMsg = h('p', { class: 'form-note', role: 'status' });
    this.myId = h('code', { class: 'my-account-id' }, this.app.me.global_id || '');
    this.onMe = () => { this.myId.textContent = this.app.me.global_id || ''; };
    addEventListener('horenso-me', this.onMe);
    const form = h('form', { class: 'contact-form' },
      h('div', { class: 'field' }, h('label', { for: 'contact-account' }, t('contacts.account')), this.account, this.suggest),
      h('div', { class: 'field' }, h('label', { for: 'contact-message' }, t('contacts.message')), this.message),
      h('button', { type: 'submit', class: 'btn btn-primary' }, t('contacts.send')), this.formMsg);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.send();
    });
    this.el = h('div', { class: 'page page-contacts' },
      h('header', { class: 'room-header' }, h('h2', { class: 'room-title' }, t('contacts.title'))),
      h('div', { class: 'page-body' },
        h('section', { class: 'page-section' }, h('h3', null, t('contacts.requests')), this.requests),
        h('section', { class: 'page-section' }, h('h3', null, t('contacts.add')),
          h('p', { class: 'muted' }, t('contacts.myid'), ' ', this.myId), form),
        h('section', { class: 'page-section' }, h('h3', null, t('contacts.title')), this.filter, this.list)));
  }

  destroy() {
    removeEventListener('horenso-me', this.onMe);
  }

  async load() {
    this.app.updateTitle();
    const [contacts, reqs] = await Promise.allSettled([this.app.loadContacts(true), this.app.loadIncoming()]);
    if (this.app.view !== this) return;
    if (contacts.status === 'fulfilled') {
      this.contacts = contacts.value;
      this.renderContacts();
    } else if (contacts.reason.status === 501) {
      replace(this.list, h('li', { class: 'state muted' }, t('contacts.unsupported')));
    } else replace(this.list, h('li', { class: 'form-error' }, t('error.generic', { error: contacts.reason.message })));
    this.renderRequests(reqs.status === 'fulfilled' ? reqs.value : null, contacts.status === 'rejected' && contacts.reason.status === 501);
  }

  resync(outage) {
    if (outage) this.load();
  }

  renderContacts() {
    const q = fold(this.filter.value.trim());
    const list = this.contacts.filter((c) => !q || fold(c.name).includes(q) || fold(c.organization_name).includes(q)).sort(byName);
    if (!list.length) {
      replace(this.list, h('li', { class: 'state muted' }, t('contacts.empty')));
      return;
    }
    replace(this.list, list.map((c) => h('li', { class: 'contact', dataset: { aid: String(c.account_id) } },
      avatar(c.account_id, c.name, 'sm'),
      h('span', { class: 'contact-name' }, c.name,
        c.organization_name ? h('span', { class: 'org' }, c.organization_name) : null,
        c.department ? h('span', { class: 'org' }, c.department) : null),
      c.room_id ? h('a', { class: 'btn btn-small', href: `/rooms/${c.room_id}`, on: { click: (e) => this.openChat(e, c) } }, t('contacts.chat')) : null)));
  }

  async openChat(e, c) {
    if (e.button !== 0 || e.metaKey || e.ctrlKey) return;
    e.preventDefault();
    if (!this.app.rooms.has(c.room_id)) await this.app.loadRooms().catch(() => {});
    this.app.navigate(`/rooms/${c.room_id}`);
  }

  renderRequests(reqs, unsupported) {
    if (!reqs) {
      replace(this.requests, unsupported ? h('li', { class: 'state muted' }, t('contacts.unsupported'))
        : h('li', { class: 'form-error' }, t('error.generic', { error: t('error.network') })));
      return;
    }
    if (!reqs.length) {
      replace(this.requests, h('li', { class: 'state muted' }, t('contacts.norequests')));
      return;
    }
    replace(this.requests, reqs.map((r) => h('li', { class: 'request', dataset: { requestId: String(r.request_id) } },
      avatar(r.account_id, r.name, 'sm'),
      h('div', { class: 'request-main' },
        h('span', { class: 'contact-name' }, r.name, r.organization_name ? h('span', { class: 'org' }, r.organization_name) : null),
        r.message ? h('p', { class: 'request-message' }, r.message) : null),
      h('button', { type: 'button', class: 'btn btn-small btn-primary', dataset: { action: 'accept' }, on: { click: () => this.answer(r, true) } }, t('contacts.accept')),
      h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'decline' }, on: { click: () => this.answer(r, false) } }, t('contacts.decline')))));
  }

  async answer(r, accept) {
    try {
      if (accept) await api.acceptRequest(r.request_id);
      else await api.declineRequest(r.request_id);
    } catch (e) {
      this.app.error(e);
    }
    this.app.contacts = null;
    this.app.refreshRooms();
    this.load();
  }

  /** lookup fills the account box's suggestions from the directory. */
  lookup() {
    clearTimeout(this.lookupTimer);
    const q = this.account.value.trim();
    if (!q || q.includes('@12D3')) return;
    this.lookupTimer = setTimeout(async () => {
      try {
        const res = await api.people(q, { limit: 20 });
        if (this.account.value.trim() !== q) return;
        replace(this.suggest, res.people.filter((p) => p.account_id !== this.app.me.account_id).map((p) =>
          h('option', { value: p.local ? p.chatwork_id : p.id },
            [p.name, p.organization_name, p.local ? p.email : ''].filter(Boolean).join(' · '))));
      } catch {
        // suggestions are a convenience: typing a handle or ID still works
      }
    }, 150);
  }

  async send() {
    const account = this.account.value.trim();
    if (!account) return;
    this.formMsg.textContent = '';
    try {
      await api.sendContactRequest(account, this.message.value);
      this.formMsg.textContent = t('contacts.sent', { account });
      this.account.value = '';
      this.message.value = '';
    } catch (e) {
      this.formMsg.textContent = t('error.generic', { error: e.message });
    }
  }
}
