/**
 * Admission passes (DESIGN §7): the key set that signs them and the claims they carry, as plain
 * data and pure functions. Signing, key generation and storage live in the adapters; nothing
 * here imports jose or an AWS SDK.
 *
 * A key set holds one private signing key (`current`) and the public halves of the keys it
 * replaced (`previous`), so a pass signed just before a rotation stays verifiable until it
 * expires. The published JWKS is the public half of `current` followed by `previous`.
 */

/** The one signing algorithm: ECDSA over P-256 with SHA-256. */
export const PASS_ALGORITHM = 'ES256';
/** The `iss` claim of every pass. */
export const PASS_ISSUER = 'waiting-room';
/** How many replaced public keys a rotation keeps published. */
export const MAX_PREVIOUS_PASS_KEYS = 3;

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
  current: PassPrivateJwk;
  /** Public halves of replaced keys, newest first. */
  previous: PassPublicJwk[];
}

export interface PassJwks {
  keys: PassPublicJwk[];
}

/** The claims of a pass (registered claims plus `room` and `ticket`). Times in epoch seconds. */
export interface PassClaimSet {
  iss: typeof PASS_ISSUER;
  /** The token id. */
  sub: string;
  room: string;
  ticket: number;
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

/** The JWKS to publish: public current key first, then the previous ones. */
export function passJwksOf(keySet: PassKeySet): PassJwks {
  return { keys: [keySet.current, ...keySet.previous].map(publicPassJwk) };
}

/** The kids of a key set, current first. */
export function passKeyIds(keySet: PassKeySet): string[] {
  return [keySet.current.kid, ...keySet.previous.map((k) => k.kid)];
}

export class PassKeyRotationError extends Error {
  override name = 'PassKeyRotationError';
}

/**
 * A rotation: `next` becomes the signing key, the old current key's public half moves to the
 * front of `previous`, and only the newest `maxPrevious` previous keys are kept.
 */
export function rotatePassKeySet(keySet: PassKeySet, next: PassPrivateJwk, maxPrevious = MAX_PREVIOUS_PASS_KEYS): PassKeySet {
  if (!Number.isInteger(maxPrevious) || maxPrevious < 1) {
    throw new PassKeyRotationError(`maxPrevious must be a whole number of at least 1 (got ${maxPrevious})`);
  }
  if (passKeyIds(keySet).includes(next.kid)) {
    throw new PassKeyRotationError(`The new key's kid ${next.kid} is already in the key set`);
  }
  return {
    current: next,
    previous: [publicPassJwk(keySet.current), ...keySet.previous.map(publicPassJwk)].slice(0, maxPrevious),
  };
}

/** The claims of a pass issued at `nowMs` (epoch milliseconds) for `ttlSeconds`. */
export function passClaimsFor(
  subject: { roomId: string; tokenId: string; ticket: number },
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
    iat,
    exp: iat + Math.ceil(ttlSeconds),
  };
}
