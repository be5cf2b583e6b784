import { describe, expect, it } from 'vitest';
import { EDGE_PASS_CLOCK_SKEW_SECONDS, EDGE_PASS_COOKIE_PREFIX, EDGE_PASS_KID_PATTERN, EDGE_PASS_KVS_KEY_PREFIX, EDGE_PASS_MAX_BYTES, EDGE_PASS_SECRET_PATTERN, edgePassKvsKey } from '../../../edge/edge-pass.js';
import { defaultGateConfig } from '../../../edge/gate-code.js';
import { evaluateGate } from '../../../edge/run-gate.js';
import { TOKEN_ID_PATTERN } from '../../../lambdas/domain/id-patterns.js';
import { CONFIG, CURRENT_KEY, NOW, OTHER_ROOM, PREVIOUS_KEY, ROOM, gateWith, jsonBody, kvsOf, mint, reasonOf, responseOf, viewerEvent, withPass } from './fixtures.js';

const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('edge gate: passes', () => {
  it('lets a request with a valid pass through unchanged', async () => {
    const gate = gateWith(kvsOf(CURRENT_KEY, PREVIOUS_KEY));
    const event = withPass(mint(), { querystring: { color: { value: 'red' } } });
    const before = structuredClone(event.request);
    const result = await gate.handler(event);
    expect(result).toBe(event.request);
    expect(result).toEqual(before);
  });

  it('accepts a pass signed with the previous key while the store still holds it', async () => {
    const gate = gateWith(kvsOf(CURRENT_KEY, PREVIOUS_KEY));
    const event = withPass(mint({ key: PREVIOUS_KEY }));
    expect(await gate.handler(event)).toBe(event.request);
  });

  it('follows the store without a reload: a key added is accepted, a key removed is refused', async () => {
    const kvs = kvsOf(PREVIOUS_KEY);
    const gate = gateWith(kvs);
    expect(reasonOf(await gate.handler(withPass(mint())))).toBe('UNKNOWN_KEY');
    kvs.set(edgePassKvsKey(CURRENT_KEY.kid), CURRENT_KEY.secret);
    const event = withPass(mint());
    expect(await gate.handler(event)).toBe(event.request);
    kvs.delete(edgePassKvsKey(PREVIOUS_KEY.kid));
    expect(reasonOf(await gate.handler(withPass(mint({ key: PREVIOUS_KEY }))))).toBe('UNKNOWN_KEY');
  });

  it('refuses a key whose stored value is not 32 bytes of base64url (fails closed)', async () => {
    const gate = gateWith(new Map([[edgePassKvsKey(CURRENT_KEY.kid), 'short']]));
    expect(reasonOf(await gate.handler(withPass(mint())))).toBe('UNKNOWN_KEY');
  });

  it('accepts the edges of the rules: nbf 5 s ahead, the last second before exp, the longest lifetime', async () => {
    const gate = gateWith(kvsOf(CURRENT_KEY));
    for (const pass of [mint({ now: NOW + 5_000 }), mint({ now: NOW - 299_000 }), mint({ ttlSeconds: CONFIG.maxLifetimeSeconds })]) {
      const event = withPass(pass);
      expect(await gate.handler(event)).toBe(event.request);
    }
  });

  it("checks each room's own cookie: a shop pass opens the shop, not the concert", async () => {
    const gate = gateWith(kvsOf(CURRENT_KEY));
    const concert = withPass(mint(), { uri: '/concert/tickets' });
    expect(reasonOf(await gate.handler(concert))).toBe('MISSING');
    const borrowed = viewerEvent({ uri: '/concert/tickets', cookies: { [`wr_pass_${OTHER_ROOM}`]: mint() } });
    expect(reasonOf(await gate.handler(borrowed))).toBe('WRONG_ROOM');
    const own = viewerEvent({ uri: '/concert/tickets', cookies: { [`wr_pass_${OTHER_ROOM}`]: mint({ roomId: OTHER_ROOM }) } });
    expect(await gate.handler(own)).toBe(own.request);
  });
});

describe('edge gate: refusals', () => {
  const gate = gateWith(kvsOf(CURRENT_KEY));

  it('sends a browser navigation to the waiting page with the room and the URL it asked for', async () => {
    const event = viewerEvent({
      uri: '/shop/caf%C3%A9',
      accept: HTML,
      querystring: { color: { value: 'red' }, size: { value: 'M', multiValue: [{ value: 'M' }, { value: 'L' }] }, gift: { value: '' } },
    });
    const response = responseOf(await gate.handler(event));
    expect(response.statusCode).toBe(302);
    expect(response.headers?.['cache-control']).toEqual({ value: 'no-store' });
    const location = response.headers?.location?.value ?? '';
    expect(location.startsWith('/waiting-room/?room=shop&return=')).toBe(true);
    const url = new URL(location, 'https://shop.example.com');
    expect(url.pathname).toBe('/waiting-room/');
    expect(url.searchParams.get('room')).toBe(ROOM);
    expect(url.searchParams.get('return')).toBe('/shop/caf%C3%A9?color=red&size=M&size=L&gift');
    expect(location).toContain(`return=${encodeURIComponent('/shop/caf%C3%A9?color=red&size=M&size=L&gift')}`);
    expect(response.body).toBeUndefined();
  });

  it('redirects HEAD navigations too, and a bare path without a query string', async () => {
    const response = responseOf(await gate.handler(viewerEvent({ method: 'HEAD', uri: '/checkout', accept: 'text/html' })));
    expect(response.statusCode).toBe(302);
    expect(response.headers?.location?.value).toBe('/waiting-room/?room=shop&return=%2Fcheckout');
  });

  it('answers API clients (no text/html, or not GET/HEAD) with a JSON 403 saying where to queue', async () => {
    for (const event of [viewerEvent({ accept: 'application/json' }), viewerEvent({ accept: '*/*' }), viewerEvent({ method: 'POST', accept: HTML })]) {
      const response = responseOf(await gate.handler(event));
      expect(response.statusCode).toBe(403);
      expect(response.headers).toEqual({ 'cache-control': { value: 'no-store' }, 'content-type': { value: 'application/json' } });
      expect(jsonBody(response)).toEqual({
        error: {
          code: 'PASS_REQUIRED',
          message: expect.any(String),
          reason: 'MISSING',
          queue: '/waiting-room/api/rooms/shop/tokens',
          waitingRoom: '/waiting-room/?room=shop',
        },
      });
    }
  });

  it('names the queue right whether apiPath ends with "/" or not', async () => {
    const bare = gateWith(kvsOf(CURRENT_KEY), { ...CONFIG, waitingPath: '/waiting-room', apiPath: '/waiting-room/api' });
    expect(jsonBody(await bare.handler(viewerEvent()))).toMatchObject({
      error: { queue: '/waiting-room/api/rooms/shop/tokens', waitingRoom: '/waiting-room/?room=shop' },
    });
  });

  it.each([['/shop/../admin'], ['/assets/../shop/item'], ['/assets/%2e%2e/shop'], ['/assets/..%2Fshop'], ['//shop/item'], ['/shop\\item'], ['/.'], ['/shop/./item']])(
    'answers 400 to the ambiguous path %s, which an origin might read as another path',
    async (uri) => {
      const response = responseOf(await gate.handler(withPass(mint(), { uri })));
      expect(response.statusCode).toBe(400);
      expect(jsonBody(response)).toMatchObject({ error: { code: 'BAD_PATH' } });
    },
  );
});

describe('edge gate: paths', () => {
  const gate = gateWith(kvsOf(CURRENT_KEY));
  const site = gateWith(kvsOf(CURRENT_KEY), defaultGateConfig([{ roomId: 'site', paths: ['/*'] }], ['/assets/*', '/health']));

  it.each([['/waiting-room/'], ['/waiting-room'], ['/waiting-room/assets/app.js'], ['/waiting-room/api/rooms/site/tokens'], ['/assets/app.js'], ['/health']])(
    'lets %s through without a cookie, even when a room covers every path',
    async (uri) => {
      const event = viewerEvent({ uri, accept: HTML });
      expect(await site.handler(event)).toBe(event.request);
    },
  );

  it.each([['/health/deep'], ['/waiting-roomX'], ['/'], ['/assets']])('holds back %s, which the exceptions do not cover', async (uri) => {
    expect(reasonOf(await site.handler(viewerEvent({ uri })))).toBe('MISSING');
  });

  it.each([['/about'], ['/shop'], ['/checkout/'], ['/'], ['/shopping']])('lets %s through: it is no room\'s path', async (uri) => {
    const event = viewerEvent({ uri });
    expect(await gate.handler(event)).toBe(event.request);
  });

  it.each([
    ['/shop/', ROOM],
    ['/shop/item', ROOM],
    ['/checkout', ROOM],
    ['/concert', OTHER_ROOM],
    ['/concerts/2030', OTHER_ROOM],
  ])('holds back %s for room %s', async (uri, roomId) => {
    const body = jsonBody(await gate.handler(viewerEvent({ uri }))) as { error: { queue: string } };
    expect(body.error.queue).toBe(`/waiting-room/api/rooms/${roomId}/tokens`);
  });

  it('gives a path to the first room that matches', async () => {
    const first = gateWith(kvsOf(CURRENT_KEY), defaultGateConfig([{ roomId: 'a', paths: ['/x/*'] }, { roomId: 'b', paths: ['/x/*', '/y'] }]));
    expect(jsonBody(await first.handler(viewerEvent({ uri: '/x/1' })))).toMatchObject({ error: { queue: '/waiting-room/api/rooms/a/tokens' } });
    expect(jsonBody(await first.handler(viewerEvent({ uri: '/y' })))).toMatchObject({ error: { queue: '/waiting-room/api/rooms/b/tokens' } });
  });
});

describe('edge gate: robustness', () => {
  it('refuses instead of throwing when the request is not as CloudFront documents it', async () => {
    const errors: unknown[] = [];
    const gate = evaluateGate({ config: CONFIG, kvs: kvsOf(CURRENT_KEY), now: () => NOW, onError: (e) => errors.push(e) });
    const noCookies = viewerEvent();
    delete (noCookies.request as Partial<typeof noCookies.request>).cookies;
    expect(reasonOf(await gate.handler(noCookies))).toBe('MISSING');
    const noHeaders = viewerEvent();
    delete (noHeaders.request as Partial<typeof noHeaders.request>).headers;
    expect(reasonOf(await gate.handler(noHeaders))).toBe('MISSING');
    const oddQuery = viewerEvent({ accept: HTML });
    (oddQuery.request.querystring as Record<string, unknown>).x = null;
    expect(reasonOf(await gate.handler(oddQuery))).toBe('ERROR');
    const noUri = viewerEvent();
    delete (noUri.request as Partial<typeof noUri.request>).uri;
    expect(responseOf(await gate.handler(noUri)).statusCode).toBe(400);
    expect(errors).toEqual([]);
  });

  it('refuses when reading the store fails for any reason', async () => {
    const failing = new (class extends Map<string, string> {
      override get(): string | undefined {
        throw new Error('KeyValueStore unavailable');
      }
    })();
    const gate = gateWith(failing);
    expect(reasonOf(await gate.handler(withPass(mint())))).toBe('UNKNOWN_KEY');
  });

  it('keeps its constants equal to the edge-pass module (one rule, two runtimes)', () => {
    const { rules } = gateWith(kvsOf(CURRENT_KEY));
    expect(rules.maxBytes).toBe(EDGE_PASS_MAX_BYTES);
    expect(rules.clockSkewSeconds).toBe(EDGE_PASS_CLOCK_SKEW_SECONDS);
    expect(rules.kid.source).toBe(EDGE_PASS_KID_PATTERN.source);
    expect(rules.secret.source).toBe(EDGE_PASS_SECRET_PATTERN.source);
    expect(rules.tokenId.source).toBe(TOKEN_ID_PATTERN.source);
    expect(rules.cookiePrefix).toBe(EDGE_PASS_COOKIE_PREFIX);
    expect(rules.kvsPrefix).toBe(EDGE_PASS_KVS_KEY_PREFIX);
  });

  it('reads the time from Date.now, as CloudFront gives it', async () => {
    const pass = mint();
    const later = evaluateGate({ config: CONFIG, kvs: kvsOf(CURRENT_KEY), now: () => NOW + 300_000 });
    expect(reasonOf(await later.handler(withPass(pass)))).toBe('EXPIRED');
  });
});
