/**
 * The items of the rooms and tokens tables and the models they hold (layout: lambdas/shared/schema.ts),
 * and reading the errors DynamoDB answers conditional writes and transactions with.
 */
import { TransactionCanceledException, type AttributeValue, type CancellationReason } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { DEFAULT_LINE_SHARDS, lineShardOf, queueModeOf, type AdmissionRateSamples, type Room, type Token } from '../domain/index.js';
import { eventFromItem } from './dynamo-event-ops.js';
import {
  LINE_INDEX,
  ROOM_EVENT_ATTRIBUTE,
  ROOMS_KEY,
  ROOM_RATE_ATTRIBUTES,
  TICKET_COUNTER,
  TOKENS_KEY,
  TOKEN_TTL_ATTRIBUTE,
  isTicketCounterKey,
  lineShardKey,
} from '../shared/schema.js';
import { isNamed, num } from './dynamo-items.js';

export type Item = Record<string, unknown>;

export interface DynamoStoreTables {
  rooms: string;
  tokens: string;
}

/** BatchGetItem reads at most 100 keys per request. */
export const BATCH_GET_LIMIT = 100;

/** Reads keys of one table with BatchGetItem (at most BATCH_GET_LIMIT, distinct), retrying unprocessed keys with a short backoff. */
export type BatchReader = (table: string, keys: Item[], consistent: boolean) => Promise<Item[]>;

/**
 * A room from its room item and, when read, its ticket counter item (nextTicket 0 without one).
 * Items written before the line was sharded read with the defaults: DEFAULT_LINE_SHARDS shards,
 * frontFloor 0, wakeSeq 0, ticket samples 0; items without an epoch (never stopped, or written
 * before epochs existed) are in epoch 0.
 */
export function roomOf(item: Item, counter: Item | undefined): Room {
  const createdAt = num(item.createdAt);
  const room: Room = {
    roomId: String(item[ROOMS_KEY]),
    capacity: num(item.capacity),
    state: item.state as Room['state'],
    nextTicket: num(counter?.[TICKET_COUNTER.attribute]),
    activeCount: num(item.activeCount),
    lastAdmittedTicket: num(item.lastAdmittedTicket),
    admittedTotal: num(item.admittedTotal),
    evictedTotal: num(item.evictedTotal),
    rate: {
      prevAt: num(item[ROOM_RATE_ATTRIBUTES.prevAt], createdAt),
      prevTotal: num(item[ROOM_RATE_ATTRIBUTES.prevTotal]),
      prevTicket: num(item[ROOM_RATE_ATTRIBUTES.prevTicket]),
      curAt: num(item[ROOM_RATE_ATTRIBUTES.curAt], createdAt),
      curTotal: num(item[ROOM_RATE_ATTRIBUTES.curTotal]),
      curTicket: num(item[ROOM_RATE_ATTRIBUTES.curTicket]),
    },
    lineShards: num(item.lineShards, DEFAULT_LINE_SHARDS),
    frontFloor: num(item.frontFloor),
    wakeSeq: num(item.wakeSeq),
    epoch: num(item.epoch),
    mode: queueModeOf(item.mode),
    createdAt,
    updatedAt: num(item.updatedAt),
  };
  if (typeof item.message === 'string' && item.message !== '') room.message = item.message;
  if (typeof item.newVisitorsPerMinute === 'number' && item.newVisitorsPerMinute > 0) room.newVisitorsPerMinute = item.newVisitorsPerMinute;
  if (typeof item.rateSlotAt === 'number') room.rateSlotAt = item.rateSlotAt;
  const calibration = item.calibration as Record<string, unknown> | undefined;
  if (calibration && typeof calibration === 'object' && ['lowFactor', 'highFactor', 'samples', 'at'].every((k) => typeof calibration[k] === 'number')) {
    room.calibration = { lowFactor: num(calibration.lowFactor), highFactor: num(calibration.highFactor), samples: num(calibration.samples), at: num(calibration.at) };
  }
  const event = eventFromItem(item[ROOM_EVENT_ATTRIBUTE]);
  if (event) room.event = event;
  if (typeof item.admitter === 'string') room.admitter = item.admitter;
  if (typeof item.admitterUntil === 'number') room.admitterUntil = item.admitterUntil;
  if (typeof item.fillingSince === 'number') room.fillingSince = item.fillingSince;
  return room;
}

/** A room from its room item alone (nextTicket 0): prefer roomOf, or roomsFromScan for a scan of the table. */
export const roomFromItem = (item: Item): Room => roomOf(item, undefined);

/** The rooms of a scan of the rooms table: counter items are not rooms, they give their room its nextTicket. */
export function roomsFromScan(items: readonly Item[]): Room[] {
  const counters = new Map<string, Item>();
  for (const item of items) {
    const key = String(item[ROOMS_KEY]);
    if (isTicketCounterKey(key)) counters.set(key.slice(0, -TICKET_COUNTER.keySuffix.length), item);
  }
  return items.filter((item) => !isTicketCounterKey(String(item[ROOMS_KEY]))).map((item) => roomOf(item, counters.get(String(item[ROOMS_KEY]))));
}

/** SET clauses and values that store the rate samples (the values are named `:rate<field>`). */
export function rateAssignments(rate: AdmissionRateSamples): { sets: string[]; values: Item } {
  const sets: string[] = [];
  const values: Item = {};
  for (const [field, attribute] of Object.entries(ROOM_RATE_ATTRIBUTES) as [keyof AdmissionRateSamples, string][]) {
    sets.push(`${attribute} = :rate${field}`);
    values[`:rate${field}`] = rate[field];
  }
  return { sets, values };
}

export function tokenFromItem(item: Item): Token {
  const token: Token = {
    tokenId: String(item[TOKENS_KEY]),
    roomId: String(item.roomId),
    ticket: num(item.ticket),
    secretHash: String(item.secretHash),
    state: item.state as Token['state'],
    // Tokens written before signals existed all heartbeat.
    signal: item.signal === 'keep-place' ? 'keep-place' : 'heartbeat',
    issuedAt: num(item.issuedAt),
    lastSeenAt: num(item.lastSeenAt),
    // Tokens written before `heard` existed were all answered.
    heard: item.heard !== false,
    checkSeq: num(item.checkSeq),
    // Tokens written before checkDueAt existed had their checks at the heartbeat timeout: never due too late.
    checkDueAt: num(item.checkDueAt),
    expiresAtSeconds: num(item[TOKEN_TTL_ATTRIBUTE]),
  };
  if (typeof item.admittedAt === 'number') token.admittedAt = item.admittedAt;
  if (typeof item.admittedEpoch === 'number') token.admittedEpoch = item.admittedEpoch;
  if (typeof item.joinEstimateSeconds === 'number') token.joinEstimateSeconds = item.joinEstimateSeconds;
  if (typeof item.joinEstimateLowSeconds === 'number') token.joinEstimateLowSeconds = item.joinEstimateLowSeconds;
  if (typeof item.joinEstimateHighSeconds === 'number') token.joinEstimateHighSeconds = item.joinEstimateHighSeconds;
  if (typeof item.checkBy === 'string') token.checkBy = item.checkBy;
  return token;
}

/** The token's item; a WAITING token also gets its entry in the line index (its shard and ticket). */
export function tokenToItem(token: Token, lineShards: number): Item {
  const item: Item = {
    [TOKENS_KEY]: token.tokenId,
    roomId: token.roomId,
    ticket: token.ticket,
    secretHash: token.secretHash,
    state: token.state,
    signal: token.signal,
    issuedAt: token.issuedAt,
    lastSeenAt: token.lastSeenAt,
    heard: token.heard,
    checkSeq: token.checkSeq,
    checkDueAt: token.checkDueAt,
    [TOKEN_TTL_ATTRIBUTE]: token.expiresAtSeconds,
  };
  if (token.admittedAt !== undefined) item.admittedAt = token.admittedAt;
  if (token.admittedEpoch !== undefined) item.admittedEpoch = token.admittedEpoch;
  if (token.joinEstimateSeconds !== undefined) item.joinEstimateSeconds = token.joinEstimateSeconds;
  if (token.joinEstimateLowSeconds !== undefined) item.joinEstimateLowSeconds = token.joinEstimateLowSeconds;
  if (token.joinEstimateHighSeconds !== undefined) item.joinEstimateHighSeconds = token.joinEstimateHighSeconds;
  if (token.checkBy !== undefined) item.checkBy = token.checkBy;
  if (token.state === 'WAITING') {
    item[LINE_INDEX.partitionKey] = lineShardKey(token.roomId, lineShardOf(token.ticket, lineShards));
    item[LINE_INDEX.sortKey] = token.ticket;
  }
  return item;
}

/** The item a failed condition returns: the document client leaves it in DynamoDB's attribute-value form. */
export function itemOf(item: Record<string, unknown> | undefined): Item | undefined {
  if (!item || Object.keys(item).length === 0) return undefined;
  const marshalled = Object.values(item).every(
    (v) => v !== null && typeof v === 'object' && Object.keys(v as object).length === 1 && /^(S|N|B|BOOL|NULL|M|L|SS|NS|BS)$/.test(Object.keys(v as object)[0]!),
  );
  return marshalled ? unmarshall(item as Record<string, AttributeValue>) : item;
}

/** The old item of a ConditionalCheckFailedException (ReturnValuesOnConditionCheckFailure ALL_OLD), or undefined when there was none. */
export function oldItemOf(error: unknown): Item | undefined {
  return itemOf((error as { Item?: Record<string, unknown> }).Item);
}

export const conditionFailed = (error: unknown): boolean => isNamed(error, 'ConditionalCheckFailedException');

/** Reads a cancelled transaction: which of its items failed, and how (one reason per item, in order). */
export function cancellation(error: unknown): CancellationReason[] | undefined {
  if (error instanceof TransactionCanceledException || isNamed(error, 'TransactionCanceledException')) {
    return (error as TransactionCanceledException).CancellationReasons ?? [];
  }
  return undefined;
}

export const failedCondition = (reason: CancellationReason | undefined): boolean => reason?.Code === 'ConditionalCheckFailed';
export const conflicted = (reasons: readonly CancellationReason[]): boolean => reasons.some((r) => r.Code === 'TransactionConflict');

/**
 * Refuses an empty room id where DynamoDB would not (it is part of a composite key: the counter's
 * `#tickets`, the line's `#<shard>`), as DynamoDB refuses an empty key attribute elsewhere.
 */
export function requireRoomId(roomId: string): void {
  if (roomId === '') {
    throw Object.assign(new Error('The room id cannot be an empty string: it is part of a key attribute.'), { name: 'ValidationException' });
  }
}
