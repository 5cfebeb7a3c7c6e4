// Room notices, icons, plurals and direct message notifications: Bob sees
// Carol join and leave and the description and icon change as notices,
// live; he picks an icon for his own room; a room of one reads "1 member";
// a direct message raises a desktop notification once he has turned them
// on. The Go test TestBrowserRoomNotices starts the node.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cfg, launch, open, login, openRoom, roomItem, waitFor, apiClient, shot } from './lib.mjs';

const { team: TEAM, solo: SOLO, direct: DIRECT } = cfg.rooms;
let browser;
let bob;
let aliceAPI;

before(async () => {
  browser = await launch();
  bob = await open(browser, 'bob');
  aliceAPI = await apiClient(cfg.people.alice);
  await login(bob, `/rooms/${TEAM}`);
});

after(async () => {
  if (bob) assert.deepEqual(bob.errors, [], 'uncaught errors in the page');
  await browser?.close();
});

const notice = (page, text) => page.locator('li.msg.notice', { hasText: text });

describe('room notices', () => {
  test('joining, leaving and a new description show as notices, live', async () => {
    const { page } = bob;
    const { alice, carol } = cfg.people;
    await openRoom(bob, TEAM);
    await page.locator('.room-sub', { hasText: '2 members' }).waitFor();
    await aliceAPI.call('PUT', `/v2/rooms/${TEAM}/members`, {
      members_admin_ids: String(alice.account_id), members_member_ids: `${bob.account_id},${carol.account_id}`,
    });
    await notice(page, carol.name).filter({ hasText: 'joined' }).waitFor();
    await page.locator('.room-sub', { hasText: '3 members' }).waitFor();
    const carolAPI = await apiClient(carol);
    await carolAPI.call('DELETE', `/v2/rooms/${TEAM}`, { action_type: 'leave' });
    await notice(page, carol.name).filter({ hasText: 'left' }).waitFor();
    await aliceAPI.call('PUT', `/v2/rooms/${TEAM}`, { description: 'Ship 2.0 in March. 三月に出荷。', icon_preset: 'idea' });
    await notice(page, 'Ship 2.0 in March').filter({ hasText: 'Description:' }).waitFor();
    await page.locator('.side-about .desc', { hasText: 'Ship 2.0 in March' }).waitFor();
    // The icon preset shows in the list and the header.
    await roomItem(page, TEAM).locator('.room-icon[data-icon=idea]').waitFor();
    await page.locator('.room-header .room-icon[data-icon=idea]').waitFor();
    await shot(page, 'notices');
  });

  test('a room of one has "1 member"; its admin picks an icon', async () => {
    const { page } = bob;
    await openRoom(bob, SOLO);
    await page.locator('.room-sub', { hasText: /^1 member$/ }).waitFor();
    await page.locator('.side-about').getByRole('button', { name: 'Edit' }).click();
    const dlg = page.locator('dialog');
    await dlg.getByRole('radio', { name: 'Star' }).check();
    await dlg.getByRole('button', { name: 'Save' }).click();
    await dlg.waitFor({ state: 'detached' });
    await roomItem(page, SOLO).locator('.room-icon[data-icon=star]').waitFor();
    const room = await aliceAPI.status('GET', `/v2/rooms/${SOLO}`);
    assert.equal(room, 404, 'alice is not in bob\'s room');
    const bobAPI = await apiClient(bob);
    assert.equal((await bobAPI.call('GET', `/v2/rooms/${SOLO}`)).icon_path, 'star');
  });

  test('a direct message raises a desktop notification when enabled', async () => {
    const { page } = bob;
    const { alice } = cfg.people;
    await page.evaluate(() => {
      window.__notes = [];
      window.Notification = class {
        static permission = 'default';
        static requestPermission() {
          window.Notification.permission = 'granted';
          return Promise.resolve('granted');
        }
        constructor(title, opts) { window.__notes.push({ title, body: opts.body }); }
        addEventListener() {}
        close() {}
      };
    });
    await page.getByRole('button', { name: 'Settings' }).click();
    const dlg = page.locator('dialog.dialog-settings');
    await dlg.getByText('Desktop notifications for mentions and direct messages').waitFor();
    await dlg.locator('input[name=notify]').check();
    await dlg.getByRole('button', { name: 'Close' }).click();
    await openRoom(bob, TEAM);
    await aliceAPI.call('POST', `/v2/rooms/${TEAM}/messages`, { body: 'Nothing for Bob in particular' });
    await aliceAPI.call('POST', `/v2/rooms/${DIRECT}/messages`, { body: 'Lunch at noon?' });
    const notes = await waitFor(() => page.evaluate(() => window.__notes.length && window.__notes), 'a notification');
    assert.equal(notes.length, 1, JSON.stringify(notes));
    assert.ok(notes[0].title.includes(alice.name) && notes[0].title.includes('direct message'), notes[0].title);
    assert.equal(notes[0].body, 'Lunch at noon?');
  });
});
