// A member whose home node has not confirmed it carries an "unconfirmed"
// badge in the room's member list. The Go test TestBrowserUnconfirmedMember
// makes the room: Alice (node A) with Bob and a made-up ceo (node B).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cfg, launch, open, login, openRoom } from './lib.mjs';

let browser;
let alice;

before(async () => {
  browser = await launch();
  alice = await open(browser, 'alice');
  await login(alice);
});

after(async () => {
  if (alice) assert.deepEqual(alice.errors, [], "uncaught errors in alice's page");
  await browser?.close();
});

test('the member list marks members their node has not confirmed', async () => {
  await openRoom(alice, cfg.rooms.alice);
  const row = (who) => alice.page.locator(`.side-members li.member[data-aid="${cfg.people[who].account_id}"]`);
  await row('ceo').locator('.badge-unconfirmed').waitFor();
  // Bob's node confirms him by telling the room his name; the list is
  // drawn again when that arrives.
  await row('bob').filter({ hasText: 'Bob' }).waitFor();
  await row('bob').locator('.badge-unconfirmed').waitFor({ state: 'detached' });
  assert.equal(await row('alice').locator('.badge-unconfirmed').count(), 0, 'alice is confirmed');
});
