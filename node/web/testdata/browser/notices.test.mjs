// System messages arrive live: Bob has General open while Alice, from
// elsewhere (the API), adds a task for him, changes the description and
// adds Carol. Each notice shows in his timeline as a compact line as it
// happens, without reloading the page. The Go test TestBrowserNoticesLive
// starts the node.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, login, openRoom, apiClient, cfg, expectCount } from './lib.mjs';

const { general: GENERAL } = cfg.rooms;
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

describe('system messages', () => {
  test('notices appear live in the open room', async () => {
    const { page } = bob;
    await openRoom(bob, GENERAL);
    const before = await page.locator('li.msg.notice').count();
    // A mark that a reload would wipe.
    await page.evaluate(() => { window.__noReload = true; });
    const alice = await apiClient(cfg.people.alice);
    const carol = cfg.people.carol;

    await alice.call('POST', `/v2/rooms/${GENERAL}/tasks`, { body: 'Book the venue', to_ids: String(bob.account_id) });
    const task = page.locator('li.msg.notice', { hasText: 'Book the venue' });
    await task.locator('.notice-body', { hasText: 'Added a task' }).waitFor();
    assert.equal(await task.locator('[data-action]').count(), 0, 'a notice has no message actions');

    await alice.call('PUT', `/v2/rooms/${GENERAL}`, { description: 'Ship it on Friday' });
    await page.locator('li.msg.notice', { hasText: 'Ship it on Friday' }).waitFor();

    const members = await alice.call('GET', `/v2/rooms/${GENERAL}/members`);
    const admins = members.filter((m) => m.role === 'admin').map((m) => m.account_id);
    const others = members.filter((m) => m.role !== 'admin').map((m) => m.account_id).concat([carol.account_id]);
    await alice.call('PUT', `/v2/rooms/${GENERAL}/members`, { members_admin_ids: admins.join(','), members_member_ids: others.join(',') });
    await page.locator('li.msg.notice', { hasText: 'Carol Suzuki' }).waitFor();

    await expectCount(page.locator('li.msg.notice'), before + 3);
    assert.equal(await page.evaluate(() => window.__noReload), true, 'the page was not reloaded');
    // Notices are never unread: General has no unread badge.
    assert.equal(await page.locator(`.room-list li[data-room-id="${GENERAL}"] .badge-unread`).count(), 0);
  });
});
