import { describe, expect, it } from 'vitest';
import { EDGE_PASS_MAX_BYTES, verifyEdgePass, type EdgePassRefusal } from '../../../edge/edge-pass.js';
import {
  CONFIG,
  CURRENT_KEY,
  ISSUER,
  NOW,
  NOW_S,
  OTHER_ROOM,
  PREVIOUS_KEY,
  ROOM,
  claims,
  forge,
  gateWith,
  kvsOf,
  mint,
  reasonOf,
  signText,
  viewerEvent,
  withPass,
} from './fixtures.js';

const b64 = (text: string) => Buffer.from(text).toString('base64url');
const valid = mint();
const [validHeader = '', validPayload = '', validSignature = ''] = valid.split('.');
const OTHER_SECRET = Buffer.alloc(32, 7).toString('base64url');
/** `part` lengthened to 4n + 1 characters, which no base64 encoding has. */
const impossibleLength = (part: string) => part + 'A'.repeat((5 - (part.length % 4)) % 4);

/** A bad cookie: what the request carries for wr_pass_shop (undefined: no such cookie), and why it is refused. */
interface BadCookie {
  readonly name: string;
  readonly cookie: string | string[] | undefined;
  readonly reason: EdgePassRefusal;
}

const BAD_COOKIES: readonly BadCookie[] = [
  { name: 'missing', cookie: undefined, reason: 'MISSING' },
  { name: 'empty', cookie: '', reason: 'MISSING' },
  { name: 'duplicated (the same valid pass twice)', cookie: [valid, valid], reason: 'DUPLICATED' },
  { name: 'duplicated (a valid pass and another)', cookie: [valid, 'x'], reason: 'DUPLICATED' },
  { name: 'oversized (over 1 KB)', cookie: forge({ claims: claims({ iss: 'x'.repeat(EDGE_PASS_MAX_BYTES) }) }), reason: 'TOO_LARGE' },
  { name: 'malformed: not a JWT at all', cookie: 'hello', reason: 'MALFORMED' },
  { name: 'malformed: two parts', cookie: `${validHeader}.${validPayload}`, reason: 'MALFORMED' },
  { name: 'malformed: four parts', cookie: `${valid}.${validSignature}`, reason: 'MALFORMED' },
  { name: 'malformed: bad base64 (standard alphabet and padding)', cookie: `${validHeader}.${validPayload}+/=.${validSignature}`, reason: 'MALFORMED' },
  { name: 'malformed: bad base64 (impossible length)', cookie: `${validHeader}.${impossibleLength(validPayload)}.${validSignature}`, reason: 'MALFORMED' },
  { name: 'malformed: payload is not JSON', cookie: signText(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: CURRENT_KEY.kid }), '{"iss":'), reason: 'MALFORMED' },
  { name: 'malformed: header is not JSON', cookie: signText('not json', JSON.stringify(claims())), reason: 'MALFORMED' },
  { name: 'malformed: payload is an array', cookie: signText(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: CURRENT_KEY.kid }), '[1,2]'), reason: 'MALFORMED' },
  { name: 'malformed: exp is a string', cookie: forge({ claims: claims({ exp: String(NOW_S + 300) }) }), reason: 'MALFORMED' },
  { name: 'malformed: a claim missing', cookie: forge({ claims: { ...claims(), nbf: undefined } }), reason: 'MALFORMED' },
  { name: 'malformed: an extra claim', cookie: forge({ claims: claims({ admin: true }) }), reason: 'MALFORMED' },
  { name: 'malformed: sub is not a token id', cookie: forge({ claims: claims({ sub: 'visitor' }) }), reason: 'MALFORMED' },
  { name: 'malformed: nbf after exp', cookie: forge({ claims: claims({ nbf: NOW_S + 400 }) }), reason: 'MALFORMED' },
  { name: 'alg: none, no signature', cookie: `${b64('{"alg":"none","typ":"JWT"}')}.${validPayload}.`, reason: 'MALFORMED' },
  { name: 'alg: none, with a signature', cookie: forge({ header: { alg: 'none', typ: 'JWT', kid: CURRENT_KEY.kid } }), reason: 'BAD_HEADER' },
  { name: 'alg: HS512', cookie: forge({ header: { alg: 'HS512', typ: 'JWT', kid: CURRENT_KEY.kid } }), reason: 'BAD_HEADER' },
  { name: 'alg: ES256 (the origin pass)', cookie: forge({ header: { alg: 'ES256', typ: 'JWT', kid: CURRENT_KEY.kid } }), reason: 'BAD_HEADER' },
  { name: 'header with an extra member (jku)', cookie: forge({ header: { alg: 'HS256', typ: 'JWT', kid: CURRENT_KEY.kid, jku: 'https://evil.example' } }), reason: 'BAD_HEADER' },
  { name: 'header members in another order', cookie: forge({ header: { kid: CURRENT_KEY.kid, alg: 'HS256', typ: 'JWT' } }), reason: 'BAD_HEADER' },
  { name: 'kid outside the pattern', cookie: forge({ header: { alg: 'HS256', typ: 'JWT', kid: '../k.current-1' } }), reason: 'BAD_HEADER' },
  { name: 'no kid', cookie: forge({ header: { alg: 'HS256', typ: 'JWT' } }), reason: 'BAD_HEADER' },
  { name: 'unknown kid', cookie: forge({ header: { alg: 'HS256', typ: 'JWT', kid: 'retired-7' } }), reason: 'UNKNOWN_KEY' },
  { name: 'wrong signature (another secret, same kid)', cookie: forge({ secret: OTHER_SECRET }), reason: 'BAD_SIGNATURE' },
  { name: 'wrong signature (payload edited after signing)', cookie: `${validHeader}.${b64(JSON.stringify(claims({ exp: NOW_S + 900 })))}.${validSignature}`, reason: 'BAD_SIGNATURE' },
  { name: 'wrong signature (signature of another pass)', cookie: `${validHeader}.${validPayload}.${mint({ tokenId: 'BBBBBBBBBBBBBBBBBBBBBB' }).split('.')[2]}`, reason: 'BAD_SIGNATURE' },
  { name: 'wrong signature (one character changed)', cookie: `${valid.slice(0, -2)}${valid.endsWith('AA') ? 'BB' : 'AA'}`, reason: 'BAD_SIGNATURE' },
  { name: 'wrong issuer', cookie: mint({ issuer: 'someone-else' }), reason: 'WRONG_ISSUER' },
  { name: "other room's pass", cookie: mint({ roomId: OTHER_ROOM }), reason: 'WRONG_ROOM' },
  { name: 'lifetime over the maximum', cookie: forge({ claims: claims({ exp: NOW_S + CONFIG.maxLifetimeSeconds + 1 }) }), reason: 'LIFETIME_TOO_LONG' },
  { name: 'future nbf (6 s ahead, over the 5 s skew)', cookie: forge({ claims: claims({ iat: NOW_S + 6, nbf: NOW_S + 6, exp: NOW_S + 300 }) }), reason: 'NOT_YET_VALID' },
  { name: 'future nbf (an hour ahead)', cookie: forge({ claims: claims({ iat: NOW_S + 3600, nbf: NOW_S + 3600, exp: NOW_S + 3900 }) }), reason: 'NOT_YET_VALID' },
  { name: 'expired', cookie: mint({ now: NOW - 301_000 }), reason: 'EXPIRED' },
  { name: 'expired this very second (now = exp)', cookie: mint({ now: NOW - 300_000 }), reason: 'EXPIRED' },
];

const gate = gateWith(kvsOf(CURRENT_KEY, PREVIOUS_KEY));
const verify = (cookie: string | string[] | undefined) =>
  verifyEdgePass(cookie, { issuer: ISSUER, roomId: ROOM, now: NOW, keys: (kid) => kvsOf(CURRENT_KEY, PREVIOUS_KEY).get(`k.${kid}`) });

describe('bad cookies, refused by verifyEdgePass and by the gate function alike', () => {
  it('lists at least ten kinds, each distinct', () => {
    expect(BAD_COOKIES.length).toBeGreaterThanOrEqual(10);
    expect(new Set(BAD_COOKIES.map((c) => c.name)).size).toBe(BAD_COOKIES.length);
    expect(new Set(BAD_COOKIES.map((c) => c.reason)).size).toBeGreaterThanOrEqual(10);
  });

  it('starts from a pass that both accept', async () => {
    expect(verify(valid)).toMatchObject({ ok: true });
    const event = withPass(valid);
    expect(await gate.handler(event)).toBe(event.request);
  });

  describe.each(BAD_COOKIES)('$name', ({ cookie, reason }) => {
    it(`verifyEdgePass refuses it: ${reason}`, () => {
      expect(verify(cookie)).toEqual({ ok: false, reason });
    });

    it(`the gate function refuses it: 403 ${reason}`, async () => {
      const event = cookie === undefined ? viewerEvent() : withPass(cookie);
      expect(reasonOf(await gate.handler(event))).toBe(reason);
    });
  });

  it('the gate refuses a cookie that CloudFront could not even parse into a string (fails closed)', async () => {
    const event = withPass(valid);
    (event.request.cookies as Record<string, unknown>)[`wr_pass_${ROOM}`] = { value: 42 };
    expect(reasonOf(await gate.handler(event))).toBe('MISSING');
  });
});
