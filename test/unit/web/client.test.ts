import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BACKOFF,
  backoffDelay,
  clearedPassCookie,
  parseRetryAfter,
  passCookie,
  type ErrorEvent,
  type FetchLike,
  type TokenView,
} from '../../../web/src/client.js';
import { API, ROOM, storedCredential, type FakeApi, type FakeBrowser } from './fakes.js';
import { T0, useFakeBrowser } from './harness.js';

let api: FakeApi;
let browser: FakeBrowser;
const { track, advance, times } = useFakeBrowser((freshApi, freshBrowser) => {
  api = freshApi;
  browser = freshBrowser;
});

describe('joining and resuming', () => {
  it('joins once, stores the credential and heartbeats at the interval the server gives', async () => {
    const tab = track(browser.tab('a').client());
    await tab.client.start();

    expect(api.kinds()).toEqual(['join']);
    expect(api.requests[0]).toMatchObject({ method: 'POST', path: `/rooms/${ROOM}/tokens` });
    const view = tab.client.view!;
    expect(view).toMatchObject({ state: 'waiting', position: 1 });
    expect(view).not.toHaveProperty('secret');
    expect(storedCredential(browser)).toEqual({ roomId: ROOM, tokenId: view.tokenId, secret: api.tokens.get(view.tokenId)!.secret });
    expect(tab.named('position')).toHaveLength(1);
    expect(tab.client.state).toBe('waiting');

    await advance(4_999);
    expect(api.kinds()).toEqual(['join']);
    await advance(1);
    await advance(10_000);
    expect(api.kinds()).toEqual(['join', 'heartbeat', 'heartbeat', 'heartbeat']);
    expect(times('heartbeat')).toEqual([5_000, 10_000, 15_000]);
    expect(api.requests[1]).toMatchObject({
      method: 'POST',
      path: `/rooms/${ROOM}/tokens/${view.tokenId}/heartbeat`,
      authorization: `Bearer ${storedCredential(browser)!.secret}`,
    });
    expect(tab.named('position')).toHaveLength(4);
  });

  it('resumes the stored ticket after a reload, without joining again', async () => {
    const before = browser.tab('a').client();
    await before.client.start();
    const tokenId = before.client.view!.tokenId;
    before.client.stop(); // the page goes away without leaving (a crash, or a reload)

    const after = track(browser.tab('a-reloaded').client());
    await after.client.start();

    expect(api.kinds()).toEqual(['join', 'read']);
    expect(api.requests[1]).toMatchObject({
      method: 'GET',
      path: `/rooms/${ROOM}/tokens/${tokenId}`,
      authorization: `Bearer ${api.tokens.get(tokenId)!.secret}`,
    });
    expect(after.client.view?.tokenId).toBe(tokenId);
    expect(after.named('position')).toEqual([expect.objectContaining({ tokenId, ticket: 1 })]);
    await advance(5_000);
    expect(api.kinds()).toEqual(['join', 'read', 'heartbeat']);
  });

  it('joins afresh when the stored ticket is stale (404)', async () => {
    const before = browser.tab('a').client();
    await before.client.start();
    const stale = before.client.view!.tokenId;
    before.client.stop();
    api.evict(stale);

    const after = track(browser.tab('b').client());
    await after.client.start();

    expect(api.kinds()).toEqual(['join', 'read', 'join']);
    const fresh = after.client.view!.tokenId;
    expect(fresh).not.toBe(stale);
    expect(storedCredential(browser)?.tokenId).toBe(fresh);
    expect(after.named('evicted')).toEqual([]);
    expect(after.named('position')).toEqual([expect.objectContaining({ tokenId: fresh, ticket: 2 })]);
  });

  it('joins afresh when the stored secret is refused (401)', async () => {
    const before = browser.tab('a').client();
    await before.client.start();
    before.client.stop();
    const credential = storedCredential(browser)!;
    browser.items.set(`waiting-room:v1:${ROOM}:credential`, JSON.stringify({ ...credential, secret: 'x'.repeat(43) }));

    const after = track(browser.tab('b').client());
    await after.client.start();

    expect(api.kinds()).toEqual(['join', 'read', 'join']);
    expect(storedCredential(browser)?.tokenId).not.toBe(credential.tokenId);
  });

  it('reports a closed room (409), stores nothing and sends nothing more', async () => {
    api.room().state = 'closed';
    const tab = track(browser.tab('a').client());
    await tab.client.start();
    await advance(60_000);

    expect(api.kinds()).toEqual(['join']);
    expect(tab.names()).toEqual(['closed']);
    expect(tab.client.state).toBe('closed');
    expect(storedCredential(browser)).toBeUndefined();
  });

  it('reports an unknown room as a fatal error', async () => {
    const tab = track(browser.tab('a').client({ roomId: 'nowhere' }));
    await tab.client.start();
    await advance(60_000);

    expect(api.kinds()).toEqual(['join']);
    expect(tab.client.state).toBe('failed');
    expect(tab.named('error')).toEqual([expect.objectContaining({ fatal: true, error: expect.objectContaining({ status: 404, code: 'ROOM_NOT_FOUND' }) })]);
  });

  it('emits admitted with the pass and stores it in the wr_pass cookie', async () => {
    const tab = browser.tab('a');
    const client = track(tab.client());
    await client.client.start();
    expect(client.client.state).toBe('waiting');

    api.setCapacity(1);
    await advance(5_000);

    expect(api.kinds()).toEqual(['join', 'heartbeat']);
    const admitted = client.named('admitted');
    expect(admitted).toHaveLength(1);
    expect(admitted[0]).toMatchObject({ state: 'admitted', position: 0, pass: expect.stringMatching(/^pass\./) });
    expect(client.client.state).toBe('admitted');
    expect(tab.cookies).toEqual([`wr_pass=${admitted[0]!.pass}; Path=/; SameSite=Lax; Max-Age=60`]);
  });

  it('emits evicted on a 404, forgets the ticket and stops heartbeating', async () => {
    const tab = track(browser.tab('a').client());
    await tab.client.start();
    const tokenId = tab.client.view!.tokenId;
    api.evict(tokenId);

    await advance(5_000);
    await advance(60_000);

    expect(api.kinds()).toEqual(['join', 'heartbeat']);
    expect(tab.named('evicted')).toEqual([{ tokenId, reason: 'not-found' }]);
    expect(tab.client.state).toBe('evicted');
    expect(storedCredential(browser)).toBeUndefined();
  });

  it('joins again on retry after an eviction', async () => {
    const tab = track(browser.tab('a').client());
    await tab.client.start();
    api.evict(tab.client.view!.tokenId);
    await advance(5_000);

    await tab.client.retry();

    expect(api.kinds()).toEqual(['join', 'heartbeat', 'join']);
    expect(tab.client.state).toBe('waiting');
    await advance(5_000);
    expect(api.kinds()).toEqual(['join', 'heartbeat', 'join', 'heartbeat']);
  });
});

describe('backoff', () => {
  it('retries 5xx with full jitter, doubling the ceiling up to the cap', async () => {
    const tab = track(browser.tab('a').client()); // random() is 0.5: half of each ceiling
    await tab.client.start();
    api.fail('heartbeat', { status: 500 }, { status: 503 }, { status: 500 }, { status: 502 }, { status: 500 }, { status: 500 });

    await advance(40_000);

    // Ceilings 1, 2, 4, 8, 16, 16 (cap) s; delays half of each.
    expect(times('heartbeat')).toEqual([5_000, 5_500, 6_500, 8_500, 12_500, 20_500, 28_500, 33_500, 38_500]);
    expect(tab.named('error').map((e) => [e.error.status, e.fatal, e.retryInMs])).toEqual([
      [500, false, 500],
      [503, false, 1_000],
      [500, false, 2_000],
      [502, false, 4_000],
      [500, false, 8_000],
      [500, false, 8_000],
    ]);
    expect(tab.client.state).toBe('waiting');
  });

  it('draws each delay from random(), so tabs do not retry in step', async () => {
    const draws = [0.1, 0.9, 0.25];
    const tab = track(browser.tab('a').client({ random: () => draws.shift() ?? 0 }));
    await tab.client.start();
    api.fail('heartbeat', { status: 500 }, { status: 500 }, { status: 500 });

    await advance(10_000);

    // 0.1 x 1 s, 0.9 x 2 s, 0.25 x 4 s
    expect(times('heartbeat').slice(0, 4)).toEqual([5_000, 5_100, 6_900, 7_900]);
  });

  it('waits at least Retry-After on 429, in seconds or as a date', async () => {
    const tab = track(browser.tab('a').client());
    await tab.client.start();
    api.fail(
      'heartbeat',
      { status: 429, code: 'THROTTLED', headers: { 'Retry-After': '3' } },
      { status: 429, code: 'THROTTLED', headers: { 'Retry-After': new Date(T0 + 15_000).toUTCString() } },
    );

    await advance(20_000);

    // 5 s: 429 (3 s) · 8 s: 429 (until 15 s) · 15 s: ok · 20 s: next beat
    expect(times('heartbeat')).toEqual([5_000, 8_000, 15_000, 20_000]);
    expect(tab.named('error').map((e) => [e.error.code, e.retryInMs])).toEqual([
      ['THROTTLED', 3_000],
      ['THROTTLED', 7_000],
    ]);
  });

  it('retries network errors and a failed join the same way', async () => {
    api.fail('join', { network: true }, { status: 503 });
    const tab = track(browser.tab('a').client());
    const started = tab.client.start();
    await advance(2_000);
    await started;

    expect(times('join')).toEqual([0, 500, 1_500]);
    expect(tab.named('error').map((e: ErrorEvent) => e.error.code)).toEqual(['NETWORK', 'E503']);
    expect(tab.client.state).toBe('waiting');
    expect(api.tokens.size).toBe(1);
  });

  it('computes delays within [0, min(cap, base * 2^n)) and never below Retry-After', () => {
    const policy = DEFAULT_BACKOFF;
    expect([1, 2, 3, 4, 5, 6, 10, 50].map((n) => backoffDelay(n, () => 0.999999, policy))).toEqual([
      999, 1_999, 3_999, 7_999, 15_999, 15_999, 15_999, 15_999,
    ]);
    expect(backoffDelay(3, () => 0, policy)).toBe(0);
    expect(backoffDelay(1, () => 0.5, policy, 30_000)).toBe(30_000);
    expect(backoffDelay(1, () => 0.5, policy, 10 * 60_000)).toBe(policy.maxRetryAfterMs);
    expect(parseRetryAfter('7', T0)).toBe(7_000);
    expect(parseRetryAfter(new Date(T0 + 4_000).toUTCString(), T0)).toBe(4_000);
    expect(parseRetryAfter(new Date(T0 - 4_000).toUTCString(), T0)).toBe(0);
    expect(parseRetryAfter('soon', T0)).toBeUndefined();
    expect(parseRetryAfter(null, T0)).toBeUndefined();
  });
});

describe('offline', () => {
  it('sends nothing while offline and heartbeats at once when back online', async () => {
    const tab = track(browser.tab('a').client());
    await tab.client.start();
    await advance(1_000);
    browser.setOnline(false);

    await advance(60_000);
    expect(api.kinds()).toEqual(['join']);

    browser.setOnline(true);
    await advance(0);
    expect(times('heartbeat')).toEqual([61_000]);
    await advance(5_000);
    expect(times('heartbeat')).toEqual([61_000, 66_000]);
    expect(tab.names().filter((n) => n === 'offline' || n === 'online')).toEqual(['offline', 'online']);
  });

  it('pauses a backoff while offline and retries at once when back online', async () => {
    const tab = track(browser.tab('a').client());
    await tab.client.start();
    api.fail('heartbeat', { network: true });
    await advance(5_000);
    browser.setOnline(false);

    await advance(30_000);
    expect(times('heartbeat')).toEqual([5_000]);

    browser.setOnline(true);
    await advance(0);
    expect(times('heartbeat')).toEqual([5_000, 35_000]);
  });

  it('waits to join until the browser is online', async () => {
    browser.setOnline(false);
    const tab = track(browser.tab('a').client());
    const started = tab.client.start();
    await advance(10_000);
    expect(api.kinds()).toEqual([]);

    browser.setOnline(true);
    await started;
    expect(times('join')).toEqual([10_000]);
  });

  it('wakes an online tab that was never told it went offline without an extra request', async () => {
    const tab = track(browser.tab('a').client());
    await tab.client.start();
    browser.setOnline(true); // no change: no heartbeat out of turn
    await advance(4_000);
    expect(api.kinds()).toEqual(['join']);
  });
});

describe('tabs of one browser', () => {
  it.each([
    { features: { webLocks: true, broadcastChannel: true }, name: 'Web Locks and BroadcastChannel' },
    { features: { webLocks: false, broadcastChannel: false }, name: 'storage claims, leases and events' },
  ])('share one ticket and one heartbeat with $name', async ({ features }) => {
    const a = track(browser.tab('a', features).client());
    const b = track(browser.tab('b', features).client());

    const starting = Promise.all([a.client.start(), b.client.start()]);
    await advance(1_000);
    await starting;

    expect(api.kinds()).toEqual(['join', 'read']);
    expect(api.tokens.size).toBe(1);
    expect(b.client.view?.tokenId).toBe(a.client.view?.tokenId);
    expect([a, b].filter((t) => t.client.isLeader)).toHaveLength(1);
    const [leader, follower] = a.client.isLeader ? [a, b] : [b, a];

    await advance(20_000);
    expect(api.count('heartbeat')).toBe(4);
    expect(new Set(api.requests.filter((r) => r.kind === 'heartbeat').map((r) => r.authorization)).size).toBe(1);
    // The follower hears every view the leader gets.
    expect(follower.named('position').slice(-4)).toEqual(leader.named('position').slice(-4));
    expect(follower.client.state).toBe('waiting');
  });

  it('hands the heartbeat to the other tab when the leader closes', async () => {
    const tabA = browser.tab('a');
    const a = track(tabA.client());
    const b = track(browser.tab('b').client());
    await Promise.all([a.client.start(), b.client.start()]);
    await advance(5_000);
    expect(times('heartbeat')).toEqual([5_000]);

    tabA.pagehide(); // b is still open: a does not leave
    await advance(0);
    expect(b.client.isLeader).toBe(true);

    await advance(10_000);
    expect(api.count('leave')).toBe(0);
    expect(times('heartbeat')).toEqual([5_000, 10_000, 15_000]);
  });

  it('heartbeats from a follower whose leader fell silent', async () => {
    // a's heartbeats hang (a frozen tab); its lock is still held.
    const hanging: FetchLike = (url, init) =>
      url.endsWith('/heartbeat')
        ? new Promise((_, reject) => init.signal?.addEventListener('abort', () => reject(new Error('aborted'))))
        : api.fetch(url, init);
    const a = track(browser.tab('a').client({ fetch: hanging }));
    const b = track(browser.tab('b').client());
    await a.client.start();
    await b.client.start();
    expect(a.client.isLeader).toBe(true);

    await advance(14_999);
    expect(api.count('heartbeat')).toBe(0);
    await advance(1);
    expect(times('heartbeat')).toEqual([15_000]);
    expect(b.client.state).toBe('waiting');
  });

  it('tells every tab about an eviction, and shares the new ticket taken on retry', async () => {
    const a = track(browser.tab('a').client());
    const b = track(browser.tab('b').client());
    await Promise.all([a.client.start(), b.client.start()]);
    const old = a.client.view!.tokenId;
    api.evict(old);

    await advance(5_000);
    expect(a.named('evicted')).toEqual([{ tokenId: old, reason: 'not-found' }]);
    expect(b.named('evicted')).toEqual([{ tokenId: old, reason: 'not-found' }]);
    await advance(30_000);
    expect(api.kinds()).toEqual(['join', 'read', 'heartbeat']);

    await a.client.retry();
    await advance(0);
    const fresh = a.client.view!.tokenId;
    expect(b.client.state).toBe('waiting');
    expect(b.client.view?.tokenId).toBe(fresh);
    await advance(5_000);
    expect(api.kinds()).toEqual(['join', 'read', 'heartbeat', 'join', 'heartbeat']);
  });
});

describe('leaving', () => {
  it('sends DELETE with keepalive and the secret, forgets the ticket and stops', async () => {
    const tab = track(browser.tab('a').client());
    await tab.client.start();
    const { tokenId, secret } = storedCredential(browser)!;

    await tab.client.leave();
    await advance(30_000);

    expect(api.kinds()).toEqual(['join', 'leave']);
    expect(api.requests[1]).toMatchObject({
      method: 'DELETE',
      path: `/rooms/${ROOM}/tokens/${tokenId}`,
      keepalive: true,
      authorization: `Bearer ${secret}`,
    });
    expect(storedCredential(browser)).toBeUndefined();
    expect(api.tokens.has(tokenId)).toBe(false);
    expect(tab.client.state).toBe('left');
    expect(tab.named('left')).toEqual([{ tokenId, byThisTab: true }]);
  });

  it('tells the other tabs, which stop too', async () => {
    const a = track(browser.tab('a').client());
    const b = track(browser.tab('b').client());
    await Promise.all([a.client.start(), b.client.start()]);
    const tokenId = a.client.view!.tokenId;

    await b.client.leave();
    await advance(30_000);

    expect(a.named('left')).toEqual([{ tokenId, byThisTab: false }]);
    expect(a.client.state).toBe('left');
    expect(api.kinds()).toEqual(['join', 'read', 'leave']);
  });

  it('leaves on pagehide only when no other tab of the room is open', async () => {
    const tabA = browser.tab('a');
    const tabB = browser.tab('b');
    const a = track(tabA.client());
    const b = track(tabB.client());
    await Promise.all([a.client.start(), b.client.start()]);

    tabB.pagehide();
    await advance(0);
    expect(api.count('leave')).toBe(0);
    expect(storedCredential(browser)).toBeDefined();

    tabA.pagehide();
    await advance(0);
    expect(api.kinds()).toEqual(['join', 'read', 'leave']);
    expect(api.requests[2]).toMatchObject({ keepalive: true });
    expect(storedCredential(browser)).toBeUndefined();
    await advance(30_000);
    expect(api.kinds()).toEqual(['join', 'read', 'leave']);
  });

  it('keeps the ticket when the page goes into the back/forward cache, and resumes it', async () => {
    const tab = browser.tab('a');
    const client = track(tab.client());
    await client.client.start();

    tab.pagehide(true);
    await advance(30_000);
    expect(api.kinds()).toEqual(['join']);
    expect(storedCredential(browser)).toBeDefined();

    tab.pageshow(true);
    await advance(5_000);
    // The last signal (the join) is long past: the resumed page heartbeats at once, then keeps the beat.
    expect(api.kinds()).toEqual(['join', 'read', 'heartbeat', 'heartbeat']);
    expect(times('heartbeat')).toEqual([30_000, 35_000]);
  });

  it('does not leave on pagehide once admitted (the page is going to the origin)', async () => {
    api.setCapacity(1);
    const tab = browser.tab('a');
    const client = track(tab.client());
    await client.client.start();
    // A seat looked free: the join said to heartbeat at once, and that heartbeat took it.
    await advance(0);
    expect(client.client.state).toBe('admitted');
    expect(times('heartbeat')).toEqual([0]);

    tab.pagehide();
    await advance(0);
    expect(api.kinds()).toEqual(['join', 'heartbeat']);
    expect(storedCredential(browser)).toBeDefined();
  });
});

describe('keep-alive mode', () => {
  it('never joins: without a stored ticket it reports evicted and sends nothing', async () => {
    const tab = track(browser.tab('a').client({ mode: 'keep-alive' }));
    await tab.client.start();
    await advance(60_000);

    expect(api.requests).toEqual([]);
    expect(tab.named('evicted')).toEqual([{ reason: 'no-credential' }]);
  });

  it('heartbeats the stored ticket and refreshes the pass cookie with each new pass', async () => {
    api.setCapacity(1);
    const waitingRoom = browser.tab('waiting-room');
    const admittedAt = waitingRoom.client();
    await admittedAt.client.start();
    await advance(0); // its first heartbeat takes the free seat
    admittedAt.client.stop(); // the page redirects to the origin

    const shopPage = browser.tab('shop-page');
    const keepAlive = track(shopPage.client({ mode: 'keep-alive' }));
    await keepAlive.client.start();
    await advance(10_000);

    expect(api.kinds()).toEqual(['join', 'heartbeat', 'read', 'heartbeat', 'heartbeat']);
    const passes = keepAlive.named('admitted').map((v: TokenView) => v.pass);
    expect(passes).toHaveLength(3);
    expect(new Set(passes).size).toBe(3);
    expect(shopPage.cookies).toEqual(passes.map((pass) => `wr_pass=${pass}; Path=/; SameSite=Lax; Max-Age=60`));
  });

  it('reports an eviction without joining, and clears the pass cookie', async () => {
    api.setCapacity(1);
    const first = browser.tab('waiting-room').client();
    await first.client.start();
    first.client.stop();
    const page = browser.tab('shop-page');
    const keepAlive = track(page.client({ mode: 'keep-alive' }));
    await keepAlive.client.start();
    api.evict(keepAlive.client.view!.tokenId);

    await advance(5_000);
    await keepAlive.client.retry();
    await advance(30_000);

    expect(api.kinds()).toEqual(['join', 'read', 'heartbeat']);
    expect(keepAlive.names().filter((n) => n === 'evicted')).toHaveLength(2);
    expect(page.cookies.at(-1)).toBe(clearedPassCookie());
  });

  it('does not leave on pagehide (following a link on the site fires pagehide)', async () => {
    api.setCapacity(1);
    await browser.tab('waiting-room').client().client.start();
    const page = browser.tab('shop-page');
    const keepAlive = track(page.client({ mode: 'keep-alive' }));
    await keepAlive.client.start();

    page.pagehide();
    await advance(0);
    expect(api.count('leave')).toBe(0);
  });
});

describe('the pass cookie', () => {
  it('is path-wide, SameSite=Lax, lives until the pass expires, and is Secure over https', () => {
    expect(passCookie({ pass: 'a.b.c', passExpiresAt: T0 + 59_500 }, T0)).toBe('wr_pass=a.b.c; Path=/; SameSite=Lax; Max-Age=59');
    expect(passCookie({ pass: 'a.b.c', passExpiresAt: T0 / 1000 + 30 }, T0, { secure: true })).toBe(
      'wr_pass=a.b.c; Path=/; SameSite=Lax; Max-Age=30; Secure',
    );
    expect(passCookie({}, T0)).toBeUndefined();
  });

  it('requests go to the configured API base', async () => {
    const tab = track(browser.tab('a').client({ apiBase: `${API}/` }));
    await tab.client.start();
    expect(api.requests[0]?.path).toBe(`/rooms/${ROOM}/tokens`);
  });
});
