// Two people on two different organizations' nodes, in a room the nodes
// share over libp2p: messages, mentions and tasks go both ways live. The
// Go test TestBrowserAcrossNodes starts the nodes; each person's base URL
// is their own node, and the room has a different room_id on each.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cfg, launch, open, login, openRoom, send, message } from './lib.mjs';

const ON_A = cfg.rooms.alice;
const ON_B = cfg.rooms.bob;
let browser;
let alice;
let bob;

before(async () => {
  browser = await launch();
  [alice, bob] = await Promise.all([open(browser, 'alice'), open(browser, 'bob')]);
  await Promise.all([login(alice), login(bob)]);
});

after(async () => {
  for (const p of [alice, bob]) if (p) assert.deepEqual(p.errors, [], `uncaught errors in ${p.who}'s page`);
  await browser?.close();
});

test('people on two nodes exchange messages, a mention and a task live', async () => {
  await openRoom(alice, ON_A);
  await openRoom(bob, ON_B);

  await send(alice, 'Hello from Org A 🇯🇵 おはようございます');
  await message(bob.page, 'Hello from Org A').waitFor();
  await send(bob, 'Hello back from Org B');
  await message(alice.page, 'Hello back from Org B').waitFor();

  // A mention through the To picker, rendered on the other node as a
  // mention of Bob.
  await alice.page.locator('[data-tool=to]').click();
  await alice.page.locator('.picker-list li', { hasText: bob.name }).click();
  const input = alice.page.locator('.composer-input');
  await input.press('End');
  await input.pressSequentially('please check the contract');
  await input.press('Enter');
  const mention = message(bob.page, 'please check the contract');
  await mention.locator(`.chip-to.chip-me[data-aid="${bob.account_id}"]`).waitFor();
  assert.ok(await mention.evaluate((el) => el.classList.contains('tome')), 'the mention is marked as to Bob on his node');

  // Bob gives Alice a task; she completes it; Bob sees it done.
  await bob.page.locator('.composer-input').fill('Sign the contract');
  await bob.page.locator('[data-tool=task]').click();
  const dlg = bob.page.locator('dialog.dialog-task');
  await dlg.locator('label.check', { hasText: alice.name }).locator('input').check();
  await dlg.getByRole('button', { name: 'Add task' }).click();
  await dlg.waitFor({ state: 'detached' });
  const aliceTask = alice.page.locator('.side-tasks li.task', { hasText: 'Sign the contract' });
  await aliceTask.waitFor();
  await aliceTask.locator('input.task-toggle').click();
  await bob.page.locator('.side-tasks li.task', { hasText: 'Sign the contract' }).waitFor({ state: 'detached' });
  await bob.page.locator('.side-tasks [data-tab=done]').click();
  await bob.page.locator('.side-tasks li.task[data-status=done]', { hasText: 'Sign the contract' }).waitFor();
});
