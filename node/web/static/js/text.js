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

/** collator sorts names the way a Japanese and English speaking office
 * expects: Latin, then kana in gojūon order, then kanji; numbers by value;
 * case and width ignored. */
export const collator = new Intl.Collator(['ja', 'en'], { numeric: true, sensitivity: 'base' });

/** byName compares two objects by their name with collator. */
export const byName = (a, b) => collator.compare(a.name || '', b.name || '');
