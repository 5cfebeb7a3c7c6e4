// Settings: my profile (display name and avatar picture), and the button
// that logs out every other session. The API is /api/me/... (docs/API.md,
// "Self-service"). Its UI text lives here, in English and Japanese, to keep
// the shared dictionary out of it.

import { request, csrfToken, ApiError } from './api.js';
import { h, replace, avatar, noteAvatar } from './dom.js';
import { lang } from './i18n.js';

const text = {
  en: {
    title: 'Profile',
    name: 'Display name',
    save: 'Save name',
    saved: 'Saved.',
    picture: 'Picture',
    upload: 'Choose a picture…',
    remove: 'Remove picture',
    pictureNote: 'PNG, JPEG, GIF or WebP, up to 5 MB. Everyone on this node sees it.',
    others: 'Log out all other sessions',
    othersDone: '{n} other sessions logged out.',
    'othersDone.one': '1 other session logged out.',
  },
  ja: {
    title: 'プロフィール',
    name: '表示名',
    save: '名前を保存',
    saved: '保存しました。',
    picture: 'アイコン画像',
    upload: '画像を選ぶ…',
    remove: '画像を削除',
    pictureNote: 'PNG・JPEG・GIF・WebP、5 MB まで。このノードの全員に表示されます。',
    others: '他のすべての端末からログアウト',
    othersDone: '他の {n} 件の端末をログアウトしました。',
  },
};

function tr(key, vars) {
  // English has a singular: "key.one" when n is 1.
  if (vars && vars.n === 1 && (text[lang] || text.en)[key + '.one']) key += '.one';
  let s = (text[lang] || text.en)[key] ?? text.en[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

/** uploadAvatar sends an image file as my avatar picture; resolves my
 * profile {account_id, name, avatar_image_url}. */
async function uploadAvatar(file) {
  let res;
  try {
    res = await fetch('/api/me/avatar', { method: 'PUT', body: file, credentials: 'same-origin', cache: 'no-store',
      headers: { Accept: 'application/json', 'Content-Type': file.type || 'application/octet-stream', 'X-CSRF-Token': csrfToken() } });
  } catch {
    throw new ApiError(0, null);
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data && data.errors);
  return data;
}

/** profileSection is the Settings dialog's profile fieldset: display name
 * and avatar picture. A change shows at once in the top bar and the
 * open room. */
export function profileSection(app) {
  const me = app.me;
  const preview = h('span', { class: 'profile-avatar' });
  const msg = h('p', { class: 'form-note', role: 'status', hidden: true });
  const say = (s, error) => {
    msg.textContent = s;
    msg.classList.toggle('form-error', !!error);
    msg.hidden = false;
  };
  const fail = (e) => say(e.status === 0 ? 'network error' : e.message, true);
  const showPreview = () => replace(preview, avatar(me.account_id, me.name, 'lg'));
  const applied = (p) => {
    me.name = p.name;
    me.avatar_image_url = p.avatar_image_url;
    app.names.set(String(p.account_id), p.name);
    noteAvatar(p.account_id, p.avatar_image_url);
    showPreview();
    app.showMe();
    // The open room shows the change: it is rendered again.
    const v = app.view;
    if (v && v.kind === 'room') app.show(new v.constructor(app, v.id));
  };

  const name = h('input', { type: 'text', name: 'display_name', value: me.name || '', maxlength: '255', autocomplete: 'name' });
  const save = h('button', { type: 'button', class: 'btn', dataset: { action: 'save-name' } }, tr('save'));
  const saveName = async () => {
    const v = name.value.trim();
    if (!v) return;
    save.disabled = true;
    try {
      applied(await request('PUT', '/api/me/profile', { form: { name: v } }));
      say(tr('saved'));
    } catch (e) {
      fail(e);
    } finally {
      save.disabled = false;
    }
  };
  save.addEventListener('click', saveName);
  name.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.isComposing) {
      e.preventDefault(); // the settings dialog has no submit of its own
      saveName();
    }
  });

  const file = h('input', { type: 'file', name: 'avatar', accept: 'image/png,image/jpeg,image/gif,image/webp', hidden: true });
  const pick = h('button', { type: 'button', class: 'btn btn-small', on: { click: () => file.click() } }, tr('upload'));
  const remove = h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'remove-avatar' } }, tr('remove'));
  file.addEventListener('change', async () => {
    const f = file.files && file.files[0];
    if (!f) return;
    pick.disabled = true;
    try {
      applied(await uploadAvatar(f));
      say(tr('saved'));
    } catch (e) {
      fail(e);
    } finally {
      pick.disabled = false;
      file.value = '';
    }
  });
  remove.addEventListener('click', async () => {
    try {
      applied(await request('DELETE', '/api/me/avatar'));
    } catch (e) {
      fail(e);
    }
  });
  showPreview();
  const nameId = 'profile-name';
  name.id = nameId;
  return h('fieldset', { class: 'field profile' }, h('legend', null, tr('title')),
    h('div', { class: 'profile-row' }, preview,
      h('div', { class: 'profile-pic' }, h('div', { class: 'field-row' }, pick, remove, file),
        h('p', { class: 'muted' }, tr('pictureNote')))),
    h('div', { class: 'field' }, h('label', { for: nameId }, tr('name')), h('div', { class: 'field-row' }, name, save)),
    msg);
}

/** signOutOthers is the sessions list's button that logs out every other
 * session of mine; then it calls done. */
export function signOutOthers(done) {
  const note = h('span', { class: 'muted', role: 'status' });
  const btn = h('button', { type: 'button', class: 'btn btn-small btn-danger', dataset: { action: 'sign-out-others' } }, tr('others'));
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    try {
      const r = await request('DELETE', '/api/sessions');
      note.textContent = tr('othersDone', { n: r.ended });
    } catch (e) {
      note.textContent = e.message;
    } finally {
      btn.disabled = false;
    }
    done();
  });
  return h('div', { class: 'field-row sessions-others' }, btn, note);
}
