/**
 * The edge pass (DESIGN §7, issue 9): the short credential that the edge gate checks on every
 * request to a protected path, minted and verified here on the Node side with the same rules as
 * the CloudFront Function in `gate-function.js` (pinned by test/unit/edge).
 *
 * Format: a JWT in compact serialization, signed HS256 (HMAC-SHA256, the only keyed primitive that
 * CloudFront Functions offer), with exactly this header and these claims:
 *
 *     {"alg":"HS256","typ":"JWT","kid":"<kid>"}
 *     {"iss":"<issuer>","room":"<roomId>","sub":"<tokenId>","iat":s,"nbf":s,"exp":s}
 *
 * Times are epoch seconds. A key is 32 random bytes, written base64url (43 characters); the HMAC
 * key is those 32 bytes. Keys live in the CloudFront KeyValueStore under `k.<kid>` (see
 * `edgePassKvsKey`), written by the key-rotation function; a replaced key stays there for one pass
 * lifetime, so a pass signed just before a rotation keeps working until it expires.
 *
 * Verification refuses, in this order (the first failing rule gives the reason):
 * MISSING, DUPLICATED (the cookie sent more than once), TOO_LARGE (over 1024 bytes), MALFORMED
 * (not three base64url parts, a part that is not JSON, claims missing, extra or of the wrong type,
 * or not iat <= nbf < exp), BAD_HEADER (any header but the one above: `alg: none`, HS512, a `kid`
 * outside the pattern, an extra member), UNKNOWN_KEY, BAD_SIGNATURE, WRONG_ISSUER, WRONG_ROOM,
 * LIFETIME_TOO_LONG (exp - iat over the maximum lifetime), NOT_YET_VALID (iat or nbf more than 5 s
 * ahead), EXPIRED (now >= exp). Syntax is checked before any key is looked up, and the signature
 * before any claim is believed. The signature is compared in constant time.
 *
 * Deliberately written with node:crypto only (no jose), line for line like the edge code, so the
 * two implementations can be read side by side.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ROOM_ID_PATTERN, TOKEN_ID_PATTERN } from '../lambdas/domain/id-patterns.js';

/** The one algorithm. */
export const EDGE_PASS_ALGORITHM = 'HS256';
/** A key id: 1-64 base64url characters, so that `k.<kid>` is a valid KeyValueStore key. */
export const EDGE_PASS_KID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** A key: 32 bytes in base64url without padding. */
export const EDGE_PASS_SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** The largest cookie value accepted, in bytes (UTF-8). A minted pass is about 300 bytes. */
export const EDGE_PASS_MAX_BYTES = 1024;
/** How far ahead of the verifier's clock `iat` and `nbf` may be, in seconds. */
export const EDGE_PASS_CLOCK_SKEW_SECONDS = 5;
/** The default longest lifetime (exp - iat) accepted, in seconds: 15 minutes. */
export const EDGE_PASS_MAX_LIFETIME_SECONDS = 900;
/** The pass cookie of room `r` is `wr_pass_<r>`: one cookie per room, so passes of two rooms never collide. */
export const EDGE_PASS_COOKIE_PREFIX = 'wr_pass_';
/** The KeyValueStore key of key `kid` is `k.<kid>`. */
export const EDGE_PASS_KVS_KEY_PREFIX = 'k.';

/** Every reason a pass is refused, in the order the rules are applied. */
export const EDGE_PASS_REFUSALS = [
  'MISSING',
  'DUPLICATED',
  'TOO_LARGE',
  'MALFORMED',
  'BAD_HEADER',
  'UNKNOWN_KEY',
  'BAD_SIGNATURE',
  'WRONG_ISSUER',
  'WRONG_ROOM',
  'LIFETIME_TOO_LONG',
  'NOT_YET_VALID',
  'EXPIRED',
] as const;
export type EdgePassRefusal = (typeof EDGE_PASS_REFUSALS)[number];

/** A signing key: its id and its 32 bytes in base64url. The secret is never logged. */
export interface EdgePassKey {
  readonly kid: string;
  readonly secret: string;
}

/** The claims of a pass, as in the token. Times in epoch seconds. */
export interface EdgePassClaims {
  readonly iss: string;
  readonly room: string;
  /** The visitor's token id. */
  readonly sub: string;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
}

export type EdgePassVerdict =
  | { readonly ok: true; readonly claims: EdgePassClaims; readonly kid: string }
  | { readonly ok: false; readonly reason: EdgePassRefusal };

/** A pass that cannot be minted: the arguments break a rule that verification would apply. */
export class EdgePassError extends Error {
  override name = 'EdgePassError';
}

/** The name of room `roomId`'s pass cookie. */
export function edgePassCookieName(roomId: string): string {
  if (!ROOM_ID_PATTERN.test(roomId)) throw new EdgePassError(`Invalid room id: ${JSON.stringify(roomId)}`);
  return EDGE_PASS_COOKIE_PREFIX + roomId;
}

/** The KeyValueStore key under which key `kid` is stored. */
export function edgePassKvsKey(kid: string): string {
  if (!EDGE_PASS_KID_PATTERN.test(kid)) throw new EdgePassError(`Invalid kid: ${JSON.stringify(kid)}`);
  return EDGE_PASS_KVS_KEY_PREFIX + kid;
}

/** A fresh key: 32 random bytes, and a random 16-character kid unless one is given. */
export function generateEdgePassKey(kid: string = randomBytes(12).toString('base64url')): EdgePassKey {
  if (!EDGE_PASS_KID_PATTERN.test(kid)) throw new EdgePassError(`Invalid kid: ${JSON.stringify(kid)}`);
  return { kid, secret: randomBytes(32).toString('base64url') };
}

/** The header of every pass signed by key `kid`, as serialized (the only header accepted). */
function headerJson(kid: string): string {
  return JSON.stringify({ alg: EDGE_PASS_ALGORITHM, typ: 'JWT', kid });
}

/** HMAC-SHA256 of `signingInput` under `secret` (base64url of 32 bytes), in base64url. */
function sign(signingInput: string, secret: string): string {
  return createHmac('sha256', Buffer.from(secret, 'base64url')).update(signingInput).digest('base64url');
}

const b64json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export interface MintEdgePassInput {
  readonly issuer: string;
  readonly roomId: string;
  readonly tokenId: string;
  /** Epoch milliseconds (a Clock's now()). */
  readonly now: number;
  /** Whole seconds, 1 to `maxLifetimeSeconds`. */
  readonly ttlSeconds: number;
  readonly key: EdgePassKey;
  /** @default EDGE_PASS_MAX_LIFETIME_SECONDS */
  readonly maxLifetimeSeconds?: number;
}

/** A signed pass for `tokenId` in `roomId`, valid from now (iat = nbf) for `ttlSeconds`. */
export function mintEdgePass(input: MintEdgePassInput): string {
  const maxLifetime = input.maxLifetimeSeconds ?? EDGE_PASS_MAX_LIFETIME_SECONDS;
  if (input.issuer === '') throw new EdgePassError('The issuer must not be empty');
  if (!ROOM_ID_PATTERN.test(input.roomId)) throw new EdgePassError(`Invalid room id: ${JSON.stringify(input.roomId)}`);
  if (!TOKEN_ID_PATTERN.test(input.tokenId)) throw new EdgePassError('Invalid token id');
  if (!EDGE_PASS_KID_PATTERN.test(input.key.kid)) throw new EdgePassError(`Invalid kid: ${JSON.stringify(input.key.kid)}`);
  if (!EDGE_PASS_SECRET_PATTERN.test(input.key.secret)) throw new EdgePassError('The key must be 32 bytes in base64url');
  if (!Number.isInteger(input.ttlSeconds) || input.ttlSeconds < 1 || input.ttlSeconds > maxLifetime) {
    throw new EdgePassError(`ttlSeconds must be a whole number from 1 to ${maxLifetime} (got ${input.ttlSeconds})`);
  }
  if (!Number.isFinite(input.now) || input.now < 0) throw new EdgePassError(`now must be epoch milliseconds (got ${input.now})`);
  const iat = Math.floor(input.now / 1000);
  const claims: EdgePassClaims = { iss: input.issuer, room: input.roomId, sub: input.tokenId, iat, nbf: iat, exp: iat + input.ttlSeconds };
  const signingInput = `${Buffer.from(headerJson(input.key.kid)).toString('base64url')}.${b64json(claims)}`;
  const pass = `${signingInput}.${sign(signingInput, input.key.secret)}`;
  if (Buffer.byteLength(pass) > EDGE_PASS_MAX_BYTES) throw new EdgePassError(`The pass would be over ${EDGE_PASS_MAX_BYTES} bytes`);
  return pass;
}

export interface VerifyEdgePassOptions {
  /** The expected `iss`. */
  readonly issuer: string;
  /** The room whose path is asked for: the pass must name it. */
  readonly roomId: string;
  /** Epoch milliseconds. */
  readonly now: number;
  /** The secret of key `kid` (base64url of 32 bytes), or undefined when unknown. */
  readonly keys: (kid: string) => string | undefined;
  /** @default EDGE_PASS_MAX_LIFETIME_SECONDS */
  readonly maxLifetimeSeconds?: number;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The JSON object a base64url part encodes, or undefined if it is not one. */
function decodeObject(part: string): Record<string, unknown> | undefined {
  if (!BASE64URL.test(part) || part.length % 4 === 1) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The claims, if the payload holds the six claims and nothing else, typed, with iat <= nbf < exp.
 * (Six own keys and six typed claims, none of which Object.prototype has, are the same six.)
 */
function claimsOf(payload: Record<string, unknown>): EdgePassClaims | undefined {
  const { iss, room, sub, iat, nbf, exp } = payload;
  const isTime = (t: unknown): t is number => Number.isSafeInteger(t) && (t as number) >= 0;
  if (Object.keys(payload).length !== 6) return undefined;
  if (typeof iss !== 'string' || typeof room !== 'string' || typeof sub !== 'string' || !TOKEN_ID_PATTERN.test(sub)) return undefined;
  if (!isTime(iat) || !isTime(nbf) || !isTime(exp) || iat > nbf || nbf >= exp) return undefined;
  return { iss, room, sub, iat, nbf, exp };
}

/** Whether two strings are equal, in time that depends only on their lengths. */
function constantTimeEquals(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Checks a pass cookie. `cookieValue` is every value the request carries for the room's cookie:
 * undefined or an empty list when there is none, a list of two or more when it was sent twice.
 * Never throws: every failure is a refusal with its reason.
 */
export function verifyEdgePass(cookieValue: string | readonly string[] | undefined, options: VerifyEdgePassOptions): EdgePassVerdict {
  const refuse = (reason: EdgePassRefusal): EdgePassVerdict => ({ ok: false, reason });
  const values = cookieValue === undefined ? [] : typeof cookieValue === 'string' ? [cookieValue] : cookieValue;
  if (values.length > 1) return refuse('DUPLICATED');
  const value = values[0];
  if (value === undefined || value === '') return refuse('MISSING');
  if (Buffer.byteLength(value) > EDGE_PASS_MAX_BYTES) return refuse('TOO_LARGE');

  const parts = value.split('.');
  const [headerPart, payloadPart, signature] = parts;
  if (parts.length !== 3 || headerPart === undefined || payloadPart === undefined || signature === undefined) return refuse('MALFORMED');
  const header = decodeObject(headerPart);
  const payload = decodeObject(payloadPart);
  const claims = payload && claimsOf(payload);
  if (!header || !claims || !BASE64URL.test(signature)) return refuse('MALFORMED');

  const kid = header.kid;
  if (typeof kid !== 'string' || !EDGE_PASS_KID_PATTERN.test(kid)) return refuse('BAD_HEADER');
  if (Buffer.from(headerPart, 'base64url').toString('utf8') !== headerJson(kid)) return refuse('BAD_HEADER');

  let secret: string | undefined;
  try {
    secret = options.keys(kid);
  } catch {
    secret = undefined;
  }
  if (secret === undefined || !EDGE_PASS_SECRET_PATTERN.test(secret)) return refuse('UNKNOWN_KEY');
  if (!constantTimeEquals(signature, sign(`${headerPart}.${payloadPart}`, secret))) return refuse('BAD_SIGNATURE');

  const now = options.now / 1000;
  const maxLifetime = options.maxLifetimeSeconds ?? EDGE_PASS_MAX_LIFETIME_SECONDS;
  if (claims.iss !== options.issuer) return refuse('WRONG_ISSUER');
  if (claims.room !== options.roomId) return refuse('WRONG_ROOM');
  if (claims.exp - claims.iat > maxLifetime) return refuse('LIFETIME_TOO_LONG');
  if (claims.iat > now + EDGE_PASS_CLOCK_SKEW_SECONDS || claims.nbf > now + EDGE_PASS_CLOCK_SKEW_SECONDS) return refuse('NOT_YET_VALID');
  if (now >= claims.exp) return refuse('EXPIRED');
  return { ok: true, claims, kid };
}

export interface EdgePassCookieOptions {
  /** Max-Age in whole seconds: the pass lifetime. */
  readonly maxAgeSeconds: number;
  /**
   * Whether the cookie is Secure. Turn off only for http://127.0.0.1 in the local runtime.
   * @default true
   */
  readonly secure?: boolean;
}

/**
 * The Set-Cookie header value that stores room `roomId`'s pass: HttpOnly (scripts never read it),
 * SameSite=Lax (sent on top-level navigations from other sites, such as a link to the shop, but
 * not on their subrequests), Path=/ (every protected path), Secure unless asked otherwise.
 */
export function edgePassCookie(roomId: string, value: string, options: EdgePassCookieOptions): string {
  const name = edgePassCookieName(roomId);
  if (!/^[A-Za-z0-9._-]*$/.test(value)) throw new EdgePassError('A pass cookie holds base64url parts separated by dots only');
  if (!Number.isInteger(options.maxAgeSeconds) || options.maxAgeSeconds < 0) {
    throw new EdgePassError(`maxAgeSeconds must be a whole number of at least 0 (got ${options.maxAgeSeconds})`);
  }
  const secure = options.secure ?? true;
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${options.maxAgeSeconds}${secure ? '; Secure' : ''}`;
}
