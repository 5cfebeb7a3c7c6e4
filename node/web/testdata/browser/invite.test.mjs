// Invitation links: /g/CODE asks Bob to log in, shows the room's name and
// the invitation's description, and joins him, or sends his request to the room's admins;
// Alice accepts it in the room's side panel. The Go test TestBrowserInvite
// makes the rooms and links.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cfg, launch, open, login, roomItem, shot } from './lib.mjs';

const { open: OPEN, board: BOARD } = cfg.rooms;
let browser;
let alice;
let bob;

before(async () => {
  browser = await launch();
  [alice, bob] = await Promise.all([open(browser, 'alice'), open(browser, 'bob')]);
});

after(async () => {
  for (const p of [alice, bob]) if (p) assert.deepEqual(p.errors, [], `uncaught errors in ${p.who}'s page`);
  await browser?.close();
});

describe('invitation links', () => {
  test('a link asks to log in, then shows the room and the invitation, and joins', async () => {
    const { page } = bob;
    await page.goto('/g/openhouse');
    await page.locator('#login').fill(bob.login);
    await page.locator('#password').fill(bob.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    const card = page.locator('.invite-card');
    await card.locator('.invite-name', { hasText: 'Open house オープン' }).waitFor();
    await card.locator('.invite-desc', { hasText: 'Everyone welcome.' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/g/openhouse');
    await card.getByRole('button', { name: 'Join the chat' }).click();
    await page.locator(`.room-view[data-room-id="${OPEN}"]`).waitFor();
    await roomItem(page, OPEN).waitFor();
    // Back at the link, Bob is a member.
    await page.goto('/g/openhouse');
    await card.locator('.invite-status', { hasText: 'You are a member' }).waitFor();
  });

  test('an unknown link says so', async () => {
    const { page } = bob;
    await page.goto('/g/no-such-link');
    await page.locator('.page-invite [role=status]', { hasText: 'does not exist' }).waitFor();
  });

  test('a link that needs acceptance sends a request, which an admin accepts', async () => {
    const { page } = bob;
    await page.goto('/g/board');
    const card = page.locator('.invite-card');
    await card.locator('.invite-status', { hasText: 'An admin of this chat lets people in.' }).waitFor();
    await card.locator('textarea').fill('I am the new treasurer. 会計担当です。');
    await shot(page, 'invite');
    await card.getByRole('button', { name: 'Ask to join' }).click();
    await card.locator('.invite-status', { hasText: 'Request sent' }).waitFor();
    assert.equal(await roomItem(page, BOARD).count(), 0);

    // The room list and the room's own record come after its members (as
    // they did under load): the requests must show once my role is known.
    await alice.page.route(new RegExp(`/v2/rooms(/${BOARD})?$`), async (route) => {
      await new Promise((r) => setTimeout(r, 800));
      await route.continue();
    });
    await login(alice, `/rooms/${BOARD}`);
    const req = alice.page.locator(`.side-requests li.request[data-aid="${bob.account_id}"]`);
    await req.locator('.request-message', { hasText: 'I am the new treasurer.' }).waitFor();
    await req.getByRole('button', { name: 'Accept' }).click();
    await req.waitFor({ state: 'detached' });
    await alice.page.locator(`.side-members li.member[data-aid="${bob.account_id}"]`).waitFor();
    assert.ok(await alice.page.locator('.side-requests').isHidden(), 'no requests left');
    // Bob's room list gains the room, live.
    await roomItem(page, BOARD).waitFor();
  });
});
