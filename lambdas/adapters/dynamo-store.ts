/**
 * WaitingRoomStore on DynamoDB (layout: lambdas/shared/schema.ts; semantics: the in-memory store in
 * test/helpers, which test/integration/store-contract.test.ts holds this adapter to). Every domain
 * rule that needs atomicity is a condition here: admission and removal change the tokens and the
 * room's counts in one TransactWriteItems; the admitter lease is a conditional write on the room.
 *
 * The room operations live in this file; those on tokens, the line and the admission transactions in
 * dynamo-token-ops.ts; the items and error reading in dynamo-store-items.ts.
 */
import { GetCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type {
  AdvanceCheckRequest,
  AdmitBatchOutcome,
  AdmitBatchRequest,
  LeasePurpose,
  LineQuery,
  ReleaseOutcome,
  ReleaseRequest,
  RemoveOutcome,
  RemoveRequest,
  Room,
  RoomUpsert,
  Token,
  TouchOutcome,
  TouchRequest,
  WaitingEntry,
  WaitingRoomStore,
  EventDraw,
  EventEndAction,
  EventStore,
  TicketMove,
} from '../domain/index.js';
import { ROOMS_KEY, ROOM_EVENT_ATTRIBUTE, ROOM_RATE_ATTRIBUTES, TICKET_COUNTER, ticketCounterKey } from '../shared/schema.js';
import { DynamoEventOps, boundaryAssignment, eventToItem } from './dynamo-event-ops.js';
import { batchGetAll, num, retryOnTransactionConflict } from './dynamo-items.js';
import {
  conditionFailed,
  oldItemOf,
  rateAssignments,
  requireRoomId,
  roomOf,
  roomsFromScan,
  type BatchReader,
  type DynamoStoreTables,
  type Item,
} from './dynamo-store-items.js';
import { DynamoTokenOps } from './dynamo-token-ops.js';

export { roomFromItem, roomsFromScan, tokenFromItem, type DynamoStoreTables } from './dynamo-store-items.js';

export interface DynamoStoreOptions {
  /** Attempts at a BatchGetItem whose keys come back unprocessed. @default 5 */
  batchGetAttempts?: number;
  /** Waits between those attempts (tests pass one that returns at once). */
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class DynamoStore implements WaitingRoomStore, EventStore {
  private readonly tokenOps: DynamoTokenOps;
  private readonly eventOps: DynamoEventOps;
  private readonly batchGetAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: DynamoStoreTables,
    options: DynamoStoreOptions = {},
  ) {
    this.batchGetAttempts = options.batchGetAttempts ?? 5;
    this.sleep = options.sleep ?? realSleep;
    this.tokenOps = new DynamoTokenOps(client, tables, this.batchGet);
    this.eventOps = new DynamoEventOps(client, tables);
  }

  // -------------------------------------------------------------------------------------------
  // Rooms, their ticket counters and the admitter lease.

  async getRoom(roomId: string): Promise<Room | undefined> {
    // The room and its counter in one strongly consistent read.
    const items = await this.batchGet(this.tables.rooms, [{ [ROOMS_KEY]: roomId }, { [ROOMS_KEY]: ticketCounterKey(roomId) }], true);
    const room = items.find((item) => item[ROOMS_KEY] === roomId);
    return room && roomOf(room, items.find((item) => item[ROOMS_KEY] === ticketCounterKey(roomId)));
  }

  async listRooms(): Promise<Room[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.client.send(new ScanCommand({ TableName: this.tables.rooms, ExclusiveStartKey: start, ConsistentRead: true }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return roomsFromScan(items);
  }

  async upsertRoom(input: RoomUpsert): Promise<Room | undefined> {
    const names: Record<string, string> = { '#state': 'state' };
    const values: Item = { ':now': input.now, ':zero': 0, ':one': 1, ':shards': input.lineShards };
    const sets = [
      'updatedAt = :now',
      'createdAt = if_not_exists(createdAt, :now)',
      'activeCount = if_not_exists(activeCount, :zero)',
      'lastAdmittedTicket = if_not_exists(lastAdmittedTicket, :zero)',
      'admittedTotal = if_not_exists(admittedTotal, :zero)',
      'evictedTotal = if_not_exists(evictedTotal, :zero)',
      ...Object.entries(ROOM_RATE_ATTRIBUTES).map(([field, a]) => `${a} = if_not_exists(${a}, ${field.endsWith('At') ? ':now' : ':zero'})`),
      'lineShards = if_not_exists(lineShards, :shards)',
      'frontFloor = if_not_exists(frontFloor, :zero)',
    ];
    if (input.capacity !== undefined) {
      names['#capacity'] = 'capacity';
      values[':capacity'] = input.capacity;
      sets.push('#capacity = :capacity');
    }
    if (input.state !== undefined) {
      values[':state'] = input.state;
      sets.push('#state = :state');
    } else {
      values[':open'] = 'open';
      sets.push('#state = if_not_exists(#state, :open)');
    }
    const removes: string[] = [];
    names['#mode'] = 'mode';
    if (input.mode !== undefined) {
      values[':mode'] = input.mode;
      sets.push('#mode = :mode');
    } else {
      values[':fifo'] = 'fifo';
      sets.push('#mode = if_not_exists(#mode, :fifo)');
    }
    if (typeof input.newVisitorsPerMinute === 'number') {
      values[':perMinute'] = input.newVisitorsPerMinute;
      sets.push('newVisitorsPerMinute = :perMinute');
    } else if (input.newVisitorsPerMinute === null) {
      // The limit's slot clock goes with it: a limit set again later starts afresh.
      removes.push('newVisitorsPerMinute', 'rateSlotAt');
    }
    if (typeof input.message === 'string') {
      names['#message'] = 'message';
      values[':message'] = input.message;
      sets.push('#message = :message');
    } else if (input.message === null) {
      names['#message'] = 'message';
      removes.push('#message');
    }
    if (input.event) {
      names['#event'] = ROOM_EVENT_ATTRIBUTE;
      values[':event'] = eventToItem(input.event);
      sets.push('#event = :event');
    } else if (input.event === null) {
      names['#event'] = ROOM_EVENT_ATTRIBUTE;
      removes.push('#event');
    }
    // A change may need an admission (more seats, reopened): it wakes the admitter. A new room starts at wakeSeq 1.
    const adds = ['wakeSeq :one'];
    names['#epoch'] = 'epoch';
    // An emergency stop moves the room to its next epoch (a new room that starts stopped: epoch 1).
    if (input.bumpEpoch) adds.push('#epoch :one');
    else sets.push('#epoch = if_not_exists(#epoch, :zero)');
    const counter = this.readCounter(input.roomId);
    counter.catch(() => undefined); // awaited below, or dropped when the write fails
    try {
      const { Attributes } = await this.update({
        TableName: this.tables.rooms,
        Key: { [ROOMS_KEY]: input.roomId },
        UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''} ADD ${adds.join(', ')}`,
        // Without a capacity this may only change an existing room.
        ConditionExpression: input.capacity === undefined ? `attribute_exists(${ROOMS_KEY})` : undefined,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      });
      return Attributes ? roomOf(Attributes, await counter) : undefined;
    } catch (error) {
      if (conditionFailed(error)) return undefined;
      throw error;
    }
  }

  async reserveTickets(roomId: string, count: number, _now: number, boundaryOf?: string): Promise<number> {
    requireRoomId(roomId);
    // After an event's start, the reservation also fixes the event's boundary at the counter's value before it.
    const boundary = boundaryOf !== undefined ? boundaryAssignment(boundaryOf) : undefined;
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.tables.rooms,
        Key: { [ROOMS_KEY]: ticketCounterKey(roomId) },
        UpdateExpression: boundary
          ? `SET ${TICKET_COUNTER.attribute} = if_not_exists(${TICKET_COUNTER.attribute}, :zero) + :count, ${boundary.set}`
          : `ADD ${TICKET_COUNTER.attribute} :count`,
        ...(boundary ? { ExpressionAttributeNames: boundary.names } : {}),
        ExpressionAttributeValues: { ':count': count, ...(boundary ? { ':zero': 0 } : {}) },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return num(Attributes?.[TICKET_COUNTER.attribute]);
  }

  // Scheduled events (dynamo-event-ops.ts).
  fixBoundary(roomId: string, boundaryOf: string): Promise<number> {
    return this.eventOps.fixBoundary(roomId, boundaryOf);
  }

  moveTicket(move: TicketMove): Promise<'moved' | 'changed'> {
    return this.eventOps.moveTicket(move);
  }

  recordDraw(roomId: string, eventId: string, commitment: string, draw: EventDraw, now: number): Promise<'recorded' | 'changed'> {
    return this.eventOps.recordDraw(roomId, eventId, commitment, draw, now);
  }

  endEvent(roomId: string, eventId: string, atEnd: EventEndAction, now: number): Promise<'ended' | 'changed'> {
    return this.eventOps.endEvent(roomId, eventId, atEnd, now);
  }

  async acquireAdmitter(roomId: string, owner: string, now: number, until: number, purpose: LeasePurpose = {}): Promise<Room | 'busy' | 'not-found'> {
    const counter = this.readCounter(roomId);
    counter.catch(() => undefined); // awaited below, or dropped when the lease is refused
    try {
      const { Attributes } = await this.update({
        TableName: this.tables.rooms,
        Key: { [ROOMS_KEY]: roomId },
        // (A room item older than wakeSeq gets one, so that releasing can compare it.)
        UpdateExpression: `SET admitter = :owner, admitterUntil = :until, wakeSeq = if_not_exists(wakeSeq, :zero)${purpose.fills ? ', fillingSince = :now' : ' REMOVE fillingSince'}`,
        ConditionExpression: `attribute_exists(${ROOMS_KEY}) AND (attribute_not_exists(admitter) OR admitterUntil < :now)`,
        ExpressionAttributeValues: { ':owner': owner, ':until': until, ':now': now, ':zero': 0 },
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      return roomOf(Attributes ?? {}, await counter);
    } catch (error) {
      if (conditionFailed(error)) return oldItemOf(error) ? 'busy' : 'not-found';
      throw error;
    }
  }

  async releaseAdmitter(request: ReleaseRequest): Promise<ReleaseOutcome> {
    const values: Item = { ':owner': request.owner, ':wake': request.wakeSeq };
    const sets: string[] = [];
    if (request.frontFloor !== undefined) {
      sets.push('frontFloor = :floor');
      values[':floor'] = request.frontFloor;
    }
    if (request.rate) {
      const rate = rateAssignments(request.rate);
      sets.push(...rate.sets);
      Object.assign(values, rate.values);
    }
    try {
      await this.update({
        TableName: this.tables.rooms,
        Key: { [ROOMS_KEY]: request.roomId },
        UpdateExpression: `${sets.length > 0 ? `SET ${sets.join(', ')} ` : ''}REMOVE admitter, admitterUntil, fillingSince`,
        // A missing room fails too (no admitter): the lease is lost with it.
        ConditionExpression: 'admitter = :owner AND wakeSeq = :wake',
        ExpressionAttributeValues: values,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      return { kind: 'released' };
    } catch (error) {
      if (!conditionFailed(error)) throw error;
      const old = oldItemOf(error);
      if (!old || old.admitter !== request.owner) return { kind: 'lost' };
      // Still ours, but wakeSeq moved: the room as it is now, to carry on with.
      return { kind: 'woken', room: roomOf(old, await this.readCounter(request.roomId)) };
    }
  }

  // -------------------------------------------------------------------------------------------
  // Tokens, the line and the admission transactions (dynamo-token-ops.ts).

  putToken(token: Token, lineShards: number): Promise<void> {
    return this.tokenOps.putToken(token, lineShards);
  }

  getToken(tokenId: string, consistent = true): Promise<Token | undefined> {
    return this.tokenOps.getToken(tokenId, consistent);
  }

  getTokens(tokenIds: readonly string[]): Promise<Token[]> {
    return this.tokenOps.getTokens(tokenIds);
  }

  touchToken(request: TouchRequest): Promise<TouchOutcome> {
    return this.tokenOps.touchToken(request);
  }

  listLine(query: LineQuery): Promise<WaitingEntry[]> {
    return this.tokenOps.listLine(query);
  }

  lineEntry(roomId: string, shard: number, ticket: number): Promise<WaitingEntry | undefined> {
    return this.tokenOps.lineEntry(roomId, shard, ticket);
  }

  admitTokens(request: AdmitBatchRequest): Promise<AdmitBatchOutcome> {
    return this.tokenOps.admitTokens(request);
  }

  removeToken(request: RemoveRequest): Promise<RemoveOutcome> {
    return this.tokenOps.removeToken(request);
  }

  advanceCheck(request: AdvanceCheckRequest): Promise<'advanced' | 'changed'> {
    return this.tokenOps.advanceCheck(request);
  }

  // -------------------------------------------------------------------------------------------

  /** A single-item update, retried briefly if its item is busy with a transaction. */
  private update(input: ConstructorParameters<typeof UpdateCommand>[0]) {
    return retryOnTransactionConflict(() => this.client.send(new UpdateCommand(input)));
  }

  /** A room's ticket counter item (strongly consistent), undefined before the first reservation. */
  private async readCounter(roomId: string): Promise<Item | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tables.rooms, Key: { [ROOMS_KEY]: ticketCounterKey(roomId) }, ConsistentRead: true }));
    return Item;
  }

  /** See BatchReader. At most BATCH_GET_LIMIT distinct keys. */
  private readonly batchGet: BatchReader = (table, keys, consistent) =>
    batchGetAll(this.client, table, keys, { consistent, attempts: this.batchGetAttempts, backoffMs: (attempt) => Math.round(Math.random() * 25 * 2 ** attempt), sleep: this.sleep });
}
