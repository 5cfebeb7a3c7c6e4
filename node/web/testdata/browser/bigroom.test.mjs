// A room of 1,001 members: the side panel, the [To:] picker, the members
// dialog and the task dialog draw a bounded number of people (100, 50,
// 100, 100) and find the others by name. TestBrowserBigRoom seeds it.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cfg, launch, open, login, expectCount, hook, waitFor } from './lib.mjs';

let browser;
after(async () => browser?.close());

test('a room of 1,001 members stays usable', async () => {
  browser = await launch();
  const boss = await open(browser, 'boss');
  const { page } = boss;
  const hanako = cfg.people.hanako;
  const m0500 = cfg.people.m0500;
  await login(boss, `/rooms/${cfg.rooms.big}`);

  // The side panel: 100 members and a line for the rest, a box to find them.
  const side = page.locator('.side-members');
  await side.locator('.count', { hasText: '1001' }).waitFor();
  await expectCount(side.locator('li.member'), 100);
  await side.locator('.member-more', { hasText: '901 more' }).waitFor();
  await side.locator('.member-filter').fill('佐藤');
  await expectCount(side.locator('li.member'), 1);
  await side.locator(`li.member[data-aid="${hanako.account_id}"]`).waitFor();
  await side.locator('.member-more').waitFor({ state: 'detached' });
  await side.locator('.member-filter').fill('m0500'); // a handle finds its member too
  await expectCount(side.locator('li.member'), 1);
  await side.locator(`li.member[data-aid="${m0500.account_id}"]`).waitFor();
  await side.locator('.member-filter').fill('');
  await expectCount(side.locator('li.member'), 100);

  // The [To:] picker: Everyone and 50 members, then a name finds one.
  await page.locator('[data-tool=to]').click();
  const picker = page.locator('.picker-list');
  await expectCount(picker.locator('li[data-aid]'), 51);
  await picker.locator('.picker-more', { hasText: '950 more' }).waitFor();
  await page.keyboard.press('ArrowDown');
  await expectCount(picker.locator('li.active'), 1);
  assert.equal(await picker.locator('li[data-aid]').nth(1).getAttribute('aria-selected'), 'true');
  await page.locator('.picker-filter').fill('nobody here');
  await expectCount(picker.locator('li[data-aid]'), 0);
  await picker.locator('.picker-more').waitFor({ state: 'detached' });
  await page.locator('.picker-filter').fill('m0777');
  await expectCount(picker.locator('li[data-aid]'), 1);
  await page.locator('.picker-filter').fill('花子');
  await expectCount(picker.locator('li[data-aid]'), 1);
  await page.keyboard.press('Enter');
  const input = page.locator('.composer-input');
  assert.equal(await input.inputValue(), `[To:${hanako.account_id}]佐藤 花子\n`);
  await input.fill('');

  // The members dialog: 100 rows; its search finds a member already in
  // the room; a changed role stays at the top when the search is cleared.
  await page.locator('[data-action=manage-members]').click();
  const dlg = page.locator('dialog.dialog-members');
  await expectCount(dlg.locator('.member-row'), 100);
  await dlg.locator('.member-rows-more').waitFor();
  await dlg.locator('.picker-filter').fill('Member 0500');
  await expectCount(dlg.locator('.member-row'), 1);
  await dlg.locator(`.member-row[data-aid="${m0500.account_id}"] select`).selectOption('readonly');
  await dlg.locator('.picker-filter').fill('');
  await expectCount(dlg.locator('.member-row'), 100);
  assert.equal(await dlg.locator('.member-row').first().getAttribute('data-aid'), String(m0500.account_id));
  await dlg.getByRole('button', { name: 'Save' }).click();
  await dlg.waitFor({ state: 'detached' });
  await side.locator('.member-filter').fill('Member 0500');
  await side.locator(`li.member[data-aid="${m0500.account_id}"][data-role=readonly]`).waitFor();

  // Someone taken out elsewhere leaves the list live, without the page
  // reading the member list again.
  let reads = 0;
  page.on('request', (r) => { if (new URL(r.url()).pathname === `/api/rooms/${cfg.rooms.big}/members`) reads++; });
  await side.locator('.member-filter').fill('m0501');
  await expectCount(side.locator('li.member'), 1);
  await hook('boss', 'remove');
  await side.locator('.count', { hasText: '1000' }).waitFor();
  await expectCount(side.locator('li.member'), 0);
  assert.equal(reads, 0, 'the member list read again for one removal');

  // A removal applied while a read of the whole list is on its way (two
  // added at once make the page read it; the list is read, then its
  // answer held back until the removal is in) is applied again to that
  // older list, without reading it again.
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  let first = true;
  let fetched = false;
  await page.route(`**/api/rooms/${cfg.rooms.big}/members`, async (route) => {
    if (!first) return route.continue();
    first = false;
    const response = await route.fetch(); // the list as it is now, m0502 in it
    fetched = true;
    await held;
    await route.fulfill({ response });
  });
  await side.locator('.member-filter').fill('m0502');
  await expectCount(side.locator('li.member'), 1);
  await hook('boss', 'addtwo');
  await waitFor(async () => fetched, 'the list read after two were added');
  await hook('boss', 'remove2');
  await expectCount(side.locator('li.member'), 0);
  release();
  await side.locator('.count', { hasText: '1001' }).waitFor(); // the older list's 1,002, less the removal
  await expectCount(side.locator('li.member'), 0);
  assert.equal(reads, 1, 'the member list read again');
  await page.unroute(`**/api/rooms/${cfg.rooms.big}/members`);
  await side.locator('.member-filter').fill('');

  // 300 taken out at once come as 300 events: the page draws its member
  // list once for the burst (each draw also reads the join requests), not
  // once an event, and reads the whole list not at all. Their 300 system
  // messages join the timeline, which reads its layout (the scroller's
  // height) once a frame, not a few times a message.
  let draws = 0;
  page.on('request', (r) => { if (new URL(r.url()).pathname === `/api/rooms/${cfg.rooms.big}/join_requests`) draws++; });
  const readsBefore = reads;
  const notices = await page.locator('.timeline li.notice').count();
  await page.evaluate(() => {
    const el = document.querySelector('.timeline');
    const height = Object.getOwnPropertyDescriptor(Element.prototype, 'scrollHeight');
    window.layoutReads = 0;
    Object.defineProperty(el, 'scrollHeight', { configurable: true, get() { window.layoutReads++; return height.get.call(this); } });
  });
  await hook('boss', 'removemany');
  await side.locator('.count', { hasText: '701' }).waitFor();
  await expectCount(page.locator('.timeline li.notice'), notices + 300);
  assert.ok(draws < 30, `the member list drawn ${draws} times for 300 removals`);
  assert.equal(reads, readsBefore, 'the member list read again for removals');
  const layoutReads = await page.evaluate(() => window.layoutReads);
  // Once a frame: 14 reads on a quiet machine, 112 under make test's load
  // (the removals' events come in many frames); four a message before.
  assert.ok(layoutReads < 300, `the timeline read its layout ${layoutReads} times for 300 system messages`);
  await waitFor(() => page.evaluate(() => { // and it stayed at the bottom, the newest on screen
    const rows = document.querySelectorAll('.timeline li.notice');
    const last = rows[rows.length - 1].getBoundingClientRect();
    return last.bottom <= document.querySelector('.timeline').getBoundingClientRect().bottom + 1;
  }), 'the newest system message on screen');
  assert.ok(await page.locator('.new-pill').isHidden(), 'the new-messages pill shown though the reader was at the bottom');

  // The task dialog: 100 check boxes, a box to find the others.
  await input.fill('Check the seating plan');
  await page.locator('[data-tool=task]').click();
  const tdlg = page.locator('dialog.dialog-task');
  await expectCount(tdlg.locator('label.check'), 100);
  await tdlg.locator('.picker-filter').fill('花子');
  await expectCount(tdlg.locator('label.check'), 1);
  await tdlg.locator('label.check', { hasText: '佐藤 花子' }).locator('input').check();
  await tdlg.locator('.picker-filter').fill('');
  assert.ok(await tdlg.locator('label.check').first().locator('input').isChecked(), 'the checked one is listed first');
  await tdlg.getByRole('button', { name: 'Add task' }).click();
  await tdlg.waitFor({ state: 'detached' });
  await page.locator('.side-tasks li.task', { hasText: 'Check the seating plan' }).waitFor();

  // The node's users, for its admin: 100 drawn, the others found by name.
  await page.goto('/admin/users');
  await expectCount(page.locator('li.admin-user'), 100);
  await page.locator('.admin-users-more', { hasText: /^\d+ more/ }).waitFor();
  await page.locator('.admin-user-filter').fill('m0777');
  await expectCount(page.locator('li.admin-user'), 1);
  await page.locator('li.admin-user[data-handle="m0777"]').waitFor();
  await page.locator('.admin-users-more').waitFor({ state: 'hidden' });

  // Their tokens: the user select lists 100, its search box the others;
  // the user shown stays listed while the search does not match them.
  await page.goto('/admin/tokens');
  const users = page.locator('select[name=token_user]');
  await expectCount(users.locator('option'), 100);
  await page.locator('.token-users-more', { hasText: /^\d+ more/ }).waitFor();
  const shownUser = await users.inputValue();
  await page.locator('.token-user-filter').fill('m0777');
  await expectCount(users.locator('option'), 2);
  assert.equal(await users.inputValue(), shownUser);
  await users.selectOption('m0777');
  await page.locator('.admin-tokens fieldset.tokens .token-none').waitFor();
  await page.locator('.token-user-filter').fill('m0500');
  await expectCount(users.locator('option'), 2);
  assert.equal(await users.inputValue(), 'm0777');
  await page.locator('.token-users-more').waitFor({ state: 'hidden' });
  await page.locator('.token-user-filter').fill('nobody here');
  await page.locator('.token-users-more', { hasText: 'No user matches “nobody here”' }).waitFor();
  await expectCount(users.locator('option'), 1); // the one shown
  assert.deepEqual(boss.errors, []);
});
