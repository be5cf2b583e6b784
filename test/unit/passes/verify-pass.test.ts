import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SignJWT, UnsecuredJWT, decodeJwt, decodeProtectedHeader, exportSPKI, generateKeyPair, importJWK, type CryptoKey } from 'jose';
import { generateKeySet, rotateKeySet } from '../../../lambdas/adapters/pass-key-sources.js';
import { JosePassIssuer } from '../../../lambdas/adapters/pass-signer.js';
import { passJwksOf, publicPassJwk, type PassKeySet } from '../../../lambdas/domain/passes/pass-keys.js';
import {
  PassRejectedError,
  clearJwksCache,
  passFromAuthorization,
  passFromCookie,
  passFromHeaders,
  verifyPass,
  type PassRejectionReason,
} from '../../../verifier/index.js';
import { MutableKeySource, ROOM, TOKEN_ID, b64json, editJws, startJwksServer, unb64json, type JwksServer } from './fixtures.js';

const subject = { roomId: ROOM, tokenId: TOKEN_ID, ticket: 42, epoch: 0 };

let keySet: PassKeySet;
let source: MutableKeySource;
let issuer: JosePassIssuer;
let server: JwksServer;

beforeAll(async () => {
  server = await startJwksServer({ keys: [] });
});
afterAll(async () => {
  await server.close();
});

beforeEach(async () => {
  keySet = await generateKeySet();
  source = new MutableKeySource(keySet);
  issuer = new JosePassIssuer(source, { ttlSeconds: 60 });
  server.set(passJwksOf(keySet));
});
afterEach(() => {
  clearJwksCache();
  vi.useRealTimers();
});

const verify = (pass: string, options: { roomId?: string; clockToleranceSeconds?: number } = {}) =>
  verifyPass(pass, { jwksUrl: server.url, roomId: options.roomId ?? ROOM, clockToleranceSeconds: options.clockToleranceSeconds });

async function rejection(promise: Promise<unknown>): Promise<PassRejectedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PassRejectedError);
  return error as PassRejectedError;
}

async function expectRejected(pass: string, reason: PassRejectionReason, options?: Parameters<typeof verify>[1]) {
  const error = await rejection(verify(pass, options));
  expect(error.reason).toBe(reason);
  if (pass !== '') expect(error.message).not.toContain(pass);
}

const privateKeyOf = async (set: PassKeySet) => (await importJWK(set.current, 'ES256')) as CryptoKey;
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('admission pass: signing and verification', () => {
  it('signs an ES256 JWT with the kid that the origin verifies against the JWKS', async () => {
    const now = Date.now();
    const issued = await issuer.issue(subject, now);

    expect(decodeProtectedHeader(issued.pass)).toEqual({ alg: 'ES256', kid: keySet.current.kid, typ: 'JWT' });
    const payload = decodeJwt(issued.pass);
    expect(payload).toEqual({
      iss: 'waiting-room',
      sub: TOKEN_ID,
      room: ROOM,
      ticket: 42,
      ep: 0,
      iat: Math.floor(now / 1000),
      exp: Math.floor(now / 1000) + 60,
    });
    expect(issued.expiresAt).toBe((Math.floor(now / 1000) + 60) * 1000);

    await expect(verify(issued.pass)).resolves.toEqual({
      roomId: ROOM,
      tokenId: TOKEN_ID,
      ticket: 42,
      epoch: 0,
      issuedAt: Math.floor(now / 1000),
      expiresAt: Math.floor(now / 1000) + 60,
      keyId: keySet.current.kid,
    });
  });

  it('fetches the JWKS once per URL for many verifications', async () => {
    const before = server.hits();
    for (let i = 0; i < 5; i += 1) await verify((await issuer.issue({ ...subject, ticket: i + 1 }, Date.now())).pass);
    expect(server.hits() - before).toBe(1);
  });

  it('imports the private key once per key, not once per pass', async () => {
    const importKey = vi.fn(async (jwk: PassKeySet['current']) => (await importJWK(jwk, 'ES256')) as CryptoKey);
    const counted = new JosePassIssuer(source, { ttlSeconds: 60, importKey });
    for (let i = 0; i < 3; i += 1) await counted.issue(subject, Date.now());
    expect(source.reads).toBe(3);
    expect(importKey).toHaveBeenCalledTimes(1);

    source.keySet = await rotateKeySet(keySet);
    const { pass } = await counted.issue(subject, Date.now());
    expect(importKey).toHaveBeenCalledTimes(2);
    expect(decodeProtectedHeader(pass).kid).toBe(source.keySet.current.kid);
  });

  it('imports again after a failed import', async () => {
    const importKey = vi
      .fn<(jwk: PassKeySet['current']) => Promise<CryptoKey>>()
      .mockRejectedValueOnce(new Error('transient'))
      .mockImplementation(async (jwk) => (await importJWK(jwk, 'ES256')) as CryptoKey);
    const counted = new JosePassIssuer(source, { ttlSeconds: 60, importKey });
    await expect(counted.issue(subject, Date.now())).rejects.toThrow('transient');
    await expect(counted.issue(subject, Date.now())).resolves.toHaveProperty('pass');
    expect(importKey).toHaveBeenCalledTimes(2);
  });

  it('uses an injected fetch', async () => {
    const fetch = vi.fn(async (_url: string, _init: RequestInit) => new Response(JSON.stringify(passJwksOf(keySet)), { headers: { 'Content-Type': 'application/json' } }));
    const { pass } = await issuer.issue(subject, Date.now());
    await expect(verifyPass(pass, { jwksUrl: 'https://waiting-room.example/.well-known/jwks.json', roomId: ROOM, fetch })).resolves.toMatchObject({
      tokenId: TOKEN_ID,
    });
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(fetch.mock.calls[0]?.[0]).toBe('https://waiting-room.example/.well-known/jwks.json');
  });

  it('refuses an expired pass', async () => {
    const { pass } = await issuer.issue(subject, Date.now() - 120_000);
    await expectRejected(pass, 'expired');
  });

  it('allows the clock tolerance after expiry, and no more', async () => {
    const { pass } = await issuer.issue(subject, Date.now() - 62_000); // expired about 2 s ago
    await expect(verify(pass, { clockToleranceSeconds: 5 })).resolves.toMatchObject({ tokenId: TOKEN_ID });
    await expectRejected(pass, 'expired', { clockToleranceSeconds: 0 });
  });

  it('refuses a pass issued in the future', async () => {
    const { pass } = await issuer.issue(subject, Date.now() + 30_000);
    await expectRejected(pass, 'not-yet-valid');
  });

  it('refuses a pass for another room', async () => {
    const { pass } = await issuer.issue({ ...subject, roomId: 'other-room' }, Date.now());
    await expectRejected(pass, 'wrong-room');
  });

  it('refuses a pass from another issuer', async () => {
    const pass = await new SignJWT({ room: ROOM, ticket: 1 })
      .setProtectedHeader({ alg: 'ES256', kid: keySet.current.kid })
      .setIssuer('someone-else')
      .setSubject(TOKEN_ID)
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(await privateKeyOf(keySet));
    await expectRejected(pass, 'wrong-issuer');
  });

  it('refuses a pass without its room or ticket', async () => {
    const pass = await new SignJWT({ ticket: 1 })
      .setProtectedHeader({ alg: 'ES256', kid: keySet.current.kid })
      .setIssuer('waiting-room')
      .setSubject(TOKEN_ID)
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(await privateKeyOf(keySet));
    await expectRejected(pass, 'malformed');
  });

  it('refuses a pass signed with a different key that claims the published kid', async () => {
    const attacker = await generateKeySet();
    const forged = new JosePassIssuer(new MutableKeySource({ current: { ...attacker.current, kid: keySet.current.kid }, previous: [] }), {
      ttlSeconds: 60,
    });
    await expectRejected((await forged.issue(subject, Date.now())).pass, 'bad-signature');
  });

  it('refuses a pass signed with a different, unpublished key', async () => {
    const other = new JosePassIssuer(new MutableKeySource(await generateKeySet()), { ttlSeconds: 60 });
    await expectRejected((await other.issue(subject, Date.now())).pass, 'unknown-key');
  });

  it('refuses an unsecured alg "none" token', async () => {
    const claims = { iss: 'waiting-room', sub: TOKEN_ID, room: ROOM, ticket: 1, iat: nowSeconds(), exp: nowSeconds() + 60 };
    const unsecured = new UnsecuredJWT(claims).encode();
    await expectRejected(unsecured, 'malformed');
    // The same with a dummy signature segment and a valid kid.
    const dressedUp = `${b64json({ alg: 'none', kid: keySet.current.kid })}.${b64json(claims)}.AAAA`;
    await expectRejected(dressedUp, 'unsupported-algorithm');
    const lowerCase = `${b64json({ alg: 'None', kid: keySet.current.kid })}.${b64json(claims)}.AAAA`;
    await expectRejected(lowerCase, 'unsupported-algorithm');
  });

  it('refuses algorithm confusion: HS256 keyed with the public key', async () => {
    const publicKey = (await importJWK(publicPassJwk(keySet.current), 'ES256', { extractable: true })) as CryptoKey;
    const macKeys = [
      new TextEncoder().encode(await exportSPKI(publicKey)),
      new TextEncoder().encode(JSON.stringify(publicPassJwk(keySet.current))),
      Buffer.from(keySet.current.x + keySet.current.y, 'base64url'),
    ];
    for (const macKey of macKeys) {
      const pass = await new SignJWT({ room: ROOM, ticket: 1 })
        .setProtectedHeader({ alg: 'HS256', kid: keySet.current.kid })
        .setIssuer('waiting-room')
        .setSubject(TOKEN_ID)
        .setIssuedAt()
        .setExpirationTime('1m')
        .sign(macKey);
      await expectRejected(pass, 'unsupported-algorithm');
    }
  });

  it('refuses RS256 and ES384 tokens, even with a published kid', async () => {
    for (const alg of ['RS256', 'ES384'] as const) {
      const { privateKey } = await generateKeyPair(alg);
      const pass = await new SignJWT({ room: ROOM, ticket: 1 })
        .setProtectedHeader({ alg, kid: keySet.current.kid })
        .setIssuer('waiting-room')
        .setSubject(TOKEN_ID)
        .setIssuedAt()
        .setExpirationTime('1m')
        .sign(privateKey);
      await expectRejected(pass, 'unsupported-algorithm');
    }
  });

  it('refuses a pass whose payload was edited', async () => {
    const { pass } = await issuer.issue({ ...subject, roomId: 'other-room' }, Date.now());
    const edited = editJws(pass, (parts) => {
      parts.payload = b64json({ ...unb64json(parts.payload), room: ROOM });
    });
    await expectRejected(edited, 'bad-signature');
    const extended = editJws((await issuer.issue(subject, Date.now())).pass, (parts) => {
      parts.payload = b64json({ ...unb64json(parts.payload), exp: nowSeconds() + 3600 });
    });
    await expectRejected(extended, 'bad-signature');
  });

  it('refuses a pass whose signature was edited or truncated', async () => {
    const { pass } = await issuer.issue(subject, Date.now());
    const flipped = editJws(pass, (parts) => {
      const middle = Math.floor(parts.signature.length / 2);
      const c = parts.signature[middle] === 'A' ? 'B' : 'A';
      parts.signature = parts.signature.slice(0, middle) + c + parts.signature.slice(middle + 1);
    });
    await expectRejected(flipped, 'bad-signature');
    const truncated = editJws(pass, (parts) => {
      parts.signature = parts.signature.slice(0, 40);
    });
    await expectRejected(truncated, 'bad-signature');
  });

  it('refuses a pass whose header was edited', async () => {
    const { pass } = await issuer.issue(subject, Date.now());
    await expectRejected(editJws(pass, (p) => (p.header = b64json({ alg: 'ES384', kid: keySet.current.kid }))), 'unsupported-algorithm');
    await expectRejected(editJws(pass, (p) => (p.header = b64json({ alg: 'ES256', kid: 'someone-else' }))), 'unknown-key');
    await expectRejected(editJws(pass, (p) => (p.header = b64json({ alg: 'ES256' }))), 'malformed');
    await expectRejected(editJws(pass, (p) => (p.header = b64json({ alg: 'ES256', kid: keySet.current.kid, typ: 'x' }))), 'bad-signature');
  });

  it('refuses junk', async () => {
    await expectRejected('', 'missing');
    await expectRejected('not-a-jwt', 'malformed');
    await expectRejected('a.b.c', 'malformed');
    await expectRejected(`${'a'.repeat(5000)}.b.c`, 'malformed');
  });

  it('fails closed when the JWKS cannot be loaded', async () => {
    const { pass } = await issuer.issue(subject, Date.now());
    server.set({ status: 500 });
    await expectRejected(pass, 'jwks-unavailable');
  });
});

describe('admission pass: the room epoch and a key set held in memory', () => {
  it('carries the epoch of the admission in `ep`, and refuses one below minEpoch when the caller knows the room\'s', async () => {
    const { pass } = await issuer.issue({ ...subject, epoch: 3 }, Date.now());
    expect(decodeJwt(pass)).toMatchObject({ ep: 3 });
    await expect(verify(pass)).resolves.toMatchObject({ epoch: 3 });
    await expect(verifyPass(pass, { jwksUrl: server.url, roomId: ROOM, minEpoch: 3 })).resolves.toMatchObject({ epoch: 3 });
    const error = await rejection(verifyPass(pass, { jwksUrl: server.url, roomId: ROOM, minEpoch: 4 }));
    expect(error.reason).toBe('revoked');
    expect(error.message).not.toContain(pass);
  });

  it('reads a pass from before epochs (no `ep`) as epoch 0, and refuses an `ep` that is not a whole number', async () => {
    const privateKey = await privateKeyOf(keySet);
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT({ room: ROOM, ticket: 42, ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: keySet.current.kid, typ: 'JWT' })
        .setIssuer('waiting-room')
        .setSubject(TOKEN_ID)
        .setIssuedAt()
        .setExpirationTime('1m')
        .sign(privateKey);
    await expect(verify(await sign({}))).resolves.toMatchObject({ epoch: 0 });
    for (const ep of [-1, 1.5, '2', null]) await expectRejected(await sign({ ep }), 'malformed');
  });

  it('verifies against a key set given as an object (no fetch), with the same checks', async () => {
    const jwks = passJwksOf(keySet);
    const { pass } = await issuer.issue(subject, Date.now());
    const fetches = server.hits();
    await expect(verifyPass(pass, { jwks, roomId: ROOM })).resolves.toMatchObject({ tokenId: TOKEN_ID, ticket: 42, keyId: keySet.current.kid });
    expect(server.hits()).toBe(fetches);
    const wrongRoom = await rejection(verifyPass(pass, { jwks, roomId: 'other-room' }));
    expect(wrongRoom.reason).toBe('wrong-room');
    const unknown = await rejection(verifyPass(pass, { jwks: passJwksOf(await generateKeySet()), roomId: ROOM }));
    expect(unknown.reason).toBe('unknown-key');
  });
});

describe('admission pass: key rotation', () => {
  it('a pass signed right after a rotation verifies against a JWKS fetched before it', async () => {
    // The origin fetches the JWKS before the rotation, while the old key signs.
    await expect(verify((await issuer.issue(subject, Date.now())).pass)).resolves.toMatchObject({ keyId: keySet.current.kid });
    const fetches = server.hits();
    // From now on, any refetch would fail: the origin has only the copy it fetched before.
    server.set({ status: 503 });

    const rotated = await rotateKeySet(keySet);
    source.keySet = rotated;
    const after = await issuer.issue(subject, Date.now());
    expect(decodeProtectedHeader(after.pass).kid).toBe(rotated.current.kid);
    await expect(verify(after.pass)).resolves.toMatchObject({ keyId: rotated.current.kid, tokenId: TOKEN_ID });
    expect(server.hits()).toBe(fetches);
  });

  it('the same across successive rotations, for an origin that refetches once between them', async () => {
    let set = keySet;
    for (let i = 0; i < 4; i += 1) {
      clearJwksCache();
      server.set(passJwksOf(set));
      const sealed = (await issuer.issue(subject, Date.now())).pass;
      await expect(verify(sealed)).resolves.toMatchObject({ keyId: set.current.kid });
      server.set({ status: 503 });

      set = await rotateKeySet(set);
      source.keySet = set;
      await expect(verify((await issuer.issue(subject, Date.now())).pass)).resolves.toMatchObject({ keyId: set.current.kid });
      // The pass the old key signed still verifies, from the same copy.
      await expect(verify(sealed)).resolves.toMatchObject({ tokenId: TOKEN_ID });
    }
  });

  it('keeps a pass signed before a rotation valid until it expires, with 3 keys published', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.now();
    const before = await issuer.issue(subject, t0);
    await expect(verify(before.pass)).resolves.toMatchObject({ keyId: keySet.current.kid });

    // 35 s later the key rotates: the signer moves to the next key, the JWKS publishes
    // current, next and the replaced key.
    vi.setSystemTime(t0 + 35_000);
    const rotated = await rotateKeySet(keySet);
    source.keySet = rotated;
    server.set(passJwksOf(rotated));
    expect(passJwksOf(rotated).keys.map((k) => k.kid)).toEqual([rotated.current.kid, rotated.next?.kid, keySet.current.kid]);
    const fetches = server.hits();

    const after = await issuer.issue(subject, Date.now());
    expect(decodeProtectedHeader(after.pass).kid).toBe(rotated.current.kid);
    // The verifier already knows the new kid (it was published as next): no refetch...
    await expect(verify(after.pass)).resolves.toMatchObject({ keyId: rotated.current.kid });
    expect(server.hits()).toBe(fetches);
    // ...and the pass signed before the rotation still verifies.
    await expect(verify(before.pass)).resolves.toMatchObject({ keyId: keySet.current.kid });

    // Until it expires (60 s after t0, plus the 5 s tolerance).
    vi.setSystemTime(t0 + 66_000);
    await expectRejected(before.pass, 'expired');
    await expect(verify(after.pass)).resolves.toMatchObject({ keyId: rotated.current.kid });
    // A JWKS fetched after the rotation verifies the old pass too, while it is valid.
    clearJwksCache();
    vi.setSystemTime(t0 + 50_000);
    await expect(verify(before.pass)).resolves.toMatchObject({ keyId: keySet.current.kid });
  });

  it('an old-format key set (no next) signs, and its first rotation needs the origin to refetch', async () => {
    const old: PassKeySet = { current: keySet.current, previous: [] };
    source.keySet = old;
    server.set(passJwksOf(old));
    await expect(verify((await issuer.issue(subject, Date.now())).pass)).resolves.toMatchObject({ keyId: old.current.kid });

    const rotated = await rotateKeySet(old);
    expect(rotated.next).toBeDefined();
    source.keySet = rotated;
    // The new signing key was not published ahead: neither the copy fetched before nor a stale
    // cache of the JWKS has it, and the pass is refused (the gap that `next` closes).
    await expectRejected((await issuer.issue(subject, Date.now())).pass, 'unknown-key');
    // Once the JWKS answers again with the rotated set, it verifies (refetch on unknown kid).
    clearJwksCache();
    server.set(passJwksOf(rotated));
    await expect(verify((await issuer.issue(subject, Date.now())).pass)).resolves.toMatchObject({ keyId: rotated.current.kid });
  });

  it('refuses passes of a key that rotated out of the published set', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.now();
    const old = await issuer.issue(subject, t0);
    let set = keySet;
    for (let i = 0; i < 4; i += 1) set = await rotateKeySet(set);
    server.set(passJwksOf(set));
    vi.setSystemTime(t0 + 1_000);
    await expectRejected(old.pass, 'unknown-key');
  });

  it('never signs with the next key, which is published but not yet in use', async () => {
    for (let i = 0; i < 3; i += 1) {
      const { pass } = await issuer.issue({ ...subject, ticket: i }, Date.now());
      expect(decodeProtectedHeader(pass).kid).toBe(keySet.current.kid);
      expect(decodeProtectedHeader(pass).kid).not.toBe(keySet.next?.kid);
    }
  });
});

describe('reading the pass from a request', () => {
  const pass = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

  it('reads the wr_pass cookie', () => {
    expect(passFromCookie(`a=1; wr_pass=${pass}; b=2`)).toBe(pass);
    expect(passFromCookie(`wr_pass="${pass}"`)).toBe(pass);
    expect(passFromCookie('a=1; not_wr_pass=x')).toBeUndefined();
    expect(passFromCookie(undefined)).toBeUndefined();
  });

  it('reads Authorization: Bearer', () => {
    expect(passFromAuthorization(`Bearer ${pass}`)).toBe(pass);
    expect(passFromAuthorization(`bearer  ${pass} `)).toBe(pass);
    expect(passFromAuthorization(`Basic abc`)).toBeUndefined();
    expect(passFromAuthorization(undefined)).toBeUndefined();
  });

  it('prefers the cookie, then the Authorization header, with any header casing or shape', () => {
    expect(passFromHeaders({ Cookie: 'wr_pass=from-cookie', Authorization: 'Bearer from-auth' })).toBe('from-cookie');
    expect(passFromHeaders({ authorization: 'Bearer from-auth', cookie: 'session=1' })).toBe('from-auth');
    expect(passFromHeaders({ cookie: ['a=1', 'wr_pass=from-array'] })).toBe('from-array');
    expect(passFromHeaders(new Headers({ cookie: 'wr_pass=from-headers' }))).toBe('from-headers');
    expect(passFromHeaders({})).toBeUndefined();
  });
});
