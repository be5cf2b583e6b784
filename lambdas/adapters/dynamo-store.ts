/**
 * WaitingRoomStore on DynamoDB. Every domain rule that needs atomicity is a condition here:
 * admission and removal change the token and the room's activeCount in one TransactWriteItems.
 */
import { TransactionCanceledException, type AttributeValue, type CancellationReason } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type {
  AdmitOutcome,
  AdmitRequest,
  IssueTicketOutcome,
  RemoveOutcome,
  RemoveRequest,
  Room,
  RoomUpsert,
  Token,
  TouchOutcome,
  TouchRequest,
  WaitingEntry,
  WaitingRoomStore,
} from '../domain/index.js';
import { ROOMS_KEY, TOKENS_KEY, TOKEN_TTL_ATTRIBUTE, WAITING_INDEX } from '../shared/schema.js';
import { isNamed, num, retryOnTransactionConflict } from './dynamo-items.js';

export interface DynamoStoreTables {
  rooms: string;
  tokens: string;
}

type Item = Record<string, unknown>;


export function roomFromItem(item: Item): Room {
  const createdAt = num(item.createdAt);
  return {
    roomId: String(item[ROOMS_KEY]),
    capacity: num(item.capacity),
    state: item.state as Room['state'],
    nextTicket: num(item.nextTicket),
    activeCount: num(item.activeCount),
    lastAdmittedTicket: num(item.lastAdmittedTicket),
    admittedTotal: num(item.admittedTotal),
    evictedTotal: num(item.evictedTotal),
    rate: {
      prevAt: num(item.ratePrevAt, createdAt),
      prevTotal: num(item.ratePrevTotal),
      curAt: num(item.rateCurAt, createdAt),
      curTotal: num(item.rateCurTotal),
    },
    createdAt,
    updatedAt: num(item.updatedAt),
  };
}

export function tokenFromItem(item: Item): Token {
  const token: Token = {
    tokenId: String(item[TOKENS_KEY]),
    roomId: String(item.roomId),
    ticket: num(item.ticket),
    secretHash: String(item.secretHash),
    state: item.state as Token['state'],
    issuedAt: num(item.issuedAt),
    lastSeenAt: num(item.lastSeenAt),
    checkSeq: num(item.checkSeq),
    expiresAtSeconds: num(item[TOKEN_TTL_ATTRIBUTE]),
  };
  if (typeof item.admittedAt === 'number') token.admittedAt = item.admittedAt;
  if (typeof item.checkBy === 'string') token.checkBy = item.checkBy;
  return token;
}

function tokenToItem(token: Token): Item {
  const item: Item = {
    [TOKENS_KEY]: token.tokenId,
    roomId: token.roomId,
    ticket: token.ticket,
    secretHash: token.secretHash,
    state: token.state,
    issuedAt: token.issuedAt,
    lastSeenAt: token.lastSeenAt,
    checkSeq: token.checkSeq,
    [TOKEN_TTL_ATTRIBUTE]: token.expiresAtSeconds,
  };
  if (token.admittedAt !== undefined) item.admittedAt = token.admittedAt;
  if (token.checkBy !== undefined) item.checkBy = token.checkBy;
  if (token.state === 'WAITING') {
    item[WAITING_INDEX.partitionKey] = token.roomId;
    item[WAITING_INDEX.sortKey] = token.ticket;
  }
  return item;
}

/** The item a failed condition returns: the document client leaves it in DynamoDB's attribute-value form. */
function itemOf(item: Record<string, unknown> | undefined): Item | undefined {
  if (!item || Object.keys(item).length === 0) return undefined;
  const marshalled = Object.values(item).every((v) => v !== null && typeof v === 'object' && Object.keys(v as object).length === 1 && /^(S|N|B|BOOL|NULL|M|L|SS|NS|BS)$/.test(Object.keys(v as object)[0]!));
  return marshalled ? unmarshall(item as Record<string, AttributeValue>) : item;
}


/** Reads a cancelled transaction: which of its items failed, and how. */
function cancellation(error: unknown): CancellationReason[] | undefined {
  if (error instanceof TransactionCanceledException || isNamed(error, 'TransactionCanceledException')) {
    return (error as TransactionCanceledException).CancellationReasons ?? [];
  }
  return undefined;
}

const failedCondition = (reason: CancellationReason | undefined) => reason?.Code === 'ConditionalCheckFailed';
const conflicted = (reasons: CancellationReason[]) => reasons.some((r) => r.Code === 'TransactionConflict');

export class DynamoStore implements WaitingRoomStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: DynamoStoreTables,
  ) {}

  /** A single-item update, retried briefly if its item is busy with a transaction. */
  private update(input: ConstructorParameters<typeof UpdateCommand>[0]) {
    return retryOnTransactionConflict(() => this.client.send(new UpdateCommand(input)));
  }

  async getRoom(roomId: string): Promise<Room | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tables.rooms, Key: { [ROOMS_KEY]: roomId }, ConsistentRead: true }),
    );
    return Item ? roomFromItem(Item) : undefined;
  }

  async listRooms(): Promise<Room[]> {
    const rooms: Room[] = [];
    let start: Item | undefined;
    do {
      const page = await this.client.send(new ScanCommand({ TableName: this.tables.rooms, ExclusiveStartKey: start }));
      rooms.push(...(page.Items ?? []).map(roomFromItem));
      start = page.LastEvaluatedKey;
    } while (start);
    return rooms;
  }

  async upsertRoom(input: RoomUpsert): Promise<Room | undefined> {
    const names: Record<string, string> = { '#state': 'state' };
    const values: Item = { ':now': input.now, ':zero': 0 };
    const sets = [
      'updatedAt = :now',
      'createdAt = if_not_exists(createdAt, :now)',
      'nextTicket = if_not_exists(nextTicket, :zero)',
      'activeCount = if_not_exists(activeCount, :zero)',
      'lastAdmittedTicket = if_not_exists(lastAdmittedTicket, :zero)',
      'admittedTotal = if_not_exists(admittedTotal, :zero)',
      'ratePrevAt = if_not_exists(ratePrevAt, :now)',
      'ratePrevTotal = if_not_exists(ratePrevTotal, :zero)',
      'rateCurAt = if_not_exists(rateCurAt, :now)',
      'rateCurTotal = if_not_exists(rateCurTotal, :zero)',
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
    try {
      const { Attributes } = await this.update({
        TableName: this.tables.rooms,
        Key: { [ROOMS_KEY]: input.roomId },
        UpdateExpression: `SET ${sets.join(', ')}`,
        // Without a capacity this may only change an existing room.
        ConditionExpression: input.capacity === undefined ? `attribute_exists(${ROOMS_KEY})` : undefined,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      });
      return Attributes ? roomFromItem(Attributes) : undefined;
    } catch (error) {
      if (isNamed(error, 'ConditionalCheckFailedException')) return undefined;
      throw error;
    }
  }

  async issueTicket(roomId: string, now: number): Promise<IssueTicketOutcome> {
    try {
      const { Attributes } = await this.update({
        TableName: this.tables.rooms,
        Key: { [ROOMS_KEY]: roomId },
        // A room created at deploy time gets its timestamps from its first join.
        UpdateExpression:
          'SET updatedAt = :now, createdAt = if_not_exists(createdAt, :now), ' +
          'rateCurAt = if_not_exists(rateCurAt, :now), ratePrevAt = if_not_exists(ratePrevAt, :now) ADD nextTicket :one',
        ConditionExpression: `attribute_exists(${ROOMS_KEY}) AND #state <> :closed`,
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':now': now, ':one': 1, ':closed': 'closed' },
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      return { kind: 'issued', room: roomFromItem(Attributes ?? {}) };
    } catch (error) {
      if (isNamed(error, 'ConditionalCheckFailedException')) {
        const existing = (error as { Item?: unknown }).Item;
        return existing ? { kind: 'room-closed' } : { kind: 'room-not-found' };
      }
      throw error;
    }
  }

  async putToken(token: Token): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tables.tokens,
        Item: tokenToItem(token),
        ConditionExpression: `attribute_not_exists(${TOKENS_KEY})`,
      }),
    );
  }

  async getToken(tokenId: string): Promise<Token | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tables.tokens, Key: { [TOKENS_KEY]: tokenId }, ConsistentRead: true }),
    );
    return Item ? tokenFromItem(Item) : undefined;
  }

  async touchToken(request: TouchRequest): Promise<TouchOutcome> {
    try {
      const { Attributes } = await this.update({
        TableName: this.tables.tokens,
        Key: { [TOKENS_KEY]: request.tokenId },
        UpdateExpression: 'SET lastSeenAt = :now, #ttl = :ttl',
        // Authenticates (by the secret's hash), scopes to the room and skips a too-recent touch, in one write.
        ConditionExpression: `attribute_exists(${TOKENS_KEY}) AND secretHash = :hash AND roomId = :room AND lastSeenAt <= :stale`,
        ExpressionAttributeNames: { '#ttl': TOKEN_TTL_ATTRIBUTE },
        ExpressionAttributeValues: {
          ':now': request.now,
          ':ttl': request.expiresAtSeconds,
          ':hash': request.secretHash,
          ':room': request.roomId,
          ':stale': request.now - request.minIntervalMs,
        },
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      return { kind: 'touched', token: tokenFromItem(Attributes ?? {}) };
    } catch (error) {
      if (!isNamed(error, 'ConditionalCheckFailedException')) throw error;
      const old = itemOf((error as { Item?: Record<string, unknown> }).Item);
      if (!old) return { kind: 'not-found' };
      const token = tokenFromItem(old);
      if (token.secretHash !== request.secretHash || token.roomId !== request.roomId) return { kind: 'mismatch', token };
      return { kind: 'recent', token };
    }
  }

  async listWaiting(roomId: string, limit: number, beforeTicket?: number): Promise<WaitingEntry[]> {
    if (limit < 1) return []; // DynamoDB refuses a Query Limit below 1
    const { partitionKey, sortKey, name } = WAITING_INDEX;
    const { Items } = await this.client.send(
      new QueryCommand({
        TableName: this.tables.tokens,
        IndexName: name,
        KeyConditionExpression:
          beforeTicket === undefined ? `${partitionKey} = :room` : `${partitionKey} = :room AND ${sortKey} < :before`,
        ExpressionAttributeValues: beforeTicket === undefined ? { ':room': roomId } : { ':room': roomId, ':before': beforeTicket },
        ScanIndexForward: true,
        Limit: limit,
      }),
    );
    return (Items ?? []).map((item) => ({ tokenId: String(item[TOKENS_KEY]), ticket: num(item[sortKey]) }));
  }

  async admitToken(request: AdmitRequest): Promise<AdmitOutcome> {
    const roomValues: Item = { ':one': 1, ':open': 'open', ':now': request.now };
    let roomSet = 'SET updatedAt = :now';
    let roomCondition = '#state = :open AND activeCount < #capacity';
    if (request.raiseLastAdmitted) {
      roomValues[':ticket'] = request.ticket;
      roomSet += ', lastAdmittedTicket = :ticket';
      roomCondition += ' AND lastAdmittedTicket < :ticket';
    }
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tables.tokens,
                Key: { [TOKENS_KEY]: request.tokenId },
                UpdateExpression: `SET #state = :admitted, admittedAt = :now REMOVE ${WAITING_INDEX.partitionKey}, ${WAITING_INDEX.sortKey}`,
                ConditionExpression: '#state = :waiting',
                ExpressionAttributeNames: { '#state': 'state' },
                ExpressionAttributeValues: { ':admitted': 'ADMITTED', ':waiting': 'WAITING', ':now': request.now },
              },
            },
            {
              Update: {
                TableName: this.tables.rooms,
                Key: { [ROOMS_KEY]: request.roomId },
                UpdateExpression: `${roomSet} ADD activeCount :one, admittedTotal :one`,
                ConditionExpression: roomCondition,
                ExpressionAttributeNames: { '#state': 'state', '#capacity': 'capacity' },
                ExpressionAttributeValues: roomValues,
              },
            },
          ],
        }),
      );
      return 'admitted';
    } catch (error) {
      const reasons = cancellation(error);
      if (reasons) {
        if (failedCondition(reasons[0])) return 'token-not-waiting';
        if (failedCondition(reasons[1])) return 'room-refused';
        if (conflicted(reasons)) return 'conflict';
      }
      if (isNamed(error, 'TransactionConflictException')) return 'conflict';
      throw error;
    }
  }

  async removeToken(request: RemoveRequest): Promise<RemoveOutcome> {
    const { token, expect, now } = request;
    // The token must be in the room the caller names: the seat freed is that room's.
    const values: Item = { ':state': token.state, ':room': token.roomId };
    let condition = '#state = :state AND roomId = :room';
    if (expect) {
      values[':seen'] = expect.lastSeenAt;
      values[':seq'] = expect.checkSeq;
      condition += ' AND lastSeenAt = :seen AND checkSeq = :seq';
    }
    const deletion = {
      TableName: this.tables.tokens,
      Key: { [TOKENS_KEY]: token.tokenId },
      ConditionExpression: condition,
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: values,
    };
    // The room changes with the token: a seat freed, an eviction counted (the checker's removals).
    const roomAdds = [...(token.state === 'ADMITTED' ? ['activeCount :minusOne'] : []), ...(expect ? ['evictedTotal :one'] : [])];
    try {
      if (roomAdds.length === 0) {
        await this.client.send(new DeleteCommand(deletion));
      } else {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [
              { Delete: deletion },
              {
                Update: {
                  TableName: this.tables.rooms,
                  Key: { [ROOMS_KEY]: token.roomId },
                  UpdateExpression: `SET updatedAt = :now ADD ${roomAdds.join(', ')}`,
                  // Never create a room item: a token whose room is gone is simply deleted (below).
                  ConditionExpression: `attribute_exists(${ROOMS_KEY})`,
                  ExpressionAttributeValues: {
                    ':now': now,
                    ...(token.state === 'ADMITTED' ? { ':minusOne': -1 } : {}),
                    ...(expect ? { ':one': 1 } : {}),
                  },
                },
              },
            ],
          }),
        );
      }
      return 'removed';
    } catch (error) {
      if (isNamed(error, 'ConditionalCheckFailedException')) return 'changed';
      const reasons = cancellation(error);
      if (reasons) {
        if (failedCondition(reasons[0])) return 'changed';
        if (conflicted(reasons)) return 'conflict';
        if (failedCondition(reasons[1])) {
          // The token's room item does not exist: there is no seat or count to change.
          try {
            await this.client.send(new DeleteCommand(deletion));
            return 'removed';
          } catch (inner) {
            if (isNamed(inner, 'ConditionalCheckFailedException')) return 'changed';
            if (isNamed(inner, 'TransactionConflictException')) return 'conflict';
            throw inner;
          }
        }
      }
      if (isNamed(error, 'TransactionConflictException')) return 'conflict';
      throw error;
    }
  }

  async advanceCheck(tokenId: string, fromSeq: number, by: string): Promise<'advanced' | 'changed'> {
    try {
      await this.update({
        TableName: this.tables.tokens,
        Key: { [TOKENS_KEY]: tokenId },
        UpdateExpression: 'SET checkSeq = :next, checkBy = :by',
        ConditionExpression: 'checkSeq = :seq',
        ExpressionAttributeValues: { ':seq': fromSeq, ':next': fromSeq + 1, ':by': by },
      });
      return 'advanced';
    } catch (error) {
      if (isNamed(error, 'ConditionalCheckFailedException')) return 'changed';
      throw error;
    }
  }

  async rollAdmissionRate(roomId: string, now: number, minAgeMs: number): Promise<void> {
    try {
      await this.update({
        TableName: this.tables.rooms,
        Key: { [ROOMS_KEY]: roomId },
        UpdateExpression:
          'SET ratePrevAt = rateCurAt, ratePrevTotal = rateCurTotal, rateCurAt = :now, rateCurTotal = admittedTotal',
        ConditionExpression: 'rateCurAt <= :due',
        ExpressionAttributeValues: { ':now': now, ':due': now - minAgeMs },
      });
    } catch (error) {
      if (!isNamed(error, 'ConditionalCheckFailedException')) throw error;
    }
  }
}
