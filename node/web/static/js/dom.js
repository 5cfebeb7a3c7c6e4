// DOM helpers. Everything the app shows is built here with createElement
// and text nodes: no markup is ever parsed from strings, so user text cannot
// become HTML. Do not add innerHTML, outerHTML, insertAdjacentHTML or
// document.write anywhere in the app (a unit test greps for them).

export { fold } from './text.js';

/**
 * h builds an element. props: {class, text, dataset:{}, on:{event: fn},
 * and any attribute name → value (false/null/undefined omit it, true sets
 * it empty)}. Children may be nodes, strings (as text), arrays, or
 * null/false (skipped).
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === false || v === null || v === undefined) continue;
      if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'selected') el[k] = v;
      else if (k.startsWith('on')) throw new Error(`use props.on for ${k}`);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

/** append adds children (see h) to el. */
export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
  return el;
}

/** clear removes all children of el and returns it. */
export function clear(el) {
  el.replaceChildren();
  return el;
}

/** replace sets el's children to children (see h). */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

const avatarColors = ['#2d7ff9', '#e0598b', '#18a999', '#e8912d', '#8b5cf6', '#4b9e3a', '#d9534f', '#0f8bb0', '#a16207', '#6366f1'];

// avatarURLs maps an account_id (string) to its avatar picture's URL, as
// the API's avatar_image_url gives it; an account not in it shows its
// initial.
const avatarURLs = new Map();

/** noteAvatar records account id's avatar_image_url ('' for none). */
export function noteAvatar(id, url) {
  if (url) avatarURLs.set(String(id), url);
  else avatarURLs.delete(String(id));
}

/** avatar is a round badge with a person's (or room's) initial, or the
 * person's avatar picture when noteAvatar has one. */
export function avatar(id, name, size = '') {
  const url = avatarURLs.get(String(id));
  if (url) {
    return h('span', { class: ['avatar', 'avatar-pic', size], 'aria-hidden': 'true', title: name || '' },
      h('img', { src: url, alt: '', loading: 'lazy', decoding: 'async' }));
  }
  const initial = [...(name || '?').trim()][0] || '?';
  const el = h('span', { class: ['avatar', size], 'aria-hidden': 'true', title: name || '' }, initial.toUpperCase());
  el.style.backgroundColor = avatarColors[hash(String(id)) % avatarColors.length];
  return el;
}

function hash(s) {
  let x = 0;
  for (let i = 0; i < s.length; i++) x = (x * 31 + s.charCodeAt(i)) >>> 0;
  return x;
}

/** debounce returns fn delayed until ms have passed without another call. */
export function debounce(fn, ms) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
