/**
 * Visitor credentials: a public token id for URLs and a 32-byte secret sent as a bearer token.
 * Only the secret's SHA-256 is stored; comparison is constant-time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IdSource } from '../ports.js';

export { ROOM_ID_PATTERN, SECRET_PATTERN, TOKEN_ID_PATTERN } from '../id-patterns.js';

export const randomIds: IdSource = {
  tokenId: () => randomBytes(16).toString('base64url'),
  secret: () => randomBytes(32).toString('base64url'),
};

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** True when `secret` hashes to `expectedHash`; takes the same time whatever the inputs. */
export function secretMatches(secret: string, expectedHash: string): boolean {
  const actual = Buffer.from(hashSecret(secret), 'base64url');
  const expected = Buffer.from(expectedHash, 'base64url');
  if (expected.length !== actual.length) return false;
  return timingSafeEqual(actual, expected);
}
