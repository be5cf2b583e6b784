/**
 * A room's scheduled event in headless Chromium (issue 12, item 2): visitors who arrive in the
 * pre-queue, in English and in Korean, see a countdown to the start that goes down and the line
 * saying that places are drawn by lottery, instead of a place and a wait; once the start passes, a
 * notice that the draw is being made; once the local runtime's metrics loop has made the draw, the
 * pages leave the countdown and the visitors are admitted (capacity 2, two visitors). The English
 * page then links to the verifier with its receipt and the room's publication filled in, and the
 * verifier confirms its place (the receipt's signature checked with the room's JWKS).
 *
 * The draw is the backend's (lambdas/domain/events/event-draw.ts), made by a run of the metrics publisher
 * once DRAW_SETTLE_MS have passed since the start. Setting an event whose draw is due within
 * EVENT_LOOKAHEAD_MS starts the metrics loop (lambdas/handlers/admin.ts), whose runs come
 * METRICS_INTERVAL_SECONDS apart: the start is placed so that the loop's third run comes just after
 * the draw is due. The waits below are derived from that interval, with slack for a slow two-core
 * machine.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../local/preamble.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { DRAW_SETTLE_MS, EVENT_LOOKAHEAD_MS, ROOM_VIEW_MAX_AGE_MS } from '../../lambdas/domain/index.js';
import { MIN_POLL_SECONDS } from '../../lambdas/domain/line/positions.js';
import { METRICS_INTERVAL_SECONDS } from '../../lambdas/shared/metric-names.js';
import { TestBrowser } from './browser.js';
import { admin } from '../helpers/visitor.js';
import { credentialKeyOf } from '../../web/src/client.js';

/**
 * How far ahead the event starts: time to open the page and watch the countdown go down, and
 * placed so that the draw falls due (DRAW_SETTLE_MS after the start) just before the third run of
 * the loop that setting the event starts (runs at 0, 10, 20 s… after it): 18 s.
 */
const STARTS_IN_MS = 2 * METRICS_INTERVAL_SECONDS * 1000 - DRAW_SETTLE_MS;
/** What a slow two-core box adds to each chain of requests (Chromium, the runtime and the emulators share it). */
const SLOW_BOX_MS = 10_000;

let runtime: LocalRuntime;
let browser: TestBrowser;

beforeAll(async () => {
  // The state machines' own waits (no stateMachineWaitMs): the loop's six runs then span its minute,
  // as on AWS. Shortened waits would end the loop the event starts within seconds, long before the
  // start, and leave the draw to the schedule, which keeps its rate (a minute after the runtime's
  // start, then every minute): a slower draw, not a faster one.
  runtime = await startLocalRuntime({ port: 0, timings: { heartbeatIntervalSeconds: 1 }, rooms: [], log: () => undefined });
  browser = await TestBrowser.launch();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
});

/**
 * By when the draw is recorded, at the latest: DRAW_SETTLE_MS after the start, at the next run of
 * the metrics loop that setting the event started (its runs come METRICS_INTERVAL_SECONDS apart,
 * and last past the start since it starts within EVENT_LOOKAHEAD_MS of it).
 */
function drawnBy(start: number): number {
  return start + DRAW_SETTLE_MS + METRICS_INTERVAL_SECONDS * 1000 + SLOW_BOX_MS;
}

/** After the draw, the page's steps to admission: a status read (far-back rate, cache), one token read, a heartbeat. */
const ADMITTED_AFTER_DRAW_MS = MIN_POLL_SECONDS * 1000 + ROOM_VIEW_MAX_AGE_MS + 3_000 /* status max-age and stale-while-revalidate */ + 2 * 1000 /* heartbeat interval, twice */ + SLOW_BOX_MS;

const secondsLeft = async (page: Page): Promise<number> => {
  const text = (await page.locator('#wr-countdown').textContent()) ?? '';
  const match = /^The drop starts in (\d+):(\d\d)$/.exec(text.trim());
  if (!match) throw new Error(`not a countdown: ${JSON.stringify(text)}`);
  return Number(match[1]) * 60 + Number(match[2]);
};

describe('a scheduled event with a lottery', () => {
  it('counts down through the pre-queue, says the draw is being made, then admits the visitors in the drawn order', async () => {
    const room = `drop-${Date.now()}`;
    const start = Date.now() + STARTS_IN_MS;
    expect(STARTS_IN_MS).toBeLessThan(EVENT_LOOKAHEAD_MS); // setting the event starts the metrics loop
    await admin(runtime.url, 'PUT', `/rooms/${room}`, {
      capacity: 2,
      event: { eventId: 'drop-1', prequeueStart: new Date(Date.now() - 60_000).toISOString(), start: new Date(start).toISOString(), atEnd: 'close' },
    });

    const page = await (await browser.visitor('en-US')).newPage();
    const ko = await (await browser.visitor('ko-KR')).newPage();
    const redirected = new Set<Page>();
    for (const p of [page, ko]) {
      // The redirect to the origin held back, so the page can still be read once admitted: a 204
      // answer cancels the navigation and the page stays. (An origin that never answers would not
      // do: while a navigation is pending, Playwright waits for it before any read of the page,
      // and a read without a timeout, such as isVisible, never returns.)
      await p.route('**/origin/**', async (route) => {
        redirected.add(p);
        await route.fulfill({ status: 204 });
      });
      await p.goto(`${runtime.url}/?room=${room}`);
    }

    // The pre-queue: a countdown instead of a place and a wait, and the lottery's line.
    await page.locator('#wr-card[data-state="waiting"][data-event="countdown"]').waitFor({ timeout: 15_000 });
    await expect(page.locator('#wr-title').textContent()).resolves.toBe('You’re in the pre-queue');
    await expect(page.locator('#wr-event-note').textContent()).resolves.toBe('Places in line are drawn by lottery at the start.');
    await expect(page.locator('#wr-queue').isHidden()).resolves.toBe(true);
    await ko.locator('#wr-card[data-event="countdown"]').waitFor({ timeout: 15_000 });
    await expect(ko.locator('#wr-title').textContent()).resolves.toBe('사전 대기열에 들어왔습니다');
    await expect(ko.locator('#wr-countdown').textContent()).resolves.toMatch(/^\d+:\d\d 후 시작합니다$/);
    const first = await secondsLeft(page);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(Math.ceil(STARTS_IN_MS / 1000));
    await page.waitForTimeout(2_500);
    const later = await secondsLeft(page);
    expect(later).toBeLessThan(first);
    expect(later).toBeGreaterThanOrEqual(first - 4);

    // The join was an entry: the page keeps its event id and its receipt (the local runtime has pass keys, so it signs them).
    const credential = await page.evaluate((key) => {
      const storage = (globalThis as unknown as { localStorage: { getItem(key: string): string | null } }).localStorage;
      return JSON.parse(storage.getItem(key) ?? 'null') as { lotteryEventId?: string; lotteryReceipt?: string } | null;
    }, credentialKeyOf(room));
    expect(credential).toMatchObject({ lotteryEventId: 'drop-1', lotteryReceipt: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/) });

    // The start: the page's own clock moves it to the draw, for at least the draw's settling time.
    await page.locator('#wr-card[data-event="drawing"]').waitFor({ timeout: Math.max(0, start - Date.now()) + SLOW_BOX_MS });
    await expect(page.locator('#wr-countdown').textContent()).resolves.toBe('The draw is being made…');
    await expect(page.locator('#wr-title').textContent()).resolves.toBe('The drop has started');

    // The draw, then admission: the countdown gone, the visitor let in.
    await page.locator('#wr-card[data-state="admitted"]').waitFor({ timeout: Math.max(0, drawnBy(start) - Date.now()) + ADMITTED_AFTER_DRAW_MS });
    await expect(page.locator('#wr-card').getAttribute('data-event')).resolves.toBe('drawn');
    await expect(page.locator('#wr-event').isHidden()).resolves.toBe(true);
    await ko
      .locator('#wr-card[data-state="admitted"]')
      .waitFor({ timeout: ADMITTED_AFTER_DRAW_MS })
      .catch(async (error: unknown) => {
        const card = ko.locator('#wr-card');
        throw new Error(`${String(error)}; the Korean page shows ${JSON.stringify({ state: await card.getAttribute('data-state'), event: await card.getAttribute('data-event'), text: await card.textContent() })}`);
      });

    // The link to the verifier: the receipt and the room's URLs filled in; Verify fetches the publication and confirms the place.
    const link = page.locator('#wr-draw-link');
    await expect(link.isVisible()).resolves.toBe(true);
    await expect(link.textContent()).resolves.toBe('Check your place in the draw');
    const href = (await link.getAttribute('href')) ?? '';
    const verifier = await page.context().newPage();
    await verifier.goto(href);
    await expect(verifier.locator('#receipt').inputValue()).resolves.toBe(credential!.lotteryReceipt);
    await expect(verifier.locator('#publication-url').inputValue()).resolves.toBe(`${runtime.url}/rooms/${room}/lottery`);
    await expect(verifier.locator('#jwks-url').inputValue()).resolves.toBe(`${runtime.url}/.well-known/jwks.json`);
    await verifier.locator('#lottery-form button[type="submit"]').click();
    await verifier.locator('#result-summary[data-ok]').waitFor({ timeout: 10_000 });
    await expect(verifier.locator('#result-summary').textContent()).resolves.toMatch(new RegExp(`^Place [12] of 2 in the draw \\(room ${room}, event drop-1, ticket \\d+\\)$`));
    await expect(verifier.locator('#result-lines').textContent()).resolves.not.toMatch(/problem|NOT checked/);

    // Both pages went on to the origin once admitted (held back above).
    await expect.poll(() => redirected.size, { timeout: 5_000 }).toBe(2);
  }, 180_000);
});
