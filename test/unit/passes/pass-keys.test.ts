import { describe, expect, it } from 'vitest';
import { generateKeySet, generatePassKey, rotateKeySet } from '../../../lambdas/adapters/pass-key-sources.js';
import {
  MAX_PREVIOUS_PASS_KEYS,
  PASS_ISSUER,
  PassKeyRotationError,
  passClaimsFor,
  passJwksOf,
  passKeyIds,
  publicPassJwk,
  rotatePassKeySet,
  type PassKeySet,
} from '../../../lambdas/domain/passes/pass-keys.js';
import { DEFAULT_PASS_ISSUER } from '../../../verifier/index.js';

const PUBLIC_MEMBERS = ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'];

/** A key set as written before `next` existed. */
async function oldFormatKeySet(): Promise<PassKeySet> {
  return { current: await generatePassKey(), previous: [] };
}

describe('pass key set', () => {
  it('generates an ES256 P-256 signing key and a next key, with random kids', async () => {
    const { current, next, previous } = await generateKeySet();
    for (const key of [current, next]) {
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(key?.d).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(key?.kid).toMatch(/^[A-Za-z0-9_-]{16}$/);
    }
    expect(next?.kid).not.toBe(current.kid);
    expect(next?.d).not.toBe(current.d);
    expect(previous).toEqual([]);
    expect((await generatePassKey()).kid).not.toBe(current.kid);
  });

  it('publishes current, next and previous, in that order', async () => {
    const keySet = await rotateKeySet(await generateKeySet());
    expect(passJwksOf(keySet).keys.map((k) => k.kid)).toEqual([keySet.current.kid, keySet.next?.kid, keySet.previous[0]?.kid]);
    expect(passKeyIds(keySet)).toEqual(passJwksOf(keySet).keys.map((k) => k.kid));
  });

  it('publishes only public members: the JWKS never contains a private d', async () => {
    let keySet = await generateKeySet();
    keySet = await rotateKeySet(keySet);
    // Even a private member wrongly left in `previous` is not published.
    keySet.previous.push({ ...(await generatePassKey()) });
    const jwks = passJwksOf(keySet);
    expect(jwks.keys).toHaveLength(4); // current, next, the replaced key, the stray one
    for (const key of jwks.keys) expect(Object.keys(key).sort()).toEqual(PUBLIC_MEMBERS);
    expect(JSON.stringify(jwks)).not.toContain('"d"');
    for (const secret of [keySet.current.d, keySet.next!.d]) expect(JSON.stringify(jwks)).not.toContain(secret);
  });

  it('rotation moves next to current and current to previous, and draws a fresh next', async () => {
    const before = await generateKeySet();
    const after = await rotateKeySet(before);
    // The key that starts signing is the one published ahead, private half included.
    expect(after.current).toEqual(before.next);
    // The replaced key keeps only its public half.
    expect(after.previous).toEqual([publicPassJwk(before.current)]);
    expect(after.previous[0]).not.toHaveProperty('d');
    // A new next key, unknown before.
    expect(after.next).toBeDefined();
    expect(passKeyIds(before)).not.toContain(after.next!.kid);
    expect(passJwksOf(after).keys.map((k) => k.kid)).toEqual([before.next!.kid, after.next!.kid, before.current.kid]);
    for (const key of passJwksOf(after).keys) expect(key).not.toHaveProperty('d');
  });

  it('the key a rotation makes current was in the JWKS published before it, for every rotation', async () => {
    let keySet = await generateKeySet();
    for (let i = 0; i < 6; i += 1) {
      const publishedBefore = passJwksOf(keySet).keys.map((k) => k.kid);
      const signingBefore = keySet.current.kid;
      keySet = await rotateKeySet(keySet);
      expect(publishedBefore).toContain(keySet.current.kid);
      // ...and the key it replaces is still published after it.
      expect(passJwksOf(keySet).keys.map((k) => k.kid)).toContain(signingBefore);
    }
  });

  it(`rotation keeps at most ${MAX_PREVIOUS_PASS_KEYS} previous keys, newest first`, async () => {
    let keySet = await generateKeySet();
    const signed = [keySet.current.kid];
    for (let i = 0; i < 6; i += 1) {
      keySet = await rotateKeySet(keySet);
      signed.unshift(keySet.current.kid);
      expect(keySet.previous.length).toBe(Math.min(i + 1, MAX_PREVIOUS_PASS_KEYS));
      expect(passJwksOf(keySet).keys).toHaveLength(2 + keySet.previous.length);
    }
    expect(keySet.previous.map((k) => k.kid)).toEqual(signed.slice(1, 1 + MAX_PREVIOUS_PASS_KEYS));
    expect(passJwksOf(await rotateKeySet(keySet, 1)).keys).toHaveLength(3);
  });

  it('an old-format key set (no next) gains a next at rotation, with a fresh current key', async () => {
    const old = await oldFormatKeySet();
    expect(passJwksOf(old).keys.map((k) => k.kid)).toEqual([old.current.kid]);
    const after = await rotateKeySet(old);
    expect(after.next).toBeDefined();
    expect(after.current.kid).not.toBe(old.current.kid);
    expect(after.next!.kid).not.toBe(after.current.kid);
    expect(after.previous).toEqual([publicPassJwk(old.current)]);
    // From then on the rotation is the usual one.
    const again = await rotateKeySet(after);
    expect(again.current).toEqual(after.next);
  });

  it('refuses fresh keys that clash with the set, or that do not fit it', async () => {
    const keySet = await generateKeySet();
    const fresh = await generatePassKey();
    const other = await generatePassKey();
    // A fresh next key whose kid is already published.
    for (const kid of passKeyIds(keySet)) {
      expect(() => rotatePassKeySet(keySet, { next: { ...fresh, kid } })).toThrow(PassKeyRotationError);
    }
    // A set with a next key takes no fresh current key; a set without one needs it.
    expect(() => rotatePassKeySet(keySet, { next: fresh, current: other })).toThrow(/no fresh current key is expected/);
    const old = await oldFormatKeySet();
    expect(() => rotatePassKeySet(old, { next: fresh })).toThrow(/fresh current key is needed/);
    expect(() => rotatePassKeySet(old, { next: fresh, current: { ...old.current } })).toThrow(/already in the key set/);
    expect(() => rotatePassKeySet(old, { next: fresh, current: { ...fresh } })).toThrow(/share the kid/);
    expect(() => rotatePassKeySet(keySet, { next: fresh }, 0)).toThrow(/maxPrevious/);
    expect(rotatePassKeySet(keySet, { next: fresh }).next).toBe(fresh);
  });

  it('builds claims in epoch seconds with exp = iat + ttl', () => {
    const claims = passClaimsFor({ roomId: 'shop', tokenId: 't1', ticket: 7, epoch: 2 }, 1_700_000_000_999, 60);
    expect(claims).toEqual({ iss: 'waiting-room', sub: 't1', room: 'shop', ticket: 7, ep: 2, iat: 1_700_000_000, exp: 1_700_000_060 });
    expect(() => passClaimsFor({ roomId: 'shop', tokenId: 't1', ticket: 7, epoch: 0 }, 0, 0)).toThrow(RangeError);
  });

  it('the verifier expects the issuer the signer writes', () => {
    expect(DEFAULT_PASS_ISSUER).toBe(PASS_ISSUER);
  });
});
