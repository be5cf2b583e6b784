/**
 * Key, index and attribute names of the tables: the one definition the CDK construct (lib/) and the
 * DynamoDB adapters both read, so the data layout cannot drift between them.
 *
 * Rooms table (key roomId) holds two kinds of items:
 *  - the room item, key `<roomId>`: the Room model's fields under their own names (capacity, state,
 *    activeCount, lastAdmittedTicket, admittedTotal, evictedTotal, lineShards, frontFloor, wakeSeq,
 *    epoch, message, admitter, admitterUntil, fillingSince, createdAt, updatedAt), the rate samples flattened
 *    (ROOM_RATE_ATTRIBUTES); epoch and message are absent until first set;
 *  - the ticket counter item, key `<roomId>#tickets`, attribute nextTicket: joins add to it without
 *    meeting the admission transactions on the room item. Room ids never contain `#`.
 * Tokens table (key tokenId): the Token model's fields under their own names, the expiry in the TTL
 * attribute, and while WAITING the line index's key attributes.
 */
export const ROOMS_KEY = 'roomId';
export const TOKENS_KEY = 'tokenId';
export const STATS_KEY = 'roomId';

/** The ticket counter of a room: a separate item of the rooms table. */
export const TICKET_COUNTER = {
  /** Appended to the room id to form the counter item's key. */
  keySuffix: '#tickets',
  /** The last ticket issued or reserved. */
  attribute: 'nextTicket',
} as const;

/** The key of a room's ticket counter item. */
export const ticketCounterKey = (roomId: string): string => `${roomId}${TICKET_COUNTER.keySuffix}`;

/** True for the key of a ticket counter item (not a room). */
export const isTicketCounterKey = (key: string): boolean => key.endsWith(TICKET_COUNTER.keySuffix);

/** The room item's map attribute holding its scheduled event (RoomEvent, with its draw and end). */
export const ROOM_EVENT_ATTRIBUTE = 'event';

/**
 * The ticket counter item's attribute holding one event's boundary (the last ticket reserved before
 * its start), by the event's boundary key (lambdas/domain/events/events.ts boundaryKeyOf: letters, digits,
 * "-" and "_").
 */
export const eventBoundaryAttribute = (boundaryKey: string): string => `eventBoundary_${boundaryKey}`;

/** The room item's attributes holding the admission-rate samples (AdmissionRateSamples). */
export const ROOM_RATE_ATTRIBUTES = {
  prevAt: 'ratePrevAt',
  prevTotal: 'ratePrevTotal',
  prevTicket: 'ratePrevTicket',
  curAt: 'rateCurAt',
  curTotal: 'rateCurTotal',
  curTicket: 'rateCurTicket',
} as const;

/**
 * The line: a sparse index of waiting tokens, sharded so that no index partition takes every join.
 * Both key attributes exist only while a token is WAITING (admission removes them): partition
 * `<roomId>#<shard>` (shard = lineShardOf(ticket, lineShards)), sorted by ticket. Keys only.
 */
export const LINE_INDEX = {
  name: 'line-by-shard',
  partitionKey: 'lineShard',
  sortKey: 'lineTicket',
} as const;

/** The line index partition of one shard of a room's line. */
export const lineShardKey = (roomId: string, shard: number): string => `${roomId}#${shard}`;

/** DynamoDB TTL attribute of the token table (epoch seconds). */
export const TOKEN_TTL_ATTRIBUTE = 'expiresAt';
