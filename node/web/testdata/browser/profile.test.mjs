// Settings → Profile: a new display name and avatar picture show on one's
// messages in the timeline, for oneself and for others; and "log out all
// other sessions". The Go test TestBrowserProfile starts the node.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cfg, launch, open, login, openRoom, message, apiClient, expectCount, waitFor, shot } from './lib.mjs';

let browser;
let alice;
let bob;
const general = () => cfg.rooms.general;

before(async () => {
  browser = await launch();
  alice = await open(browser, 'alice');
  bob = await open(browser, 'bob');
  await login(alice);
  await login(bob);
});

after(async () => {
  for (const p of [alice, bob]) if (p) assert.deepEqual(p.errors, [], 'uncaught errors in the page');
  await browser?.close();
});

async function openSettings(page) {
  await page.getByRole('button', { name: 'Settings' }).click();
  return page.locator('dialog.dialog-settings');
}

/** pictureShown waits until the avatar of msg is a loaded picture. */
async function pictureShown(msg) {
  const img = msg.locator('.avatar.avatar-pic img');
  await img.waitFor();
  assert.match(await img.getAttribute('src'), /^\/api\/avatars\/\d+\?v=[0-9a-f]+$/);
  await waitFor(() => img.evaluate((el) => el.complete && el.naturalWidth > 0), 'the avatar picture to load');
}

describe('profile', () => {
  test('a new name and picture show on my messages, for me and for others', async () => {
    const { page } = alice;
    await openRoom(alice, general());
    const mine = message(page, 'Good morning from Alice');
    await mine.locator('.msg-name', { hasText: 'Alice Sato' }).waitFor();
    assert.equal(await mine.locator('.avatar img').count(), 0, 'no picture before one is set');

    const dlg = await openSettings(page);
    const name = dlg.locator('input[name=display_name]');
    assert.equal(await name.inputValue(), 'Alice Sato');
    await name.fill('Alice Sato-Kimura');
    await name.press('Enter'); // saves; does not close the dialog
    await dlg.locator('.profile [role=status]', { hasText: 'Saved.' }).waitFor();
    await dlg.locator('input[name=avatar]').setInputFiles(cfg.values.avatar);
    await dlg.locator('.profile .profile-avatar .avatar-pic img').waitFor();
    await shot(page, 'settings-profile');
    await dlg.getByRole('button', { name: 'Close' }).click();

    // The open room was rendered again: the timeline and the top bar.
    await mine.locator('.msg-name', { hasText: 'Alice Sato-Kimura' }).waitFor();
    await pictureShown(mine);
    await page.locator('.topbar .user-box .avatar-pic img').waitFor();
    await page.locator('.topbar .user-name', { hasText: 'Alice Sato-Kimura' }).waitFor();

    // Bob, opening the room, sees the same.
    await openRoom(bob, general());
    const theirs = message(bob.page, 'Good morning from Alice');
    await theirs.locator('.msg-name', { hasText: 'Alice Sato-Kimura' }).waitFor();
    await pictureShown(theirs);
    // The member list shows the picture too. (Its name is the one the
    // room carries, which the running node publishes to the room: this
    // test's node has no network loop; TestNameReachesPartners covers it.)
    const member = bob.page.locator(`.pane-side li.member[data-aid="${cfg.people.alice.account_id}"]`);
    await member.locator('.avatar-pic img').waitFor();
    await shot(bob.page, 'timeline-avatar');

    // And after a reload, from the node.
    await page.reload();
    await pictureShown(message(page, 'Good morning from Alice'));
  });

  test('the picture can be removed', async () => {
    const { page } = alice;
    const dlg = await openSettings(page);
    await dlg.locator('.profile .avatar-pic img').waitFor();
    await dlg.getByRole('button', { name: 'Remove picture' }).click();
    await expectCount(dlg.locator('.profile .avatar-pic'), 0);
    await dlg.getByRole('button', { name: 'Close' }).click();
    await expectCount(message(page, 'Good morning from Alice').locator('.avatar img'), 0);
  });

  test('log out all other sessions', async () => {
    const { page } = alice;
    const phone = await apiClient(alice);
    const laptop = await apiClient(alice);
    const dlg = await openSettings(page);
    const rows = dlg.locator('.session-list li.session');
    await expectCount(rows, 3);
    await dlg.getByRole('button', { name: 'Log out all other sessions' }).click();
    await dlg.locator('.sessions-others [role=status]', { hasText: '2 other sessions logged out.' }).waitFor();
    await expectCount(rows, 1);
    await dlg.locator('li.session[data-current="1"]').waitFor();
    assert.equal(await phone.status('GET', '/api/session'), 401);
    assert.equal(await laptop.status('GET', '/api/session'), 401);
    await dlg.getByRole('button', { name: 'Close' }).click();
    await page.reload();
    await page.locator('.room-list li').first().waitFor();
  });
});
