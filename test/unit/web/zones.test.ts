/**
 * The browser client in the two zones (DESIGN §2 step 2, §8 "Position without a scan"):
 * heartbeats near the front, status reads and keep-place signals far back.
 */
import { describe, expect, it } from 'vitest';
import { farPollDelaySeconds } from '../../../lambdas/domain/line/positions.js';
import type { TokenView } from '../../../web/src/client.js';
import { API, CDN, FakeBrowser, ROOM, storedCredential, type FakeApi, type RecordingClient } from './fakes.js';
import { keepPlaceTime, T0, useFakeBrowser } from './harness.js';

let api: FakeApi;
let browser: FakeBrowser;
const { track, advance, times } = useFakeBrowser((freshApi, freshBrowser) => {
  api = freshApi;
  browser = freshBrowser;
});

const positions = (tab: RecordingClient) => tab.named('position').map((view: TokenView) => view.position);

/**
 * A visitor who joins with ticket 100 in a line that moves one ticket a second, with a front zone
 * of 10 tickets: position 100, an estimated wait of 100 s, far from the front.
 */
async function farVisitor(options: { keepPlaceIntervalSeconds?: number; tab?: string; statusBase?: string } = {}): Promise<RecordingClient> {
  api.crowd(99);
  api.room().ticketsPerSecond = 1;
  if (options.keepPlaceIntervalSeconds) api.room().keepPlaceIntervalSeconds = options.keepPlaceIntervalSeconds;
  const tab = track(browser.tab(options.tab ?? 'a').client(options.statusBase ? { statusBase: options.statusBase } : {}));
  await tab.client.start();
  return tab;
}

describe('far from the front', () => {
  it('sends no heartbeat and reads the room status at the delays the domain gives', async () => {
    const tab = await farVisitor();
    expect(tab.client.view).toMatchObject({ ticket: 100, zone: 'far', position: 100, estimatedWaitSeconds: 100 });

    await advance(15_000);
    api.admitThrough(50);
    await advance(15_000);

    // First read a tenth of the view's wait (10 s) after the join; then farPollDelaySeconds: 10 s
    // at position 100, 5 s at position 50 (a tenth of the wait, 50 s).
    expect(farPollDelaySeconds(100, api.status())).toBe(5);
    expect(times('status')).toEqual([10_000, 20_000, 25_000, 30_000]);
    expect(api.count('heartbeat')).toBe(0);
    expect(positions(tab)).toEqual([100, 100, 50, 50, 50]);
    expect(tab.client.state).toBe('waiting');
  });

  it("shows the operator's message as the status says it: the view it works out carries it, and loses it once cleared", async () => {
    const tab = await farVisitor();
    api.serveStatus({ message: 'Saturday is sold out' }, { message: 'Saturday is sold out' });
    await advance(10_000);
    expect(tab.client.view).toMatchObject({ zone: 'far', message: 'Saturday is sold out' });
    await advance(10_000);
    expect(tab.named('position').at(-1)).toMatchObject({ message: 'Saturday is sold out' });
    await advance(10_000); // the next status has no message
    expect(tab.client.view).not.toHaveProperty('message');
    expect(tab.named('position').at(-1)).not.toHaveProperty('message');
  });

  it('reads the status as a shared, cacheable request: no credential, no cache bypass', async () => {
    await farVisitor();
    await advance(10_000);

    const read = api.requests.find((r) => r.kind === 'status')!;
    expect(read).toMatchObject({ method: 'GET', origin: API, path: `/rooms/${ROOM}/status` });
    expect(read).not.toHaveProperty('authorization');
    expect(read).not.toHaveProperty('cache');
    expect(api.requests.find((r) => r.kind === 'join')).toMatchObject({ cache: 'no-store' });
  });

  it('clamps the first read to 2-60 s of the estimated wait', async () => {
    api.room().ticketsPerSecond = 1 / 30; // position 100: 3,000 s, a tenth is 300 s
    api.crowd(99);
    const slow = track(browser.tab('a').client());
    await slow.client.start();
    await advance(60_000);
    expect(times('status')).toEqual([60_000]);
  });

  it('sends keep-place signals on the ticket\'s grid of keepPlaceIntervalSeconds, within an interval of the last signal (the join first)', async () => {
    const tab = await farVisitor({ keepPlaceIntervalSeconds: 60 });
    const { tokenId, secret } = storedCredential(browser)!;

    await advance(130_000);

    // Ticket 100's grid point after the join (48.2 s), then the one after that signal, an interval on.
    const first = keepPlaceTime(100, 0, 60);
    const second = keepPlaceTime(100, first, 60);
    expect(first).toBeGreaterThan(40_000);
    expect(first).toBeLessThanOrEqual(60_000);
    expect(second - first).toBe(60_000);
    expect(times('keep-place')).toEqual([first, second]);
    expect(api.requests.find((r) => r.kind === 'keep-place')).toMatchObject({
      method: 'POST',
      path: `/rooms/${ROOM}/tokens/${tokenId}/keep-place`,
      authorization: `Bearer ${secret}`,
    });
    // A keep-place answer is a token view: the next status read is timed from it (a tenth of 100 s).
    expect(times('status')).toEqual([
      10_000,
      20_000,
      30_000,
      40_000,
      ...[10_000, 20_000, 30_000, 40_000, 50_000].map((after) => first + after),
      ...[10_000, 20_000].map((after) => second + after),
    ]);
    expect(api.count('heartbeat')).toBe(0);
    expect(tab.client.state).toBe('waiting');
  });

  it('keeps the keep-place schedule across a reload', async () => {
    const before = await farVisitor({ keepPlaceIntervalSeconds: 60 });
    await advance(40_000);
    before.client.stop();

    const after = track(browser.tab('a-reloaded').client());
    await after.client.start();
    await advance(25_000);

    // The reloaded page (from 40 s) sends at the grid point the first one would have: the one
    // after the join, not one after the reload.
    expect(api.kinds().filter((k) => k !== 'status')).toEqual(['join', 'read', 'keep-place']);
    expect(keepPlaceTime(100, 0, 60)).toBeGreaterThan(40_000);
    expect(times('keep-place')).toEqual([keepPlaceTime(100, 0, 60)]);
  });
});

describe('a crowd far from the front', () => {
  it('spreads the first keep-place signals of visitors who joined at once over the whole interval', async () => {
    const interval = 300;
    api.crowd(99); // tickets 100 … 199, all far back
    api.room().keepPlaceIntervalSeconds = interval;
    const visitors = Array.from({ length: 100 }, () => track(new FakeBrowser(api).tab('a').client()));
    for (const visitor of visitors) await visitor.client.start();
    expect(new Set(times('join'))).toEqual(new Set([0]));

    await advance(interval * 1000);

    const firstKeepPlace = new Map<number, number>();
    for (const request of api.requests) {
      if (request.kind !== 'keep-place') continue;
      const ticket = [...api.tokens.values()].find((token) => request.path.endsWith(`/tokens/${token.tokenId}/keep-place`))!.ticket;
      if (!firstKeepPlace.has(ticket)) firstKeepPlace.set(ticket, request.at - T0);
    }
    // Each visitor signals once, at its ticket's grid point after the join: within one interval of it.
    expect(api.count('keep-place')).toBe(100);
    expect([...firstKeepPlace.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => 100 + i));
    for (const [ticket, at] of firstKeepPlace) {
      expect(at).toBe(keepPlaceTime(ticket, 0, interval));
      expect(at).toBeGreaterThan(0);
      expect(at).toBeLessThanOrEqual(interval * 1000);
    }
    // Spread, not one wave: every tenth of the interval holds some of them, none more than 20.
    const tenths = Array.from({ length: 10 }, () => 0);
    for (const at of firstKeepPlace.values()) tenths[Math.min(9, Math.floor(at / (interval * 100)))]!++;
    for (const count of tenths) {
      expect(count).toBeGreaterThan(0);
      expect(count).toBeLessThanOrEqual(20);
    }
    expect(visitors.every((visitor) => visitor.client.view?.zone === 'far')).toBe(true);
  });
});

describe('offline far from the front', () => {
  it('sends nothing while offline, then reads the status and sends an overdue keep-place at once', async () => {
    await farVisitor({ keepPlaceIntervalSeconds: 60 });
    await advance(5_000);
    browser.setOnline(false);
    await advance(95_000);
    expect(api.kinds()).toEqual(['join']);

    browser.setOnline(true);
    await advance(0);

    expect(times('status')).toEqual([100_000]);
    expect(times('keep-place')).toEqual([100_000]);
  });
});

describe('switching zones', () => {
  it('heartbeats at once when the status puts the ticket in the front zone, then keeps heartbeating', async () => {
    const tab = await farVisitor();
    await advance(15_000);
    api.admitThrough(90); // the front zone now reaches ticket 100

    await advance(15_000);

    expect(times('status')).toEqual([10_000, 20_000]);
    expect(times('heartbeat')).toEqual([20_000, 25_000, 30_000]);
    expect(tab.client.view).toMatchObject({ zone: 'front', position: 10 });
  });

  it('goes back to reading the status when a heartbeat is answered far', async () => {
    api.crowd(4);
    api.room().keepPlaceIntervalSeconds = 60;
    const tab = track(browser.tab('a').client()); // ticket 5, in the front zone of 10
    await tab.client.start();
    await advance(5_000);
    expect(times('heartbeat')).toEqual([5_000]);

    api.room().frontSize = 2; // the zone shrinks: ticket 5 is far now
    await advance(75_000);

    // Heartbeat at 10 s answered far · first read a tenth of 150 s later · then every 15 s ·
    // keep-place at ticket 5's grid point after the last signal (the heartbeat at 10 s): 65.4 s.
    // Ticket 5's grid point after the join or the heartbeat at 5 s is 5.4 s, already past at 10 s:
    // timed from either, the keep-place would go out at once.
    const keepPlace = keepPlaceTime(5, 10_000, 60);
    expect(keepPlaceTime(5, 5_000, 60)).toBeLessThan(10_000);
    expect(keepPlace).toBeGreaterThan(60_000);
    expect(keepPlace).toBeLessThanOrEqual(70_000);
    expect(times('heartbeat')).toEqual([5_000, 10_000]);
    expect(times('status')).toEqual([25_000, 40_000, 55_000]);
    expect(times('keep-place')).toEqual([keepPlace]);
    expect(tab.client.view).toMatchObject({ zone: 'far' });
  });

  it('heartbeats when a keep-place signal is answered front', async () => {
    await farVisitor({ keepPlaceIntervalSeconds: 30 });
    const keepPlace = keepPlaceTime(100, 0, 30); // 24.1 s: after the read at 20 s, before the one at 30 s
    await advance(20_000);
    api.room().frontSize = 100;

    await advance(keepPlace + 10_000 - 20_000);

    expect(times('status')).toEqual([10_000, 20_000]);
    expect(times('keep-place')).toEqual([keepPlace]);
    expect(times('heartbeat')).toEqual([keepPlace + 5_000, keepPlace + 10_000]);
  });
});

describe('positions', () => {
  it('never go up, whatever a stale status or a server answer says', async () => {
    // An interval of 45 s puts ticket 100's first keep-place at 36.2 s, between the reads at 34 s and 40 s.
    const keepPlace = keepPlaceTime(100, 0, 45);
    expect(keepPlace).toBeGreaterThan(34_000);
    expect(keepPlace).toBeLessThan(40_000);
    const tab = await farVisitor({ keepPlaceIntervalSeconds: 45 });
    api.admitThrough(40);
    await advance(10_000);
    expect(positions(tab)).toEqual([100, 60]);

    api.serveStatus({ lastAdmittedTicket: 20 }, { lastAdmittedTicket: 0 }); // caches a little behind
    await advance(30_000);
    api.admitThrough(55);
    await advance(10_000);

    // Reads at 16 s and 24 s say 80 and 100 (stale), at 34 s 60 again; keep-place at 36.2 s says 60;
    // reads 6 s (a tenth of 60 s) and 5 s after it say 45.
    expect(times('status')).toEqual([10_000, 16_000, 24_000, 34_000, keepPlace + 6_000, keepPlace + 11_000]);
    expect(times('keep-place')).toEqual([keepPlace]);
    expect(positions(tab)).toEqual([100, 60, 60, 60, 60, 60, 45, 45]);
  });

  it('never go up after a reload either', async () => {
    const before = await farVisitor();
    api.admitThrough(40);
    await advance(10_000);
    before.client.stop();

    api.serveStatus({ lastAdmittedTicket: 0 });
    const after = track(browser.tab('b').client());
    await after.client.start();
    await advance(10_000);

    expect(positions(after)).toEqual([60, 60]);
  });
});

describe('the status when it fails', () => {
  it('backs off on 5xx, network errors and 429 (never sooner than Retry-After)', async () => {
    const tab = await farVisitor();
    api.fail('status', { status: 503 }, { network: true }, { status: 429, code: 'THROTTLED', headers: { 'Retry-After': '20' } });

    await advance(45_000);

    // random() is 0.5: half of each ceiling (1 s, 2 s), then Retry-After; then the usual 10 s.
    expect(times('status')).toEqual([10_000, 10_500, 11_500, 31_500, 41_500]);
    expect(tab.named('error').map((e) => [e.error.status, e.fatal, e.retryInMs])).toEqual([
      [503, false, 500],
      [0, false, 1_000],
      [429, false, 20_000],
    ]);
    expect(api.count('heartbeat')).toBe(0);
    expect(tab.client.state).toBe('waiting');
  });

  it('keeps the place with keep-place signals while the status is unreachable', async () => {
    const tab = await farVisitor({ keepPlaceIntervalSeconds: 30 });
    api.fail('status', ...Array.from({ length: 20 }, () => ({ status: 502 })));

    await advance(65_000);

    // Ticket 100's grid points of 30 s: 24.1 s and 54.1 s, the first within an interval of the join.
    const first = keepPlaceTime(100, 0, 30);
    expect(first).toBeLessThanOrEqual(30_000);
    expect(times('keep-place')).toEqual([first, keepPlaceTime(100, first, 30)]);
    expect(times('keep-place')[1]! - first).toBe(30_000);
    expect(tab.client.state).toBe('waiting');
  });

  it('holds to Retry-After even when a keep-place answer comes in meanwhile', async () => {
    await farVisitor({ keepPlaceIntervalSeconds: 30 });
    api.fail('status', { status: 429, code: 'THROTTLED', headers: { 'Retry-After': '45' } });

    await advance(60_000);

    // Keep-place at 24.1 s and 54.1 s; the reads stay at 10 s and 10 + 45 s, not 10 s after each answer.
    const first = keepPlaceTime(100, 0, 30);
    const second = keepPlaceTime(100, first, 30);
    expect(second).toBeLessThan(55_000);
    expect(times('keep-place')).toEqual([first, second]);
    expect(times('status')).toEqual([10_000, 55_000]);
  });

  it('takes a 304 for the status it read last', async () => {
    const tab = await farVisitor();
    await advance(10_000);
    api.fail('status', { status: 304 });
    await advance(10_000);

    expect(times('status')).toEqual([10_000, 20_000]);
    expect(tab.named('error')).toEqual([]);
    expect(positions(tab)).toEqual([100, 100, 100]);
  });

  it('treats a 404 as a room that is gone: closed, in every tab, and nothing more is sent', async () => {
    const a = await farVisitor();
    const b = track(browser.tab('b').client());
    await b.client.start();
    api.fail('status', { status: 404, code: 'ROOM_NOT_FOUND' });

    await advance(10_000);
    const sent = api.requests.length;
    await advance(600_000);

    const tokenId = a.client.view!.tokenId;
    expect(a.client.state).toBe('closed');
    expect(b.client.state).toBe('closed');
    expect(a.named('closed')).toEqual([{ tokenId, reason: 'closed' }]);
    expect(b.named('closed')).toEqual([{ tokenId, reason: 'closed' }]);
    expect(api.requests).toHaveLength(sent);
  });
});

describe('the room state', () => {
  it('tells the page of a pause and a close, and keeps the ticket and the reads going', async () => {
    const tab = await farVisitor();
    api.room().state = 'paused';
    await advance(10_000);
    api.room().state = 'closed';
    await advance(20_000);
    api.room().state = 'open';
    await advance(10_000);

    expect(tab.named('position').map((view: TokenView) => view.roomState)).toEqual(['open', 'paused', 'closed', 'closed', 'open']);
    expect(tab.named('closed')).toEqual([]);
    expect(tab.client.state).toBe('waiting');
    expect(storedCredential(browser)).toBeDefined();
  });

  it('passes on the room state of a heartbeat answer in the front zone', async () => {
    const tab = track(browser.tab('a').client());
    await tab.client.start();
    api.room().state = 'paused';
    await advance(5_000);

    expect(tab.client.view).toMatchObject({ zone: 'front', roomState: 'paused' });
  });
});

describe('statusBase', () => {
  it('reads the status there while token calls go to apiBase', async () => {
    await farVisitor({ keepPlaceIntervalSeconds: 15, statusBase: `${CDN}/` });
    await advance(20_000);

    const origins = (kind: string) => new Set(api.requests.filter((r) => r.kind === kind).map((r) => r.origin));
    expect(origins('status')).toEqual(new Set([CDN]));
    expect(origins('join')).toEqual(new Set([API]));
    expect(origins('keep-place')).toEqual(new Set([API]));
    expect(api.requests.find((r) => r.kind === 'status')?.path).toBe(`/rooms/${ROOM}/status`);
  });
});

describe('tabs far from the front', () => {
  it('read the status once for the browser, and the other tabs see every view', async () => {
    const a = await farVisitor();
    const b = track(browser.tab('b').client());
    await b.client.start();
    api.admitThrough(30);

    await advance(60_000);

    // One reader (every 10 s, then 7 s at position 70), no heartbeat from the follower's watchdog.
    expect(times('status')).toEqual([10_000, 17_000, 24_000, 31_000, 38_000, 45_000, 52_000, 59_000]);
    expect(api.count('heartbeat')).toBe(0);
    const [leader, follower] = a.client.isLeader ? [a, b] : [b, a];
    expect(follower.named('position').slice(-8)).toEqual(leader.named('position').slice(-8));
    expect(follower.client.view).toMatchObject({ position: 70, zone: 'far' });
  });

  it('hand the reads and the keep-place schedule to the other tab when the leader closes', async () => {
    const tabA = browser.tab('a');
    api.crowd(99);
    api.room().ticketsPerSecond = 1;
    api.room().keepPlaceIntervalSeconds = 60;
    const a = track(tabA.client());
    await a.client.start();
    const b = track(browser.tab('b').client());
    await b.client.start();
    await advance(25_000);

    tabA.pagehide(); // b is still open: a does not leave
    await advance(50_000);

    // b sends the keep-place at the grid point after the join (48.2 s), as a would have, and reads
    // the status on a's beat: every 10 s, then 10 s after the keep-place answer.
    const keepPlace = keepPlaceTime(100, 0, 60);
    expect(keepPlace).toBeGreaterThan(40_000);
    expect(b.client.isLeader).toBe(true);
    expect(api.count('leave')).toBe(0);
    expect(times('keep-place')).toEqual([keepPlace]);
    expect(times('status').filter((at) => at > 25_000)).toEqual([30_000, 40_000, keepPlace + 10_000, keepPlace + 20_000]);
  });
});
