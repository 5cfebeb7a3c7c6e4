// The side panel of an open room: description, tasks and members.

import * as api from './api.js';
import { h, replace, avatar, noteAvatar, fold } from './dom.js';
import { searchKey } from './text.js';
import { t, fmtDue } from './i18n.js';
import { parse } from './notation.js';
import { render } from './render.js';
import { confirmDialog, taskDialog, membersDialog, descDialog } from './dialogs.js';
import { JoinRequests } from './invite.js';
import { FilesSection } from './files.js';

/** sideMembersMax is how many members the side panel lists: a room of
 * thousands shows a filter box and the first ones (admins first), so that
 * the panel stays short and the files below it within reach. */
export const sideMembersMax = 100;

export class SidePanel {
  constructor(rv) {
    this.rv = rv;
    this.app = rv.app;
    this.tasks = { open: null, done: null }; // task lists once loaded
    this.tab = 'open';
    this.about = h('div', { class: 'side-body' });
    this.aboutActions = h('span', { class: 'side-actions' });
    this.taskList = h('ul', { class: 'task-list', 'aria-live': 'polite' });
    this.taskCount = h('span', { class: 'count' });
    this.tabs = h('div', { class: 'tabs', role: 'tablist' },
      ['open', 'done'].map((s) => h('button', { type: 'button', role: 'tab', class: 'tab', dataset: { tab: s },
        'aria-selected': s === this.tab ? 'true' : 'false', on: { click: () => this.switchTab(s) } }, t('side.' + s))));
    this.memberList = h('ul', { class: 'member-list' });
    this.memberFilter = h('input', { type: 'search', class: 'member-filter', hidden: true,
      placeholder: t('side.memberfilter'), 'aria-label': t('side.memberfilter') });
    this.memberFilter.addEventListener('input', () => this.renderMemberRows());
    this.memberCount = h('span', { class: 'count' });
    this.memberActions = h('div', { class: 'side-foot' });
    this.requests = new JoinRequests(rv);
    this.files = new FilesSection(rv);
    this.el = h('div', { class: 'side-panel' },
      this.requests.el,
      h('section', { class: 'side-section side-about', 'aria-labelledby': 'side-about-h' },
        h('h3', { id: 'side-about-h' }, t('side.about'), this.aboutActions), this.about),
      h('section', { class: 'side-section side-tasks', 'aria-labelledby': 'side-tasks-h' },
        h('h3', { id: 'side-tasks-h' }, t('side.tasks'), this.taskCount,
          h('button', { type: 'button', class: 'btn btn-small side-add', dataset: { action: 'add-task' },
            on: { click: () => taskDialog(this.rv, {}) } }, '+ ', t('task.new'))),
        this.tabs, this.taskList),
      h('section', { class: 'side-section side-members', 'aria-labelledby': 'side-members-h' },
        h('h3', { id: 'side-members-h' }, t('side.members'), this.memberCount), this.memberFilter, this.memberList, this.memberActions),
      this.files.el);
    replace(this.taskList, h('li', { class: 'state' }, t('loading')));
    replace(this.memberList, h('li', { class: 'state' }, t('loading')));
  }

  renderAbout() {
    const r = this.rv.room;
    if (!r) {
      replace(this.about, t('loading'));
      return;
    }
    replace(this.about, r.description ? h('div', { class: 'desc' }, render(parse(r.description), this.rv.timeline.ctx()))
      : h('p', { class: 'muted' }, t('side.nodesc')));
    replace(this.aboutActions, this.rv.isAdmin() && r.type === 'group'
      ? h('button', { type: 'button', class: 'btn btn-small', on: { click: () => descDialog(this.rv) } }, t('side.editdesc')) : null);
  }

  async loadTasks() {
    // Both lists: the timeline's task notices show whether each is done.
    const tabs = ['open', 'done'];
    try {
      const lists = await Promise.all(tabs.map((s) => api.tasks(this.rv.id, s)));
      tabs.forEach((s, i) => { this.tasks[s] = lists[i]; });
    } catch (e) {
      if (this.rv.destroyed) return;
      if (e.status !== 404 && e.status !== 403) replace(this.taskList, h('li', { class: 'form-error' }, t('error.generic', { error: e.message })));
      return;
    }
    if (!this.rv.destroyed) this.renderTasks();
  }

  /** taskOf returns the task a task_added system message made, once the
   * task lists are loaded. */
  taskOf(mid) {
    for (const s of ['open', 'done']) {
      const task = (this.tasks[s] || []).find((x) => x.message_id === mid);
      if (task) return task;
    }
    return null;
  }

  switchTab(s) {
    this.tab = s;
    for (const b of this.tabs.children) b.setAttribute('aria-selected', b.dataset.tab === s ? 'true' : 'false');
    if (!this.tasks[s]) {
      replace(this.taskList, h('li', { class: 'state' }, t('loading')));
      this.loadTasks();
    } else this.renderTasks();
  }

  /** onTask applies a task from the live stream. */
  onTask(task) {
    if (!task || !task.task_id) {
      this.loadTasks();
      return;
    }
    for (const s of ['open', 'done']) {
      const list = this.tasks[s];
      if (!list) continue;
      const i = list.findIndex((x) => x.task_id === task.task_id);
      if (i >= 0) list.splice(i, 1);
      if (task.status === s) list.push(task);
    }
    this.renderTasks();
  }

  renderTasks() {
    this.rv.timeline.refreshTasks();
    const open = this.tasks.open || [];
    this.taskCount.textContent = open.length ? String(open.length) : '';
    const list = this.tasks[this.tab];
    if (!list) return;
    if (!list.length) {
      replace(this.taskList, h('li', { class: 'state muted' }, t(this.tab === 'open' ? 'side.notasks' : 'side.nodone')));
      return;
    }
    const sorted = [...list].sort((a, b) => (a.limit_time || Infinity) - (b.limit_time || Infinity) || a.task_id - b.task_id);
    replace(this.taskList, sorted.map((task) => taskItem(this.app, task, this.rv.timeline.ctx(), {
      onToggle: (status) => this.setStatus(task, status),
      onShow: task.message_id ? () => this.rv.jump(this.rv.id, task.message_id) : null,
      onEdit: this.rv.canPost() ? () => taskDialog(this.rv, { task }) : null,
    })));
  }

  async setStatus(task, status) {
    try {
      await api.setTaskStatus(this.rv.id, task.task_id, status);
      this.onTask({ ...task, status });
      this.app.loadMyTaskCount();
    } catch (e) {
      this.app.error(e);
      this.renderTasks();
    }
  }

  renderMembers() {
    const ms = this.rv.members || [];
    const room = this.rv.room;
    this.memberCount.textContent = String(ms.length);
    this.memberFilter.hidden = ms.length <= sideMembersMax;
    this.renderMemberRows();
    const group = room && room.type === 'group';
    replace(this.memberActions,
      group && this.rv.isAdmin() ? h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'manage-members' },
        on: { click: () => membersDialog(this.rv) } }, t('side.manage')) : null,
      group ? h('button', { type: 'button', class: 'btn btn-small btn-danger', dataset: { action: 'leave' },
        on: { click: () => this.leave() } }, t('side.leave')) : null);
    this.renderAbout();
    this.requests.load();
  }

  /** renderMemberRows lists the members the filter box matches (all
   * while it is empty), sideMembersMax at most. */
  renderMemberRows() {
    const ms = this.rv.members || [];
    const q = this.memberFilter.hidden ? '' : fold(this.memberFilter.value.trim());
    const matching = q ? ms.filter((m) => searchKey(m).includes(q) || fold(this.app.partnerOrg(m.account_id) || '').includes(q)) : ms;
    const more = matching.length - Math.min(matching.length, sideMembersMax);
    replace(this.memberList, matching.slice(0, sideMembersMax).map((m) => {
      noteAvatar(m.account_id, m.avatar_image_url);
      const org = this.app.partnerOrg(m.account_id);
      return h('li', { class: 'member', dataset: { aid: String(m.account_id), role: m.role } },
        avatar(m.account_id, m.name, 'sm'),
        h('span', { class: 'member-name' }, m.name, org ? h('span', { class: 'org' }, org) : null),
        m.unconfirmed ? h('span', { class: 'badge-unconfirmed', title: t('member.unconfirmedhint') }, t('member.unconfirmed')) : null,
        h('span', { class: ['role', `role-${m.role}`] }, t('role.' + m.role)));
    }),
    more > 0 ? h('li', { class: 'member-more muted' }, t('side.membersmore', { n: more })) : null,
    q && !matching.length ? h('li', { class: 'state' }, t('people.none')) : null);
  }

  async leave() {
    const room = this.rv.room;
    if (!(await confirmDialog(t('side.confirmleave', { name: room.name }), t('side.leave')))) return;
    try {
      await api.leaveRoom(this.rv.id);
      this.app.rooms.delete(this.rv.id);
      localStorage.removeItem('horenso.lastRoom');
      this.app.navigate('/');
      this.app.refreshRooms();
    } catch (e) {
      this.app.error(e);
    }
  }
}

/** taskItem renders one task with a done checkbox. opts: {onToggle(status),
 * onShow, room: a room name to show}. */
export function taskItem(app, task, ctx, opts) {
  const done = task.status === 'done';
  const box = h('input', { type: 'checkbox', class: 'task-toggle', checked: done, 'aria-label': done ? t('task.markopen') : t('task.markdone') });
  box.addEventListener('change', () => {
    box.disabled = true;
    opts.onToggle(box.checked ? 'done' : 'open');
  });
  const due = !done && task.limit_time && task.limit_type !== 'none' ? dueState(task) : '';
  const overdue = due === 'overdue';
  const who = task.account ? task.account : null;
  const by = task.assigned_by_account;
  return h('li', { class: ['task', done && 'done', due], dataset: { taskId: String(task.task_id), status: task.status } },
    box,
    h('div', { class: 'task-main' },
      h('div', { class: 'task-body' }, render(parse(task.body), ctx)),
      h('div', { class: 'task-meta' },
        who ? h('span', { class: 'task-who' }, avatar(who.account_id, who.name, 'xs'), who.name) : null,
        task.limit_time && task.limit_type !== 'none'
          ? h('span', { class: 'task-due' }, overdue ? t('task.overdue') + ' · ' : due === 'due-today' ? t('task.today') + ' · ' : '',
            t('task.due.label', { date: fmtDue(task.limit_time, task.limit_type) })) : null,
        by && (!who || by.account_id !== who.account_id) ? h('span', { class: 'task-by' }, t('task.by', { name: by.name })) : null,
        opts.room ? h('a', { class: 'task-room', href: `/rooms/${opts.room.room_id}`, on: { click: (e) => app.link(e, `/rooms/${opts.room.room_id}`) } },
          t('mytasks.in', { room: opts.room.name })) : null,
        opts.onShow ? h('button', { type: 'button', class: 'linkish', on: { click: opts.onShow } }, t('task.ofmessage')) : null,
        opts.onEdit ? h('button', { type: 'button', class: 'linkish task-edit', on: { click: opts.onEdit } }, t('task.edit')) : null)));
}

/** dueState is "overdue" for a task past its due date or time, "due-today"
 * for one due later today, else "". A task due on a date is due until the
 * end of that day. */
export function dueState(task, now = new Date()) {
  const d = new Date(task.limit_time * 1000);
  if (task.limit_type === 'date') {
    const day = (x) => x.getFullYear() * 10000 + x.getMonth() * 100 + x.getDate();
    return day(d) < day(now) ? 'overdue' : day(d) === day(now) ? 'due-today' : '';
  }
  if (d < now) return 'overdue';
  return d.toDateString() === now.toDateString() ? 'due-today' : '';
}
