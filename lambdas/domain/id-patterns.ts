/**
 * The shapes of a visitor's ids: a 16-byte token id and a 32-byte secret, both base64url without
 * padding. Kept apart from credentials.ts, which needs node:crypto, so the browser client can
 * import the same patterns.
 */

export const TOKEN_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
export const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;
