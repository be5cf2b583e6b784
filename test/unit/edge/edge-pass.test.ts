import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EDGE_PASS_MAX_LIFETIME_SECONDS,
  EDGE_PASS_REFUSALS,
  EdgePassError,
  edgePassCookie,
  edgePassCookieName,
  edgePassKvsKey,
  generateEdgePassKey,
  mintEdgePass,
  verifyEdgePass,
} from '../../../edge/edge-pass.js';
import { isCloudFrontResponse } from '../../../edge/cloudfront-event.js';
import { defaultGateConfig } from '../../../edge/gate-code.js';
import { evaluateGate } from '../../../edge/run-gate.js';
import { CURRENT_KEY, ISSUER, NOW, NOW_S, PREVIOUS_KEY, ROOM, TOKEN_ID, kvsOf, mint, viewerEvent } from './fixtures.js';

const keys = (kid: string) => kvsOf(CURRENT_KEY, PREVIOUS_KEY).get(edgePassKvsKey(kid));
const verify = (pass: string | string[] | undefined, now = NOW) => verifyEdgePass(pass, { issuer: ISSUER, roomId: ROOM, now, keys });
const decode = (part: string | undefined) => JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as unknown;

const roomIds = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/);
const tokenIds = fc.stringMatching(/^[A-Za-z0-9_-]{22}$/);
const kids = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const nows = fc.integer({ min: 0, max: 4_102_444_800_000 });
const ttls = fc.integer({ min: 1, max: EDGE_PASS_MAX_LIFETIME_SECONDS });

describe('edge pass: minting', () => {
  it('writes exactly the documented header and claims', () => {
    const [header, payload, signature] = mint().split('.');
    expect(Buffer.from(header ?? '', 'base64url').toString()).toBe(`{"alg":"HS256","typ":"JWT","kid":"${CURRENT_KEY.kid}"}`);
    expect(decode(payload)).toEqual({ iss: ISSUER, room: ROOM, sub: TOKEN_ID, iat: NOW_S, nbf: NOW_S, exp: NOW_S + 300 });
    expect(signature).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('rounds the clock down to the second', () => {
    expect(decode(mint({ now: NOW + 999 }).split('.')[1])).toMatchObject({ iat: NOW_S, exp: NOW_S + 300 });
  });

  it.each([
    ['an empty issuer', { issuer: '' }],
    ['a bad room id', { roomId: 'shop#1' }],
    ['a bad token id', { tokenId: 'short' }],
    ['a bad kid', { key: { kid: 'a/b', secret: CURRENT_KEY.secret } }],
    ['a key of another length', { key: { kid: 'k', secret: 'c2hvcnQ' } }],
    ['a zero lifetime', { ttlSeconds: 0 }],
    ['a fractional lifetime', { ttlSeconds: 1.5 }],
    ['a lifetime over the maximum', { ttlSeconds: EDGE_PASS_MAX_LIFETIME_SECONDS + 1 }],
    ['a clock that is not a time', { now: Number.NaN }],
  ])('refuses to mint with %s', (_what, overrides) => {
    expect(() => mint(overrides)).toThrow(EdgePassError);
  });

  it('allows a longer lifetime only when the maximum is raised on both sides', () => {
    const pass = mint({ ttlSeconds: 1800, maxLifetimeSeconds: 1800 });
    expect(verify(pass)).toEqual({ ok: false, reason: 'LIFETIME_TOO_LONG' });
    expect(verifyEdgePass(pass, { issuer: ISSUER, roomId: ROOM, now: NOW, keys, maxLifetimeSeconds: 1800 })).toMatchObject({ ok: true });
  });

  it('generates keys of 32 random bytes with a kid in the pattern', () => {
    const a = generateEdgePassKey();
    const b = generateEdgePassKey();
    expect(a.kid).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(Buffer.from(a.secret, 'base64url')).toHaveLength(32);
    expect(a.secret).not.toBe(b.secret);
    expect(a.kid).not.toBe(b.kid);
    expect(generateEdgePassKey('2030-01-01').kid).toBe('2030-01-01');
    expect(() => generateEdgePassKey('bad kid')).toThrow(EdgePassError);
  });

  it('names the cookie and the store key after the room and the kid', () => {
    expect(edgePassCookieName(ROOM)).toBe('wr_pass_shop');
    expect(edgePassKvsKey('abc')).toBe('k.abc');
    expect(() => edgePassCookieName('a b')).toThrow(EdgePassError);
    expect(() => edgePassKvsKey('x'.repeat(65))).toThrow(EdgePassError);
  });
});

describe('edge pass: verification', () => {
  it('accepts a fresh pass and returns its claims and kid', () => {
    expect(verify(mint())).toEqual({
      ok: true,
      kid: CURRENT_KEY.kid,
      claims: { iss: ISSUER, room: ROOM, sub: TOKEN_ID, iat: NOW_S, nbf: NOW_S, exp: NOW_S + 300 },
    });
  });

  it('accepts a single value given as a list, and refuses an empty list as missing', () => {
    expect(verify([mint()])).toMatchObject({ ok: true });
    expect(verify([])).toEqual({ ok: false, reason: 'MISSING' });
  });

  it('allows 5 s of clock skew on nbf and none on exp', () => {
    const pass = mint();
    expect(verify(pass, NOW - 5_000)).toMatchObject({ ok: true });
    expect(verify(pass, NOW - 5_001)).toEqual({ ok: false, reason: 'NOT_YET_VALID' });
    expect(verify(pass, NOW + 299_999)).toMatchObject({ ok: true });
    expect(verify(pass, NOW + 300_000)).toEqual({ ok: false, reason: 'EXPIRED' });
  });

  it('refuses, rather than throws, when the key lookup throws', () => {
    const pass = mint();
    const throwing = () => {
      throw new Error('store down');
    };
    expect(verifyEdgePass(pass, { issuer: ISSUER, roomId: ROOM, now: NOW, keys: throwing })).toEqual({ ok: false, reason: 'UNKNOWN_KEY' });
  });

  it('lists its refusal reasons once each', () => {
    expect(new Set(EDGE_PASS_REFUSALS).size).toBe(EDGE_PASS_REFUSALS.length);
  });

  it('verifies every pass it mints, for any room, token, key, time and lifetime', () => {
    fc.assert(
      fc.property(roomIds, tokenIds, kids, nows, ttls, (roomId, tokenId, kid, now, ttlSeconds) => {
        const key = { kid, secret: CURRENT_KEY.secret };
        const pass = mintEdgePass({ issuer: ISSUER, roomId, tokenId, now, ttlSeconds, key });
        const verdict = verifyEdgePass(pass, { issuer: ISSUER, roomId, now, keys: (k) => (k === kid ? key.secret : undefined) });
        expect(verdict).toEqual({ ok: true, kid, claims: { iss: ISSUER, room: roomId, sub: tokenId, iat: Math.floor(now / 1000), nbf: Math.floor(now / 1000), exp: Math.floor(now / 1000) + ttlSeconds } });
        expect(Buffer.byteLength(pass)).toBeLessThan(1024);
      }),
    );
  });

  it('and the gate function agrees with it on every pass, intact or damaged', async () => {
    const config = defaultGateConfig([{ roomId: ROOM, paths: ['/*'] }]);
    const gate = evaluateGate({ config, kvs: kvsOf(CURRENT_KEY, PREVIOUS_KEY), now: () => NOW });
    const damage = fc.oneof(
      fc.constant((p: string) => p),
      fc.nat().map((i) => (p: string) => p.slice(0, i % p.length)),
      fc.tuple(fc.nat(), fc.constantFrom('A', '-', '.', '_', 'z', '=', '%')).map(([i, c]) => (p: string) => p.slice(0, i % p.length) + c + p.slice((i % p.length) + 1)),
      fc.nat().map((i) => (p: string) => p.slice(0, i % p.length) + p.slice((i % p.length) + 1)),
    );
    await fc.assert(
      fc.asyncProperty(tokenIds, fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.integer({ min: 1, max: 1200 }), fc.boolean(), damage, async (tokenId, skewMs, ttlSeconds, previous, edit) => {
        const pass = edit(mintEdgePass({ issuer: ISSUER, roomId: ROOM, tokenId, now: NOW + skewMs, ttlSeconds, key: previous ? PREVIOUS_KEY : CURRENT_KEY, maxLifetimeSeconds: 1200 }));
        const node = verify(pass);
        const event = viewerEvent({ uri: '/any', cookies: { wr_pass_shop: pass } });
        const result = await gate.handler(event);
        const edge = isCloudFrontResponse(result) ? (JSON.parse((result.body as { data: string }).data) as { error: { reason: string } }).error.reason : 'OK';
        expect(edge).toBe(node.ok ? 'OK' : node.reason);
      }),
      { numRuns: 300 },
    );
  });
});

describe('edge pass: cookie', () => {
  it('is HttpOnly, SameSite=Lax, on every path, Secure, and lives as long as the pass', () => {
    expect(edgePassCookie(ROOM, 'a.b.c', { maxAgeSeconds: 300 })).toBe('wr_pass_shop=a.b.c; Path=/; HttpOnly; SameSite=Lax; Max-Age=300; Secure');
  });

  it('drops Secure only when asked (http://127.0.0.1 locally)', () => {
    expect(edgePassCookie(ROOM, 'a.b.c', { maxAgeSeconds: 0, secure: false })).toBe('wr_pass_shop=a.b.c; Path=/; HttpOnly; SameSite=Lax; Max-Age=0');
  });

  it.each([
    ['a bad room id', () => edgePassCookie('bad room', 'a.b.c', { maxAgeSeconds: 1 })],
    ['a value that would break the header', () => edgePassCookie(ROOM, 'a;b', { maxAgeSeconds: 1 })],
    ['a negative max age', () => edgePassCookie(ROOM, 'a.b.c', { maxAgeSeconds: -1 })],
  ])('refuses %s', (_what, make) => {
    expect(make).toThrow(EdgePassError);
  });
});
