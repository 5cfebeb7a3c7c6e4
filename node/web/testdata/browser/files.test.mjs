// Files between two organizations' nodes: Alice drops an image and a
// text file onto the room on her node (a third she cancels), watches the
// progress bars, sees the image's thumbnail and opens it in the lightbox;
// Bob, on his own node, sees both cards with the thumbnail his node made
// from the bytes it fetched, downloads the text file, and finds both in
// the Files list of the side panel, which he filters by person. The Go
// test TestBrowserFiles starts the nodes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { cfg, launch, open, login, openRoom, waitFor, expectCount } from './lib.mjs';

const ON_A = cfg.rooms.alice;
const ON_B = cfg.rooms.bob;
const BIG = 3 << 20;
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

// drop drops files made in the page onto the timeline, as a drag from the
// desktop does. kinds: 'png' (a 600×400 image), 'big' (3 MiB of text),
// 'small'.
async function drop(page, kinds) {
  await page.evaluate(async ({ kinds, big }) => {
    const dt = new DataTransfer();
    for (const k of kinds) {
      if (k === 'png') {
        const c = document.createElement('canvas');
        c.width = 600;
        c.height = 400;
        const g = c.getContext('2d');
        g.fillStyle = '#12806a';
        g.fillRect(0, 0, 600, 400);
        g.fillStyle = '#ffffff';
        g.fillRect(100, 100, 200, 100);
        const blob = await new Promise((r) => c.toBlob(r, 'image/png'));
        dt.items.add(new File([blob], 'photo.png', { type: 'image/png' }));
      } else if (k === 'big') {
        dt.items.add(new File([new Uint8Array(big).fill(65)], 'big.txt', { type: 'text/plain' }));
      } else {
        dt.items.add(new File(['never mind'], 'cancel-me.txt', { type: 'text/plain' }));
      }
    }
    const tl = document.querySelector('.timeline');
    tl.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    tl.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, { kinds, big: BIG });
}

const card = (page, name) => page.locator('.file-card', { has: page.locator('.file-name', { hasText: name }) });

async function thumbWidth(img) {
  return waitFor(() => img.evaluate((el) => el.complete && el.naturalWidth), 'the thumbnail to load');
}

test('files go from a drop on one node to a download on the other', async () => {
  await openRoom(alice, ON_A);
  await openRoom(bob, ON_B);
  const page = alice.page;

  // Hold the uploads, so that their progress bars and the cancel button
  // can be seen before they finish.
  const held = [];
  await page.route('**/v2/rooms/*/files', (route) => { held.push(route); });
  await drop(page, ['png', 'big']);
  await expectCount(page.locator('.uploads li.upload progress.upload-progress'), 2);
  await drop(page, ['small']);
  await waitFor(() => held.length === 3, 'three uploads sent');
  const cancelled = page.locator('.uploads li.upload[data-name="cancel-me.txt"]');
  await cancelled.locator('.upload-cancel').click();
  await cancelled.waitFor({ state: 'detached' });
  for (const r of held) {
    if ((r.request().postData() || '').includes('cancel-me.txt')) await r.abort().catch(() => {});
    else await r.continue();
  }
  await page.unroute('**/v2/rooms/*/files');
  await expectCount(page.locator('.uploads li.upload'), 0);

  // Alice's timeline: both cards; the image's thumbnail, made by her node,
  // fits 320 pixels; the lightbox shows the image itself.
  await card(page, 'big.txt').waitFor();
  const thumb = card(page, 'photo.png').locator('img.file-thumb');
  assert.equal(await thumbWidth(thumb), 320);
  await card(page, 'photo.png').locator('.file-preview').click();
  const full = page.locator('.lightbox img');
  await full.waitFor();
  assert.equal(await waitFor(() => full.evaluate((el) => el.complete && el.naturalWidth), 'the image to load'), 600);
  await page.keyboard.press('Escape');
  await page.locator('.lightbox').waitFor({ state: 'detached' });

  // Bob's node fetched the bytes from Alice's: his thumbnail and download.
  const bp = bob.page;
  assert.equal(await thumbWidth(card(bp, 'photo.png').locator('img.file-thumb')), 320);
  const [download] = await Promise.all([bp.waitForEvent('download'), card(bp, 'big.txt').locator('a.file-download').click()]);
  assert.equal(download.suggestedFilename(), 'big.txt');
  assert.equal(statSync(await download.path()).size, BIG);

  // The Files list: two files, none of them the cancelled one. Its
  // filter offers those whose files it lists (Alice), not every member:
  // by Alice both.
  const rows = bp.locator('.side-files li.file-row');
  await expectCount(rows, 2);
  assert.equal(await bp.locator('.side-files li.file-row', { hasText: 'cancel-me.txt' }).count(), 0);
  const filter = bp.locator('.side-files select.files-filter');
  await expectCount(filter.locator('option'), 2);
  assert.equal(await filter.locator('option', { hasText: bob.name }).count(), 0);
  await filter.selectOption({ label: alice.name });
  await expectCount(rows, 2);
  await filter.selectOption({ label: 'Everyone' });
  await expectCount(rows, 2);
});
