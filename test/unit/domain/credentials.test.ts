import { describe, expect, it } from 'vitest';
import { SECRET_PATTERN, TOKEN_ID_PATTERN, hashSecret, randomIds, secretMatches } from '../../../lambdas/domain/index.js';

describe('credentials', () => {
  it('makes a 22-character token id and a 43-character secret (32 bytes, base64url)', () => {
    expect(randomIds.tokenId()).toMatch(TOKEN_ID_PATTERN);
    const secret = randomIds.secret();
    expect(secret).toMatch(SECRET_PATTERN);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
  });
  it('never makes the same secret twice in a row', () => {
    expect(randomIds.secret()).not.toBe(randomIds.secret());
  });
  it('stores a hash that is not the secret and matches only the secret', () => {
    const secret = randomIds.secret();
    const hash = hashSecret(secret);
    expect(hash).not.toContain(secret);
    expect(secretMatches(secret, hash)).toBe(true);
    expect(secretMatches(randomIds.secret(), hash)).toBe(false);
  });
  it('refuses a stored hash of the wrong length without throwing', () => {
    expect(secretMatches('anything', 'short')).toBe(false);
  });
});
