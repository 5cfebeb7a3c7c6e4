// Unit tests of the app's pure modules: the ChatWork notation parser and
// the text helpers. Run by TestNotation (go test ./node/web) with node --test.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, mentions, plain, quote, reply, to } from '../../static/js/notation.js';
import { fold, collator } from '../../static/js/text.js';

const text = (v) => ({ t: 'text', v });

test('parse', async (t) => {
  const cases = [
    ['plain text', 'hello\nworld', [text('hello\nworld')]],
    ['html stays text', '<b onclick="x()">hi</b>', [text('<b onclick="x()">hi</b>')]],
    ['to', '[To:12]Bob\nhi', [{ t: 'to', id: '12' }, text('Bob\nhi')]],
    ['to with a global id', '[To:bob@12D3KooWabc]Bob', [{ t: 'to', id: 'bob@12D3KooWabc' }, text('Bob')]],
    ['to without an id is text', '[To:]x', [text('[To:]x')]],
    ['to with markup is text', '[To:"><img>]', [text('[To:"><img>]')]],
    ['toall', '[toall]\nall', [{ t: 'toall' }, text('\nall')]],
    ['reply', '[rp aid=3 to=4-55]Alice\nyes', [{ t: 'rp', id: '3', room: '4', mid: '55' }, text('Alice\nyes')]],
    ['reply without aid is text', '[rp to=4-55]x', [text('[rp to=4-55]x')]],
    ['quote with meta', '[qt][qtmeta aid=3 time=100]quoted[/qt]\nok',
      [{ t: 'qt', id: '3', time: 100, c: [text('quoted')] }, text('ok')]],
    ['quote without meta', '[qt]q[/qt]', [{ t: 'qt', id: '', time: 0, c: [text('q')] }]],
    ['info and title', '[info][title]T[/title]\nbody[/info]',
      [{ t: 'info', c: [{ t: 'title', c: [text('T')] }, text('body')] }]],
    ['code keeps notation and markup literal', '[code]<b>[To:1]</b>\n[/code]', [{ t: 'code', v: '<b>[To:1]</b>' }]],
    ['hr', 'a\n[hr]\nb', [text('a'), { t: 'hr' }, text('b')]],
    ['unclosed tag is text', '[qt]never closed', [text('[qt]never closed')]],
    ['stray close is text', 'a[/info]b', [text('a[/info]b')]],
    ['misnested: the inner unclosed tag is text', '[qt][info]x[/qt] y[/info]',
      [{ t: 'qt', id: '', time: 0, c: [text('[info]x')] }, text(' y[/info]')]],
    ['nested quotes', '[qt][qt]a[/qt]b[/qt]', [{ t: 'qt', id: '', time: 0, c: [{ t: 'qt', id: '', time: 0, c: [text('a')] }, text('b')] }]],
    ['unknown tags are text', '[download:5] [preview id=1 ht=2]', [text('[download:5] [preview id=1 ht=2]')]],
    ['an unclosed download is text', '[download:5] x', [text('[download:5] x')]],
    ['download', 'see\n[info][title][dtext:file_uploaded][/title][download:12]a.png (1.20 KB)[/download][/info]',
      [text('see'), { t: 'info', c: [{ t: 'title', c: [{ t: 'dtext', key: 'file_uploaded' }] },
        { t: 'download', id: '12', c: [text('a.png (1.20 KB)')] }] }]],
    ['download of a non-numeric id is text', '[download:x]a[/download]', [text('[download:x]a[/download]')]],
    ['picon and names', '[picon:5][piconname:6][pname:7]', [{ t: 'picon', id: '5' }, { t: 'piconname', id: '6' }, { t: 'pname', id: '7' }]],
    ['dtext', '[dtext:task_added]', [{ t: 'dtext', key: 'task_added' }]],
    ['task', '[task aid=1 st=done lt=9 ltype=date]Do it[/task]', [{ t: 'task', id: '1', st: 'done', lt: 9, ltype: 'date', c: [text('Do it')] }]],
    ['deleted', '[deleted]', [{ t: 'deleted' }]],
    ['link', 'see https://example.com/a?b=1. ok', [text('see '), { t: 'link', href: 'https://example.com/a?b=1', v: 'https://example.com/a?b=1' }, text('. ok')]],
    ['link in parentheses', '(http://x.jp/a_(b))', [text('('), { t: 'link', href: 'http://x.jp/a_(b))', v: 'http://x.jp/a_(b))' }]],
    ['link stops at Japanese punctuation', 'https://example.jp/資料。次', [text(''), { t: 'link', href: 'https://example.jp/資料', v: 'https://example.jp/資料' }, text('。次')].filter((n) => n.v !== '')],
    ['javascript: is never a link', 'javascript:alert(1)', [text('javascript:alert(1)')]],
    ['a quote in a link ends it', 'http://e.com/"><img src=x>', [{ t: 'link', href: 'http://e.com/', v: 'http://e.com/' }, text('"><img src=x>')]],
  ];
  for (const [name, src, want] of cases) {
    await t.test(name, () => assert.deepEqual(parse(src), want));
  }
});

test('parse is linear on hostile input', () => {
  for (const src of ['[qt]'.repeat(50000), '[info][qt]'.repeat(20000) + '[/info]', '[code]'.repeat(50000) + '[/code]', '['.repeat(200000), '[To:1'.repeat(40000)]) {
    const start = performance.now();
    parse(src);
    assert.ok(performance.now() - start < 1000, `parse of ${src.slice(0, 20)}… took too long`);
  }
});

test('mentions', () => {
  assert.ok(mentions(parse('[To:5]x'), '5'));
  assert.ok(mentions(parse('[rp aid=5 to=1-2]x'), '5'));
  assert.ok(mentions(parse('[toall]'), '5'));
  assert.ok(mentions(parse('[info][To:5][/info]'), '5'));
  assert.ok(!mentions(parse('[To:6]x'), '5'));
  assert.ok(!mentions(parse('[qt][To:5][/qt]'), '5'), 'a mention inside a quote does not count');
  assert.ok(!mentions(parse('[code][To:5][/code]'), '5'));
});

test('plain', () => {
  const names = (id) => ({ 5: 'Bob' })[id];
  assert.equal(plain(parse('[To:5]Bob\nhello  [b]'), names), 'To Bob Bob hello [b]');
  assert.equal(plain(parse('[info][title]T[/title]body[/info]')), 'T body');
});

test('builders round-trip through the parser', () => {
  assert.deepEqual(parse(to(5, 'Bob') + 'x'), [{ t: 'to', id: '5' }, text('Bob\nx')]);
  assert.deepEqual(parse(reply(3, 4, 55, 'Al')), [{ t: 'rp', id: '3', room: '4', mid: '55' }, text('Al\n')]);
  assert.deepEqual(parse(quote(3, 100, 'a [b] c')), [{ t: 'qt', id: '3', time: 100, c: [text('a [b] c')] }]);
});

test('fold for search-as-you-type', () => {
  assert.equal(fold('サトウ'), 'さとう');
  assert.equal(fold('ｻﾄｳ'), 'さとう');
  assert.equal(fold('ＡＢＣ Room'), 'abc room');
});

test('names sort in Japanese order', () => {
  const names = ['経理', 'Zeta', 'いろは', 'アイス', 'alpha', 'Room 10', 'Room 9', 'あいさつ', '営業チーム'];
  assert.deepEqual([...names].sort(collator.compare),
    ['alpha', 'Room 9', 'Room 10', 'Zeta', 'あいさつ', 'アイス', 'いろは', '営業チーム', '経理']);
});
