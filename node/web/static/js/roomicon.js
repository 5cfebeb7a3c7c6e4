// Room icons: ChatWork's group chat presets (icon_preset), which the node
// stores and returns as icon_path. Each shows as a symbol on a coloured
// disc; a room without one shows its initial.

import { h, avatar } from './dom.js';
import { t } from './i18n.js';

/** PRESETS maps ChatWork's icon_preset names to the symbol shown. */
export const PRESETS = {
  group: '👥', check: '✅', document: '📄', meeting: '🗣️', event: '🎉', project: '📋', business: '💼', study: '📚',
  security: '🔒', star: '⭐', idea: '💡', heart: '❤️', magcup: '☕', beer: '🍺', music: '🎵', sports: '⚽', travel: '✈️',
};

/** preset returns the preset name of a room's icon_path, or "". */
export function preset(room) {
  const p = room && room.icon_path ? String(room.icon_path).replace(/^.*\//, '').replace(/\.[a-z]+$/, '') : '';
  return Object.hasOwn(PRESETS, p) ? p : '';
}

/** roomAvatar is a room's icon: its preset, else its initial. */
export function roomAvatar(room, name, size = 'sm') {
  const p = room.type === 'group' ? preset(room) : '';
  if (!p) return avatar(room.type === 'my' ? 'my' : `room${room.room_id}`, name, size);
  return h('span', { class: ['avatar', 'room-icon', size], 'aria-hidden': 'true', title: t('icon.' + p), dataset: { icon: p } }, PRESETS[p]);
}

/** iconPicker is a radio group of the presets, for the room dialogs;
 * value() returns the chosen preset, or "" while none is chosen. */
export function iconPicker(current) {
  const name = `icon-${Math.random().toString(36).slice(2)}`;
  const choice = (p) => h('label', { class: 'icon-choice', title: t('icon.' + p) },
    h('input', { type: 'radio', name, value: p, checked: p === current, 'aria-label': t('icon.' + p) }),
    h('span', { class: 'icon-glyph', 'aria-hidden': 'true' }, PRESETS[p]));
  const el = h('div', { class: 'icon-picker', role: 'radiogroup', 'aria-label': t('icon.title') }, Object.keys(PRESETS).map(choice));
  return { el, value: () => (el.querySelector('input:checked') || { value: '' }).value };
}
