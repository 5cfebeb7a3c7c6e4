// Reactions, bookmarks, pinned chats and message links. The Go test
// TestBrowserReactions starts the node and seeds the rooms.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cfg, launch, open, login, openRoom, message, roomItem, waitFor, expectText, shot } from './lib.mjs';

let browser;
let alice;
let bob;

before(async () => {
  browser = await launch();
  alice = await open(browser, 'alice');
  bob = await open(browser, 'bob');
  await bob.context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await login(alice);
  await login(bob);
});

after(async () => {
  for (const p of [alice, bob]) if (p) assert.deepEqual(p.errors, [], 'uncaught errors in the page');
  await browser?.close();
});

/** act clicks one of a message's actions (shown on hover). */
async function act(page, msg, name) {
  await msg.hover();
  await msg.locator('.msg-actions').getByRole('button', { name, exact: true }).click();
}

describe('reactions, bookmarks, pins and links', () => {
  test('a reaction shows on the other person\'s screen, live', async () => {
    const { launch: room } = cfg.rooms;
    await openRoom(alice, room);
    await openRoom(bob, room);
    const mine = message(bob.page, 'v1 is released');
    await act(bob.page, mine, 'React');
    await mine.locator('.reaction-picker').getByRole('button', { name: 'Congrats' }).click();
    const bobChip = mine.locator('.msg-reactions .reaction[data-reaction="cracker"]');
    await expectText(bobChip.locator('.reaction-count'), '1');
    assert.equal(await bobChip.getAttribute('aria-pressed'), 'true');

    // Alice never reloads: the stream brings it.
    const theirs = message(alice.page, 'v1 is released');
    const aliceChip = theirs.locator('.msg-reactions .reaction[data-reaction="cracker"]');
    await expectText(aliceChip.locator('.reaction-count'), '1');
    assert.equal(await aliceChip.getAttribute('aria-pressed'), 'false');
    assert.match(await aliceChip.getAttribute('title'), /Bob Tanaka/);
    await aliceChip.click();
    await waitFor(async () => (await aliceChip.getAttribute('aria-pressed')) === 'true', 'alice\'s reaction pressed');
    await expectText(bobChip.locator('.reaction-count'), '2');
    await shot(bob.page, 'reactions');

    // Bob takes his back; Alice sees one again.
    await bobChip.click();
    await expectText(aliceChip.locator('.reaction-count'), '1');
    await expectText(bobChip.locator('.reaction-count'), '1');
    assert.equal(await bobChip.getAttribute('aria-pressed'), 'false');
  });

  test('a bookmark is listed and opens its message', async () => {
    const { page } = bob;
    const { launch: room } = cfg.rooms;
    const msg = message(page, 'v1 is released');
    await act(page, msg, 'Bookmark');
    await page.locator('.toast', { hasText: 'Bookmarked.' }).waitFor();
    await page.locator('.topnav').getByRole('link', { name: 'Bookmarks' }).click();
    await page.waitForURL(/\/bookmarks$/);
    const item = page.locator('.bookmark');
    await waitFor(async () => (await item.count()) === 1, 'one bookmark');
    assert.match(await item.locator('.bookmark-body').textContent(), /v1 is released/);
    assert.equal((await item.locator('.bookmark-room').textContent()).trim(), 'Launch プロジェクト');
    assert.equal(await alice.page.evaluate(async () => (await (await fetch('/api/bookmarks')).json()).length), 0, 'bookmarks are private');
    await shot(page, 'bookmarks');
    await page.reload(); // the page is an address of its own
    await waitFor(async () => (await item.count()) === 1, 'one bookmark after a reload');
    await item.locator('a').click();
    await page.waitForURL(new RegExp(`/rooms/${room}\\?m=\\d+$`));
    const shown = message(page, 'v1 is released');
    await shown.waitFor();
    // Its menu now offers to remove it.
    await shown.hover();
    await shown.locator('.msg-actions').getByRole('button', { name: 'Remove bookmark' }).waitFor();
  });

  test('a pinned chat moves to the top of the list', async () => {
    const { page } = bob;
    const order = () => page.locator('.room-list li').evaluateAll((els) => els.map((e) => e.dataset.roomId));
    const before = await order();
    assert.equal(before.length, 3, 'launch, general and my chat');
    const pick = before[1]; // a chat that is not on top
    const item = roomItem(page, pick);
    await item.hover();
    await item.getByRole('button', { name: /^Pin to the top/ }).click();
    await waitFor(async () => (await order())[0] === pick, 'the pinned chat first');
    await shot(page, 'pinned');
    await page.reload();
    await page.locator('.room-list li').first().waitFor();
    await waitFor(async () => (await order())[0] === pick, 'the pinned chat first after a reload');
    assert.equal(await roomItem(page, pick).getAttribute('data-sticky'), '1');
    // Alice's list is hers: nothing pinned.
    await alice.page.reload();
    await alice.page.locator('.room-list li').first().waitFor();
    assert.equal(await alice.page.locator('.room-list li[data-sticky="1"]').count(), 0, "alice's list has no pinned chat");
    await roomItem(page, pick).getByRole('button', { name: /^Unpin/ }).click();
    await waitFor(async () => JSON.stringify(await order()) === JSON.stringify(before), 'unpinned: the order as before');
  });

  test('a copied link opens the message in context', async () => {
    const { page } = bob;
    const { launch: room, target } = cfg.rooms;
    await page.goto(`/rooms/${room}?m=${target}`); // as a search result does: then copy its link
    const msg = page.locator(`li#m${target}`);
    await msg.waitFor();
    await act(page, msg, 'Copy link');
    await page.locator('.toast', { hasText: 'Link to the message copied.' }).waitFor();
    const link = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(link, new URL(`/rooms/${room}?m=${target}`, bob.base).href);

    // Alice opens it in a fresh page: her timeline opens around it, not at the newest.
    const other = await alice.context.newPage();
    await other.goto(link);
    const there = other.locator(`li#m${target}`);
    await there.waitFor();
    await waitFor(async () => {
      const box = await there.boundingBox();
      const view = await other.locator('.timeline').boundingBox();
      return box && view && box.y >= view.y && box.y + box.height <= view.y + view.height;
    }, 'the linked message scrolled into view');
    await other.locator('li.msg', { hasText: 'Earlier message 39' }).waitFor();
    await other.locator('li.msg', { hasText: 'Later message 0' }).waitFor();
    await other.close();
  });
});
