// The node's HTTP API as the app uses it: Horenso's /api/ endpoints and
// the ChatWork v2 endpoints under /v2, authenticated by the session cookie.
// Every state-changing request carries the session's CSRF token.

import { noteAvatar } from './dom.js';

/** ApiError is a failed request: status is the HTTP status (0 for a
 * network failure) and message the server's first error. */
export class ApiError extends Error {
  constructor(status, errors) {
    super(errors && errors.length ? errors.join('; ') : status ? `HTTP ${status}` : 'network error');
    this.status = status;
    this.errors = errors || [];
  }
}

let csrf = '';

/** csrfToken returns the session's CSRF token, for requests made without
 * request (files.js uploads with XMLHttpRequest for its progress). */
export function csrfToken() {
  return csrf;
}
const listeners = new Set();

/** onUnauthorized registers fn to run when a request finds the session gone. */
export function onUnauthorized(fn) {
  listeners.add(fn);
}

/** request sends one API request. opts: {query, form, json}. A 204 or
 * empty body resolves to null. */
export async function request(method, path, opts = {}) {
  let url = path;
  if (opts.query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    const qs = q.toString();
    if (qs) url += (url.includes('?') ? '&' : '?') + qs;
  }
  const headers = { Accept: 'application/json' };
  let body;
  if (opts.form) {
    const f = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.form)) if (v !== undefined && v !== null) f.set(k, String(v));
    body = f;
  } else if (opts.json) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(url, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, null);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data && Array.isArray(data.errors) ? data.errors : null);
    if (res.status === 401 && !path.startsWith('/api/login') && !path.startsWith('/api/session')) {
      for (const fn of listeners) fn(err);
    }
    throw err;
  }
  return data;
}

const get = (p, query) => request('GET', p, { query });
const post = (p, form) => request('POST', p, { form });
const put = (p, form) => request('PUT', p, { form });
const del = (p, form) => request('DELETE', p, { form, query: form });

/** session returns the logged-in account or null. */
export async function session() {
  try {
    const s = await get('/api/session');
    csrf = s.csrf_token || '';
    return s;
  } catch (e) {
    if (e.status === 401) return null;
    throw e;
  }
}

export async function login(login, password) {
  const s = await request('POST', '/api/login', { json: { login, password } });
  csrf = s.csrf_token || '';
  return s;
}

export async function logout() {
  try {
    await request('POST', '/api/logout');
  } finally {
    csrf = '';
  }
}

/** sessions lists my web sessions: [{id, created, last_used, user_agent,
 * address, current}], most recently used first. */
export const sessions = () => get('/api/sessions').then((r) => r || []);
export const endSession = (id) => request('DELETE', `/api/sessions/${encodeURIComponent(id)}`);
/** changePassword changes my password; my other sessions end. */
export const changePassword = (current, next) => post('/api/password', { current_password: current, new_password: next });

export const me = () => get('/v2/me');
export const health = () => get('/api/health');
export const rooms = () => get('/v2/rooms').then((r) => r || []);
export const room = (id) => get(`/v2/rooms/${id}`);
export const updateRoom = (id, name, description, icon) => put(`/v2/rooms/${id}`, { name, description, icon_preset: icon });
// The ChatWork members view plus `unconfirmed` (members their home node
// has not confirmed yet), which only /api/ has.
export const members = (id) => get(`/api/rooms/${id}/members`).then((r) => r || []);
export const setMembers = (id, admins, members, readonly) =>
  put(`/v2/rooms/${id}/members`, { members_admin_ids: admins.join(','), members_member_ids: members.join(','), members_readonly_ids: readonly.join(',') });
export const createRoom = (name, description, admins, members, readonly) =>
  post('/v2/rooms', { name, description, members_admin_ids: admins.join(','), members_member_ids: members.join(','), members_readonly_ids: readonly.join(',') });
export const leaveRoom = (id) => del(`/v2/rooms/${id}`, { action_type: 'leave' });

/** history pages a room's messages, oldest first: the newest limit without
 * a cursor, else limit before or after the given message. */
export const history = (id, { before, after, around, limit = 50 } = {}) =>
  get(`/api/rooms/${id}/messages`, { before, after, around, limit }).then((r) => r || []);
export const postMessage = (id, body) => post(`/v2/rooms/${id}/messages`, { body });
export const editMessage = (id, mid, body) => put(`/v2/rooms/${id}/messages/${mid}`, { body });
export const deleteMessage = (id, mid) => request('DELETE', `/v2/rooms/${id}/messages/${mid}`);
export const markRead = (id, mid) => put(`/v2/rooms/${id}/messages/read`, { message_id: mid });
/** readUpTo moves my read marker forward to message mid (never back, and
 * never a 400 for a message read already, unlike markRead). */
export const readUpTo = (id, mid) => put(`/api/rooms/${id}/read`, { message_id: mid });
/** markUnread marks message mid and everything after it unread. */
export const markUnread = (id, mid) => put(`/v2/rooms/${id}/messages/unread`, { message_id: mid });
/** unread resolves {unread_num, mention_num, first_unread: message|null,
 * messages}: limit messages before the first unread one, it and limit
 * after it, or the newest limit when nothing is unread. */
export const unread = (id, limit = 50) => get(`/api/rooms/${id}/unread`, { limit });

export const tasks = (id, status) => get(`/v2/rooms/${id}/tasks`, { status }).then((r) => r || []);
export const createTask = (id, body, toIds, limit, limitType) =>
  post(`/v2/rooms/${id}/tasks`, { body, to_ids: toIds.join(','), limit: limit || undefined, limit_type: limitType });
/** editTask changes a task's body, assignees and due date (Horenso's
 * addition to ChatWork's API); resolves the task. */
export const editTask = (id, tid, body, toIds, limit, limitType) =>
  put(`/api/rooms/${id}/tasks/${tid}`, { body, to_ids: toIds.join(','), limit: limit || 0, limit_type: limitType });
export const setTaskStatus = (id, tid, status) => put(`/v2/rooms/${id}/tasks/${tid}/status`, { body: status });
export const myTasks = (status) => get('/v2/my/tasks', { status }).then((r) => r || []);

export const contacts = () => get('/v2/contacts').then((r) => r || []);
export const incomingRequests = () => get('/v2/incoming_requests').then((r) => r || []);
export const acceptRequest = (rid) => request('PUT', `/v2/incoming_requests/${rid}`);
export const declineRequest = (rid) => request('DELETE', `/v2/incoming_requests/${rid}`);
/** people searches the directory: this node's people and partners' people
 * of the caller's rooms. Resolves {people, total, next_offset}. */
export const people = (q, { limit = 50, offset } = {}) => get('/api/people', { q, limit, offset }).then((r) => {
  for (const p of (r && r.people) || []) noteAvatar(p.account_id, p.avatar_image_url);
  return r;
});
/** linkTarget resolves an invitation link: {room_id, name, description,
 * need_acceptance, member, url}. */
export const linkTarget = (code) => get(`/api/links/${encodeURIComponent(code)}`);
/** join joins by link, or asks to: {room_id, pending}. */
export const join = (code, message) => post(`/api/join/${encodeURIComponent(code)}`, { message });
export const joinRequests = (id) => get(`/api/rooms/${id}/join_requests`).then((r) => r || []);
export const acceptJoin = (id, aid) => request('PUT', `/api/rooms/${id}/join_requests/${aid}`);
export const declineJoin = (id, aid) => request('DELETE', `/api/rooms/${id}/join_requests/${aid}`);
export const sendContactRequest = (account, message) => post('/api/contacts/requests', { account, message });

/** eventsURL is the live event stream, resumed after seq when given. */
export const eventsURL = (after) => (after ? `/api/events?after=${after}` : '/api/events');
