// Settings: API tokens. Alice makes a token that may only read messages
// of one room, sees it once, uses it from "elsewhere" (plain fetch), and
// revokes it. The Go test TestBrowserTokens starts the node.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, login, cfg, expectCount, shot, waitFor } from './lib.mjs';

const { general: GENERAL, other: OTHER } = cfg.rooms;
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

/** call makes a ChatWork API request with an API token, as a bot does. */
async function call(token, method, path, form) {
  const r = await fetch(new URL(path, alice.base), {
    method,
    headers: { 'X-ChatWorkToken': token, ...(form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) },
    body: form ? new URLSearchParams(form) : undefined,
  });
  return r.status;
}

describe('API tokens', () => {
  test('create a scoped, room-limited token, shown once; use it; revoke it', async () => {
    const { page } = alice;
    await page.getByRole('button', { name: 'Settings' }).click();
    const dlg = page.locator('dialog.dialog-settings');
    const section = dlg.locator('fieldset.tokens');
    await section.locator('.token-none', { hasText: 'No API tokens.' }).waitFor();

    await section.locator('summary', { hasText: 'New API token' }).click();
    await section.getByLabel('What it is for').fill('CI reader');
    await section.locator('input[name=token_scope][value="rooms.messages:read"]').check();
    await section.locator('select[name=token_rooms]').selectOption(String(GENERAL));
    await section.locator('select[name=token_expires]').selectOption('30');
    await section.getByRole('button', { name: 'Create token' }).click();

    await section.locator('.token-new [role=status]', { hasText: 'will not be shown again' }).waitFor();
    const token = await section.locator('input.token-value').inputValue();
    assert.ok(token.length >= 40, `token ${token}`);
    const rows = section.locator('ul.token-list li.token');
    await expectCount(rows, 1);
    const row = rows.first();
    await row.locator('.token-name', { hasText: 'CI reader' }).waitFor();
    await row.locator('.token-scope-list code', { hasText: 'rooms.messages:read' }).waitFor();
    await row.locator('.token-meta', { hasText: `rooms ${GENERAL}` }).waitFor();
    await row.locator('.token-meta', { hasText: 'expires' }).waitFor();
    await shot(page, 'settings-tokens');
    // The secret is nowhere in the list.
    assert.ok(!(await section.locator('ul.token-list').innerText()).includes(token));

    // What the token may do: read General's messages, nothing else.
    assert.ok([200, 204].includes(await call(token, 'GET', `/v2/rooms/${GENERAL}/messages?force=1`)));
    assert.equal(await call(token, 'POST', `/v2/rooms/${GENERAL}/messages`, { body: 'from a bot' }), 403);
    assert.equal(await call(token, 'GET', `/v2/rooms/${OTHER}/messages?force=1`), 403);
    assert.equal(await call(token, 'GET', '/v2/me'), 403);

    // Its use shows after reopening the settings.
    await dlg.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('button', { name: 'Settings' }).click();
    const again = page.locator('dialog.dialog-settings fieldset.tokens li.token');
    await again.locator('.token-meta', { hasText: 'last used' }).waitFor();
    assert.equal(await page.locator('dialog.dialog-settings input.token-value').count(), 0, 'the token is shown only once');

    await again.getByRole('button', { name: 'Revoke' }).click();
    await expectCount(page.locator('dialog.dialog-settings fieldset.tokens li.token'), 0);
    await waitFor(async () => (await call(token, 'GET', `/v2/rooms/${GENERAL}/messages?force=1`)) === 401, 'the revoked token refused');
    await page.locator('dialog.dialog-settings').getByRole('button', { name: 'Close' }).click();
  });
});
