// Unread handling: Bob opens a room with 3,000 unread messages at the
// first of them, under an "unread from here" line; the read marker moves
// as he scrolls, not all at once; a jump takes him to the newest; "Mark
// as unread" on a message brings the line and the count back. The Go
// test TestBrowserUnread seeds the room.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cfg, launch, open, login, roomItem, openRoom, message, waitFor, shot } from './lib.mjs';

const BACKLOG = cfg.rooms.backlog;
const QUIET = cfg.rooms.quiet;

let browser;
let bob;
let bobAPI;
const bad = []; // failed read-marker requests: the web app should send none

before(async () => {
  browser = await launch();
  bob = await open(browser, 'bob');
  bob.page.on('response', (r) => {
    if (/\/(messages\/)?(read|unread)$/.test(new URL(r.url()).pathname) && r.status() >= 400) bad.push(`${r.request().method()} ${r.url()} → ${r.status()}`);
  });
  bobAPI = await (await import('./lib.mjs')).apiClient(bob);
  await login(bob, `/rooms/${QUIET}`);
});

after(async () => {
  if (bob) assert.deepEqual(bob.errors, [], 'uncaught errors in the page');
  await browser?.close();
});

const unread = async () => (await bobAPI.call('GET', `/api/rooms/${BACKLOG}/unread`)).unread_num;
const badge = (page) => roomItem(page, BACKLOG).locator('.badge-unread');

describe('unread messages', () => {
  test('a room opens at the first unread message, under a line', async () => {
    const { page } = bob;
    await waitFor(async () => (await badge(page).textContent()) === '3000', 'the room list counts 3,000 unread');
    await openRoom(bob, BACKLOG);
    const divider = page.locator('.unread-divider');
    await divider.waitFor();
    assert.equal(await divider.textContent(), 'Unread from here');
    // The line sits right above the first unread message, with what Bob
    // read (and his own reply) above it.
    const next = divider.locator('xpath=following-sibling::li[1]');
    assert.match(await next.locator('.msg-body').textContent(), /^First unread ★$/);
    const prev = divider.locator('xpath=preceding-sibling::li[1]');
    assert.match(await prev.locator('.msg-body').textContent(), /^Bob's own reply$/);
    assert.ok(await divider.isVisible(), 'the line is on screen');
    assert.equal(await message(page, 'Newest ★').count(), 0, 'the newest are not loaded');
    await page.locator('.jump-newest').waitFor();
    await shot(page, 'unread');
  });

  test('the read marker follows the reader, not all at once', async () => {
    const { page } = bob;
    // What is on screen is read...
    await waitFor(async () => (await unread()) < 3000, 'some messages read');
    const first = await unread();
    assert.ok(first > 2900, `only what is on screen is read (${first} unread left)`);
    await waitFor(async () => Number(await badge(page).textContent()) === first, 'the list shows the count');
    // ... and scrolling down reads more, and loads newer pages.
    const shown = await page.locator('li.msg').count();
    let last = first;
    for (let i = 0; i < 4; i++) {
      await page.locator('.timeline').evaluate((el) => { el.scrollTop += el.clientHeight; });
      const was = last;
      await waitFor(async () => (last = await unread()) < was, `more read after scrolling down ${i + 1} screens`);
    }
    await waitFor(async () => (await page.locator('li.msg').count()) > shown, 'a newer page');
    assert.ok(last > 2500, `scrolling four screens read only those (${last} unread left)`);
  });

  test('a jump takes the reader to the newest and reads up to it', async () => {
    const { page } = bob;
    // A page below, asked for before the jump and answered after it, is
    // of what was shown before: it must not land under the newest.
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    let asked = false;
    const below = (u) => u.pathname === `/api/rooms/${BACKLOG}/messages` && u.searchParams.has('after');
    await page.route(below, async (route) => {
      asked = true;
      await held;
      await route.continue();
    });
    // So is a move of the read marker made before it, answered after it:
    // the next unread it knew of is of the rows shown before.
    let marked = false;
    const marker = `**/api/rooms/${BACKLOG}/read`;
    await page.route(marker, async (route) => {
      marked = true;
      await held;
      await route.continue();
    });
    await page.locator('.timeline').evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await waitFor(async () => asked && marked, 'a page below asked for, and the read marker moved');
    await page.locator('.jump-newest').click();
    await message(page, 'Newest ★').waitFor();
    await page.unroute(marker);
    release();
    await page.locator('.timeline-bottom .spinner').waitFor({ state: 'detached' }); // the held page is in
    await page.unroute(below);
    assert.match(await page.locator('li.msg').last().locator('.msg-body').textContent(), /^Newest ★$/);
    await waitFor(async () => (await unread()) === 0, 'all read');
    await badge(page).waitFor({ state: 'detached' });
    await page.locator('.jump-newest').waitFor({ state: 'hidden' });
  });

  test('mark as unread from a message', async () => {
    const { page } = bob;
    const msgs = page.locator('li.msg:not(.mine):not(.notice)');
    const n = await msgs.count();
    const target = msgs.nth(n - 3);
    const mid = await target.getAttribute('data-mid');
    await target.hover();
    await target.locator('[data-action=unread]').click();
    await page.locator('.toast', { hasText: 'Marked as unread' }).waitFor();
    // Three from there on, the last of them the newest; the marker stays.
    await waitFor(async () => (await badge(page).textContent()) === '3', 'the list counts 3 unread');
    assert.equal(await unread(), 3);
    assert.equal(await page.locator('.unread-divider + li.msg').getAttribute('data-mid'), mid);
    // Opening the room again opens it there.
    await openRoom(bob, QUIET);
    await openRoom(bob, BACKLOG);
    await page.locator(`.unread-divider + li.msg[data-mid="${mid}"]`).waitFor();
    await waitFor(async () => (await unread()) === 0, 'read again once on screen');
    assert.deepEqual(bad, [], 'no failed read-marker requests');
  });
});
