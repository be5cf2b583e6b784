/**
 * Admission passes (DESIGN §7): the key set that signs them and the claims they carry, as plain
 * data and pure functions. Signing, key generation and storage live in the adapters; nothing
 * here imports jose or an AWS SDK.
 *
 * A key set holds three kinds of keys:
 * - `current`: the private key that signs passes;
 * - `next`: the private key that will sign after the next rotation. It is published in the JWKS
 *   now but signs nothing yet, so that origins already know it when it starts signing;
 * - `previous`: the public halves of the keys `current` replaced, newest first, so that a pass
 *   signed just before a rotation stays verifiable until it expires.
 * The published JWKS is the public half of `current`, then `next`, then `previous`.
 *
 * Rotation timeline. Rotation n moves `next` to `current` (and `current` to `previous`) and
 * draws a fresh `next`. Who sees what, and when, after rotation n at time R(n):
 * - the signing functions switch to the new `current` when their key cache expires: between
 *   R(n) and R(n) + 5 min. They never sign with it before R(n);
 * - that key has been in the secret since R(n-1), as `next`. The JWKS function serves it from
 *   R(n-1) + 60 s at the latest (its key cache), any HTTP cache or CDN from R(n-1) + 6 min (plus
 *   max-age 300 s), and an origin verifier holds it from R(n-1) + 16 min at the latest (it keeps
 *   a JWKS 10 minutes, so by then its copy was fetched after R(n-1) + 6 min).
 * So if rotations are at least `MIN_PASS_KEY_ROTATION_INTERVAL_SECONDS` (16 minutes) apart, an
 * origin that refreshes its JWKS at least once between rotations never meets an unknown `kid`.
 * With rotations closer together, an origin may see the new `kid` before its JWKS has it (it
 * refetches on an unknown kid, at most every 30 s) and refuse valid passes meanwhile.
 */

/** The one signing algorithm: ECDSA over P-256 with SHA-256. */
export const PASS_ALGORITHM = 'ES256';
/** The `iss` claim of every pass. */
export const PASS_ISSUER = 'waiting-room';
/** How many replaced public keys a rotation keeps published. */
export const MAX_PREVIOUS_PASS_KEYS = 3;

/** How long the JWKS function keeps the key set it read from Secrets Manager (`handlers/jwks.ts`). */
export const JWKS_KEY_CACHE_SECONDS = 60;
/** The `max-age` of the JWKS answer: how long a CDN or an HTTP cache may serve it unchanged. */
export const JWKS_MAX_AGE_SECONDS = 300;
/** How long the origin verifier keeps a fetched JWKS before fetching it again (`verifier/index.ts`). */
export const VERIFIER_JWKS_CACHE_SECONDS = 600;
/**
 * The shortest safe interval between two rotations, 16 minutes: the time a key published as
 * `next` takes to reach every origin's JWKS cache (JWKS function cache + max-age + verifier
 * cache). See the timeline above.
 */
export const MIN_PASS_KEY_ROTATION_INTERVAL_SECONDS = JWKS_KEY_CACHE_SECONDS + JWKS_MAX_AGE_SECONDS + VERIFIER_JWKS_CACHE_SECONDS;

/** The public half of a signing key, as published in the JWKS. */
export interface PassPublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  alg: typeof PASS_ALGORITHM;
  use: 'sig';
}

/** A signing key: the public half plus the private scalar `d`. Never logged, never published. */
export interface PassPrivateJwk extends PassPublicJwk {
  d: string;
}

export interface PassKeySet {
  /** The signing key. */
  current: PassPrivateJwk;
  /**
   * The key the next rotation makes current: published in the JWKS, never used for signing.
   * Absent only from key sets written before it existed; such a set gains one at its next rotation.
   */
  next?: PassPrivateJwk | undefined;
  /** Public halves of replaced keys, newest first. */
  previous: PassPublicJwk[];
}

export interface PassJwks {
  keys: PassPublicJwk[];
}

/** The claims of a pass (registered claims plus `room`, `ticket` and `ep`). Times in epoch seconds. */
export interface PassClaimSet {
  iss: typeof PASS_ISSUER;
  /** The token id. */
  sub: string;
  room: string;
  ticket: number;
  /**
   * The room's epoch the visitor was admitted in: an emergency stop moves the room to the next one,
   * and a verifier that knows the room's epoch refuses a pass of an earlier one (lambdas/domain/visitors/departures.ts).
   */
  ep: number;
  iat: number;
  exp: number;
}

/**
 * The public half of a key: only the listed public members are copied, so a private `d` (or any
 * other member) can never leak into the JWKS by accident.
 */
export function publicPassJwk(jwk: PassPublicJwk): PassPublicJwk {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid: jwk.kid, alg: jwk.alg, use: jwk.use };
}

/** The keys to publish, private or not: current, then next (if any), then previous. */
function publishedKeys(keySet: PassKeySet): PassPublicJwk[] {
  return [keySet.current, ...(keySet.next ? [keySet.next] : []), ...keySet.previous];
}

/** The JWKS to publish: the public halves of current, next and previous, in that order. */
export function passJwksOf(keySet: PassKeySet): PassJwks {
  return { keys: publishedKeys(keySet).map(publicPassJwk) };
}

/** The kids of a key set: current, next, then previous. */
export function passKeyIds(keySet: PassKeySet): string[] {
  return publishedKeys(keySet).map((k) => k.kid);
}

export class PassKeyRotationError extends Error {
  override name = 'PassKeyRotationError';
}

/** Freshly generated keys for a rotation. */
export interface FreshPassKeys {
  /** Becomes the new `next`: published now, signs after the following rotation. */
  next: PassPrivateJwk;
  /**
   * Becomes `current` when the key set has no `next` (a set written before `next` existed), and
   * only then. Such a key starts signing without having been published ahead.
   */
  current?: PassPrivateJwk | undefined;
}

/**
 * A rotation: the published `next` key becomes the signing key (`current`), the old current
 * key's public half moves to the front of `previous` (only the newest `maxPrevious` are kept),
 * and `fresh.next` becomes the new `next`. A key set without `next` takes `fresh.current` as its
 * signing key instead.
 */
export function rotatePassKeySet(keySet: PassKeySet, fresh: FreshPassKeys, maxPrevious = MAX_PREVIOUS_PASS_KEYS): PassKeySet {
  if (!Number.isInteger(maxPrevious) || maxPrevious < 1) {
    throw new PassKeyRotationError(`maxPrevious must be a whole number of at least 1 (got ${maxPrevious})`);
  }
  if (keySet.next && fresh.current) {
    throw new PassKeyRotationError('The key set has a next key, which becomes current: no fresh current key is expected');
  }
  const current = keySet.next ?? fresh.current;
  if (!current) throw new PassKeyRotationError('The key set has no next key: a fresh current key is needed');
  const known = passKeyIds(keySet);
  for (const key of fresh.current ? [fresh.current, fresh.next] : [fresh.next]) {
    if (known.includes(key.kid)) throw new PassKeyRotationError(`The new key's kid ${key.kid} is already in the key set`);
  }
  if (fresh.current?.kid === fresh.next.kid) throw new PassKeyRotationError(`The two new keys share the kid ${fresh.next.kid}`);
  return {
    current,
    next: fresh.next,
    previous: [publicPassJwk(keySet.current), ...keySet.previous.map(publicPassJwk)].slice(0, maxPrevious),
  };
}

/** The claims of a pass issued at `nowMs` (epoch milliseconds) for `ttlSeconds`. */
export function passClaimsFor(
  subject: { roomId: string; tokenId: string; ticket: number; epoch: number },
  nowMs: number,
  ttlSeconds: number,
): PassClaimSet {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) throw new RangeError(`ttlSeconds must be positive (got ${ttlSeconds})`);
  const iat = Math.floor(nowMs / 1000);
  return {
    iss: PASS_ISSUER,
    sub: subject.tokenId,
    room: subject.roomId,
    ticket: subject.ticket,
    ep: subject.epoch,
    iat,
    exp: iat + Math.ceil(ttlSeconds),
  };
}
