// Files in the app: attaching them in the composer (button, drag and drop,
// paste, several at once, each with a progress bar and a cancel button),
// the file card a file message shows in the timeline ([download:ID]…
// [/download] in ChatWork notation) with the node's thumbnail of an image
// and a lightbox, and the room's file list in the side panel.
//
// Uploads go through ChatWork's POST /v2/rooms/{id}/files with
// XMLHttpRequest, the one browser API that reports upload progress.

import * as api from './api.js';
import { h, replace, avatar } from './dom.js';
import { t, fmtTime, fmtFull, collator } from './i18n.js';

const IMAGE = /\.(png|jpe?g|gif|webp)$/i;

const contentURL = (rid, fid, download) => `/api/rooms/${rid}/files/${fid}/content${download ? '?download=1' : ''}`;
const thumbURL = (rid, fid) => `/api/rooms/${rid}/files/${fid}/thumbnail`;

/** humanSize writes a size as the node's file notices do. */
export function humanSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(2)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(2)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

// policy is GET /api/files/policy, loaded once.
let policy = null;
function loadPolicy() {
  if (!policy) policy = api.request('GET', '/api/files/policy').catch(() => ({ max_size: 0, partner: {} }));
  return policy;
}

/** fileCard renders the [download:id]label[/download] of a message in
 * room rid: the name, size, a thumbnail for images and a download link. */
export function fileCard(rid, id, label) {
  const m = /^([\s\S]*) \(([^()]*)\)$/.exec(label);
  const name = m ? m[1] : label;
  const size = m ? m[2] : '';
  const ext = (/\.([A-Za-z0-9]{1,5})$/.exec(name) || [])[1] || '';
  const icon = h('span', { class: 'file-icon', 'aria-hidden': 'true' }, ext.toUpperCase() || '📄');
  let preview = icon;
  if (IMAGE.test(name)) {
    const img = h('img', { class: 'file-thumb', src: thumbURL(rid, id), alt: name, loading: 'lazy' });
    img.addEventListener('error', () => img.replaceWith(icon));
    preview = h('button', { type: 'button', class: 'file-preview', title: t('files.view'),
      on: { click: () => lightbox(contentURL(rid, id, false), name, contentURL(rid, id, true)) } }, img);
  }
  return h('div', { class: 'file-card', dataset: { fid: String(id) } },
    preview,
    h('div', { class: 'file-meta' }, h('span', { class: 'file-name', title: name }, name), h('span', { class: 'file-size' }, size)),
    h('a', { class: 'btn btn-small file-download', href: contentURL(rid, id, true), download: name }, t('files.download')));
}

/** lightbox shows an image over the app until a click or Escape. */
export function lightbox(src, name, download) {
  const close = () => {
    box.remove();
    removeEventListener('keydown', key);
  };
  const key = (e) => {
    if (e.key === 'Escape') close();
  };
  const box = h('div', { class: 'lightbox', role: 'dialog', 'aria-modal': 'true', 'aria-label': name,
    on: { click: (e) => { if (e.target === box) close(); } } },
    h('figure', null,
      h('img', { src, alt: name }),
      h('figcaption', null, name, ' ',
        h('a', { class: 'btn btn-small', href: download, download: name }, t('files.download')), ' ',
        h('button', { type: 'button', class: 'btn btn-small lightbox-close', on: { click: close } }, t('files.close')))));
  addEventListener('keydown', key);
  document.body.appendChild(box);
  box.querySelector('.lightbox-close').focus();
}

/** Attach is the composer's file attachment: an attach button, drag and
 * drop onto the room, paste into the message box, and a list of uploads
 * under way. */
export class Attach {
  constructor(composer) {
    this.c = composer;
    this.rv = composer.rv;
    this.input = h('input', { type: 'file', multiple: true, hidden: true, class: 'file-input',
      on: { change: () => { this.add([...this.input.files]); this.input.value = ''; } } });
    this.button = h('button', { type: 'button', class: 'tool', dataset: { tool: 'attach' }, title: t('files.attach'),
      on: { click: () => this.input.click() } }, '📎 ', t('files.attach'));
    this.list = h('ul', { class: 'uploads', 'aria-live': 'polite' });
    this.hint = h('span', { class: 'file-hint muted' });
    this.dropOn(this.rv.timeline.el);
    composer.input.addEventListener('paste', (e) => {
      const files = e.clipboardData ? [...e.clipboardData.files] : [];
      if (!files.length || !this.can()) return;
      e.preventDefault();
      this.add(files);
    });
    this.update();
  }

  /** dropOn makes el (the timeline, the composer) take dropped files. */
  dropOn(el) {
    el.addEventListener('dragover', (e) => {
      if (!this.can() || !hasFiles(e)) return;
      e.preventDefault();
      el.classList.add('dropping');
    });
    el.addEventListener('dragleave', (e) => {
      if (e.target === el || !el.contains(e.relatedTarget)) el.classList.remove('dropping');
    });
    el.addEventListener('drop', (e) => {
      el.classList.remove('dropping');
      if (!this.can() || !e.dataTransfer || !e.dataTransfer.files.length) return;
      e.preventDefault();
      this.add([...e.dataTransfer.files]);
    });
  }

  can() {
    return this.rv.canPost() && !this.button.disabled;
  }

  /** update shows the limits that apply in this room. */
  async update() {
    const p = await loadPolicy();
    if (this.rv.destroyed) return;
    const shared = (this.rv.members || []).some((m) => this.rv.app.partnerOrg(String(m.account_id)));
    const pp = p.partner || {};
    let max = p.max_size || 0;
    let note = '';
    if (shared && pp.deny) note = t('files.partner.deny');
    else if (shared) {
      if (pp.max_size > 0) max = Math.min(max || pp.max_size, pp.max_size);
      if (pp.types && pp.types.length) note = t('files.partner.types', { types: pp.types.join(', ') });
    }
    this.max = max;
    this.types = shared && pp.types && pp.types.length ? pp.types : null;
    this.button.disabled = !this.rv.canPost() || (shared && !!pp.deny);
    replace(this.hint, max ? t('files.max', { size: humanSize(max) }) : '', note ? ` · ${note}` : '');
    this.button.title = [t('files.attach'), this.hint.textContent].filter(Boolean).join(' — ');
  }

  add(files) {
    files.forEach((f, i) => this.upload(f, i === 0 ? this.takeMessage() : ''));
  }

  // takeMessage sends what the composer holds as the first file's message.
  takeMessage() {
    const v = this.c.input.value.trim();
    if (!v) return '';
    this.c.input.value = '';
    this.c.saveDraft();
    return v;
  }

  upload(file, message) {
    const bar = h('progress', { class: 'upload-progress', max: '100', value: '0' });
    const status = h('span', { class: 'upload-status' });
    const cancel = h('button', { type: 'button', class: 'btn btn-small upload-cancel' }, t('files.cancel'));
    const li = h('li', { class: 'upload', dataset: { name: file.name } },
      h('span', { class: 'upload-name' }, file.name), h('span', { class: 'upload-size muted' }, humanSize(file.size)), bar, status, cancel);
    this.list.appendChild(li);
    const fail = (msg) => {
      li.classList.add('failed');
      bar.remove();
      replace(status, msg);
      replace(cancel, t('files.dismiss'));
      cancel.onclick = () => li.remove();
    };
    if (this.max && file.size > this.max) return fail(t('files.toolarge', { size: humanSize(this.max) }));
    const xhr = new XMLHttpRequest();
    cancel.addEventListener('click', () => {
      xhr.abort();
      li.remove();
    }, { once: true });
    xhr.open('POST', `/v2/rooms/${this.rv.id}/files`);
    xhr.setRequestHeader('Accept', 'application/json');
    const csrf = api.csrfToken();
    if (csrf) xhr.setRequestHeader('X-CSRF-Token', csrf);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status === 200) {
        li.remove(); // the timeline shows the file's message
        return;
      }
      let msg = `HTTP ${xhr.status}`;
      try {
        msg = JSON.parse(xhr.responseText).errors[0] || msg;
      } catch { /* not JSON */ }
      fail(t('files.failed', { error: msg }));
    });
    xhr.addEventListener('error', () => fail(t('files.failed', { error: t('error.network') })));
    const form = new FormData();
    form.append('file', file, file.name);
    if (message) form.append('message', message);
    xhr.send(form);
  }
}

function hasFiles(e) {
  return e.dataTransfer && [...(e.dataTransfer.types || [])].includes('Files');
}

/** FilesSection is the side panel's list of a room's files, filterable by
 * who uploaded them. */
export class FilesSection {
  constructor(rv) {
    this.rv = rv;
    this.filter = h('select', { class: 'files-filter', 'aria-label': t('files.by'), on: { change: () => this.load() } },
      h('option', { value: '' }, t('files.everyone')));
    this.list = h('ul', { class: 'file-list', 'aria-live': 'polite' });
    this.count = h('span', { class: 'count' });
    this.el = h('section', { class: 'side-section side-files', 'aria-labelledby': 'side-files-h' },
      h('h3', { id: 'side-files-h' }, t('files.title'), this.count), this.filter, this.list);
    this.timer = 0;
  }

  /** uploaders redraws the filter's choices: everyone, and the people
   * whose files the list for everyone holds (the newest 100), by name.
   * Not every member: in a room of thousands, a choice of each was a
   * list of thousands redrawn at every change of the members. */
  uploaders(files) {
    const chosen = this.filter.value;
    const people = new Map(files.map((f) => [String(f.account.account_id), f.account.name]));
    replace(this.filter, h('option', { value: '' }, t('files.everyone')),
      [...people].sort((a, b) => collator.compare(a[1], b[1])).map(([id, name]) => h('option', { value: id, selected: id === chosen }, name)));
  }

  /** changed reloads the list soon, after a message that may be a file's. */
  changed() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.load(), 300);
  }

  async load() {
    let files;
    try {
      files = await api.request('GET', `/v2/rooms/${this.rv.id}/files`, { query: { account_id: this.filter.value } });
    } catch (e) {
      if (!this.rv.destroyed && e.status !== 404 && e.status !== 403) replace(this.list, h('li', { class: 'form-error' }, e.message));
      return;
    }
    if (this.rv.destroyed) return;
    if (!this.filter.value) this.uploaders(files);
    replace(this.count, files.length ? String(files.length) : '');
    if (!files.length) {
      replace(this.list, h('li', { class: 'state muted' }, t('files.none')));
      return;
    }
    replace(this.list, files.map((f) => h('li', { class: 'file-row', dataset: { fid: String(f.file_id) } },
      avatar(String(f.account.account_id), f.account.name, 'xs'),
      h('div', { class: 'file-row-main' },
        h('a', { class: 'file-row-name', href: contentURL(this.rv.id, f.file_id, true), download: f.filename }, f.filename),
        h('span', { class: 'muted' }, humanSize(f.filesize), ' · ', f.account.name, ' · ',
          h('time', { datetime: new Date(f.upload_time * 1000).toISOString(), title: fmtFull(f.upload_time) }, fmtTime(f.upload_time)))))));
  }
}
