// A partner organization in a shared room: its state in the room's header
// (connected, offline since …) and "delivered to <org>" under my messages
// once its node acknowledged them, both live. The Go test
// TestBrowserPartners starts two nodes; the "partner" hooks stop and start
// the partner's node.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cfg, launch, open, login, openRoom, send, message, hook, shot } from './lib.mjs';

const ROOM = cfg.rooms.alice;
const NODE = process.env.HORENSO_PARTNER_NODE;
const ORG = process.env.HORENSO_PARTNER_ORG;
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

test('the partner organization\'s state and per-message delivery show live', async () => {
  const page = alice.page;
  await openRoom(alice, ROOM);
  const partner = page.locator(`.room-header .partner[data-node="${NODE}"]`);
  await partner.locator('.partner-org', { hasText: ORG }).waitFor();
  await page.locator(`.room-header .partner[data-node="${NODE}"][data-state=connected]`).waitFor();
  assert.match(await partner.locator('.partner-state').textContent(), /connected/);

  await send(alice, 'The quote is attached');
  const first = message(page, 'The quote is attached');
  await first.locator('.msg-delivered[data-state=all] .delivered-to', { hasText: `Delivered to ${ORG}` }).waitFor();

  // The partner's node goes down: the header says since when.
  await hook('partner', 'partner/stop');
  await page.locator(`.room-header .partner[data-node="${NODE}"][data-state=offline]`).waitFor();
  assert.match(await partner.locator('.partner-state').textContent(), /offline since \d/);

  await send(alice, 'Sent while Org B is away');
  const away = message(page, 'Sent while Org B is away');
  await away.locator('.msg-delivered[data-state=none] .delivered-waiting', { hasText: `Not yet at ${ORG}` }).waitFor();
  // What was delivered stays delivered.
  await first.locator('.msg-delivered[data-state=all]').waitFor();
  await shot(page, 'partners');

  // Back: it connects, takes the message in, and acknowledges it.
  await hook('partner', 'partner/start');
  await page.locator(`.room-header .partner[data-node="${NODE}"][data-state=connected]`).waitFor({ timeout: 30_000 });
  await away.locator('.msg-delivered[data-state=all] .delivered-to', { hasText: `Delivered to ${ORG}` }).waitFor({ timeout: 30_000 });
});

test('in Japanese', async () => {
  const ja = await open(browser, 'alice', { locale: 'ja-JP' });
  try {
    // login() clicks the English button; the form is the same.
    await ja.page.goto('/');
    await ja.page.locator('#login').fill(ja.login);
    await ja.page.locator('#password').fill(ja.password);
    await ja.page.locator('#password').press('Enter');
    await ja.page.locator('.room-list li').first().waitFor();
    await openRoom(ja, ROOM);
    await ja.page.locator(`.room-header .partner[data-node="${NODE}"] .partner-state`, { hasText: '接続中' }).waitFor();
    await message(ja.page, 'Sent while Org B is away').locator('.delivered-to', { hasText: `${ORG} に配信済み` }).waitFor();
    assert.deepEqual(ja.errors, []);
  } finally {
    await ja.context.close();
  }
});
