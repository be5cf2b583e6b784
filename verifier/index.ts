/**
 * Admission-pass verifier for the protected origin (DESIGN §7).
 *
 * A pass is a JWT signed ES256 by the waiting room. The origin checks it offline against the
 * public keys the waiting room publishes at `GET /.well-known/jwks.json`: the key set is fetched
 * once per URL and kept 10 minutes (refetched sooner when a pass names an unknown `kid`, at most
 * every 30 s). Only ES256 is accepted, whatever the token's header says; the issuer, the room and
 * the expiry are checked. Any refusal is a `PassRejectedError` with a reason code.
 *
 * Key rotation needs nothing from the origin. The JWKS holds the signing key, the key that will
 * sign after the next rotation (published one rotation ahead) and the keys recently replaced. A
 * rotation's new signing key has therefore been in the JWKS since the previous rotation, so an
 * origin that refreshes its JWKS at least once between rotations (this verifier does, every
 * 10 minutes, when rotations are at least 16 minutes apart) never meets an unknown `kid`.
 *
 * Emergency stops. A pass carries the room's epoch its visitor was admitted in (`ep`); an
 * emergency stop moves the room to the next epoch. Offline, a verifier cannot know the room's
 * epoch: it relies on the pass's short lifetime (60 s by default, and heartbeats refuse to renew a
 * revoked pass). An origin that reads the room's public status (its `epoch`, cached a second) may
 * pass it as `minEpoch` and refuse a revoked pass at once (reason `revoked`).
 *
 * Self-contained: depends on `jose` only, so it can be copied or published on its own.
 */
import { createLocalJWKSet, createRemoteJWKSet, customFetch, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';

/** The name of the cookie that carries the pass. */
export const PASS_COOKIE = 'wr_pass';
/** The issuer the waiting room writes in `iss`. */
export const DEFAULT_PASS_ISSUER = 'waiting-room';
/** Default allowance for clock skew between the waiting room and the origin, in seconds. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;

/** How long a fetched JWKS is used before it is fetched again, in milliseconds (10 minutes). */
export const JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;
/** The shortest time between two fetches of the JWKS caused by an unknown `kid`, in milliseconds. */
export const JWKS_REFETCH_COOLDOWN_MS = 30_000;

const ALGORITHM = 'ES256';

/**
 * Why a pass was refused.
 * - `missing`: no pass in the request (see `passFromHeaders`).
 * - `malformed`: not a JWS compact token, or claims missing or of the wrong type.
 * - `unsupported-algorithm`: the header names an algorithm other than ES256 (incl. `none`, HS256).
 * - `unknown-key`: no published key has the token's `kid` (forged, or signed by another room).
 * - `bad-signature`: the signature does not match the header and payload.
 * - `wrong-issuer`: `iss` is not the waiting room.
 * - `wrong-room`: valid pass for another room.
 * - `expired` / `not-yet-valid`: outside its validity window (beyond the clock tolerance).
 * - `revoked`: valid, but of an epoch before `minEpoch` (an emergency stop ended the visit).
 * - `jwks-unavailable`: the key set could not be fetched. The visitor is not at fault; the origin
 *   should still refuse (fail closed), but may answer 503 rather than send them back to the line.
 */
export type PassRejectionReason =
  | 'missing'
  | 'malformed'
  | 'unsupported-algorithm'
  | 'unknown-key'
  | 'bad-signature'
  | 'wrong-issuer'
  | 'wrong-room'
  | 'expired'
  | 'not-yet-valid'
  | 'revoked'
  | 'jwks-unavailable';

export class PassRejectedError extends Error {
  override name = 'PassRejectedError';
  constructor(
    readonly reason: PassRejectionReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What a valid pass says. Times are epoch seconds, as in the token. */
export interface PassClaims {
  roomId: string;
  tokenId: string;
  ticket: number;
  /** The room's epoch the visitor was admitted in (`ep`; 0 for a pass issued before epochs existed). */
  epoch: number;
  issuedAt: number;
  expiresAt: number;
  /** The id of the key that signed it. */
  keyId: string;
}

/** A fetch implementation, as `globalThis.fetch`. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

interface CommonVerifyPassOptions {
  /** The room this origin belongs to: a pass for any other room is refused. */
  roomId: string;
  /** Expected `iss`. Default `waiting-room`. */
  issuer?: string;
  /** Allowed clock skew, in seconds. Default 5. */
  clockToleranceSeconds?: number;
  /** Fetch used to load the JWKS (tests, proxies). Default the global fetch. */
  fetch?: FetchLike;
  /** Verification time, for tests. Default now. */
  currentDate?: Date;
  /**
   * The room's current epoch, when the caller knows it (the room status's `epoch`): a pass of an
   * earlier epoch is refused as `revoked`. Default: not checked (offline, the pass lifetime bounds it).
   */
  minEpoch?: number;
}

/**
 * Where the public keys come from: `jwksUrl`, the waiting room's JWKS (fetched and cached), or
 * `jwks`, a key set the caller already holds (the waiting room's own functions).
 */
export type VerifyPassOptions = CommonVerifyPassOptions &
  (
    | {
        /** The waiting room's JWKS, e.g. `https://<api>/.well-known/jwks.json`. */
        jwksUrl: string | URL;
        jwks?: undefined;
      }
    | {
        /** The public keys themselves (only public members are used). */
        jwks: JSONWebKeySet;
        jwksUrl?: undefined;
      }
  );

/** Resolvers of key sets given as objects, kept as long as the object is. */
let localSets = new WeakMap<JSONWebKeySet, ReturnType<typeof createLocalJWKSet>>();

function localKeySetFor(jwks: JSONWebKeySet): ReturnType<typeof createLocalJWKSet> {
  let keySet = localSets.get(jwks);
  if (!keySet) {
    keySet = createLocalJWKSet(jwks);
    localSets.set(jwks, keySet);
  }
  return keySet;
}

type RemoteKeySet = ReturnType<typeof createRemoteJWKSet>;

/** JWKS resolvers per fetch implementation and URL: each URL is fetched once and then cached. */
const defaultFetchSets = new Map<string, RemoteKeySet>();
let customFetchSets = new WeakMap<FetchLike, Map<string, RemoteKeySet>>();

function keySetFor(url: URL, fetchImpl: FetchLike | undefined): RemoteKeySet {
  let byUrl = defaultFetchSets;
  if (fetchImpl) {
    byUrl = customFetchSets.get(fetchImpl) ?? new Map();
    customFetchSets.set(fetchImpl, byUrl);
  }
  let keySet = byUrl.get(url.href);
  if (!keySet) {
    keySet = createRemoteJWKSet(url, {
      // Keys are published one rotation ahead, so the periodic refetch learns a signing key before
      // it signs; an unknown kid still triggers a refetch (at most every 30 s), as a fallback.
      cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
      cooldownDuration: JWKS_REFETCH_COOLDOWN_MS,
      timeoutDuration: 5_000,
      ...(fetchImpl ? { [customFetch]: (input: string, init: RequestInit) => fetchImpl(input, init) } : {}),
    });
    byUrl.set(url.href, keySet);
  }
  return keySet;
}

/** Forgets every cached JWKS (tests; or after pointing an origin at another waiting room). */
export function clearJwksCache(): void {
  defaultFetchSets.clear();
  customFetchSets = new WeakMap();
  localSets = new WeakMap();
}

const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Verifies a pass and returns its claims, or throws `PassRejectedError`. The pass itself never
 * appears in an error message.
 */
export async function verifyPass(pass: string, options: VerifyPassOptions): Promise<PassClaims> {
  if (typeof pass !== 'string' || pass === '') throw new PassRejectedError('missing', 'No admission pass');
  if (pass.length > 4096 || !JWS_COMPACT.test(pass)) throw new PassRejectedError('malformed', 'The pass is not a signed JWT');

  // Refuse any other algorithm before looking at keys: no `none`, no HMAC keyed with a public key.
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(pass);
  } catch (error) {
    throw new PassRejectedError('malformed', 'The pass header is not valid', { cause: error });
  }
  if (header.alg !== ALGORITHM) {
    throw new PassRejectedError('unsupported-algorithm', `The pass is signed with ${String(header.alg)}, only ${ALGORITHM} is accepted`);
  }
  if (typeof header.kid !== 'string' || header.kid === '') throw new PassRejectedError('malformed', 'The pass header has no kid');

  const tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  const issuer = options.issuer ?? DEFAULT_PASS_ISSUER;
  let keys: RemoteKeySet | ReturnType<typeof createLocalJWKSet>;
  if (options.jwks !== undefined) keys = localKeySetFor(options.jwks);
  else keys = keySetFor(options.jwksUrl instanceof URL ? options.jwksUrl : new URL(options.jwksUrl), options.fetch);

  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(pass, keys, {
      algorithms: [ALGORITHM],
      issuer,
      clockTolerance: tolerance,
      requiredClaims: ['iss', 'sub', 'iat', 'exp'],
      ...(options.currentDate ? { currentDate: options.currentDate } : {}),
    }));
  } catch (error) {
    throw rejectionFor(error);
  }

  const { sub, room, ticket, ep, iat, exp } = payload;
  if (typeof sub !== 'string' || typeof room !== 'string' || typeof ticket !== 'number' || !Number.isInteger(ticket)) {
    throw new PassRejectedError('malformed', 'The pass lacks its room, token or ticket');
  }
  // Passes issued before epochs existed have no `ep`: epoch 0.
  if (ep !== undefined && !(typeof ep === 'number' && Number.isSafeInteger(ep) && ep >= 0)) {
    throw new PassRejectedError('malformed', 'The pass epoch is not a whole number');
  }
  const epoch = ep ?? 0;
  if (typeof iat !== 'number' || typeof exp !== 'number') throw new PassRejectedError('malformed', 'The pass lacks iat or exp');
  const now = Math.floor((options.currentDate ?? new Date()).getTime() / 1000);
  if (iat > now + tolerance) throw new PassRejectedError('not-yet-valid', 'The pass was issued in the future');
  if (room !== options.roomId) throw new PassRejectedError('wrong-room', 'The pass is for another room');
  if (options.minEpoch !== undefined && epoch < options.minEpoch) {
    throw new PassRejectedError('revoked', 'The pass was revoked by an emergency stop of the room');
  }

  return { roomId: room, tokenId: sub, ticket, epoch, issuedAt: iat, expiresAt: exp, keyId: header.kid };
}

function rejectionFor(error: unknown): PassRejectedError {
  const reject = (reason: PassRejectionReason, message: string) => new PassRejectedError(reason, message, { cause: error });
  if (error instanceof errors.JWTExpired) return reject('expired', 'The pass has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss' && error.reason === 'check_failed') return reject('wrong-issuer', 'The pass was not issued by the waiting room');
    if (error.claim === 'nbf' && error.reason === 'check_failed') return reject('not-yet-valid', 'The pass is not valid yet');
    return reject('malformed', `The pass claim ${error.claim} is missing or invalid`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return reject('bad-signature', 'The pass signature is not valid');
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return reject('unknown-key', 'The pass is signed with an unknown key');
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return reject('unsupported-algorithm', `Only ${ALGORITHM} is accepted`);
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported) {
    return reject('malformed', 'The pass is not a valid signed JWT');
  }
  // JWKSTimeout, JWKSInvalid, a non-200 answer, a network error: the key set is unavailable.
  return reject('jwks-unavailable', 'The waiting room key set could not be loaded');
}

/** Headers as Node's `IncomingHttpHeaders`, a plain record, or a fetch `Headers`. */
export type HeaderSource = Record<string, string | string[] | undefined> | { get(name: string): string | null };

function headerValue(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return Array.isArray(value) ? value.join(name.toLowerCase() === 'cookie' ? '; ' : ', ') : value;
  }
  return undefined;
}

/** The `wr_pass` cookie's value from a `Cookie` header, if present. */
export function passFromCookie(cookieHeader: string | undefined, cookieName = PASS_COOKIE): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== cookieName) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      value = decodeURIComponent(value);
    } catch {
      // Not percent-encoded: keep as is; verification decides.
    }
    if (value !== '') return value;
  }
  return undefined;
}

/** The token of an `Authorization: Bearer <token>` header, if present. */
export function passFromAuthorization(authorizationHeader: string | undefined): string | undefined {
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorizationHeader ?? '');
  return match?.[1];
}

/**
 * The pass carried by a request: the `wr_pass` cookie first (what a browser sends), else an
 * `Authorization: Bearer` token (API clients).
 */
export function passFromHeaders(headers: HeaderSource, cookieName = PASS_COOKIE): string | undefined {
  return passFromCookie(headerValue(headers, 'cookie'), cookieName) ?? passFromAuthorization(headerValue(headers, 'authorization'));
}
