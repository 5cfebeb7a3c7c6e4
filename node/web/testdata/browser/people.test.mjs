// The people directory: a new employee, in no room and with no contacts,
// finds a colleague by typing part of her name in the new group chat
// dialog and creates a group with her; the contacts page suggests people
// as one types and takes a plain handle. The Go test TestBrowserPeople
// starts the node.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cfg, launch, open, login, roomItem, expectCount, shot } from './lib.mjs';

let browser;
let newbie;

before(async () => {
  browser = await launch();
  newbie = await open(browser, 'newbie');
  await login(newbie);
});

after(async () => {
  if (newbie) assert.deepEqual(newbie.errors, [], 'uncaught errors in the page');
  await browser?.close();
});

describe('people directory', () => {
  test('a new employee finds a colleague by part of her name and starts a group with her', async () => {
    const { page } = newbie;
    const { hanako, gone } = cfg.people;
    await page.getByRole('button', { name: 'New group chat' }).click();
    const dlg = page.locator('dialog.dialog-group');
    await dlg.locator('input[name=name]').fill('オンボーディング Onboarding');
    const search = dlg.getByRole('searchbox', { name: 'Search people by name, handle or email' });
    await search.fill('花子');
    const row = dlg.locator(`.member-row[data-aid="${hanako.account_id}"]`);
    await row.waitFor();
    await expectCount(dlg.locator('.member-row:visible'), 1);
    // A disabled account is never offered.
    await search.fill('gone');
    await dlg.locator('.people-status', { hasText: 'Nobody found.' }).waitFor();
    assert.equal(await dlg.locator(`.member-row[data-aid="${gone.account_id}"]`).count(), 0);
    // Her email finds her too.
    await search.fill('H.SATO@');
    await row.waitFor({ state: 'visible' });
    await dlg.locator('.people-status').waitFor({ state: 'hidden' });
    await search.fill('花');
    await row.waitFor({ state: 'visible' });
    await shot(page, 'people-search');
    await row.locator('select').selectOption('member');
    await dlg.getByRole('button', { name: 'Create chat' }).click();
    await page.locator('.room-title', { hasText: 'オンボーディング Onboarding' }).waitFor();
    const roomId = Number(page.url().match(/\/rooms\/(\d+)$/)[1]);
    await page.locator(`.side-members li.member[data-aid="${hanako.account_id}"][data-role=member]`).waitFor();
    await roomItem(page, roomId).waitFor();
  });

  test('the contacts page suggests people and takes a handle', async () => {
    const { page } = newbie;
    const { taro } = cfg.people;
    await page.locator('.topnav [data-nav="/contacts"]').click();
    const account = page.locator('#contact-account');
    await account.fill('taro');
    await page.locator('#contact-suggest option[value="taro"]').waitFor({ state: 'attached' });
    await page.locator('#contact-message').fill('よろしくお願いします');
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.locator('.contact-form [role=status]', { hasText: 'Request sent to taro.' }).waitFor();
    await page.locator(`.contact-list li.contact[data-aid="${taro.account_id}"]`).waitFor();
  });
});
