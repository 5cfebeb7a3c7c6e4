// The message composer: Enter or Shift+Enter to send (a setting), the To
// picker, tasks, and ChatWork notation helpers.

import * as api from './api.js';
import { h, replace, avatar, fold } from './dom.js';
import { t } from './i18n.js';
import { searchKey } from './text.js';
import { to } from './notation.js';
import { prefs, savePrefs } from './prefs.js';
import { taskDialog } from './dialogs.js';
import { Attach } from './files.js';

export class Composer {
  constructor(rv) {
    this.rv = rv;
    this.app = rv.app;
    this.input = h('textarea', { class: 'composer-input', rows: '3', 'aria-label': t('composer.placeholder.enter') });
    this.input.value = this.app.drafts.get(rv.id) || '';
    this.input.addEventListener('keydown', (e) => this.key(e));
    this.sendBtn = h('button', { type: 'button', class: 'btn btn-primary composer-send', on: { click: () => this.send() } }, t('composer.send'));
    this.enterBox = h('input', { type: 'checkbox', id: `enter-${rv.id}`, checked: prefs.sendKey === 'enter',
      on: { change: () => savePrefs({ sendKey: this.enterBox.checked ? 'enter' : 'shift' }) } });
    this.onPrefs = () => this.placeholder();
    addEventListener('horenso-prefs', this.onPrefs);
    this.err = h('p', { class: 'form-error', role: 'alert', hidden: true });
    this.picker = new Picker(this);
    this.toBtn = h('button', { type: 'button', class: 'tool', 'aria-haspopup': 'listbox', dataset: { tool: 'to' }, on: { click: () => this.picker.toggle() } }, t('composer.to'));
    const tool = (name, label, fn) => h('button', { type: 'button', class: 'tool', dataset: { tool: name }, on: { click: fn } }, label);
    this.tools = h('div', { class: 'composer-tools', role: 'toolbar' },
      this.toBtn,
      tool('task', t('composer.task'), () => this.task()),
      tool('info', t('composer.info'), () => this.wrap('[info][title][/title]', '[/info]')),
      tool('code', t('composer.code'), () => this.wrap('[code]', '[/code]')),
      (this.attach = new Attach(this)).button, this.attach.input, this.attach.hint,
      h('span', { class: 'spacer' }),
      h('label', { class: 'enter-toggle', for: `enter-${rv.id}` }, this.enterBox, t('composer.enter')),
      this.sendBtn);
    this.readonly = h('p', { class: 'composer-readonly', hidden: true }, t('composer.readonly'));
    this.el = h('div', { class: 'composer' }, this.picker.el, this.tools, this.attach.list, this.input, this.err, this.readonly);
    this.attach.dropOn(this.el);
    this.placeholder();
  }

  placeholder() {
    const p = prefs.sendKey === 'enter' ? t('composer.placeholder.enter') : t('composer.placeholder.shift');
    this.input.placeholder = p;
    this.input.setAttribute('aria-label', p);
    this.enterBox.checked = prefs.sendKey === 'enter';
  }

  /** update enables the composer for people who may post. */
  update() {
    const room = this.rv.room;
    const known = room && room.role;
    const can = this.rv.canPost();
    this.readonly.hidden = !known || can;
    this.input.disabled = !can;
    this.sendBtn.disabled = !can;
    for (const b of this.tools.querySelectorAll('button')) b.disabled = !can;
    this.enterBox.disabled = false;
    this.toBtn.hidden = room && room.type === 'my';
    this.attach.update(); // the partner policy may keep it disabled
  }

  destroy() {
    removeEventListener('horenso-prefs', this.onPrefs);
    document.removeEventListener('mousedown', this.picker.outside);
    this.saveDraft();
  }

  saveDraft() {
    if (this.input.value) this.app.drafts.set(this.rv.id, this.input.value);
    else this.app.drafts.delete(this.rv.id);
  }

  key(e) {
    if (e.key === 'Escape' && this.picker.open) {
      this.picker.close();
      return;
    }
    // While an IME is composing (Japanese input), Enter confirms the
    // conversion; it must never send.
    if (e.key !== 'Enter' || e.isComposing || e.keyCode === 229) return;
    const plainEnter = !e.shiftKey && !e.ctrlKey && !e.altKey && !e.metaKey;
    const shiftEnter = e.shiftKey && !e.ctrlKey && !e.altKey && !e.metaKey;
    const sends = e.ctrlKey || e.metaKey || (prefs.sendKey === 'enter' ? plainEnter : shiftEnter);
    if (sends) {
      e.preventDefault();
      this.send();
    }
  }

  async send() {
    const body = this.input.value;
    if (!body.trim() || this.sending || !this.rv.canPost()) return;
    this.sending = true;
    this.sendBtn.disabled = true;
    this.err.hidden = true;
    try {
      await api.postMessage(this.rv.id, body);
      if (this.input.value === body) this.input.value = '';
      this.app.drafts.delete(this.rv.id);
      // The stream will bring it too; fetching it makes it show even
      // while the stream is down.
      this.rv.timeline.catchUp();
    } catch (e) {
      this.err.textContent = e.status === 0 ? t('error.network') : t('composer.error', { error: e.message });
      this.err.hidden = false;
    } finally {
      this.sending = false;
      this.sendBtn.disabled = !this.rv.canPost();
      this.input.focus();
    }
  }

  /** insert puts text at the cursor (a reply or mention goes to the start
   * of the line it is on). */
  insert(text) {
    const ta = this.input;
    const start = ta.selectionStart ?? ta.value.length;
    const end = ta.selectionEnd ?? start;
    ta.setRangeText(text, start, end, 'end');
    ta.focus();
  }

  wrap(open, close) {
    const ta = this.input;
    const s = ta.selectionStart;
    const e = ta.selectionEnd;
    const sel = ta.value.slice(s, e);
    ta.setRangeText(open + sel + close, s, e, 'end');
    ta.selectionStart = ta.selectionEnd = s + open.length + sel.length;
    ta.focus();
  }

  task() {
    const body = this.input.value.trim();
    taskDialog(this.rv, { body }).then((ok) => {
      if (ok && body && this.input.value.trim() === body) this.input.value = '';
    });
  }
}

/** pickerMax is how many members the [To:] picker lists at once: a room of
 * thousands lists the first ones, and a few letters of a name find the
 * rest. Drawing every member on each key made a key take a fifth of a
 * second in a room of 5,000. */
export const pickerMax = 50;

/** Picker is the [To:] mention picker over the room's members. */
class Picker {
  constructor(composer) {
    this.c = composer;
    this.open = false;
    this.filter = h('input', { type: 'search', class: 'picker-filter', placeholder: t('picker.filter'), 'aria-label': t('picker.filter') });
    this.list = h('ul', { class: 'picker-list', role: 'listbox', 'aria-label': t('picker.title') });
    this.el = h('div', { class: 'picker', hidden: true, role: 'dialog', 'aria-label': t('picker.title') },
      h('div', { class: 'picker-head' }, t('picker.title')), this.filter, this.list);
    this.filter.addEventListener('input', () => this.render());
    this.filter.addEventListener('keydown', (e) => this.key(e));
    this.list.addEventListener('click', (e) => {
      const li = e.target.closest('li[data-aid]');
      if (li) this.pick(li.dataset.aid);
    });
    this.outside = (e) => {
      if (!this.el.contains(e.target) && e.target !== this.c.toBtn) this.close();
    };
  }

  toggle() {
    if (this.open) this.close();
    else this.show();
  }

  show() {
    this.open = true;
    this.el.hidden = false;
    this.filter.value = '';
    this.active = 0;
    this.render();
    this.filter.focus();
    document.addEventListener('mousedown', this.outside);
  }

  close() {
    this.open = false;
    this.el.hidden = true;
    document.removeEventListener('mousedown', this.outside);
    this.c.input.focus();
  }

  /** items returns the entries to list (at most pickerMax members) and how
   * many more members match. */
  items() {
    const me = this.c.app.me.account_id;
    const q = fold(this.filter.value.trim());
    const ms = (this.c.rv.members || []).filter((m) => m.account_id !== me && (!q || searchKey(m).includes(q)));
    const out = ms.slice(0, pickerMax).map((m) => ({ aid: String(m.account_id), name: m.name, org: this.c.app.partnerOrg(m.account_id) }));
    if (!q && ms.length > 1) out.unshift({ aid: 'all', name: t('picker.all') });
    return { out, more: ms.length - Math.min(ms.length, pickerMax) };
  }

  render() {
    const { out, more } = this.items();
    this.active = Math.min(this.active, Math.max(0, out.length - 1));
    replace(this.list, out.map((it, i) => h('li', {
      role: 'option', dataset: { aid: it.aid }, class: i === this.active && 'active', 'aria-selected': i === this.active ? 'true' : 'false',
    }, it.aid === 'all' ? null : avatar(it.aid, it.name, 'xs'), h('span', null, it.name), it.org ? h('span', { class: 'org' }, it.org) : null)),
    more > 0 ? h('li', { class: 'picker-more', role: 'presentation' }, t('picker.more', { n: more })) : null);
  }

  /** options are the list's entries that can be picked. */
  options() { return this.list.querySelectorAll('li[data-aid]'); }

  /** moveTo makes entry i the active one, without drawing the list again. */
  moveTo(i) {
    const opts = this.options();
    const was = opts[this.active];
    if (was) {
      was.classList.remove('active');
      was.setAttribute('aria-selected', 'false');
    }
    this.active = i;
    const li = opts[i];
    if (li) {
      li.classList.add('active');
      li.setAttribute('aria-selected', 'true');
      li.scrollIntoView({ block: 'nearest' });
    }
  }

  key(e) {
    const n = this.options().length;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      this.moveTo((this.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % Math.max(n, 1));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      const li = this.options()[this.active];
      if (li) this.pick(li.dataset.aid);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      this.close();
    }
  }

  pick(aid) {
    this.close();
    if (aid === 'all') this.c.insert('[toall]\n');
    else this.c.insert(to(aid, this.c.app.name(aid)));
  }
}
