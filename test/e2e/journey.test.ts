/**
 * The visitor journey in headless Chromium against the local runtime (capacity 1, heartbeat
 * timeout 3 s, check delay 1 s): A gets in and reaches the protected origin, B waits at position 1
 * with an estimate, B's second tab shares B's place, A closes its page and B is let in; the origin
 * refuses requests without a valid pass for its room.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { SignJWT, importJWK } from 'jose';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../local/preamble.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { TestBrowser } from './browser.js';
import { REPO_ROOT } from '../../lib/paths.js';
import { admin } from '../helpers/visitor.js';

const ROOM = 'e2e';
const TIMEOUT_S = 3;
const DELAY_S = 1;
let runtime: LocalRuntime;
let browser: TestBrowser;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    timings: { heartbeatTimeoutSeconds: TIMEOUT_S, checkDelaySeconds: DELAY_S, heartbeatIntervalSeconds: 1 },
    rooms: [{ roomId: ROOM, capacity: 1 }],
    schedules: false,
    log: () => undefined,
  });
  browser = await TestBrowser.launch();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
});

const visitor = (): Promise<BrowserContext> => browser.visitor();

const lastTicket = async () => (await admin<{ lastTicket: number }>(runtime.url, 'GET', `/rooms/${ROOM}`)).lastTicket;

describe('the visitor journey in a browser', () => {
  it('admits A to the origin, keeps B waiting with a shared place across tabs, then lets B in when A leaves', async () => {
    const a = await visitor();
    const pageA = await a.newPage();
    await pageA.goto(`${runtime.url}/?room=${ROOM}`);
    await pageA.waitForURL(`**/origin/${ROOM}/`, { timeout: 15_000 });
    await expect(pageA.locator('h1').textContent()).resolves.toBe('You are in');
    expect((await a.cookies()).some((c) => c.name === 'wr_pass')).toBe(true);

    const b = await visitor();
    const pageB = await b.newPage();
    await pageB.goto(`${runtime.url}/?room=${ROOM}`);
    await pageB.locator('#wr-card[data-state="waiting"]').waitFor({ timeout: 15_000 });
    await expect(pageB.locator('#wr-position').textContent()).resolves.toBe('1');
    const wait = (await pageB.locator('#wr-wait').textContent())?.trim() ?? '';
    expect(wait).not.toBe('');
    expect(wait).toMatch(/\d|minute|second|moment/i);
    await expect(pageB.locator('#wr-live').getAttribute('aria-live')).resolves.toMatch(/polite|assertive/);
    const artifacts = path.join(REPO_ROOT, 'test-artifacts');
    mkdirSync(artifacts, { recursive: true });
    await pageB.screenshot({ path: path.join(artifacts, 'waiting-page.png'), fullPage: true });

    // A second tab of B shares B's place instead of taking another ticket.
    const ticketsBefore = await lastTicket();
    const secondTab = await b.newPage();
    await secondTab.goto(`${runtime.url}/?room=${ROOM}`);
    await secondTab.locator('#wr-card[data-state="waiting"]').waitFor({ timeout: 15_000 });
    await expect(secondTab.locator('#wr-position').textContent()).resolves.toBe('1');
    expect(await lastTicket()).toBe(ticketsBefore);
    expect(ticketsBefore).toBe(2);

    // A closes its page: its seat is freed by eviction, and B is redirected to the origin.
    const closedAt = Date.now();
    await pageA.close();
    await pageB.waitForURL(`**/origin/${ROOM}/`, { timeout: (TIMEOUT_S + DELAY_S + 6) * 1000 });
    const seconds = (Date.now() - closedAt) / 1000;
    expect(seconds).toBeLessThan(TIMEOUT_S + DELAY_S + 6);
    await expect(pageB.locator('h1').textContent()).resolves.toBe('You are in');
  }, 120_000);
});

describe('the protected origin', () => {
  const keySet = () => JSON.parse(process.env.WR_PASS_KEYS!) as { current: Record<string, string> & { kid: string } };
  const sign = async (claims: Record<string, unknown>, options: { expiresIn?: number; kid?: string } = {}) => {
    const { current } = keySet();
    const key = await importJWK(current, 'ES256');
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ room: ROOM, ticket: 1, ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? current.kid })
      .setIssuer('waiting-room')
      .setSubject('A'.repeat(22))
      .setIssuedAt(now - 120)
      .setExpirationTime(now + (options.expiresIn ?? 60))
      .sign(key);
  };
  const visit = async (pass?: string) => {
    const response = await fetch(`${runtime.url}/origin/${ROOM}/`, { headers: pass ? { Cookie: `wr_pass=${pass}` } : {} });
    return { status: response.status, reason: response.headers.get('x-pass-rejected') };
  };

  it('lets a valid pass in', async () => {
    expect(await visit(await sign({}))).toEqual({ status: 200, reason: null });
  });

  it('refuses no pass, an expired pass, a pass for another room and a tampered signature', async () => {
    expect((await visit()).status).toBe(401);
    expect(await visit(await sign({}, { expiresIn: -60 }))).toEqual({ status: 403, reason: 'expired' });
    expect(await visit(await sign({ room: 'elsewhere' }))).toEqual({ status: 403, reason: 'wrong-room' });
    const valid = await sign({});
    const [header, payload, signature] = valid.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), ticket: 999 })).toString('base64url');
    expect(await visit(`${header}.${forgedPayload}.${signature}`)).toEqual({ status: 403, reason: 'bad-signature' });
    const flipped = signature!.slice(0, -2) + (signature!.endsWith('AA') ? 'BB' : 'AA');
    expect((await visit(`${header}.${payload}.${flipped}`)).status).toBe(403);
  });

  it('refuses a pass that a browser shows the origin without having waited', async () => {
    const context = await visitor();
    const page = await context.newPage();
    const response = await page.goto(`${runtime.url}/origin/${ROOM}/`);
    expect(response?.status()).toBe(401);
    await expect(page.locator('a').getAttribute('href')).resolves.toBe(`/?room=${ROOM}`);
  });
});
