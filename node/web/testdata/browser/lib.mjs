// Helpers of the browser tests: the configuration the Go test passes in
// HORENSO_E2E, launching Debian's Chromium through playwright-core, people
// with their own browser context, and an API client for acting "from
// elsewhere" (another device of the same person).
//
// Every wait is on a condition (playwright's auto-waiting locators,
// expect-like polling); there are no fixed sleeps.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const cfg = JSON.parse(process.env.HORENSO_E2E || '{}');

export const TIMEOUT = 10_000;

export async function launch() {
  return chromium.launch({
    executablePath: process.env.HORENSO_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** open gives a person their own browser context (cookies, storage) and
 * page on their node. */
export async function open(browser, who, opts = {}) {
  const p = cfg.people[who];
  if (!p) throw new Error(`no person ${who} in HORENSO_E2E`);
  const context = await browser.newContext({
    baseURL: p.base,
    locale: opts.locale || 'en-US',
    timezoneId: 'Asia/Tokyo',
    viewport: opts.viewport || { width: 1280, height: 800 },
    ...(opts.mobile ? { isMobile: true, hasTouch: true } : {}),
  });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const errors = [];
  page.on('pageerror', (e) => errors.push(`${who}: page error: ${e.message}`));
  // The app moves the read marker only forward, so the node never refuses
  // it; a refusal shows in the console as a failed request.
  page.on('response', (r) => {
    if (r.status() >= 400 && r.request().method() === 'PUT' && /\/(messages\/)?read$/.test(new URL(r.url()).pathname)) {
      errors.push(`${who}: read marker refused: ${r.status()} ${r.url()}`);
    }
  });
  page.on('console', (m) => {
    if (cfg.trace) console.log(`  [${who} console.${m.type()}] ${m.text()}`);
  });
  if (cfg.trace) {
    page.on('requestfinished', async (r) => {
      const res = await r.response();
      console.log(`  [${who}] ${r.method()} ${r.url()} → ${res ? res.status() : '?'}`);
    });
  }
  return { ...p, who, context, page, errors };
}

/** login logs a person in through the login form. */
export async function login(person, path = '/') {
  const { page } = person;
  await page.goto(path);
  await page.locator('#login').fill(person.login);
  await page.locator('#password').fill(person.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('.room-list li').first().waitFor();
}

/** roomItem is the room list entry of a room. */
export const roomItem = (page, roomId) => page.locator(`.room-list li[data-room-id="${roomId}"]`);

/** openRoom clicks a room in the list and waits for its timeline. The list
 * reorders as messages arrive, so a click may land on the room that just
 * moved into the place; then it clicks again. */
export async function openRoom(person, roomId) {
  const { page } = person;
  const view = page.locator(`.room-view[data-room-id="${roomId}"]`);
  await waitFor(async () => {
    await roomItem(page, roomId).locator('a').click();
    return view.waitFor({ timeout: 2000 }).then(() => true, () => false);
  }, `room ${roomId} to open`);
  await page.locator('.timeline-top:not(:has(.spinner))').waitFor();
}

/** send types a message into the composer and sends it with Enter. */
export async function send(person, text) {
  const input = person.page.locator('.composer-input');
  await input.fill(text);
  await input.press('Enter');
  await expectValue(input, '');
}

/** message finds the message whose body contains text. */
export const message = (page, text) => page.locator('li.msg', { has: page.locator('.msg-body', { hasText: text }) });

/** waitFor polls fn until it returns a truthy value. */
export async function waitFor(fn, what, timeout = TIMEOUT) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 50)); // poll interval
  }
}

export async function expectText(locator, text) {
  await waitFor(async () => (await locator.textContent()) === text, `text ${JSON.stringify(text)} in ${locator}`);
}

export async function expectValue(locator, value) {
  await waitFor(async () => (await locator.inputValue()) === value, `value ${JSON.stringify(value)} in ${locator}`);
}

export async function expectCount(locator, n) {
  await waitFor(async () => (await locator.count()) === n, `${n} of ${locator}`);
}

/** shot saves a screenshot when the Go test asked for them. */
export async function shot(page, name, opts = {}) {
  if (!cfg.screenshots) return;
  mkdirSync(cfg.screenshots, { recursive: true });
  await page.screenshot({ path: join(cfg.screenshots, `${name}.png`), ...opts });
}

/** apiClient logs in over HTTP (as another device would) and makes API
 * calls with the session cookie and CSRF token. */
export async function apiClient(person) {
  const res = await fetch(new URL('/api/login', person.base), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ login: person.login, password: person.password }),
  });
  if (!res.ok) throw new Error(`login ${person.login}: ${res.status} ${await res.text()}`);
  const s = await res.json();
  const cookie = res.headers.get('set-cookie').split(';')[0];
  const call = async (method, path, form) => {
    const r = await fetch(new URL(path, person.base), {
      method,
      headers: { Cookie: cookie, 'X-CSRF-Token': s.csrf_token, ...(form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) },
      body: form ? new URLSearchParams(form) : undefined,
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return { session: s, call, status: async (method, path) => (await fetch(new URL(path, person.base), { method, headers: { Cookie: cookie } })).status };
}

/** hook calls one of the Go test's hooks on a person's node. */
export async function hook(who, name) {
  const base = cfg.hooks[who];
  const res = await fetch(new URL(`/_test/${name}`, base), { method: 'POST' });
  if (res.status !== 204) throw new Error(`hook ${name}: ${res.status}`);
}
