// Renders a notation tree (notation.js) as DOM. Text only ever becomes text
// nodes; the only URLs put in attributes are http(s) links found by the
// parser.

import { h, avatar } from './dom.js';
import { t, fmtFull, fmtDue } from './i18n.js';

/**
 * render returns a DocumentFragment for nodes. ctx: {name(id) → string,
 * me: my account ID as a string, onReply(room, mid): called when a reply
 * badge is clicked, file(id, label) → the card of a [download:id] tag}.
 */
export function render(nodes, ctx) {
  const frag = document.createDocumentFragment();
  for (const n of nodes) frag.appendChild(node(n, ctx));
  return frag;
}

function node(n, ctx) {
  const name = (id) => ctx.name(id) || `#${id}`;
  switch (n.t) {
    case 'text':
      return document.createTextNode(n.v);
    case 'link':
      return h('a', { href: n.href, target: '_blank', rel: 'noopener noreferrer nofollow', class: 'link' }, n.v);
    case 'to':
      return h('span', { class: ['chip', 'chip-to', n.id === ctx.me && 'chip-me'], title: name(n.id), dataset: { aid: n.id } },
        'To', avatar(n.id, name(n.id), 'xs'));
    case 'toall':
      return h('span', { class: 'chip chip-to chip-all' }, 'TO ALL');
    case 'rp': {
      const b = h('button', { type: 'button', class: ['chip', 'chip-rp', n.id === ctx.me && 'chip-me'], title: name(n.id),
        dataset: { aid: n.id, room: n.room, mid: n.mid } }, 'RE', avatar(n.id, name(n.id), 'xs'));
      b.addEventListener('click', () => ctx.onReply && ctx.onReply(n.room, n.mid));
      return b;
    }
    case 'qt': {
      const head = n.id
        ? h('div', { class: 'quote-head' }, avatar(n.id, name(n.id), 'xs'), h('span', { class: 'quote-name' }, name(n.id)),
          n.time ? h('time', { class: 'quote-time', datetime: new Date(n.time * 1000).toISOString() }, fmtFull(n.time)) : null)
        : null;
      return h('blockquote', { class: 'quote' }, head, h('div', { class: 'quote-body' }, render(n.c, ctx)));
    }
    case 'info': {
      const [first, ...rest] = n.c;
      if (first && first.t === 'title') {
        return h('div', { class: 'info' }, h('div', { class: 'info-title' }, render(first.c, ctx)),
          h('div', { class: 'info-body' }, render(trimLead(rest), ctx)));
      }
      return h('div', { class: 'info' }, h('div', { class: 'info-body' }, render(n.c, ctx)));
    }
    case 'title':
      return h('div', { class: 'title' }, render(n.c, ctx));
    case 'code':
      return h('pre', { class: 'code' }, h('code', null, n.v));
    case 'hr':
      return h('hr', { class: 'rule' });
    case 'deleted':
      return h('em', { class: 'deleted' }, t('msg.deleted'));
    case 'picon':
      return avatar(n.id, name(n.id), 'xs');
    case 'piconname':
      return h('span', { class: 'pname' }, avatar(n.id, name(n.id), 'xs'), name(n.id));
    case 'pname':
      return h('span', { class: 'pname' }, name(n.id));
    case 'dtext': {
      // A span, so that the words of a system message keep their spaces
      // next to names and text (app.css .dtext).
      const s = t('dtext.' + n.key);
      return h('span', { class: 'dtext' }, s.startsWith('dtext.') ? n.key : s);
    }
    case 'download': {
      const label = n.c.map((x) => (x.t === 'text' || x.t === 'link' ? x.v : '')).join('');
      return ctx.file ? ctx.file(n.id, label) : h('span', { class: 'file-chip' }, label);
    }
    case 'task':
      return h('div', { class: ['task-box', n.st === 'done' && 'done'] },
        h('span', { class: 'task-check', 'aria-label': n.st === 'done' ? t('side.done') : t('side.open') }, n.st === 'done' ? '✔' : '☐'),
        h('span', { class: 'task-box-body' }, render(n.c, ctx)),
        n.id ? h('span', { class: 'task-box-meta' }, t('task.to', { name: name(n.id) })) : null,
        n.lt ? h('span', { class: 'task-box-meta' }, t('task.due.label', { date: fmtDue(n.lt, n.ltype) })) : null);
  }
  return document.createTextNode('');
}

function trimLead(nodes) {
  if (nodes.length && nodes[0].t === 'text') {
    const v = nodes[0].v.replace(/^\r?\n/, '');
    return v ? [{ t: 'text', v }, ...nodes.slice(1)] : nodes.slice(1);
  }
  return nodes;
}
