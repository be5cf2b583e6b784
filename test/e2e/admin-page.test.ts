/**
 * The admin page in headless Chromium on the local runtime, whose /admin API checks SigV4 as API
 * Gateway does: the page's calls go through the runtime's signing proxy (/console/admin/...), so
 * it lists rooms and creates one, sets a room's message to the line, mode and rate limit, shows a
 * room's fairness report, and stops it in an emergency;
 * the same call unsigned, straight to /admin, is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../local/preamble.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { Visitor, admin } from '../helpers/visitor.js';
import { TestBrowser } from './browser.js';

let runtime: LocalRuntime;
let browser: TestBrowser;

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0, rooms: [{ roomId: 'listed', capacity: 7 }], schedules: false, log: () => undefined });
  browser = await TestBrowser.launch();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
});

describe('the admin page', () => {
  it('lists and creates rooms, sets a message and stops a room through the signing proxy, while unsigned calls to /admin are refused', async () => {
    const page = await (await browser.visitor()).newPage();
    await page.goto(`${runtime.url}/admin`);
    await expect.poll(() => page.locator('#rooms-body').textContent(), { timeout: 15_000 }).toContain('listed');
    // Two visitors go in (the fairness report counts them below, once the token stream has been read).
    await Visitor.join(runtime.url, 'listed');
    await Visitor.join(runtime.url, 'listed');

    await page.fill('#new-room-id', 'from-page');
    await page.fill('#new-room-capacity', '12');
    await page.selectOption('#new-room-state', 'paused');
    await page.click('#create-room button[type="submit"]');
    await expect.poll(() => page.locator('#admin-message').textContent(), { timeout: 10_000 }).toBe('Room from-page is paused with capacity 12.');
    await expect(admin(runtime.url, 'GET', '/rooms/from-page')).resolves.toMatchObject({ capacity: 12, state: 'paused' });

    // The message to the line, saved with the row; then the emergency stop, after the operator confirms.
    const message = page.getByRole('textbox', { name: /Message to the line of room listed/ });
    await message.fill('Saturday is sold out');
    await page.locator('#rooms-body tr', { hasText: 'listed' }).getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('#admin-message').textContent(), { timeout: 10_000 }).toMatch(/^Saved listed: .*message “Saturday is sold out”/);
    await expect(admin(runtime.url, 'GET', '/rooms/listed')).resolves.toMatchObject({ message: 'Saturday is sold out', epoch: 0 });
    // The queueing mode and the rate limit, saved together; an empty rate removes the limit.
    const row = page.locator('#rooms-body tr', { hasText: 'listed' });
    await page.getByRole('combobox', { name: 'Queueing mode of room listed' }).selectOption('reject');
    await page.getByRole('spinbutton', { name: /Admissions a minute at most in room listed/ }).fill('600');
    await row.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('#admin-message').textContent(), { timeout: 10_000 }).toMatch(/^Saved listed: .*reject, at most 600 a minute/);
    await expect(admin(runtime.url, 'GET', '/rooms/listed')).resolves.toMatchObject({ mode: 'reject', newVisitorsPerMinute: 600 });
    await page.getByRole('spinbutton', { name: /Admissions a minute at most in room listed/ }).fill('');
    await row.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('#admin-message').textContent(), { timeout: 10_000 }).toMatch(/^Saved listed: .*no rate limit/);
    await expect(admin(runtime.url, 'GET', '/rooms/listed')).resolves.not.toHaveProperty('newVisitorsPerMinute');
    // The fairness report: the two visitors admitted above went through the real pipeline (token
    // stream → stats aggregator → sample buckets), and show in the report the row's Report button opens.
    await expect
      .poll(async () => (await admin<{ admitted: number }>(runtime.url, 'GET', '/rooms/listed/report')).admitted, { timeout: 20_000 })
      .toBeGreaterThanOrEqual(2);
    await page.getByRole('button', { name: 'Fairness report of room listed' }).click();
    await expect.poll(() => page.locator('#room-report').textContent(), { timeout: 10_000 }).toMatch(/listed: the last hour[\s\S]*Admitted2[\s\S]*Kendall tau/);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Emergency stop of room listed' }).click();
    await expect.poll(() => page.locator('#admin-message').textContent(), { timeout: 10_000 }).toMatch(/^Stopped listed: paused/);
    await expect(admin(runtime.url, 'GET', '/rooms/listed')).resolves.toMatchObject({ state: 'paused', epoch: 1, message: 'Saturday is sold out' });

    const unsigned = await page.evaluate(async () => (await fetch('/admin/rooms')).status);
    expect(unsigned).toBe(403);
    // Another site in the operator's browser cannot make the proxy sign for it.
    const crossSite = await fetch(`${runtime.url}/console/admin/rooms`, { headers: { 'Sec-Fetch-Site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
  }, 120_000);
});
