// Settings: the list of one's sessions with a button to log another one
// out, and changing the password, which logs the other sessions out. The
// Go test TestBrowserSessions starts the node.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, login, apiClient, expectCount, shot } from './lib.mjs';

let browser;
let alice;

before(async () => {
  browser = await launch();
  alice = await open(browser, 'alice');
  await login(alice);
});

after(async () => {
  if (alice) assert.deepEqual(alice.errors, [], 'uncaught errors in the page');
  await browser?.close();
});

async function openSettings(page) {
  await page.getByRole('button', { name: 'Settings' }).click();
  return page.locator('dialog.dialog-settings');
}

describe('sessions and password', () => {
  test('sessions: this browser is marked; another device is logged out from here', async () => {
    const { page } = alice;
    const phone = await apiClient(alice); // another device
    const dlg = await openSettings(page);
    const rows = dlg.locator('.session-list li.session');
    await expectCount(rows, 2);
    await dlg.locator('li.session[data-current="1"] .session-current', { hasText: 'This browser' }).waitFor();
    await dlg.locator('li.session[data-current="1"]', { hasText: /Chrome on Linux/ }).waitFor();
    await dlg.locator('li.session[data-current="1"]', { hasText: 'from 127.0.0.1' }).waitFor();
    await shot(page, 'settings-sessions');
    await dlg.locator('li.session:not([data-current="1"])').getByRole('button', { name: 'Log out' }).click();
    await expectCount(rows, 1);
    assert.equal(await phone.status('GET', '/api/session'), 401);
    await dlg.getByRole('button', { name: 'Close' }).click();
    // This browser is still logged in.
    await page.reload();
    await page.locator('.room-list li').first().waitFor();
  });

  test('password: a wrong current one is refused; a change logs the other sessions out', async () => {
    const { page } = alice;
    const laptop = await apiClient(alice);
    const dlg = await openSettings(page);
    await expectCount(dlg.locator('.session-list li.session'), 2);
    const current = dlg.locator('input[name=current_password]');
    const next = dlg.locator('input[name=new_password]');
    await current.fill('not my password');
    await next.fill('a much better passphrase');
    await dlg.getByRole('button', { name: 'Change password' }).click();
    await dlg.locator('.password-change .form-error', { hasText: 'the current password is wrong' }).waitFor();
    await next.fill('short');
    await dlg.getByRole('button', { name: 'Change password' }).click();
    await dlg.locator('.password-change .form-error', { hasText: 'at least 8 characters' }).waitFor();
    assert.equal(await laptop.status('GET', '/api/session'), 200);

    await current.fill(alice.password);
    await next.fill('a much better passphrase');
    await next.press('Enter'); // takes the change, does not close the dialog
    await dlg.locator('.password-change [role=status]', { hasText: 'Password changed' }).waitFor();
    assert.ok(await dlg.isVisible());
    await expectCount(dlg.locator('.session-list li.session'), 1);
    assert.equal(await laptop.status('GET', '/api/session'), 401);
    await dlg.getByRole('button', { name: 'Close' }).click();
    await page.reload();
    await page.locator('.room-list li').first().waitFor();
    // The new password logs in; the old one does not.
    await apiClient({ ...alice, password: 'a much better passphrase' });
    await assert.rejects(apiClient(alice), /401/);
  });
});
