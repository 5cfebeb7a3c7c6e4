// Full-text search: the box in the top bar, and the results page
// (/search?q=…) listing what GET /api/search finds, grouped by room,
// optionally only messages, tasks or files. A result opens its room
// scrolled to the message (/rooms/ID?m=MESSAGE_ID), with the messages
// around it loaded; a file result also links to the file's download.

import * as api from './api.js';
import { h, replace, append } from './dom.js';
import { t, fmtFull } from './i18n.js';
import { humanSize } from './files.js';

/** KINDS are the kinds the results page can keep to (GET /api/search's
 * kind), '' meaning all. */
const KINDS = ['', 'message', 'task', 'file'];

const downloadURL = (rid, fid) => `/api/rooms/${rid}/files/${fid}/content?download=1`;

/** searchBox is the top bar's search form; submitting it opens the
 * results page. */
export function searchBox(app) {
  const input = h('input', { type: 'search', class: 'search-input', name: 'q', autocomplete: 'off', enterkeyhint: 'search',
    placeholder: t('search.placeholder'), 'aria-label': t('search.label') });
  const form = h('form', { class: 'search-box', role: 'search', on: { submit: (e) => {
    e.preventDefault();
    const q = input.value.trim();
    if (q) app.navigate(`/search?q=${encodeURIComponent(q)}`);
  } } }, input);
  return { el: form, input };
}

/** searchQuery is the q of the results page's URL. */
export function searchQuery() {
  return new URLSearchParams(location.search).get('q') || '';
}

/** openTarget is the message a result asked the room (/rooms/ID?m=…) to
 * show; '' if none. */
export function openTarget() {
  return new URLSearchParams(location.search).get('m') || '';
}

const ENTITIES = { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&#34;': '"', '&#39;': "'", '&quot;': '"' };

/** snippetNodes turns a snippet of the API (escaped text in which only
 * <mark>…</mark> is markup) into text nodes and <mark> elements. Nothing
 * is parsed as HTML: the text is unescaped into text nodes. */
export function snippetNodes(snippet) {
  const out = [];
  let marked = false;
  for (const part of String(snippet || '').split(/(<mark>|<\/mark>)/)) {
    if (part === '<mark>') marked = true;
    else if (part === '</mark>') marked = false;
    else if (part) {
      const text = part.replace(/&(lt|gt|amp|quot|#34|#39);/g, (m) => ENTITIES[m]);
      out.push(marked ? h('mark', null, text) : text);
    }
  }
  return out;
}

/** SearchView is the results page. */
export class SearchView {
  constructor(app, q) {
    this.kind = 'search';
    this.app = app;
    this.q = q;
    this.sort = 'newest';
    this.kindFilter = '';
    this.next = 0;
    this.groups = new Map(); // room_id → {list}
    this.list = h('div', { class: 'search-results', 'aria-live': 'polite' });
    this.more = h('button', { type: 'button', class: 'btn search-more', hidden: true, on: { click: () => this.fetch(true) } }, t('search.more'));
    this.summary = h('p', { class: 'search-summary', role: 'status' });
    this.sortSel = h('select', { class: 'search-sort', 'aria-label': t('search.sort'), on: { change: () => {
      this.sort = this.sortSel.value;
      this.fetch(false);
    } } },
    h('option', { value: 'newest' }, t('search.sort.newest')),
    h('option', { value: 'relevance' }, t('search.sort.relevance')));
    this.kindSel = h('select', { class: 'search-kind', 'aria-label': t('search.kind'), on: { change: () => {
      this.kindFilter = this.kindSel.value;
      this.fetch(false);
    } } }, ...KINDS.map((k) => h('option', { value: k }, t(`search.kind.${k || 'all'}`))));
    this.el = h('div', { class: 'page page-search' },
      h('header', { class: 'room-header' }, h('h2', { class: 'room-title' }, t('search.title', { q })),
        h('div', { class: 'search-controls' }, this.kindSel, this.sortSel)),
      h('div', { class: 'page-body' }, this.summary, this.list, this.more));
  }

  load() {
    document.title = `${t('search.title', { q: this.q })} - ${t('app.name')}`;
    if (this.app.searchInput) this.app.searchInput.value = this.q;
    return this.fetch(false);
  }

  resync() {}

  async fetch(more) {
    // Only the latest request's answer is shown: a change of kind or sort
    // while the first search is on its way must not have the older answer
    // land after (or among) the newer one's results.
    const seq = this.seq = (this.seq || 0) + 1;
    if (!more) {
      this.next = 0;
      this.groups.clear();
      replace(this.list, h('div', { class: 'state' }, t('loading')));
      this.summary.textContent = '';
    }
    this.more.hidden = true;
    let res;
    try {
      res = await api.request('GET', '/api/search', { query: { q: this.q, sort: this.sort, kind: this.kindFilter || undefined, offset: this.next || undefined } });
    } catch (e) {
      if (seq !== this.seq) return;
      replace(this.list, h('div', { class: 'state form-error' }, t('error.generic', { error: e.message })));
      return;
    }
    if (this.app.view !== this || seq !== this.seq) return;
    if (!more) replace(this.list);
    this.summary.textContent = res.total ? t('search.count', { n: res.total_exact ? res.total : `${res.total}+` }) : '';
    if (!res.total && !more) replace(this.list, h('div', { class: 'state' }, t('search.none')));
    for (const r of res.results) this.add(r);
    this.next = res.next_offset || 0;
    this.more.hidden = !this.next;
  }

  add(r) {
    let g = this.groups.get(r.room_id);
    if (!g) {
      const room = this.app.rooms.get(r.room_id);
      const name = room ? this.app.roomList.roomName(room) : r.room_name;
      g = { list: h('ul', { class: 'search-group-list' }) };
      this.groups.set(r.room_id, g);
      this.list.appendChild(h('section', { class: 'search-group', dataset: { roomId: String(r.room_id) } },
        h('h3', { class: 'search-room' }, h('a', { href: `/rooms/${r.room_id}`, on: { click: (e) => this.app.link(e, `/rooms/${r.room_id}`) } }, name || t('search.room'))),
        g.list));
    }
    let href = `/rooms/${r.room_id}`;
    let who = '';
    let kind = '';
    if (r.file) {
      kind = t('search.file');
      who = r.file.account.name;
      if (r.message) href += `?m=${encodeURIComponent(r.message.message_id)}`;
    } else if (r.message) {
      href += `?m=${encodeURIComponent(r.message.message_id)}`;
      who = r.message.account.name;
    } else if (r.task) {
      kind = t('search.task');
      who = r.task.assigned_by_account.name;
    } else {
      kind = t('search.roominfo');
    }
    const dataset = r.message ? { mid: r.message.message_id } : {};
    if (r.file) dataset.fileId = String(r.file.file_id);
    g.list.appendChild(h('li', { class: r.file ? 'search-hit search-hit-file' : 'search-hit', dataset },
      h('a', { href, class: 'search-hit-link', on: { click: (e) => this.app.link(e, href) } },
        h('div', { class: 'search-hit-meta' },
          kind && h('span', { class: 'badge' }, kind), ' ',
          who && h('span', { class: 'search-hit-who' }, who), ' ',
          r.time ? h('time', { class: 'search-hit-time' }, fmtFull(r.time)) : null),
        append(h('div', { class: 'search-snippet' }), snippetNodes(r.snippet))),
      r.file ? this.fileLine(r) : null));
  }

  /** fileLine is a file result's name and size, a link that downloads it
   * (outside the result's link, which opens the post in its room). */
  fileLine(r) {
    const f = r.file;
    return h('div', { class: 'search-file' },
      h('a', { class: 'search-file-download', href: downloadURL(r.room_id, f.file_id), download: f.filename,
        'aria-label': t('search.download', { name: f.filename }) }, f.filename),
      ' ', h('span', { class: 'search-file-size' }, `(${humanSize(f.filesize)})`));
  }
}
