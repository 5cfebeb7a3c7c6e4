// Per-browser preferences, kept in localStorage.

const KEY = 'horenso.prefs';

function load() {
  try {
    return JSON.parse(localStorage.getItem(KEY)) || {};
  } catch {
    return {};
  }
}

/** prefs: sendKey "enter" (Enter sends, Shift+Enter is a new line) or
 * "shift" (the reverse); notify: desktop notifications for mentions. */
export const prefs = { sendKey: 'enter', notify: false, ...load() };

export function savePrefs(change) {
  Object.assign(prefs, change);
  localStorage.setItem(KEY, JSON.stringify(prefs));
  dispatchEvent(new CustomEvent('horenso-prefs'));
}
