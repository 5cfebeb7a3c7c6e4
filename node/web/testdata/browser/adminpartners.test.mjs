// The admin's partner list across real nodes: each partner by its
// organization's name, connected or offline since when. The Go test
// TestBrowserAdminPartners starts three nodes and stops the third.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cfg, launch, open, login, shot } from './lib.mjs';

let browser;
let root;

before(async () => {
  browser = await launch();
  root = await open(browser, 'root');
  await login(root, '/admin/partners');
});

after(async () => {
  if (root) assert.deepEqual(root.errors, [], 'uncaught errors in the page');
  await browser?.close();
});

test('partners show by organization, connected or offline since', async () => {
  const { page } = root;
  const b = page.locator(`li.admin-partner[data-node-id="${cfg.values.b}"]`);
  const c = page.locator(`li.admin-partner[data-node-id="${cfg.values.c}"]`);
  await b.locator('.admin-partner-org', { hasText: cfg.values.orgB }).waitFor();
  await b.locator('.partner-state', { hasText: 'Connected' }).waitFor();
  await b.locator('.admin-partner-dot.on').waitFor();
  await c.locator('.admin-partner-org', { hasText: cfg.values.orgC }).waitFor();
  await c.locator('.partner-state', { hasText: /^Offline since / }).waitFor();
  await c.locator('.admin-partner-dot.off').waitFor();
  await b.getByText('1 shared room', { exact: true }).waitFor();
  await shot(page, 'admin-partners');
  // The status tab counts one of two connected.
  await page.locator('.admin-tabs').getByRole('tab', { name: 'Node status' }).click();
  await page.locator('dl.admin-status .status-partners', { hasText: '1 / 2' }).waitFor();
});
