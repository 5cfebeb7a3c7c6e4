// The app on a phone (375×812, touch): one pane at a time — rooms → room
// → details — with back navigation, nothing wider than the screen, and
// touch targets of at least 40 px. Bob logs in, opens a room from the
// list, reads, posts, completes a task and logs out. The Go test
// TestBrowserPhone seeds the node.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cfg, launch, open, message, roomItem, waitFor, expectValue, shot } from './lib.mjs';

const SITE = cfg.rooms.site;
const W = 375;

let browser;
let bob;

before(async () => {
  browser = await launch();
  bob = await open(browser, 'bob', { viewport: { width: W, height: 812 }, mobile: true });
});

after(async () => {
  if (bob) assert.deepEqual(bob.errors, [], 'uncaught errors in the page');
  await browser?.close();
});

/** fits checks nothing is wider than the screen and every control on
 * screen is at least 40 px both ways (text links inside messages and
 * descriptions excepted, as WCAG excepts inline links). */
async function fits(page, where) {
  const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(width <= W, `${where}: the page is ${width} px wide`);
  const small = await page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('button, a[href], select, input, textarea, summary')) {
      if (el.closest('.msg-body, .notice-body, .desc, .task-body, .quote, .info')) continue;
      const target = el.type === 'checkbox' && el.closest('label') ? el.closest('label') : el;
      const r = target.getBoundingClientRect();
      if (!r.width || !r.height) continue; // not shown
      if (r.bottom <= 0 || r.top >= innerHeight || r.right <= 0 || r.left >= innerWidth) continue;
      if (Math.round(r.width) < 40 || Math.round(r.height) < 40) {
        out.push(`${el.tagName.toLowerCase()}.${el.className} "${(el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 30)}" ${Math.round(r.width)}×${Math.round(r.height)}`);
      }
    }
    return out;
  });
  assert.deepEqual(small, [], `${where}: touch targets under 40 px`);
}

/** onScreen checks a control is fully inside the screen. */
async function onScreen(locator, what) {
  const box = await locator.boundingBox();
  assert.ok(box, `${what} is shown`);
  assert.ok(box.x >= 0 && box.x + box.width <= W && box.y >= 0 && box.y + box.height <= 812, `${what} is on screen: ${JSON.stringify(box)}`);
}

describe('on a phone', () => {
  test('log in: the room list is the first pane', async () => {
    const { page } = bob;
    await page.goto('/');
    await fits(page, 'login');
    await page.locator('#login').fill(bob.login);
    await page.locator('#password').fill(bob.password);
    await page.getByRole('button', { name: 'Log in' }).tap();
    await roomItem(page, SITE).waitFor();
    assert.ok(await page.locator('.pane-center').isHidden(), 'no room beside the list');
    await onScreen(page.getByRole('button', { name: 'New group chat' }), 'New group chat');
    await onScreen(page.getByRole('button', { name: 'Log out' }), 'Log out');
    await onScreen(page.locator('.topnav [data-nav="/tasks"]'), 'My tasks');
    await page.locator('.topnav [data-nav="/tasks"] .badge-count', { hasText: '1' }).waitFor();
    await fits(page, 'room list');
    await shot(page, 'phone-rooms');
  });

  test('open a room, read, post', async () => {
    const { page } = bob;
    await roomItem(page, SITE).locator('a').tap();
    await page.locator(`.room-view[data-room-id="${SITE}"]`).waitFor();
    assert.ok(await page.locator('.pane-rooms').isHidden(), 'the room list gives way to the room');
    // Bob had not read it: it opens at the first unread message.
    await page.locator('.unread-divider').waitFor();
    await message(page, 'Can you check the delivery?').waitFor();
    await waitFor(async () => !(await roomItem(page, SITE).locator('.badge-unread').count()), 'read once on screen');
    await fits(page, 'room');
    // A tap on a message shows its actions, large enough to tap.
    const msg = message(page, 'Today\'s plan');
    await msg.locator('.msg-body').tap();
    await msg.locator('[data-action=reply]').waitFor();
    await fits(page, 'message actions');
    await msg.locator('.msg-body').tap();
    await msg.locator('[data-action=reply]').waitFor({ state: 'hidden' });
    // The composer fits, and Send is on screen.
    const input = page.locator('.composer-input');
    await onScreen(input, 'the composer');
    await onScreen(page.getByRole('button', { name: 'Send' }), 'Send');
    await input.tap();
    await input.fill('了解です。On my way 🚚');
    await page.getByRole('button', { name: 'Send' }).tap();
    await expectValue(input, '');
    await message(page, 'On my way 🚚').waitFor();
    await fits(page, 'after posting');
    await shot(page, 'phone-room');
  });

  test('complete a task in the details pane, and go back', async () => {
    const { page } = bob;
    await page.getByRole('button', { name: 'About' }).tap();
    const task = page.locator('.side-tasks li.task', { hasText: 'Check the concrete delivery' });
    await task.waitFor();
    assert.ok(await page.locator('.pane-center').isHidden(), 'the details replace the room');
    await fits(page, 'details');
    await shot(page, 'phone-details');
    await task.locator('input.task-toggle').tap();
    await task.waitFor({ state: 'detached' });
    await page.locator('.topnav [data-nav="/tasks"] .badge-count').waitFor({ state: 'hidden' });
    // Back to the room, then back to the list.
    await page.getByRole('button', { name: 'Back to the chat' }).tap();
    await page.locator('.composer-input').waitFor();
    assert.ok(await page.locator('.pane-side').isHidden());
    await page.getByRole('link', { name: 'Back to chats' }).tap();
    await roomItem(page, SITE).waitFor();
    assert.ok(await page.locator('.pane-center').isHidden());
    // The browser's back button goes to the room again.
    await page.goBack();
    await page.locator(`.room-view[data-room-id="${SITE}"] .composer-input`).waitFor();
    assert.ok(await page.locator('.pane-rooms').isHidden());
    await fits(page, 'room again');
  });

  test('My tasks and Contacts fit, and log out is reachable', async () => {
    const { page } = bob;
    await page.locator('.topnav [data-nav="/tasks"]').tap();
    await page.locator('.page-tasks').waitFor();
    await fits(page, 'my tasks');
    await page.locator('.topnav [data-nav="/contacts"]').tap();
    await page.locator('.contact-form').waitFor();
    await fits(page, 'contacts');
    await page.getByRole('button', { name: 'Log out' }).tap();
    await page.locator('#login').waitFor();
  });
});
