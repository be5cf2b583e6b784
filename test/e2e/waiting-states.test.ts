/**
 * The waiting page in headless Chromium, beyond the happy journey (issue 10, items 2 and 12):
 *
 * - a paused or closed room: visitors in line read that their place is kept, in English and in
 *   Korean, and back to "in line" once it reopens;
 * - the operator's message to the line (issue 12, item 6): shown as text (its markup as written),
 *   under the page's own heading in English and in Korean, announced politely when it comes and
 *   when it changes, gone once cleared; and shown to a visitor the closed room turns away;
 * - queueing modes: a room in reject mode turns a new visitor away with its own notice ("This line
 *   isn't taking new visitors", in English and in Korean) and the room's message, asking once,
 *   while the visitor already in line keeps its place; a passthrough room's page goes straight to
 *   the site;
 * - a tab in the background: Chrome's intensive throttling of a tab hidden for 5 minutes (chained
 *   timers woken about once a minute) cannot be waited for in a test, so the page's own timers are
 *   throttled to a minute by an init script and the tab reports itself hidden. The client's timers
 *   run in a Worker, so the visitor keeps heartbeating, is admitted, is told by the title and a
 *   notification (permission granted), and is taken to the site. The same page without Worker
 *   falls silent and loses its place: the throttling is real enough to matter.
 *
 * Not testable here: Chrome's real throttling and freezing policies (a frozen or discarded tab runs
 * nothing, Worker included; the ticket survives a reload for as long as its token lives), and the
 * notification as the system shows it.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../local/preamble.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { TestBrowser } from './browser.js';
import { ROOM_VIEW_MAX_AGE_MS } from '../../lambdas/domain/index.js';
import { Visitor, admin, sleep } from '../helpers/visitor.js';

const TIMEOUT_S = 3;
let runtime: LocalRuntime;
let browser: TestBrowser;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    timings: { heartbeatTimeoutSeconds: TIMEOUT_S, checkDelaySeconds: 1, heartbeatIntervalSeconds: 1 },
    rooms: [],
    schedules: false,
    log: () => undefined,
  });
  browser = await TestBrowser.launch();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
});

const page = async (locale: string, initScript?: string): Promise<Page> => (await browser.visitor(locale, initScript)).newPage();

const title = (p: Page) => p.locator('#wr-title').textContent();
const lead = (p: Page) => p.locator('#wr-lead').textContent();

describe('a paused or closed room', () => {
  it('tells the people in line that their place is kept, in English and in Korean, and takes it back when it reopens', async () => {
    const room = `hold-${Date.now()}`;
    await admin(runtime.url, 'PUT', `/rooms/${room}`, { capacity: 0 });
    const en = await page('en-US');
    const ko = await page('ko-KR');
    for (const p of [en, ko]) {
      await p.goto(`${runtime.url}/?room=${room}`);
      await p.locator('#wr-card[data-state="waiting"]').waitFor({ timeout: 15_000 });
    }
    await expect(title(en)).resolves.toBe('You’re in line');

    await admin(runtime.url, 'PUT', `/rooms/${room}`, { state: 'paused' });
    await en.locator('#wr-card[data-room-state="paused"]').waitFor({ timeout: 10_000 });
    await ko.locator('#wr-card[data-room-state="paused"]').waitFor({ timeout: 10_000 });
    await expect(title(en)).resolves.toBe('Entry is paused');
    await expect(lead(en)).resolves.toMatch(/Your place in line is kept/);
    await expect(title(ko)).resolves.toBe('입장이 잠시 중지되었습니다');
    await expect(en.locator('#wr-wait').textContent()).resolves.not.toMatch(/less than a minute/i);

    await admin(runtime.url, 'PUT', `/rooms/${room}`, { state: 'closed' });
    await en.locator('#wr-card[data-room-state="closed"]').waitFor({ timeout: 10_000 });
    await ko.locator('#wr-card[data-room-state="closed"]').waitFor({ timeout: 10_000 });
    await expect(title(en)).resolves.toBe('The waiting room is closed for now');
    await expect(lead(en)).resolves.toMatch(/keep your place/);
    await expect(title(ko)).resolves.toBe('대기실이 잠시 닫혀 있습니다');

    await admin(runtime.url, 'PUT', `/rooms/${room}`, { state: 'open' });
    await en.locator('#wr-card[data-room-state="open"]').waitFor({ timeout: 10_000 });
    await ko.locator('#wr-card[data-room-state="open"]').waitFor({ timeout: 10_000 });
    await expect(title(en)).resolves.toBe('You’re in line');
    await expect(title(ko)).resolves.toBe('대기열에 들어왔습니다');
  }, 120_000);
});

describe("the operator's message to the line", () => {
  it('is shown as text in both layouts, announced when it comes and changes, and gone once cleared; a closed room shows it too', async () => {
    const room = `message-${Date.now()}`;
    await admin(runtime.url, 'PUT', `/rooms/${room}`, { capacity: 0 });
    const en = await page('en-US');
    const ko = await page('ko-KR');
    for (const p of [en, ko]) {
      await p.goto(`${runtime.url}/?room=${room}`);
      await p.locator('#wr-card[data-state="waiting"]').waitFor({ timeout: 15_000 });
      await expect(p.locator('#wr-message').isHidden()).resolves.toBe(true);
    }

    const message = 'Saturday is <b>sold out</b> & Sunday <img src=x onerror=alert(1)>';
    await admin(runtime.url, 'PUT', `/rooms/${room}`, { message });
    for (const p of [en, ko]) {
      await expect.poll(() => p.locator('#wr-message-text').textContent(), { timeout: 10_000 }).toBe(message);
      await expect(p.locator('#wr-message').isVisible()).resolves.toBe(true);
      // Text, never markup: nothing but the text node inside.
      await expect(p.locator('#wr-message-text *').count()).resolves.toBe(0);
    }
    await expect(en.locator('#wr-message-label').textContent()).resolves.toBe('Message from the organizer');
    await expect(ko.locator('#wr-message-label').textContent()).resolves.toBe('운영자 안내');
    await expect.poll(() => en.locator('#wr-live').textContent(), { timeout: 5_000 }).toContain(`Message from the organizer: ${message}`);
    await expect.poll(() => ko.locator('#wr-live').textContent(), { timeout: 5_000 }).toContain(`운영자 안내: ${message}`);

    await admin(runtime.url, 'PUT', `/rooms/${room}`, { message: '토요일은 매진되었습니다' });
    await expect.poll(() => ko.locator('#wr-message-text').textContent(), { timeout: 10_000 }).toBe('토요일은 매진되었습니다');
    await expect.poll(() => ko.locator('#wr-live').textContent(), { timeout: 5_000 }).toBe('운영자 안내: 토요일은 매진되었습니다');

    await admin(runtime.url, 'PUT', `/rooms/${room}`, { message: null, state: 'closed' });
    await expect.poll(() => en.locator('#wr-message').isHidden(), { timeout: 10_000 }).toBe(true);

    // Turned away by a closed room (no ticket, no view): the status still tells why.
    await admin(runtime.url, 'PUT', `/rooms/${room}`, { message: 'Saturday is sold out' });
    const late = await page('en-US');
    await late.goto(`${runtime.url}/?room=${room}`);
    await late.locator('#wr-card[data-state="closed"][data-reason="closed"]').waitFor({ timeout: 15_000 });
    await expect(title(late)).resolves.toBe('This waiting room is closed');
    await expect.poll(() => late.locator('#wr-message-text').textContent(), { timeout: 10_000 }).toBe('Saturday is sold out');
  }, 120_000);
});

/** Counts the joins (POST /rooms/{room}/tokens) a page sends. */
function countJoins(p: Page, room: string): { count: number } {
  const joins = { count: 0 };
  p.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === `/rooms/${room}/tokens`) joins.count++;
  });
  return joins;
}

describe('queueing modes', () => {
  it('turns a new visitor of a room in reject mode away with its own notice and the message; the one in line keeps its place', async () => {
    const room = `reject-${Date.now()}`;
    await admin(runtime.url, 'PUT', `/rooms/${room}`, { capacity: 0 });
    const inLine = await page('en-US');
    await inLine.goto(`${runtime.url}/?room=${room}`);
    await inLine.locator('#wr-card[data-state="waiting"]').waitFor({ timeout: 15_000 });

    await admin(runtime.url, 'PUT', `/rooms/${room}`, { mode: 'reject', message: 'Saturday is sold out' });
    const switchedAt = Date.now();
    // Only the join is refused: the visitor in line hears the message and stays in line.
    await expect.poll(() => inLine.locator('#wr-message-text').textContent(), { timeout: 10_000 }).toBe('Saturday is sold out');
    await expect(title(inLine)).resolves.toBe('You’re in line');
    await expect(inLine.locator('#wr-card').getAttribute('data-state')).resolves.toBe('waiting');
    // Joins may read a room view cached from before the switch for up to this long.
    await sleep(Math.max(0, switchedAt + ROOM_VIEW_MAX_AGE_MS + 100 - Date.now()));

    const en = await page('en-US');
    const ko = await page('ko-KR');
    const joins = [countJoins(en, room), countJoins(ko, room)];
    await Promise.all(
      [en, ko].map(async (p) => {
        await p.goto(`${runtime.url}/?room=${room}`);
        await p.locator('#wr-card[data-state="closed"][data-reason="not-accepting"]').waitFor({ timeout: 15_000 });
        await expect.poll(() => p.locator('#wr-message-text').textContent(), { timeout: 10_000 }).toBe('Saturday is sold out');
        await expect(p.locator('#wr-message-text *').count()).resolves.toBe(0);
        await expect(p.locator('#wr-retry').isVisible()).resolves.toBe(true);
      }),
    );
    await expect(title(en)).resolves.toBe('This line isn’t taking new visitors');
    await expect(lead(en)).resolves.toBe('Everyone who could get in is already in line.');
    await expect(en.title()).resolves.toBe('This line isn’t taking new visitors');
    await expect(title(ko)).resolves.toBe('이 대기열은 새 방문자를 받지 않습니다');
    await expect(ko.locator('#wr-message-label').textContent()).resolves.toBe('운영자 안내');
    // Asked once, no retry loop; "Try again" asks once more.
    expect(joins.map((j) => j.count)).toEqual([1, 1]);
    await en.locator('#wr-retry').click();
    await expect.poll(() => joins[0]!.count, { timeout: 5_000 }).toBe(2);
    await en.locator('#wr-card[data-state="closed"][data-reason="not-accepting"]').waitFor({ timeout: 5_000 });
    await expect(inLine.locator('#wr-card').getAttribute('data-state')).resolves.toBe('waiting');
  }, 60_000);

  it('takes a visitor of a passthrough room straight to the site', async () => {
    const room = `passthrough-${Date.now()}`;
    await admin(runtime.url, 'PUT', `/rooms/${room}`, { capacity: 0, mode: 'passthrough' });
    const tab = await page('en-US');
    await tab.goto(`${runtime.url}/?room=${room}`);
    await tab.waitForURL(`**/origin/${room}/`, { timeout: 15_000 });
  }, 60_000);
});

/** The page's own timers of a second or more woken only after a minute, as in a tab hidden for 5 minutes; the tab hidden; notifications allowed and recorded. */
// A hidden tab's page timers of 750 ms and more, throttled to a minute. Not from 1,000 ms: the page
// sleeps until a step is due (the 1 s interval less the milliseconds since it was planned: 999 ms once
// one passed), and such a heartbeat went through on a loaded machine (the control kept its place).
// Shorter timers run (the 700 ms before the redirect: Chrome delays a hidden tab's to the next second).
const BACKGROUND_TAB = `
  const pageTimeout = window.setTimeout.bind(window);
  window.setTimeout = (callback, ms, ...args) => pageTimeout(callback, ms >= 750 ? Math.max(ms, 60000) : ms, ...args);
  Object.defineProperty(Document.prototype, 'visibilityState', { get: () => 'hidden' });
  Object.defineProperty(Document.prototype, 'hidden', { get: () => true });
  window.__notifications = [];
  window.Notification = class {
    static permission = 'granted';
    static requestPermission() { return Promise.resolve('granted'); }
    constructor(title, options) { window.__notifications.push({ title, body: options && options.body }); }
  };
`;

describe('a waiting tab in the background', () => {
  it('keeps its place with timers in a Worker while its page timers sleep, and is taken to the site', async () => {
    const room = `background-${Date.now()}`;
    await admin(runtime.url, 'PUT', `/rooms/${room}`, { capacity: 1 });
    const holder = await Visitor.join(runtime.url, room);
    holder.startHeartbeats(1_000);
    try {
      const tab = await page('en-US', BACKGROUND_TAB);
      await tab.goto(`${runtime.url}/?room=${room}`);
      await tab.locator('#wr-card[data-state="waiting"]').waitFor({ timeout: 15_000 });
      // Several heartbeat timeouts with the page's timers asleep: still in line.
      await tab.waitForTimeout(4 * TIMEOUT_S * 1_000);
      await expect(tab.locator('#wr-card').getAttribute('data-state')).resolves.toBe('waiting');
      await holder.leave();
      await tab.waitForURL(`**/origin/${room}/`, { timeout: 20_000 });
    } finally {
      holder.stopHeartbeats();
    }
  }, 120_000);

  it('announces the turn in the title and a notification before it goes', async () => {
    const room = `notify-${Date.now()}`;
    await admin(runtime.url, 'PUT', `/rooms/${room}`, { capacity: 1 });
    const holder = await Visitor.join(runtime.url, room);
    holder.startHeartbeats(1_000);
    try {
      // The redirect held back (an origin that never answers), so the page can be read once admitted.
      const tab = await page('en-US', BACKGROUND_TAB);
      await tab.route('**/origin/**', () => undefined);
      await tab.goto(`${runtime.url}/?room=${room}`);
      await tab.locator('#wr-card[data-state="waiting"]').waitFor({ timeout: 15_000 });
      await holder.leave();
      await tab.locator('#wr-card[data-state="admitted"]').waitFor({ timeout: 20_000 });
      await expect(tab.title()).resolves.toBe('It’s your turn!');
      await expect
        .poll(() => tab.evaluate(() => (globalThis as unknown as { __notifications: { title: string; body: string }[] }).__notifications), { timeout: 5_000 })
        .toEqual([{ title: 'It’s your turn!', body: 'Taking you to the site now…' }]);
    } finally {
      holder.stopHeartbeats();
    }
  }, 120_000);

  it('falls silent without a Worker (the control): the throttled page timers alone lose its place', async () => {
    const room = `no-worker-${Date.now()}`;
    await admin(runtime.url, 'PUT', `/rooms/${room}`, { capacity: 0 });
    const tab = await page('en-US', `${BACKGROUND_TAB}\n  delete window.Worker;`);
    await tab.goto(`${runtime.url}/?room=${room}`);
    await tab.locator('#wr-card[data-state="waiting"]').waitFor({ timeout: 15_000 });
    const tokenId = await tab.evaluate(() => {
      const storage = (globalThis as unknown as { localStorage: Record<string, string> & { getItem(key: string): string | null } }).localStorage;
      const key = Object.keys(storage).find((k) => k.endsWith(':credential'));
      return key ? (JSON.parse(storage.getItem(key)!) as { tokenId: string }).tokenId : undefined;
    });
    expect(tokenId).toBeDefined();
    // Its heartbeats sleep a minute: the token is removed after the timeout and a check or two.
    await expect
      .poll(async () => (await fetch(`${runtime.url}/rooms/${room}/tokens/${tokenId}`, { headers: { Authorization: `Bearer ${'x'.repeat(43)}` } })).status, {
        timeout: 30_000,
        interval: 1_000,
      })
      .toBe(404);
  }, 120_000);
});
