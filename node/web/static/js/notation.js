// ChatWork message notation: a parser from a message body to a tree of
// plain objects. It is pure (no DOM) so it can be unit tested in Node;
// render.js turns the tree into DOM nodes.
//
// Recognized (anything else, and any tag that is malformed or never closed,
// stays literal text):
//
//	[To:ID] [toall] [rp aid=ID to=ROOM-MESSAGE] [hr] [deleted]
//	[picon:ID] [piconname:ID] [pname:ID] [dtext:KEY]
//	[qt][qtmeta aid=ID time=UNIX]…[/qt]  [info]…[/info]  [title]…[/title]
//	[task aid=ID st=open lt=UNIX ltype=date]…[/task]  [code]…[/code]
//	[download:FILE_ID]name (size)[/download]
//
// Node shapes: {t:'text', v}, {t:'link', href, v}, {t:'to', id}, {t:'toall'},
// {t:'rp', id, room, mid}, {t:'hr'}, {t:'deleted'}, {t:'picon'|'piconname'|
// 'pname', id}, {t:'dtext', key}, {t:'code', v}, {t:'qt', id, time, c:[…]},
// {t:'info', c}, {t:'title', c}, {t:'task', id, st, lt, ltype, c},
// {t:'download', id, c}.

const NAMES = 'To|toall|rp|qtmeta|qt|info|title|code|hr|piconname|picon|pname|dtext|task|deleted|download';
// [ /? name (:arg)? ( attr=value)* ]
const TAG = new RegExp(`\\[(/)?(${NAMES})(?::([A-Za-z0-9._@:-]{1,200}))?((?: [a-z]{1,10}=[^\\s\\[\\]]{0,200})*)\\]`, 'y');
const PAIRED = new Set(['qt', 'info', 'title', 'code', 'task', 'download']);
const NEEDS_ARG = new Set(['To', 'picon', 'piconname', 'pname', 'dtext', 'download']);
const BLOCKS = new Set(['qt', 'info', 'title', 'code', 'hr', 'task']);
const MAX_DEPTH = 12;

/** parse returns the notation tree of a message body. It runs in time
 * linear in the body's length, whatever the input. */
export function parse(src) {
  src = String(src ?? '');
  const p = { s: src, i: 0, codeEnd: src.lastIndexOf('[/code]') };
  const { nodes } = seq(p, [], 0);
  return tidy(nodes);
}

// seq parses until the end of input or a closing tag of an open ancestor.
// It returns closed=true if the innermost open tag (open[open.length-1])
// was closed; otherwise it stopped at the end of input or before (not
// consuming) an outer ancestor's closing tag.
function seq(p, open, depth) {
  const { s } = p;
  const nodes = [];
  let textStart = p.i;
  const flush = (end) => {
    if (end > textStart) pushText(nodes, s.slice(textStart, end));
  };
  for (;;) {
    const j = s.indexOf('[', p.i);
    if (j < 0) {
      flush(s.length);
      p.i = s.length;
      return { nodes, closed: false };
    }
    TAG.lastIndex = j;
    const m = TAG.exec(s);
    if (!m) {
      p.i = j + 1;
      continue;
    }
    const [whole, slash, name, arg, attrText] = m;
    const after = j + whole.length;
    if (slash) {
      if (arg !== undefined || attrText || !open.includes(name)) {
        p.i = after; // a stray closing tag is text
        continue;
      }
      flush(j);
      if (name === open[open.length - 1]) {
        p.i = after;
        return { nodes, closed: true };
      }
      p.i = j; // an ancestor's: leave it for that ancestor
      return { nodes, closed: false };
    }
    const attrs = parseAttrs(attrText);
    if (NEEDS_ARG.has(name) !== (arg !== undefined) || (arg !== undefined && attrText)) {
      p.i = after;
      continue;
    }
    if (name === 'code') {
      const end = j < p.codeEnd ? s.indexOf('[/code]', after) : -1;
      if (attrText || end < 0) {
        p.i = after;
        continue;
      }
      flush(j);
      nodes.push({ t: 'code', v: trimNewlines(s.slice(after, end)) });
      p.i = textStart = end + '[/code]'.length;
      continue;
    }
    if (PAIRED.has(name)) {
      if (depth >= MAX_DEPTH || (name === 'download' && !/^[0-9]{1,20}$/.test(arg))) {
        p.i = after;
        continue;
      }
      flush(j);
      p.i = after;
      const r = seq(p, [...open, name], depth + 1);
      if (r.closed) {
        nodes.push(name === 'download' ? { t: 'download', id: arg, c: r.nodes } : paired(name, attrs, r.nodes));
      } else {
        pushText(nodes, whole); // never closed: the tag was text
        for (const n of r.nodes) {
          if (n.t === 'text') pushText(nodes, n.v);
          else nodes.push(n);
        }
      }
      textStart = p.i;
      continue;
    }
    const node = single(name, arg, attrs);
    if (!node) {
      p.i = after;
      continue;
    }
    flush(j);
    nodes.push(node);
    p.i = textStart = after;
  }
}

function parseAttrs(text) {
  const attrs = {};
  if (!text) return attrs;
  for (const kv of text.trim().split(' ')) {
    const eq = kv.indexOf('=');
    attrs[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return attrs;
}

const ID = /^[A-Za-z0-9._@:-]{1,200}$/;

function single(name, arg, a) {
  switch (name) {
    case 'To':
      return { t: 'to', id: arg };
    case 'toall':
    case 'hr':
    case 'deleted':
      return Object.keys(a).length ? null : { t: name };
    case 'picon':
    case 'piconname':
    case 'pname':
      return { t: name, id: arg };
    case 'dtext':
      return /^[a-z_]{1,60}$/.test(arg) ? { t: 'dtext', key: arg } : null;
    case 'rp': {
      if (!ID.test(a.aid || '')) return null;
      const [room, mid] = (a.to || '').split('-');
      return { t: 'rp', id: a.aid, room: room || '', mid: mid || '' };
    }
    case 'qtmeta':
      return { t: 'qtmeta', id: a.aid || '', time: Number(a.time) || 0 };
  }
  return null;
}

function paired(name, a, c) {
  switch (name) {
    case 'qt': {
      // [qtmeta] at the start names the quoted author and time.
      const n = { t: 'qt', id: '', time: 0, c };
      if (c.length && c[0].t === 'qtmeta') {
        n.id = c[0].id;
        n.time = c[0].time;
        n.c = c.slice(1);
      }
      return n;
    }
    case 'task':
      return { t: 'task', id: a.aid || '', st: a.st === 'done' ? 'done' : 'open', lt: Number(a.lt) || 0, ltype: a.ltype || 'none', c };
    default:
      return { t: name, c };
  }
}

function pushText(nodes, v) {
  const last = nodes[nodes.length - 1];
  if (last && last.t === 'text') last.v += v;
  else nodes.push({ t: 'text', v });
}

function trimNewlines(s) {
  return s.replace(/^\r?\n/, '').replace(/\r?\n$/, '');
}

// tidy drops the single newline that follows or precedes a block (it is
// the block's own line break), drops a stray [qtmeta] outside a quote, and
// splits URLs out of text.
function tidy(nodes) {
  const out = [];
  for (let k = 0; k < nodes.length; k++) {
    let n = nodes[k];
    if (n.t === 'qtmeta') continue;
    if (n.c) n = { ...n, c: tidy(n.c) };
    if (n.t === 'text') {
      let v = n.v;
      if (k > 0 && BLOCKS.has(nodes[k - 1].t)) v = v.replace(/^\r?\n/, '');
      if (k + 1 < nodes.length && BLOCKS.has(nodes[k + 1].t)) v = v.replace(/\r?\n$/, '');
      if (v) out.push(...linkify(v));
      continue;
    }
    out.push(n);
  }
  return out;
}

// URLs: http and https only, so a link can never run script. Trailing
// punctuation that usually ends a sentence is not part of the link.
const URL_RE = /https?:\/\/[^\s<>"'`\[\]{}|\\^\u3000-\u303f\uff01-\uff5e]+/g;

function linkify(v) {
  const out = [];
  let last = 0;
  for (const m of v.matchAll(URL_RE)) {
    let url = m[0];
    const trail = url.match(/[.,;:!?)]+$/);
    if (trail && !(trail[0].startsWith(')') && url.includes('('))) url = url.slice(0, url.length - trail[0].length);
    if (url.length <= 'https://'.length) continue;
    if (m.index > last) out.push({ t: 'text', v: v.slice(last, m.index) });
    out.push({ t: 'link', href: url, v: url });
    last = m.index + url.length;
  }
  if (last < v.length) out.push({ t: 'text', v: v.slice(last) });
  return out;
}

/** mentions reports whether a body addresses account id: [To:id], [toall]
 * or a reply to id. Mentions inside a quote do not count. */
export function mentions(nodes, id) {
  id = String(id);
  for (const n of nodes) {
    if ((n.t === 'to' && n.id === id) || n.t === 'toall' || (n.t === 'rp' && n.id === id)) return true;
    if (n.c && n.t !== 'qt' && mentions(n.c, id)) return true;
  }
  return false;
}

/** plain returns a one-line text form of a tree, for previews and
 * notifications. names maps an account ID to a name. */
export function plain(nodes, names = () => '') {
  const parts = [];
  const walk = (ns) => {
    for (const n of ns) {
      switch (n.t) {
        case 'text':
        case 'link':
        case 'code':
          parts.push(n.v);
          break;
        case 'to':
          parts.push('To ' + (names(n.id) || '') + ' ');
          break;
        case 'toall':
          parts.push('TO ALL ');
          break;
        case 'rp':
          parts.push('Re ' + (names(n.id) || '') + ' ');
          break;
        case 'pname':
        case 'piconname':
          parts.push(names(n.id) || '');
          break;
        case 'qt':
          parts.push('> ');
          walk(n.c);
          parts.push(' ');
          break;
        case 'hr':
          parts.push(' — ');
          break;
        default:
          if (n.c) {
            walk(n.c);
            parts.push(' ');
          }
      }
    }
  };
  walk(nodes);
  return parts.join('').replace(/\s+/g, ' ').trim();
}

/** quote returns the notation that quotes a message. */
export function quote(accountId, time, body) {
  return `[qt][qtmeta aid=${accountId} time=${time}]${body}[/qt]\n`;
}

/** reply returns the notation that starts a reply to a message. */
export function reply(accountId, roomId, messageId, name) {
  return `[rp aid=${accountId} to=${roomId}-${messageId}]${name}\n`;
}

/** to returns the notation that mentions an account. */
export function to(accountId, name) {
  return `[To:${accountId}]${name}\n`;
}
