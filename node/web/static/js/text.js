// Text helpers that need no DOM: search folding and name sorting. Pure,
// so the unit tests run them in Node.

/** fold normalizes text for search-as-you-type: NFKC, lower case, and
 * katakana folded to hiragana, so "さとう" finds "サトウ" and "ｻﾄｳ". */
export function fold(s) {
  return (s || '')
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u30a1-\u30f6]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x60));
}

const searchKeys = new WeakMap();

/** searchKey returns what a search box matches a person by: the folded
 * name, handle (chatwork_id), email, organization and department, kept
 * per person object, so that filtering a room of thousands of members at
 * every key does not fold them all again. */
export function searchKey(person) {
  let k = searchKeys.get(person);
  if (k === undefined) {
    k = fold([person.name, person.chatwork_id, person.email, person.organization_name, person.department].filter(Boolean).join('\n'));
    searchKeys.set(person, k);
  }
  return k;
}

/** collator sorts names the way a Japanese and English speaking office
 * expects: Latin, then kana in gojūon order, then kanji; numbers by value;
 * case and width ignored. */
export const collator = new Intl.Collator(['ja', 'en'], { numeric: true, sensitivity: 'base' });

/** byName compares two objects by their name with collator. */
export const byName = (a, b) => collator.compare(a.name || '', b.name || '');
