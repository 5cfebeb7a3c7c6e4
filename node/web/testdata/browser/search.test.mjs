// Search: the box in the top bar finds a message in Japanese from the
// middle of a long history, highlights the words, groups results by room,
// never shows a room the reader is not in, and opens the message in its
// context. The Go test TestBrowserSearch starts the node.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cfg, launch, open, login, expectCount, shot, waitFor } from './lib.mjs';

let browser;
let bob;

before(async () => {
  browser = await launch();
  bob = await open(browser, 'bob');
  await login(bob);
});

after(async () => {
  if (bob) assert.deepEqual(bob.errors, [], 'uncaught errors in the page');
  await browser?.close();
});

describe('search', () => {
  test('a result is highlighted, grouped by room, and opens the message in context', async () => {
    const { page } = bob;
    const { sales, private: secret, target } = cfg.rooms;
    const box = page.getByRole('searchbox', { name: 'Search messages, tasks and chats' });
    await box.fill('新製品');
    await box.press('Enter');
    await page.waitForURL(/\/search\?q=/);
    const group = page.locator(`.search-group[data-room-id="${sales}"]`);
    await group.waitFor();
    await expectCount(page.locator('.search-hit'), 1);
    assert.equal(await page.locator(`.search-group[data-room-id="${secret}"]`).count(), 0, "Alice's private room is never shown");
    assert.equal((await group.locator('.search-room').textContent()).trim(), '営業チーム');
    const hit = group.locator(`.search-hit[data-mid="${target}"]`);
    // Only the highlight is markup: the message's tags are text.
    assert.match(await hit.locator('.search-snippet mark').first().textContent(), /新製/);
    assert.match(await hit.locator('.search-snippet').textContent(), /<b>not bold<\/b>/);
    assert.equal(await hit.locator('.search-snippet b, .search-snippet img').count(), 0);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    await shot(page, 'search-results');

    await hit.locator('a').click();
    await page.waitForURL(new RegExp(`/rooms/${sales}\\?m=${target}$`));
    const msg = page.locator(`li#m${target}`);
    await msg.waitFor();
    // The message is on screen, with its neighbours on both sides loaded
    // (it is 60 messages from the newest, outside the first page).
    await waitFor(async () => {
      const box = await msg.boundingBox();
      const view = await page.locator('.timeline').boundingBox();
      return box && view && box.y >= view.y && box.y + box.height <= view.y + view.height;
    }, 'the message scrolled into view');
    await page.locator('li.msg', { hasText: 'Earlier message 59' }).waitFor();
    await page.locator('li.msg', { hasText: 'Later message 0' }).waitFor();
    assert.equal(await page.locator('li.msg', { hasText: 'Later message 59' }).count(), 0, 'the newest page is not loaded yet');
    await shot(page, 'search-opened');

    // Scrolling down loads the newer messages up to the newest.
    await waitFor(async () => {
      await page.locator('.timeline').evaluate((el) => { el.scrollTop = el.scrollHeight; });
      return (await page.locator('li.msg', { hasText: 'Later message 59' }).count()) === 1;
    }, 'the newest message after scrolling down');
  });

  test('a file is found by its name and downloads from the result', async () => {
    const { page } = bob;
    const { sales, private: secret } = cfg.rooms;
    const box = page.getByRole('searchbox', { name: 'Search messages, tasks and chats' });
    await box.fill('見積書');
    await box.press('Enter');
    await page.waitForURL(/\/search\?q=/);
    await page.getByRole('combobox', { name: 'Kind of result' }).selectOption('file');
    const hit = page.locator(`.search-group[data-room-id="${sales}"] .search-hit-file`);
    await hit.waitFor();
    await expectCount(page.locator('.search-hit'), 1);
    assert.equal(await page.locator(`.search-group[data-room-id="${secret}"]`).count(), 0, "Alice's private file is never shown");
    assert.match(await hit.locator('.search-snippet mark').first().textContent(), /見積/);
    assert.match(await hit.locator('.badge').textContent(), /File/);
    const link = hit.getByRole('link', { name: 'Download 見積書_2026年度.pdf' });
    assert.equal(await link.textContent(), '見積書_2026年度.pdf');
    const href = await link.getAttribute('href');
    assert.match(href, new RegExp(`^/api/rooms/${sales}/files/\\d+/content\\?download=1$`));
    const got = await page.evaluate(async (u) => {
      const r = await fetch(u);
      return { status: r.status, body: await r.text(), disposition: r.headers.get('content-disposition') };
    }, href);
    assert.equal(got.status, 200);
    assert.equal(got.body, 'the quote');
    assert.match(got.disposition || '', /attachment/);
    await shot(page, 'search-files');
  });

  test("an older search's answer arriving late does not land among the newer one's results", async () => {
    const { page } = bob;
    const { sales } = cfg.rooms;
    // Hold the first search (every kind) until the one kept to files has
    // answered, then let it through.
    const held = [];
    await page.route('**/api/search?*', (route) => {
      if (new URL(route.request().url()).searchParams.get('kind')) return route.continue();
      held.push(route);
    });
    const box = page.getByRole('searchbox', { name: 'Search messages, tasks and chats' });
    await box.fill('見積書');
    await box.press('Enter');
    await page.waitForURL(/\/search\?q=/);
    await waitFor(async () => held.length === 1, 'the first search on its way');
    await page.getByRole('combobox', { name: 'Kind of result' }).selectOption('file');
    await page.locator(`.search-group[data-room-id="${sales}"] .search-hit-file`).waitFor();
    const late = page.waitForResponse((r) => r.url().includes('/api/search?') && !new URL(r.url()).searchParams.get('kind'));
    await held[0].continue();
    await late;
    await page.unroute('**/api/search?*');
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    await expectCount(page.locator('.search-hit'), 1);
    assert.equal(await page.locator('.search-hit-file').count(), 1);
  });

  test('a search with no match says so', async () => {
    const { page } = bob;
    const box = page.getByRole('searchbox', { name: 'Search messages, tasks and chats' });
    await box.fill('secret');
    await box.press('Enter');
    await page.locator('.page-search .state', { hasText: 'Nothing found.' }).waitFor();
  });
});
