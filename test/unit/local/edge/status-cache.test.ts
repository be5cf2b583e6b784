/** The local edge's cache of the room status plays StatusCachePolicy: a second by default, at most two, never what the origin forbids. */
import { describe, expect, it } from 'vitest';
import { EdgeCache, STATUS_CACHE_TTL, cacheSeconds, type StoredAnswer } from '../../../../local/edge/status-cache.js';

/** What GET /rooms/{roomId}/status answers (lambdas/handlers/room-status.ts, which reads its environment when imported). */
const STATUS_CACHE_CONTROL = 'public, max-age=1, stale-while-revalidate=2';

const answer = (status = 200, cacheControl: string | undefined = STATUS_CACHE_CONTROL, body = 'x'): StoredAnswer => ({
  status,
  headers: cacheControl === undefined ? {} : { 'cache-control': cacheControl },
  body: Buffer.from(body),
});

describe('how long an answer stays in the edge cache', () => {
  it.each([
    [STATUS_CACHE_CONTROL, 1],
    ['public, max-age=1', 1],
    ['max-age=60', 2],
    ['max-age=0', 0],
    ['public, s-maxage=2, max-age=0', 2],
    [undefined, 1],
    ['public', 1],
    ['no-store', 0],
    ['max-age=1, no-cache', 0],
    ['private, max-age=1', 0],
  ])('Cache-Control %s: %s s', (header, seconds) => {
    expect(cacheSeconds(header, STATUS_CACHE_TTL)).toBe(seconds);
  });
});

describe('the edge cache', () => {
  it('answers from the cache until the time to live ends, with the age, then asks the origin again', async () => {
    let now = 1_000_000;
    const cache = new EdgeCache(STATUS_CACHE_TTL, () => now);
    let fetches = 0;
    const fetch = async () => answer(200, STATUS_CACHE_CONTROL, `v${++fetches}`);
    expect(await cache.lookup('/rooms/shop/status', fetch)).toMatchObject({ hit: false });
    now += 999;
    const hit = await cache.lookup('/rooms/shop/status', fetch);
    expect(hit).toMatchObject({ hit: true, ageSeconds: 0 });
    expect(hit.answer.body.toString()).toBe('v1');
    now += 1;
    const again = await cache.lookup('/rooms/shop/status', fetch);
    expect(again.hit).toBe(false);
    expect(again.answer.body.toString()).toBe('v2');
    expect(fetches).toBe(2);
  });

  it('keys on the path alone, and keeps no answer but a 200', async () => {
    const cache = new EdgeCache(STATUS_CACHE_TTL, () => 0);
    await cache.lookup('/rooms/a/status', async () => answer());
    expect((await cache.lookup('/rooms/b/status', async () => answer())).hit).toBe(false);
    await cache.lookup('/rooms/c/status', async () => answer(404));
    expect((await cache.lookup('/rooms/c/status', async () => answer(404))).hit).toBe(false);
  });

  it('makes requests that arrive during a fetch wait for it (request collapsing)', async () => {
    const cache = new EdgeCache(STATUS_CACHE_TTL, () => 0);
    let release: (a: StoredAnswer) => void = () => undefined;
    let fetches = 0;
    const slow = () => {
      fetches += 1;
      return new Promise<StoredAnswer>((resolve) => (release = resolve));
    };
    const lookups = [cache.lookup('/s', slow), cache.lookup('/s', slow), cache.lookup('/s', slow)];
    release(answer());
    const results = await Promise.all(lookups);
    expect(fetches).toBe(1);
    expect(results.map((r) => r.hit)).toEqual([false, true, true]);
  });
});
