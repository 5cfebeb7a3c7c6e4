// Tasks surfaced: the My tasks count right after login, a done toggle on
// a task's notice in the timeline, due today and overdue highlighted,
// editing a task, and a task made from a reply without its header. The Go
// test TestBrowserTasks seeds the room and three tasks for Bob.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cfg, launch, open, login, openRoom, message, waitFor, expectText, apiClient, shot } from './lib.mjs';

const ROOM = cfg.rooms.release;
let browser;
let bob;
let bobAPI;

before(async () => {
  browser = await launch();
  bob = await open(browser, 'bob');
  bobAPI = await apiClient(bob);
  await login(bob, '/tasks');
});

after(async () => {
  if (bob) assert.deepEqual(bob.errors, [], 'uncaught errors in the page');
  await browser?.close();
});

const badge = (page) => page.locator('.topnav [data-nav="/tasks"] .badge-count');
const sideTask = (page, text) => page.locator('.side-tasks li.task', { hasText: text });
const notice = (page, text) => page.locator('li.msg.notice', { hasText: text });

describe('tasks', () => {
  test('My tasks shows its count right after login', async () => {
    await expectText(badge(bob.page), '3');
  });

  test('due today and overdue tasks stand out', async () => {
    const { page } = bob;
    const today = page.locator('.page-tasks li.task.due-today', { hasText: 'Due today task' });
    await today.locator('.task-due', { hasText: 'Due today' }).waitFor();
    await page.locator('.page-tasks li.task.overdue', { hasText: 'Overdue task' }).locator('.task-due', { hasText: 'Overdue' }).waitFor();
    const future = page.locator('.page-tasks li.task', { hasText: 'Future task' });
    assert.equal(await future.evaluate((el) => el.classList.contains('due-today') || el.classList.contains('overdue')), false);
    await openRoom(bob, ROOM);
    await sideTask(page, 'Due today task').and(page.locator('.due-today')).waitFor();
    await sideTask(page, 'Overdue task').and(page.locator('.overdue')).waitFor();
  });

  test('a task is done from its notice in the timeline', async () => {
    const { page } = bob;
    const row = notice(page, 'Future task');
    const toggle = row.locator('input.task-toggle');
    await toggle.waitFor();
    assert.equal(await toggle.isChecked(), false);
    await shot(page, 'task-notices');
    await toggle.click();
    await page.locator('li.msg.notice.done', { hasText: 'Future task' }).first().waitFor();
    await sideTask(page, 'Future task').waitFor({ state: 'detached' });
    await expectText(badge(page), '2');
    const tid = await page.locator('li.msg.notice.done', { hasText: 'Future task' }).first().getAttribute('data-task-id');
    const task = await bobAPI.call('GET', `/v2/rooms/${ROOM}/tasks/${tid}`);
    assert.equal(task.status, 'done');
    // The node tells of it: a "done" notice arrives live.
    await page.locator('li.msg.notice', { hasText: 'Future task' }).locator('.notice-body', { hasText: 'Completed' }).waitFor();
  });

  test('a task is edited: body, assignee, due date', async () => {
    const { page } = bob;
    const { alice } = cfg.people;
    const item = sideTask(page, 'Due today task');
    await item.locator('.task-edit').click();
    const dlg = page.locator('dialog.dialog-task');
    await dlg.waitFor();
    assert.equal(await dlg.locator('textarea').inputValue(), 'Due today task 今日');
    assert.ok(await dlg.locator('label.check', { hasText: bob.name }).locator('input').isChecked(), 'the assignee is ticked');
    assert.ok(await dlg.locator('input[type=date]').inputValue(), 'the due date is filled in');
    await dlg.locator('textarea').fill('Due today task 今日 (moved)');
    await dlg.locator('label.check', { hasText: bob.name }).locator('input').uncheck();
    await dlg.locator('label.check', { hasText: alice.name }).locator('input').check();
    await dlg.locator('input[type=date]').fill('2031-01-15');
    await dlg.getByRole('button', { name: 'Save task' }).click();
    await dlg.waitFor({ state: 'detached' });
    const edited = sideTask(page, 'Due today task 今日 (moved)');
    await edited.locator('.task-who', { hasText: alice.name }).waitFor();
    await edited.locator('.task-due', { hasText: '2031' }).waitFor();
    assert.equal(await edited.evaluate((el) => el.classList.contains('due-today')), false);
    await expectText(badge(page), '1');
    await page.locator('li.msg.notice', { hasText: 'Due today task 今日 (moved)' }).locator('.notice-body', { hasText: 'Edited' }).first().waitFor();
  });

  test('a task from a reply leaves out the reply header', async () => {
    const { page } = bob;
    const src = message(page, 'I will write the release notes');
    await src.hover();
    await src.locator('[data-action=task]').click();
    const dlg = page.locator('dialog.dialog-task');
    await dlg.waitFor();
    assert.equal(await dlg.locator('textarea').inputValue(), 'I will write the release notes by Friday.');
    await dlg.getByRole('button', { name: 'Cancel' }).click();
    await dlg.waitFor({ state: 'detached' });
  });
});
