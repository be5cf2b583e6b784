/**
 * The gated journey in headless Chromium, through the local edge (issue 9, item 4): the site's
 * one seat is taken by another visitor, so the wait is real. A visitor opens a protected URL of the
 * site, is sent by the gate function to the waiting page with the URL it asked for, waits (a reload
 * keeps its ticket, a second tab shares it), is admitted when the other visitor leaves, and both
 * tabs arrive at that URL, served by the demo origin with the pass cookie the API set; there the
 * keep-alive client goes on heartbeating and the API goes on renewing the cookie. The origin never
 * sees a request without a valid pass.
 *
 * Timings: heartbeat every second, heartbeat timeout 8 s (a reload on a loaded machine must not
 * cost the place), first check after 1 s.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../local/preamble.js';
import type { LocalEdge } from '../../local/edge/local-edge.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { Visitor, admin } from '../helpers/visitor.js';
import { TestBrowser } from './browser.js';

const ROOM = 'shop';
const BEAT_S = 1;
const TIMEOUT_S = 8;
const DELAY_S = 1;
/** From the seat freeing to the visitor on the site: a beat or a check, the page's short pause, the navigation; generously, for a loaded 2-core machine. */
const ADMIT_MS = (TIMEOUT_S + DELAY_S) * 3_000 + 10_000;
/** A page reaching a state it should reach within a beat or two. */
const STATE_MS = 20_000;
let runtime: LocalRuntime;
let edge: LocalEdge;
let browser: TestBrowser;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    timings: { heartbeatTimeoutSeconds: TIMEOUT_S, checkDelaySeconds: DELAY_S, heartbeatIntervalSeconds: BEAT_S },
    rooms: [{ roomId: ROOM, capacity: 1 }],
    edge: { port: 0 },
    schedules: false,
    log: () => undefined,
  });
  edge = runtime.edge!;
  browser = await TestBrowser.launch();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
});

const lastTicket = async () => (await admin<{ lastTicket: number }>(runtime.url, 'GET', `/rooms/${ROOM}`)).lastTicket;
/** The ticket this browser holds, as the client stores it. */
const storedTokenId = (page: Page) =>
  page.evaluate((key) => {
    const storage = (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage;
    return (JSON.parse(storage.getItem(key) ?? 'null') as { tokenId?: string } | null)?.tokenId;
  }, `waiting-room:v1:${ROOM}:credential`);
const waiting = (page: Page) => page.locator('#wr-card[data-state="waiting"]').waitFor({ timeout: STATE_MS });

describe('the gated journey in a browser', () => {
  it('takes a visitor from a protected URL through a real wait to that URL, across a reload and a second tab', async () => {
    const protectedUrl = `${edge.url}/products/1`;
    const waitingUrl = `${edge.url}/waiting-room/?room=${ROOM}&return=%2Fproducts%2F1`;

    // Another visitor holds the one seat, through the same edge.
    const holder = await Visitor.join(`${edge.url}/waiting-room/api`, ROOM);
    expect(holder.view.state).toBe('admitted');
    holder.startHeartbeats(BEAT_S * 1000);

    const context: BrowserContext = await browser.visitor();
    const tab = await context.newPage();
    await tab.goto(protectedUrl);
    expect(tab.url()).toBe(waitingUrl);
    await waiting(tab);
    // Positions are upper bounds that only go down: the first may come from a status the edge
    // cached a second before the holder's admission (position 2), then it settles at 1.
    await expect.poll(() => tab.locator('#wr-position').textContent(), { timeout: STATE_MS, interval: 100 }).toBe('1');
    const tokenId = await storedTokenId(tab);
    expect(tokenId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(await lastTicket()).toBe(2);

    // A reload keeps the place: the same ticket, the same URL to come back to.
    await tab.reload();
    expect(tab.url()).toBe(waitingUrl);
    await waiting(tab);
    expect(await storedTokenId(tab)).toBe(tokenId);
    // Positions are upper bounds that only go down: the first may come from a status the edge
    // cached a second before the holder's admission (position 2), then it settles at 1.
    await expect.poll(() => tab.locator('#wr-position').textContent(), { timeout: STATE_MS, interval: 100 }).toBe('1');

    // A second tab asking for the same URL is sent to the waiting page too, and shares the place.
    const second = await context.newPage();
    await second.goto(protectedUrl);
    expect(second.url()).toBe(waitingUrl);
    await waiting(second);
    expect(await storedTokenId(second)).toBe(tokenId);
    expect(await lastTicket()).toBe(2);
    expect(edge.origin.counts().total).toBe(0);

    // The seat frees: the visitor is admitted, and both tabs arrive at the URL first asked for.
    await holder.leave();
    await Promise.all([tab, second].map((page) => page.waitForURL(protectedUrl, { timeout: ADMIT_MS })));
    for (const page of [tab, second]) {
      await expect(page.locator('h1').textContent()).resolves.toBe('Product 1');
      await expect(page.locator('#product').getAttribute('data-product')).resolves.toBe('1');
    }
    const pass = (await context.cookies(edge.url)).find((c) => c.name === `wr_pass_${ROOM}`);
    expect(pass).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false, path: '/' });

    // On the site, the keep-alive client heartbeats and the API renews the pass cookie.
    const renewal = await context.waitForEvent('response', {
      predicate: (r) => r.url() === `${edge.url}/waiting-room/api/rooms/${ROOM}/tokens/${tokenId}/heartbeat`,
      timeout: STATE_MS,
    });
    expect(renewal.status()).toBe(200);
    expect(await renewal.headerValue('set-cookie')).toMatch(new RegExp(`^wr_pass_${ROOM}=[^;]+; Path=/; HttpOnly; SameSite=Lax; Max-Age=\\d+`));

    // The origin saw the two arrivals, each with a valid pass, and nothing without one.
    const counts = edge.origin.counts();
    expect(counts.withoutValidPass).toBe(0);
    const arrivals = edge.origin.requests().filter((r) => r.url === '/products/1');
    expect(arrivals.length).toBeGreaterThanOrEqual(2);
    expect(arrivals.every((r) => r.pass === 'valid' && r.room === ROOM)).toBe(true);
    expect(counts.withValidPass).toBe(counts.total - counts.unprotected);
  }, 180_000);
});
