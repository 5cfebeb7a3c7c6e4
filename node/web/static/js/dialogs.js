// Modal dialogs, built on <dialog>: confirm, new task, new group chat,
// members and roles, room name and description, settings.

import * as api from './api.js';
import { h, avatar, fold, replace } from './dom.js';
import { t, lang, setLang, byName, fmtFull } from './i18n.js';
import { searchKey } from './text.js';
import { prefs, savePrefs } from './prefs.js';
import { tokensSection } from './tokens.js';
import { webhooksSection } from './webhooks.js';
import { profileSection, signOutOthers } from './profile.js';
import { iconPicker, preset } from './roomicon.js';

/**
 * modal shows a form dialog and resolves with what onSubmit returns, or
 * null if cancelled. onSubmit may throw to show an error and keep the
 * dialog open.
 */
export function modal({ title, body, submit, onSubmit, cls, danger }) {
  const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const ok = h('button', { type: 'submit', class: ['btn', danger ? 'btn-danger' : 'btn-primary'] }, submit || t('ok'));
  const cancel = h('button', { type: 'button', class: 'btn' }, onSubmit ? t('cancel') : t('close'));
  const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
  const form = h('form', { class: 'dialog-form', novalidate: true },
    h('h2', { id: titleId }, title), body, err,
    h('div', { class: 'dialog-actions' }, cancel, onSubmit ? ok : null));
  const dlg = h('dialog', { class: ['dialog', cls], 'aria-labelledby': titleId }, form);
  document.body.appendChild(dlg);
  dlg.showModal();
  const first = form.querySelector('input:not([type=checkbox]):not([type=hidden]), textarea, select');
  if (first) first.focus();
  return new Promise((resolve) => {
    let done = false;
    const finish = (v) => {
      if (done) return;
      done = true;
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    cancel.addEventListener('click', () => finish(null));
    dlg.addEventListener('cancel', (e) => {
      e.preventDefault();
      finish(null);
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!onSubmit) return finish(null);
      err.hidden = true;
      ok.disabled = true;
      try {
        finish(await onSubmit());
      } catch (ex) {
        err.textContent = ex.status === 0 ? t('error.network') : ex.message;
        err.hidden = false;
      } finally {
        ok.disabled = false;
      }
    });
  });
}

/** confirmDialog asks a yes/no question; resolves true or null. */
export function confirmDialog(question, okLabel) {
  return modal({ title: question, body: null, submit: okLabel || t('ok'), danger: true, cls: 'dialog-confirm', onSubmit: async () => true });
}

function field(label, input) {
  const id = input.id || (input.id = `f-${Math.random().toString(36).slice(2)}`);
  return h('div', { class: 'field' }, h('label', { for: id }, label), input);
}

function personLabel(app, id, name) {
  const org = app.partnerOrg(id);
  return [avatar(id, name, 'xs'), h('span', null, name), org ? h('span', { class: 'org' }, org) : null];
}

/** taskDialog creates a task in a room: body, assignees (any member,
 * partners included), optional due date and time; given a task, it edits
 * that one. Resolves true once saved. */
export function taskDialog(rv, { body = '', task = null }) {
  const app = rv.app;
  const text = h('textarea', { name: 'body', rows: '3', required: true });
  text.value = task ? task.body : body;
  const me = app.me.account_id;
  const assigned = task && task.account ? task.account.account_id : 0;
  const members = [...(rv.members || [])].sort((a, b) => (b.account_id === me) - (a.account_id === me) || byName(a, b));
  const assignees = assigneeBoxes(app, members, (m) => (task ? m.account_id === assigned : members.length === 1));
  const date = h('input', { type: 'date', name: 'due' });
  const time = h('input', { type: 'time', name: 'time' });
  if (task && task.limit_time && task.limit_type !== 'none') {
    const d = new Date(task.limit_time * 1000);
    const pad = (n) => String(n).padStart(2, '0');
    date.value = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    if (task.limit_type === 'time') time.value = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  const body_ = [
    field(t('task.body'), text),
    h('fieldset', { class: 'field assignees' }, h('legend', null, t('task.assignees')), assignees.el),
    h('div', { class: 'field-row' }, field(t('task.due'), date), field(t('task.duetime'), time)),
  ];
  return modal({
    title: task ? t('task.edit') : t('task.new'), body: body_, submit: task ? t('task.save') : t('task.create'), cls: 'dialog-task',
    onSubmit: async () => {
      if (!text.value.trim()) throw new Error(t('task.needbody'));
      const ids = assignees.checked().map((m) => String(m.account_id));
      if (!ids.length) throw new Error(t('task.needassignee'));
      let limit = 0;
      let type = 'none';
      if (date.value) {
        type = time.value ? 'time' : 'date';
        limit = Math.floor(new Date(`${date.value}T${time.value || '23:59:59'}`).getTime() / 1000);
      }
      if (task) rv.side.onTask(await api.editTask(rv.id, task.task_id, text.value, ids, limit, type));
      else await api.createTask(rv.id, text.value, ids, limit, type);
      rv.side.loadTasks();
      app.loadMyTaskCount();
      return true;
    },
  });
}

/** assigneeBoxes is a check box per member, to pick a task's assignees;
 * checked(m) says whether m starts checked. In a room of more than
 * memberRowsMax members it draws that many (the checked ones first) under a
 * filter box that finds the others. It returns the element and a function
 * giving the members checked. */
function assigneeBoxes(app, members, checked) {
  const items = members.map((m) => ({ m, on: checked(m), key: searchKey(m) }));
  const draw = (it) => {
    if (!it.el) {
      const box = h('input', { type: 'checkbox', name: 'to', value: String(it.m.account_id), checked: it.on });
      box.addEventListener('change', () => { it.on = box.checked; });
      it.el = h('label', { class: 'check' }, box, personLabel(app, it.m.account_id, it.m.name));
    }
    return it.el;
  };
  const list = h('div', { class: 'check-list' });
  const more = h('p', { class: 'muted member-rows-more', hidden: true });
  const big = items.length > memberRowsMax;
  const filter = big ? h('input', { type: 'search', class: 'picker-filter', placeholder: t('side.memberfilter'), 'aria-label': t('side.memberfilter') }) : null;
  const render = () => {
    const q = filter ? fold(filter.value.trim()) : '';
    const shown = items.filter((it) => !q || it.on || it.key.includes(q));
    if (big) shown.sort((a, b) => b.on - a.on);
    replace(list, shown.slice(0, memberRowsMax).map(draw));
    more.hidden = shown.length <= memberRowsMax;
    more.textContent = t('members.more', { n: shown.length - memberRowsMax });
  };
  filter?.addEventListener('input', render);
  render();
  return { el: [filter, list, more], checked: () => items.filter((it) => it.on).map((it) => it.m) };
}

/** memberRowsMax is how many people the members dialog draws at once: in
 * a room of thousands, drawing a row and a role select for everyone froze
 * the page for more than a second. The search box finds the rest. */
export const memberRowsMax = 100;

// memberRows lists people with a role select each; role "" = not in. Its
// search box filters them and also searches the people directory
// (/api/people), adding the colleagues it finds as rows, so that someone
// with no contacts yet finds everyone of the organization. It draws at
// most memberRowsMax rows: those whose role was changed in the dialog
// first, then the others in order. Each of rows is { p, value }: the
// person and the role chosen.
function memberRows(app, people, roles) {
  const none = (p) => (roles.has(p.account_id) ? t('members.remove') : '—');
  const filter = h('input', { type: 'search', class: 'picker-filter', placeholder: t('people.search'), 'aria-label': t('people.search') });
  const list = h('ul', { class: 'member-rows' });
  const more = h('p', { class: 'muted member-rows-more', hidden: true });
  const rows = [];
  const byId = new Map();
  const add = (p) => {
    if (byId.has(p.account_id) || (app.me && p.account_id === app.me.account_id && !roles.has(p.account_id))) return null;
    const value = roles.get(p.account_id) || '';
    const r = { p, value, initial: value, key: fold([p.name, p.chatwork_id, p.email, p.organization_name].join('\n')) };
    rows.push(r);
    byId.set(p.account_id, r);
    return r;
  };
  // draw makes r's row the first time it is shown.
  const draw = (r) => {
    if (!r.row) {
      const sel = h('select', { 'aria-label': r.p.name, dataset: { aid: String(r.p.account_id) } },
        h('option', { value: '' }, none(r.p)),
        ['admin', 'member', 'readonly'].map((v) => h('option', { value: v, selected: r.value === v }, t('role.' + v))));
      sel.addEventListener('change', () => { r.value = sel.value; });
      r.row = h('li', { class: 'member-row', dataset: { aid: String(r.p.account_id), name: r.key } },
        personLabel(app, r.p.account_id, r.p.name), r.p.email ? h('span', { class: 'org' }, r.p.email) : null, sel);
    }
    return r.row;
  };
  for (const p of people) add(p);
  const status = h('p', { class: 'muted people-status', hidden: true });
  status.textContent = t('people.none');
  let found = new Set(); // the directory's answer to the search box's query
  const render = () => {
    const q = fold(filter.value.trim());
    const changed = (r) => r.value !== r.initial;
    const shown = rows.filter((r) => !q || changed(r) || r.key.includes(q) || found.has(r.p.account_id));
    shown.sort((a, b) => changed(b) - changed(a)); // stable: the rest keep their order
    replace(list, shown.slice(0, memberRowsMax).map(draw));
    more.hidden = shown.length <= memberRowsMax;
    more.textContent = t('members.more', { n: shown.length - memberRowsMax });
    status.hidden = shown.length > 0;
  };
  let seq = 0;
  let timer = 0;
  const search = async (q) => {
    const mine = ++seq;
    try {
      const res = await api.people(q, { limit: 50 });
      if (mine !== seq) return;
      found = new Set();
      for (const p of res.people) {
        app.met(p);
        if (byId.get(p.account_id) || add(p)) found.add(p.account_id);
      }
      render();
    } catch (e) {
      if (mine === seq && e.status !== 404) app.error(e);
    }
  };
  filter.addEventListener('input', () => {
    seq++; // a directory answer still on its way is for an older query
    found = new Set();
    render();
    clearTimeout(timer);
    timer = setTimeout(() => search(filter.value.trim()), 150);
  });
  render();
  search('');
  return { el: [filter, list, more, status], rows };
}

/** groupDialog creates a group chat with contacts or anyone of the people
 * directory as members. Resolves
 * with the new room's ID. */
export async function groupDialog(app) {
  const contacts = await app.candidates();
  const name = h('input', { name: 'name', required: true, maxlength: '255' });
  const desc = h('textarea', { name: 'description', rows: '2' });
  const people = [...contacts].sort(byName);
  const pick = memberRows(app, people, new Map());
  return modal({
    title: t('group.title'), cls: 'dialog-group', submit: t('group.create'),
    body: [field(t('group.name'), name), field(t('group.desc'), desc),
      h('fieldset', { class: 'field' }, h('legend', null, t('group.members')),
        pick.el)],
    onSubmit: async () => {
      if (!name.value.trim()) throw new Error(t('group.needname'));
      const by = { admin: [app.me.account_id], member: [], readonly: [] };
      for (const r of pick.rows) if (r.value) by[r.value].push(r.p.account_id);
      const res = await api.createRoom(name.value.trim(), desc.value, by.admin, by.member, by.readonly);
      return res.room_id;
    },
  });
}

/** membersDialog lets an admin change roles, remove members and add
 * contacts or anyone of the people directory. */
export async function membersDialog(rv) {
  const app = rv.app;
  const contacts = await app.candidates();
  const current = rv.members || [];
  const roles = new Map(current.map((m) => [m.account_id, m.role]));
  const ids = new Set(current.map((m) => m.account_id));
  const people = [...current, ...contacts.filter((c) => !ids.has(c.account_id))]
    .sort((a, b) => (ids.has(b.account_id) - ids.has(a.account_id)) || byName(a, b));
  const pick = memberRows(app, people, roles);
  const ok = await modal({
    title: t('members.title', { name: rv.room.name }), cls: 'dialog-members', submit: t('members.save'),
    body: pick.el,
    onSubmit: async () => {
      const by = { admin: [], member: [], readonly: [] };
      for (const r of pick.rows) if (r.value) by[r.value].push(r.p.account_id);
      if (!by.admin.length) throw new Error(t('members.needadmin'));
      await api.setMembers(rv.id, by.admin, by.member, by.readonly);
      return true;
    },
  });
  if (ok) rv.loadMembers();
}

/** descDialog edits a group chat's name, description and icon. */
export async function descDialog(rv) {
  const name = h('input', { name: 'name', required: true, value: rv.room.name });
  const icon = iconPicker(preset(rv.room));
  const desc = h('textarea', { name: 'description', rows: '5' });
  desc.value = rv.room.description || '';
  const ok = await modal({
    title: t('desc.title'), submit: t('members.save'),
    body: [field(t('group.name'), name), field(t('group.desc'), desc), h('fieldset', { class: 'field' }, h('legend', null, t('icon.title')), icon.el)],
    onSubmit: async () => {
      if (!name.value.trim()) throw new Error(t('group.needname'));
      await api.updateRoom(rv.id, name.value.trim(), desc.value, icon.value() || undefined);
      return true;
    },
  });
  if (ok) {
    rv.room = { ...rv.room, name: name.value.trim(), description: desc.value, icon_path: icon.value() || rv.room.icon_path };
    rv.renderHeader();
    rv.side.renderAbout();
    rv.app.refreshRooms();
  }
}

/** settingsDialog: send key, mention notifications, language, password,
 * the account's sessions with a button to end each other one, and its
 * API tokens (tokens.js), webhooks (webhooks.js). */
export function settingsDialog(app) {
  const radio = (value, label) => h('label', { class: 'check' },
    h('input', { type: 'radio', name: 'sendkey', value, checked: prefs.sendKey === value,
      on: { change: () => savePrefs({ sendKey: value }) } }), label);
  const note = h('p', { class: 'muted', hidden: true }, t('settings.notify.denied'));
  const supported = typeof Notification !== 'undefined';
  const notify = h('input', { type: 'checkbox', name: 'notify', checked: supported && prefs.notify && Notification.permission === 'granted', disabled: !supported });
  notify.addEventListener('change', async () => {
    if (!notify.checked) return savePrefs({ notify: false });
    const p = await Notification.requestPermission();
    notify.checked = p === 'granted';
    note.hidden = p !== 'denied';
    savePrefs({ notify: notify.checked });
  });
  const langSel = h('select', { name: 'lang' },
    h('option', { value: '' }, t('settings.lang.auto')),
    h('option', { value: 'en', selected: localStorage.getItem('horenso.lang') === 'en' }, 'English'),
    h('option', { value: 'ja', selected: localStorage.getItem('horenso.lang') === 'ja' }, '日本語'));
  langSel.addEventListener('change', () => {
    const before = lang;
    setLang(langSel.value);
    if (lang !== before) location.reload();
  });
  const sessions = sessionsSection();
  return modal({
    title: t('settings.title'), cls: 'dialog-settings',
    body: [
      profileSection(app),
      h('fieldset', { class: 'field' }, h('legend', null, t('composer.send')), radio('enter', t('settings.enter')), radio('shift', t('settings.shiftenter'))),
      h('fieldset', { class: 'field' }, h('label', { class: 'check' }, notify, t('settings.notify')), note),
      field(t('settings.lang'), langSel),
      passwordSection(sessions.load),
      sessions.el,
      tokensSection(),
      webhooksSection(),
    ],
  }).then(() => app);
}

// passwordSection changes the password: current and new; then calls
// changed (the other sessions are gone). The settings dialog has no submit
// of its own, so Enter in these fields is taken here rather than closing
// the dialog.
function passwordSection(changed) {
  const current = h('input', { type: 'password', name: 'current_password', autocomplete: 'current-password' });
  const next = h('input', { type: 'password', name: 'new_password', autocomplete: 'new-password', minlength: '8' });
  const msg = h('p', { class: 'form-note', role: 'status', hidden: true });
  const btn = h('button', { type: 'button', class: 'btn' }, t('settings.password.change'));
  const change = async () => {
    msg.hidden = true;
    msg.classList.remove('form-error');
    const fail = (text) => {
      msg.textContent = text;
      msg.classList.add('form-error');
      msg.hidden = false;
    };
    if ([...next.value].length < 8) return fail(t('settings.password.short'));
    btn.disabled = true;
    try {
      await api.changePassword(current.value, next.value);
      current.value = next.value = '';
      msg.textContent = t('settings.password.changed');
      msg.hidden = false;
      changed();
    } catch (e) {
      fail(e.status === 0 ? t('error.network') : e.message);
    } finally {
      btn.disabled = false;
    }
  };
  btn.addEventListener('click', change);
  for (const input of [current, next]) {
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.isComposing) {
        e.preventDefault();
        change();
      }
    });
  }
  return h('fieldset', { class: 'field password-change' }, h('legend', null, t('settings.password')),
    h('div', { class: 'field-row' }, field(t('settings.password.current'), current), field(t('settings.password.new'), next)),
    btn, msg);
}

// sessionsSection lists the account's web sessions, this browser's first,
// with a button to log each other one out. Returns {el, load}.
function sessionsSection() {
  const list = h('ul', { class: 'session-list' });
  const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const load = async () => {
    try {
      const ss = (await api.sessions()).sort((a, b) => b.current - a.current); // this browser first
      err.hidden = true;
      replace(list, ss.map((s) => {
        const end = s.current ? h('span', { class: 'session-current' }, t('settings.sessions.current'))
          : h('button', { type: 'button', class: 'btn btn-small btn-danger', on: { click: async () => {
            end.disabled = true;
            try {
              await api.endSession(s.id);
            } catch (e) {
              if (e.status !== 404) {
                err.textContent = e.message;
                err.hidden = false;
              }
            }
            load();
          } } }, t('settings.sessions.revoke'));
        return h('li', { class: 'session', dataset: { id: s.id, current: s.current ? '1' : '' } },
          h('div', { class: 'session-what' },
            h('div', { class: 'session-agent', title: s.user_agent || '' }, describeAgent(s.user_agent)),
            h('div', { class: 'muted session-meta' }, t('settings.sessions.used', { time: fmtFull(s.last_used) }),
              s.address ? ' · ' + t('settings.sessions.from', { addr: s.address }) : '')),
          end);
      }));
    } catch (e) {
      err.textContent = e.status === 0 ? t('error.network') : e.message;
      err.hidden = false;
    }
  };
  load();
  return { el: h('fieldset', { class: 'field sessions' }, h('legend', null, t('settings.sessions')), list, signOutOthers(load), err), load };
}

/** describeAgent names a browser and system from a User-Agent header. */
function describeAgent(ua) {
  if (!ua) return t('settings.sessions.unknown');
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome'
    : /Safari\//.test(ua) ? 'Safari' : '';
  const os = /iPhone|iPad/.test(ua) ? 'iOS' : /Android/.test(ua) ? 'Android' : /Windows/.test(ua) ? 'Windows'
    : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '';
  if (browser && os) return t('settings.sessions.on', { browser, os });
  return browser || (ua.length > 60 ? ua.slice(0, 60) + '…' : ua);
}
