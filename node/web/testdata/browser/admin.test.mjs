// The admin pages: users (add, log in, disable, enable, reset a
// password), partners (add by address, listed with their state), another
// account's API tokens, the node's status; and nothing of it for someone
// who is not an admin. The Go test TestBrowserAdmin starts the node.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cfg, launch, open, login, apiClient, expectCount, shot } from './lib.mjs';

let browser;
let root;
let alice;
let dave;

before(async () => {
  browser = await launch();
  root = await open(browser, 'root');
  alice = await open(browser, 'alice');
  dave = await open(browser, 'dave');
  await login(root);
  // confirm() of reset and remove: the admin says yes.
  root.page.on('dialog', (d) => d.accept());
});

after(async () => {
  for (const p of [root, alice, dave]) if (p) assert.deepEqual(p.errors, [], 'uncaught errors in the page');
  await browser?.close();
});

const userRow = (page, handle) => page.locator(`li.admin-user[data-handle="${handle}"]`);

/** tryLogin submits the login form as p with password pw. */
async function tryLogin(p, pw) {
  const { page } = p;
  await page.goto('/');
  await page.locator('#login').fill(p.login);
  await page.locator('#password').fill(pw);
  await page.getByRole('button', { name: 'Log in' }).click();
}

async function openTab(page, name) {
  await page.locator('.admin-tabs').getByRole('tab', { name }).click();
}

describe('admin', () => {
  test('the admin adds a user, who then logs in', async () => {
    const { page } = root;
    await page.locator('.topnav').getByRole('link', { name: 'Admin' }).click();
    await page.waitForURL('**/admin');
    await userRow(page, 'alice').waitFor();
    await userRow(page, 'root').locator('.admin-badge', { hasText: 'admin' }).waitFor();
    const form = page.locator('form.admin-add-user');
    await form.locator('input[name=handle]').fill('dave');
    await form.locator('input[name=name]').fill('Dave Ito');
    await form.locator('input[name=email]').fill('dave@acme.example');
    await form.locator('input[name=password]').fill(dave.password);
    await form.getByRole('button', { name: 'Add user' }).click();
    await page.locator('.admin-note', { hasText: 'dave added.' }).waitFor();
    await userRow(page, 'dave').locator('.admin-user-name', { hasText: 'Dave Ito' }).waitFor();
    await shot(page, 'admin-users');

    await login(dave);
    await dave.page.locator('.topbar .user-name', { hasText: 'Dave Ito' }).waitFor();
    assert.equal(await dave.page.locator('.topnav').getByRole('link', { name: 'Admin' }).count(), 0);
  });

  test('without a password given, the node makes one, shown once', async () => {
    const { page } = root;
    const form = page.locator('form.admin-add-user');
    await form.locator('input[name=handle]').fill('erin');
    await form.getByRole('button', { name: 'Add user' }).click();
    const pw = await page.locator('.onetime input.onetime-password').inputValue();
    assert.ok(pw.length >= 16, `generated password ${pw}`);
    await userRow(page, 'erin').waitFor();
    await apiClient({ base: cfg.people.root.base, login: 'erin', password: pw });
  });

  test('the admin disables a user, who then cannot log in; enabled, they can', async () => {
    const { page } = root;
    await userRow(page, 'dave').getByRole('button', { name: 'Disable' }).click();
    await page.locator('li.admin-user[data-handle="dave"][data-disabled="1"]').waitFor();
    // Dave's open session ends, and logging in again is refused.
    await dave.page.reload();
    await dave.page.locator('#login').waitFor();
    await tryLogin(dave, dave.password);
    await dave.page.locator('.login-form .form-error', { hasText: 'account is disabled' }).waitFor();

    await userRow(page, 'dave').getByRole('button', { name: 'Enable' }).click();
    await page.locator('li.admin-user[data-handle="dave"][data-disabled=""]').waitFor();
    await tryLogin(dave, dave.password);
    await dave.page.locator('.room-list li').first().waitFor();
  });

  test('a reset password is shown once, and replaces the old one', async () => {
    const { page } = root;
    await userRow(page, 'dave').getByRole('button', { name: 'Reset password' }).click();
    const box = page.locator('.onetime', { hasText: 'Password for dave' });
    await box.waitFor();
    const pw = await box.locator('input.onetime-password').inputValue();
    assert.notEqual(pw, dave.password);
    // Dave's session ended with the reset; the old password fails.
    await dave.page.reload();
    await dave.page.locator('#login').waitFor();
    await assert.rejects(apiClient(dave), /401/);
    await apiClient({ ...dave, password: pw });
  });

  test('the admin adds a partner by its address and sees it listed with its state', async () => {
    const { page } = root;
    await openTab(page, 'Partners');
    await page.locator('.admin-partners li', { hasText: 'No partners yet.' }).waitFor();
    const form = page.locator('form.admin-add-partner');
    await form.locator('input[name=addr]').fill('/ip4/127.0.0.1/tcp/1');
    await form.getByRole('button', { name: 'Add partner' }).click();
    await page.locator('.admin-section .form-error', { hasText: '/p2p/' }).waitFor();
    await form.locator('input[name=addr]').fill(cfg.values.partner);
    await form.getByRole('button', { name: 'Add partner' }).click();
    const nodeId = cfg.values.partner.split('/p2p/')[1];
    const row = page.locator(`li.admin-partner[data-node-id="${nodeId}"]`);
    await row.locator('.admin-addr', { hasText: cfg.values.partner }).waitFor();
    await row.locator('.admin-partner-org', { hasText: 'Organization not known yet' }).waitFor();
    await row.locator('.partner-state', { hasText: /Offline since|Not connected/ }).waitFor();
    await shot(page, 'admin-partners');
    // Removed, it is gone.
    await row.getByRole('button', { name: 'Remove' }).click();
    await expectCount(page.locator('li.admin-partner'), 0);
    await form.locator('input[name=addr]').fill(cfg.values.partner);
    await form.getByRole('button', { name: 'Add partner' }).click();
    await row.waitFor();
  });

  test('the node status shows who it is and its partners', async () => {
    const { page } = root;
    await openTab(page, 'Node status');
    const nodeId = cfg.values.partner.split('/p2p/')[1];
    const st = page.locator('dl.admin-status');
    await st.locator('.status-node-id').waitFor();
    assert.notEqual(await st.locator('.status-node-id').textContent(), nodeId);
    await st.locator('.status-partners', { hasText: '0 / 1' }).waitFor();
    await st.locator('dd', { hasText: 'Acme' }).waitFor();
    await shot(page, 'admin-status');
  });

  test('the admin makes and revokes an API token for another account', async () => {
    const { page } = root;
    await openTab(page, 'Tokens & webhooks');
    await page.locator('select[name=token_user]').selectOption('alice');
    const section = page.locator('.admin-tokens fieldset.tokens');
    await section.locator('.token-none').waitFor();
    await section.locator('summary').click();
    await section.locator('input[name=token_name]').fill('alice bot');
    await section.getByRole('button', { name: 'Create token' }).click();
    const token = await section.locator('input.token-value').inputValue();
    const me = await fetch(new URL('/v2/me', cfg.people.alice.base), { headers: { 'X-ChatWorkToken': token } }).then((r) => r.json());
    assert.equal(me.chatwork_id, 'alice');
    await section.locator('li.token').getByRole('button', { name: 'Revoke' }).click();
    await section.locator('.token-none').waitFor();
    const r = await fetch(new URL('/v2/me', cfg.people.alice.base), { headers: { 'X-ChatWorkToken': token } });
    assert.equal(r.status, 401);
    await page.locator('.admin-tokens fieldset.webhooks').waitFor();
  });

  test('on a phone (375 px) the admin pages fit, with 40 px targets', async () => {
    const phone = await open(browser, 'root', { viewport: { width: 375, height: 812 }, mobile: true });
    await phone.page.goto('/admin/users');
    await phone.page.locator('#login').fill(phone.login);
    await phone.page.locator('#password').fill(phone.password);
    await phone.page.getByRole('button', { name: 'Log in' }).click();
    await phone.page.locator('.page-admin').waitFor(); // one pane: the page, not the room list
    for (const tab of ['users', 'partners', 'tokens', 'status']) {
      await phone.page.goto(`/admin/${tab}`);
      await phone.page.locator('.admin-section').waitFor();
      const width = await phone.page.evaluate(() => document.scrollingElement.scrollWidth);
      assert.ok(width <= 375, `${tab}: the page is ${width} px wide`);
      const small = await phone.page.evaluate(() => [...document.querySelectorAll('.page-admin button, .page-admin input, .page-admin select, .page-admin summary')]
        .map((el) => [el, (el.type === 'checkbox' && el.closest('label')) || el])
        .filter(([, t]) => { const r = t.getBoundingClientRect(); return r.width && r.height && (Math.round(r.width) < 40 || Math.round(r.height) < 40); })
        .map(([el]) => `${el.tagName.toLowerCase()} "${(el.textContent || el.name || '').trim().slice(0, 30)}"`));
      assert.deepEqual(small, [], `${tab}: controls under 40 px`);
      if (tab === 'partners') await shot(phone.page, 'phone-admin-partners');
    }
    assert.deepEqual(phone.errors, []);
    await phone.context.close();
  });

  test('someone who is not an admin has no admin page, and the admin API answers 403', async () => {
    await login(alice);
    const { page } = alice;
    assert.equal(await page.locator('.topnav').getByRole('link', { name: 'Admin' }).count(), 0);
    await page.goto('/admin');
    await page.locator('.admin-forbidden', { hasText: 'Only the node’s admins' }).waitFor();
    assert.equal(await page.locator('.admin-tabs').count(), 0);
    const c = await apiClient(alice);
    await assert.rejects(c.call('GET', '/api/admin/users'), /403/);
    await assert.rejects(c.call('POST', '/api/admin/users', { handle: 'mallory', password: 'mallory-password' }), /403/);
    await assert.rejects(apiClient({ ...alice, login: 'mallory', password: 'mallory-password' }), /401/);
  });
});
