// Settings → Webhooks: add one (the token is shown once), a URL on the
// node's own network refused, disable and enable, the delivery log,
// delete. The Go test TestBrowserWebhooks starts the node.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, login, apiClient, expectCount, shot } from './lib.mjs';

let browser;
let bot;

before(async () => {
  browser = await launch();
  bot = await open(browser, 'bot');
  await login(bot);
});

after(async () => {
  if (bot) assert.deepEqual(bot.errors, [], 'uncaught errors in the page');
  await browser?.close();
});

describe('webhooks', () => {
  test('add, refuse a private address, disable, enable, log, delete', async () => {
    const { page } = bot;
    const api = await apiClient(bot);
    await page.getByRole('button', { name: 'Settings' }).click();
    const dlg = page.locator('dialog.dialog-settings');
    const section = dlg.locator('fieldset.webhooks');
    await section.getByText('No webhooks yet.').waitFor();

    // The node refuses a URL that reaches its own network.
    await section.getByLabel('URL').fill('http://127.0.0.1:8080/hook');
    await section.getByRole('button', { name: 'Add webhook' }).click();
    await section.locator('.form-error', { hasText: 'loopback address' }).waitFor();
    assert.deepEqual(await api.call('GET', '/api/webhooks'), []);

    // A public one is added with the events checked; Enter adds, and the
    // dialog stays open.
    await section.getByLabel('Edited messages').check();
    await section.getByLabel('Mentions of me').uncheck();
    await section.getByLabel('URL').fill('https://203.0.113.9/chatwork');
    await section.getByLabel('URL').press('Enter');
    const token = await section.locator('code.webhook-token').textContent();
    assert.match(token, /^[A-Za-z0-9+/]{43}=$/, 'a base64 token of 32 bytes');
    assert.ok(await dlg.isVisible());
    const rows = section.locator('li.webhook');
    await expectCount(rows, 1);
    const row = rows.first();
    await row.getByText('https://203.0.113.9/chatwork').waitFor();
    await row.getByText('New messages, Edited messages').waitFor();
    await row.locator('.webhook-state', { hasText: 'Enabled' }).waitFor();
    const [hook] = await api.call('GET', '/api/webhooks');
    assert.deepEqual(hook.events, ['message_created', 'message_updated']);
    assert.equal(hook.token, undefined, 'the list never shows the token');
    await shot(page, 'settings-webhooks');

    await row.getByRole('button', { name: 'Disable' }).click();
    await section.locator('li.webhook[data-enabled=""] .webhook-state', { hasText: 'Disabled: disabled by its account' }).waitFor();
    await section.locator('li.webhook').getByRole('button', { name: 'Enable' }).click();
    await section.locator('li.webhook[data-enabled="1"]').waitFor();

    await section.locator('li.webhook').getByRole('button', { name: 'Deliveries' }).click();
    await section.locator('.webhook-log', { hasText: 'No deliveries yet.' }).waitFor();

    await section.locator('li.webhook').getByRole('button', { name: 'Delete' }).click();
    await section.getByText('No webhooks yet.').waitFor();
    assert.deepEqual(await api.call('GET', '/api/webhooks'), []);
  });
});
