/**
 * The shapes of ids: a room id chosen by operators, and a visitor's 16-byte token id and 32-byte
 * secret, both base64url without padding. Kept apart from credentials.ts, which needs node:crypto,
 * so the browser client can import the same patterns.
 */

/** 1-64 letters, digits, "-" or "_", starting with a letter or digit (never "#": see shared/schema.ts). */
export const ROOM_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export const TOKEN_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
export const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;
