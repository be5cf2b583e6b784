import { describe, expect, it } from 'vitest';
import { generateKeySet, generatePassKey, rotateKeySet } from '../../../lambdas/adapters/pass-key-sources.js';
import {
  MAX_PREVIOUS_PASS_KEYS,
  PASS_ISSUER,
  PassKeyRotationError,
  passClaimsFor,
  passJwksOf,
  publicPassJwk,
  rotatePassKeySet,
} from '../../../lambdas/domain/pass-keys.js';
import { DEFAULT_PASS_ISSUER } from '../../../verifier/index.js';

describe('pass key set', () => {
  it('generates an ES256 P-256 private key with a random kid', async () => {
    const { current, previous } = await generateKeySet();
    expect(current).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(current.d).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(current.kid).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(previous).toEqual([]);
    expect((await generatePassKey()).kid).not.toBe(current.kid);
  });

  it('publishes only public members: the JWKS never contains a private d', async () => {
    let keySet = await generateKeySet();
    keySet = await rotateKeySet(keySet);
    // Even a private member wrongly left in `previous` is not published.
    keySet.previous.push({ ...(await generatePassKey()) });
    const jwks = passJwksOf(keySet);
    expect(jwks.keys).toHaveLength(3);
    for (const key of jwks.keys) {
      expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    }
    expect(JSON.stringify(jwks)).not.toContain('"d"');
  });

  it('rotation makes the new key current and keeps the old public key first in previous', async () => {
    const before = await generateKeySet();
    const after = await rotateKeySet(before);
    expect(after.current.kid).not.toBe(before.current.kid);
    expect(after.previous).toEqual([publicPassJwk(before.current)]);
    expect(after.previous[0]).not.toHaveProperty('d');
    expect(passJwksOf(after).keys.map((k) => k.kid)).toEqual([after.current.kid, before.current.kid]);
  });

  it(`rotation keeps at most ${MAX_PREVIOUS_PASS_KEYS} previous keys, newest first`, async () => {
    let keySet = await generateKeySet();
    const kids = [keySet.current.kid];
    for (let i = 0; i < 5; i += 1) {
      keySet = await rotateKeySet(keySet);
      kids.unshift(keySet.current.kid);
    }
    expect(keySet.previous.map((k) => k.kid)).toEqual(kids.slice(1, 1 + MAX_PREVIOUS_PASS_KEYS));
  });

  it('refuses a new key whose kid is already in the set', async () => {
    const keySet = await generateKeySet();
    expect(() => rotatePassKeySet(keySet, { ...keySet.current })).toThrow(PassKeyRotationError);
  });

  it('builds claims in epoch seconds with exp = iat + ttl', () => {
    const claims = passClaimsFor({ roomId: 'shop', tokenId: 't1', ticket: 7 }, 1_700_000_000_999, 60);
    expect(claims).toEqual({ iss: 'waiting-room', sub: 't1', room: 'shop', ticket: 7, iat: 1_700_000_000, exp: 1_700_000_060 });
    expect(() => passClaimsFor({ roomId: 'shop', tokenId: 't1', ticket: 7 }, 0, 0)).toThrow(RangeError);
  });

  it('the verifier expects the issuer the signer writes', () => {
    expect(DEFAULT_PASS_ISSUER).toBe(PASS_ISSUER);
  });
});
