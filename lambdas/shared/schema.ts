/**
 * Key and index names of the tables: the one definition the CDK construct (lib/) and the DynamoDB
 * adapter both read, so the data layout cannot drift between them.
 */
export const ROOMS_KEY = 'roomId';
export const TOKENS_KEY = 'tokenId';
export const STATS_KEY = 'roomId';

/** Sparse index of waiting tokens: the attributes exist only while a token is WAITING. */
export const WAITING_INDEX = {
  name: 'waiting-by-room',
  partitionKey: 'waitingRoom',
  sortKey: 'waitingTicket',
} as const;

/** DynamoDB TTL attribute of the token table (epoch seconds). */
export const TOKEN_TTL_ATTRIBUTE = 'expiresAt';
